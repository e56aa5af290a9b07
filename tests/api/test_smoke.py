"""A leave request through the HTTP API, from submission to approval."""

from __future__ import annotations

from tests.api.conftest import PASSWORD, Api

LEAVE = {
    "leave_type": "annual",
    "period": ["2026-12-01", "2026-12-05"],
    "days": 5,
    "reason": "family trip",
}


def test_a_leave_request_goes_from_submission_to_approval(api: Api) -> None:
    login = api.anonymous.post(
        "/api/v1/auth/login", json={"principal_id": "u-zhangsan", "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]
    created = api.anonymous.post(
        "/api/v1/instances",
        json={"template_key": "leave", "form": LEAVE},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert created.status_code == 201, created.text
    instance_id = created.json()["instance_id"]
    assert created.headers["Location"] == f"/api/v1/instances/{instance_id}"
    for person in ("u-chenjie", "u-lina", "u-xuting"):
        inbox = api.as_(person).get("/api/v1/inbox/pending").json()
        task = next(i for i in inbox["items"] if i["instance_id"] == instance_id)
        done = api.as_(person).post(f"/api/v1/tasks/{task['task_id']}/approve", json={})
        assert done.status_code == 200, done.text
    shown = api.as_("u-zhangsan").get(f"/api/v1/instances/{instance_id}")
    assert shown.status_code == 200
    body = shown.json()
    assert body["status"] == "approved"
    assert shown.headers["ETag"] == f'"{body["version"]}"'
    assert [e["type"] for e in body["timeline"]][-1] == "InstanceApproved"
    assert "x-request-id" in shown.headers
