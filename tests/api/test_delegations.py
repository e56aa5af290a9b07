"""Out of office: new tasks go to the delegate on the absent person's behalf; both see
the request; it ends when the range ends or the person revokes it."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import ADMIN, Api

LEAVE = {"leave_type": "annual", "period": ["2026-12-01", "2026-12-05"], "days": 5, "reason": "x"}
WEEK = {"starts_at": "2026-11-23T00:00:00Z", "ends_at": "2026-11-30T00:00:00Z"}


def submit(api: Api) -> dict[str, Any]:
    created = api.as_("u-zhangsan").post(
        "/api/v1/instances", json={"template_key": "leave", "form": LEAVE}
    )
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


def test_a_new_task_of_someone_away_goes_to_their_delegate_on_their_behalf(api: Api) -> None:
    made = api.as_("u-chenjie").post(
        "/api/v1/delegations", json={"delegate_id": "u-wangwu", **WEEK, "template_keys": ["leave"]}
    )
    assert made.status_code == 201, made.text
    outcome = submit(api)
    assert [p["assignee"] for p in outcome["pending"]] == ["u-wangwu"]
    view = api.as_("u-chenjie").get(f"/api/v1/instances/{outcome['instance_id']}")
    assert view.status_code == 200  # the absent person still sees it
    task = next(t for t in view.json()["pending"] if t["assignee"] == "u-wangwu")
    assert task["on_behalf_of"] == "u-chenjie"
    assert (
        api.as_("u-wangwu").get("/api/v1/inbox/pending").json()["items"][0]["instance_id"]
        == (outcome["instance_id"])
    )
    # the absent person may still act themselves
    approved = api.as_("u-chenjie").post(f"/api/v1/tasks/{task['id']}/approve", json={})
    assert approved.status_code == 200, approved.text


def test_a_delegation_covers_only_its_templates_and_its_dates(api: Api) -> None:
    api.as_("u-chenjie").post(
        "/api/v1/delegations",
        json={"delegate_id": "u-wangwu", **WEEK, "template_keys": ["expense"]},
    )
    assert [p["assignee"] for p in submit(api)["pending"]] == ["u-chenjie"]
    later = {"starts_at": "2026-12-01T00:00:00Z", "ends_at": "2026-12-08T00:00:00Z"}
    api.as_("u-chenjie").post("/api/v1/delegations", json={"delegate_id": "u-wangwu", **later})
    assert [p["assignee"] for p in submit(api)["pending"]] == ["u-chenjie"]


def test_a_revoked_delegation_stops_at_once(api: Api) -> None:
    made = api.as_("u-chenjie").post(
        "/api/v1/delegations", json={"delegate_id": "u-wangwu", **WEEK}
    )
    listed = api.as_("u-wangwu").get("/api/v1/delegations").json()
    assert [d["id"] for d in listed] == [made.json()["id"]]
    gone = api.as_("u-chenjie").delete(f"/api/v1/delegations/{made.json()['id']}")
    assert gone.status_code == 204
    assert [p["assignee"] for p in submit(api)["pending"]] == ["u-chenjie"]


def test_a_bad_delegation_names_each_problem_and_changes_nothing(api: Api) -> None:
    bad = {
        "delegate_id": "u-chenjie",
        "starts_at": "2026-11-30T00:00:00Z",
        "ends_at": "2026-11-23T00:00:00Z",
        "template_keys": ["nope"],
    }
    response = api.as_("u-chenjie").post("/api/v1/delegations", json=bad)
    assert response.status_code == 422
    paths = {e["path"] for e in response.json()["errors"]}
    assert paths == {"ends_at", "delegate_id", "template_keys[0]"}
    assert api.as_("u-chenjie").get("/api/v1/delegations").json() == []


def test_only_an_administrator_delegates_for_someone_else(api: Api) -> None:
    body = {"delegate_id": "u-wangwu", "principal_id": "u-lina", **WEEK}
    assert api.as_("u-chenjie").post("/api/v1/delegations", json=body).status_code == 403
    assert api.as_(ADMIN).post("/api/v1/delegations", json=body).status_code == 201
    someone = api.as_("u-chenjie").get("/api/v1/delegations").json()
    assert someone == []
