"""A malformed JSON body, a wrong type, an unknown id, a conflict and a forbidden action
each get their own status (400/422/404/409/403) — never a 500. Bodies over a set size are
refused with 413.

Every error is an RFC 9457 problem (`application/problem+json`) with a stable `code`, a
`detail` for people and the request id that the `X-Request-ID` header carries too.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from tests.api.conftest import Api

LEAVE = {
    "leave_type": "annual",
    "period": ["2026-12-01", "2026-12-05"],
    "days": 5,
    "reason": "family trip",
}
EXPENSE = {
    "expense_type": "travel",
    "items": [{"date": "2026-11-20", "category": "transport", "amount": "300.00"}],
    "total": "300.00",
    "invoices": [{"id": "f-1", "name": "a.pdf", "size": 10, "content_type": "application/pdf"}],
    "payee": "u-zhangsan",
}
LIMIT = 64 * 1024  # max_body_bytes in tests/api/conftest.py


def problem(response: Response, status: int, code: str) -> dict[str, Any]:
    """The response is a problem with this status and code, carrying its request id."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].split(";")[0] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code, body
    assert body["type"] == f"https://signoff.dev/problems/{code}"
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body


def paths(body: dict[str, Any]) -> dict[str, str]:
    return {e["path"]: e["rule"] for e in body.get("errors", [])}


def submit(client: TestClient, form: dict[str, Any], template_key: str = "leave") -> str:
    created = client.post("/api/v1/instances", json={"template_key": template_key, "form": form})
    assert created.status_code == 201, created.text
    instance_id: str = created.json()["instance_id"]
    return instance_id


def first_task(api: Api, person: str) -> str:
    items = api.as_(person).get("/api/v1/inbox/pending").json()["items"]
    task_id: str = items[0]["task_id"]
    return task_id


def crafted_cursor(at: str, ident: str) -> str:
    raw = json.dumps([at, ident]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# ---- 400 / 422 -------------------------------------------------------------------------------


def test_a_malformed_json_body_is_a_400(api: Api) -> None:
    sent = api.as_("u-zhangsan").post(
        "/api/v1/instances",
        content=b'{"template_key": "leave", "form": {',
        headers={"Content-Type": "application/json"},
    )
    body = problem(sent, 400, "malformed_json")
    assert body["instance"] == "/api/v1/instances"
    not_text = api.as_("u-zhangsan").post(
        "/api/v1/instances",
        content=b"\xff\xfe not utf-8",
        headers={"Content-Type": "application/json"},
    )
    assert not_text.status_code == 400, not_text.text
    assert not_text.headers["content-type"].startswith("application/problem+json")


def test_a_wrong_type_is_a_422_naming_the_field(api: Api) -> None:
    me = api.as_("u-zhangsan")
    sent = me.post("/api/v1/instances", json={"template_key": 7, "form": "days"})
    body = problem(sent, 422, "request_invalid")
    assert set(paths(body)) == {"template_key", "form"}
    missing = me.post("/api/v1/instances", json={"form": {}})
    assert paths(problem(missing, 422, "request_invalid")) == {"template_key": "missing"}
    extra = me.post("/api/v1/instances", json={"template_key": "leave", "colour": "red"})
    assert paths(problem(extra, 422, "request_invalid")) == {"colour": "extra_forbidden"}
    listed = me.post("/api/v1/inbox/batch", json={"action": "approve", "task_ids": [1, "x"]})
    assert "task_ids[0]" in paths(problem(listed, 422, "request_invalid"))
    not_an_object = me.post("/api/v1/instances", json=["leave"])
    problem(not_an_object, 422, "request_invalid")
    query = me.get("/api/v1/inbox/pending", params={"limit": "many"})
    assert any(p.endswith("limit") for p in paths(problem(query, 422, "request_invalid")))
    box = me.get("/api/v1/inbox/everything")
    problem(box, 422, "request_invalid")


def test_a_malformed_if_match_or_inbox_cursor_is_a_422(api: Api) -> None:
    me = api.as_("u-zhangsan")
    instance_id = submit(me, LEAVE)
    sent = me.post(
        f"/api/v1/instances/{instance_id}/comments",
        json={"text": "hello"},
        headers={"If-Match": "yesterday"},
    )
    problem(sent, 422, "command_invalid")
    problem(me.get("/api/v1/inbox/pending", params={"cursor": "%%%"}), 422, "command_invalid")
    for payload in ([1, 2, 3], ["x", "y"], {"a": 1}, "s", None):
        cursor = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()
        sent = me.get("/api/v1/inbox/pending", params={"cursor": cursor})
        problem(sent, 422, "command_invalid")
    for at in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"):
        sent = me.get("/api/v1/inbox/pending", params={"cursor": crafted_cursor(at, "x")})
        assert sent.status_code in (200, 422), (at, sent.text)


def test_an_invalid_form_lists_every_field_path_with_its_rule(api: Api) -> None:
    me = api.as_("u-zhangsan")
    leave = {**LEAVE, "days": "five", "period": ["2026-12-05", "2026-12-01"]}
    del leave["reason"]
    sent = me.post("/api/v1/instances", json={"template_key": "leave", "form": leave})
    body = problem(sent, 422, "form_invalid")
    assert paths(body) == {"days": "type", "period": "order", "reason": "required"}
    assert all(e["message"] for e in body["errors"])

    items = [
        {"date": "2026-11-20", "category": "transport", "amount": "0"},
        {"date": "2026-11-21", "category": "rocket", "amount": "10.00"},
    ]
    expense = {**EXPENSE, "items": items}
    sent = me.post("/api/v1/instances", json={"template_key": "expense", "form": expense})
    body = problem(sent, 422, "form_invalid")
    assert paths(body) == {"items[0].amount": "min", "items[1].category": "option"}


# ---- 404 -------------------------------------------------------------------------------------


def test_an_unknown_id_is_a_404_and_so_is_someone_elses_request(api: Api) -> None:
    me = api.as_("u-zhangsan")
    problem(me.get("/api/v1/instances/nope"), 404, "unknown_instance")
    problem(me.post("/api/v1/tasks/nope/approve", json={}), 404, "unknown_task")
    problem(me.post("/api/v1/tasks/nope.t1/approve", json={}), 404, "unknown_instance")
    problem(me.get("/api/v1/templates/nope"), 404, "unknown_template")
    problem(
        me.post("/api/v1/instances", json={"template_key": "nope", "form": {}}),
        404,
        "unknown_template",
    )
    problem(me.get("/api/v1/directory/principals/u-nobody"), 404, "unknown_principal")
    problem(api.as_("u-huangli").get("/api/v1/apps/app-nope"), 404, "unknown_app")
    problem(api.as_("u-huangli").delete("/api/v1/apps/app-nope"), 404, "unknown_app")
    instance_id = submit(me, LEAVE)
    problem(me.post(f"/api/v1/tasks/{instance_id}.t99/approve", json={}), 404, "unknown_task")
    transfer = api.as_("u-chenjie").post(
        f"/api/v1/tasks/{first_task(api, 'u-chenjie')}/transfer", json={"to": "u-nobody"}
    )
    problem(transfer, 404, "unknown_principal")
    # someone else's request does not exist for a stranger: 404, not 403
    stranger = api.as_("u-majun")
    problem(stranger.get(f"/api/v1/instances/{instance_id}"), 404, "unknown_instance")
    problem(
        stranger.post(f"/api/v1/instances/{instance_id}/comments", json={"text": "hi"}),
        404,
        "unknown_instance",
    )


def test_an_unknown_route_is_a_404_and_a_wrong_method_a_405(api: Api) -> None:
    problem(api.anonymous.get("/api/v1/nothing-here"), 404, "not_found")
    problem(api.anonymous.get("/favicon.ico"), 404, "not_found")
    sent = api.as_("u-zhangsan").delete("/api/v1/instances")
    problem(sent, 405, "method_not_allowed")
    assert "POST" in sent.headers["allow"]
    problem(api.anonymous.post("/healthz"), 405, "method_not_allowed")


# ---- 409 -------------------------------------------------------------------------------------


def test_a_conflict_is_a_409(api: Api) -> None:
    me = api.as_("u-zhangsan")
    instance_id = submit(me, LEAVE)
    task_id = first_task(api, "u-chenjie")
    lead = api.as_("u-chenjie")
    assert lead.post(f"/api/v1/tasks/{task_id}/approve", json={}).status_code == 200
    problem(lead.post(f"/api/v1/tasks/{task_id}/approve", json={}), 409, "task_already_done")
    resubmit = me.post(f"/api/v1/instances/{instance_id}/resubmit", json={"form": LEAVE})
    problem(resubmit, 409, "invalid_transition")
    assert me.post(f"/api/v1/instances/{instance_id}/withdraw", json={}).status_code == 200
    problem(me.post(f"/api/v1/instances/{instance_id}/withdraw", json={}), 409, "instance_finished")


# ---- 403 -------------------------------------------------------------------------------------


def test_a_forbidden_action_is_a_403(api: Api) -> None:
    me = api.as_("u-zhangsan")
    instance_id = submit(me, LEAVE)
    task_id = first_task(api, "u-chenjie")
    problem(me.post(f"/api/v1/tasks/{task_id}/approve", json={}), 403, "not_assignee")
    lead = api.as_("u-chenjie")
    problem(lead.post(f"/api/v1/instances/{instance_id}/withdraw", json={}), 403, "not_applicant")
    problem(lead.post(f"/api/v1/instances/{instance_id}/urge", json={}), 403, "not_applicant")
    edit = lead.post(f"/api/v1/tasks/{task_id}/approve", json={"edits": {"days": 1}})
    problem(edit, 403, "field_not_writable")
    problem(api.as_("u-zhangsan").get("/api/v1/apps"), 403, "not_admin")


# ---- 401 -------------------------------------------------------------------------------------


def test_no_token_a_bad_token_and_an_expired_token_are_each_a_401(api: Api) -> None:
    sent = api.anonymous.get("/api/v1/me")
    problem(sent, 401, "not_authenticated")
    assert sent.headers["www-authenticate"] == "Bearer"
    forged = api.anonymous.get("/api/v1/me", headers={"Authorization": "Bearer not.a.jwt"})
    problem(forged, 401, "not_authenticated")
    basic = api.anonymous.get("/api/v1/me", headers={"Authorization": "Basic dTpw"})
    problem(basic, 401, "not_authenticated")
    me = api.as_("u-zhangsan")
    assert me.get("/api/v1/me").status_code == 200
    api.clock.advance(minutes=15, seconds=1)
    expired = me.get("/api/v1/me")
    body = problem(expired, 401, "not_authenticated")
    assert "expired" in body["detail"]


# ---- 413 -------------------------------------------------------------------------------------


def big_body() -> bytes:
    return json.dumps(
        {"template_key": "leave", "form": {**LEAVE, "reason": "x" * (LIMIT + 10)}}
    ).encode()


def test_a_body_over_the_limit_with_a_content_length_is_a_413_and_one_under_is_read(
    api: Api,
) -> None:
    me = api.as_("u-zhangsan")
    sent = me.post(
        "/api/v1/instances", content=big_body(), headers={"Content-Type": "application/json"}
    )
    body = problem(sent, 413, "body_too_large")
    assert str(LIMIT) in body["detail"]
    assert me.get("/api/v1/inbox/mine").json()["counts"]["mine"] == 0
    form = {**LEAVE, "reason": "x" * 1000}
    under = me.post("/api/v1/instances", json={"template_key": "leave", "form": form})
    assert under.status_code == 201, under.text


def test_a_streamed_body_over_the_limit_is_a_413(api: Api) -> None:
    def chunks() -> Iterator[bytes]:
        data = big_body()
        for start in range(0, len(data), 8192):
            yield data[start : start + 8192]

    me = api.as_("u-zhangsan")
    sent = me.post(
        "/api/v1/instances", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in {k.lower() for k in sent.request.headers}
    problem(sent, 413, "body_too_large")
    assert me.get("/api/v1/inbox/mine").json()["counts"]["mine"] == 0


# ---- request ids, operations -----------------------------------------------------------------


def test_a_client_given_request_id_is_echoed_and_a_strange_one_replaced(api: Api) -> None:
    given = api.anonymous.get("/healthz", headers={"X-Request-ID": "trace-42.a_b"})
    assert given.headers["x-request-id"] == "trace-42.a_b"
    failed = api.anonymous.get("/api/v1/me", headers={"X-Request-ID": "trace-43"})
    assert problem(failed, 401, "not_authenticated")["request_id"] == "trace-43"
    strange = api.anonymous.get("/healthz", headers={"X-Request-ID": "a b/c" + "x" * 100})
    assert strange.headers["x-request-id"] not in ("", "a b/c" + "x" * 100)
    first = api.anonymous.get("/healthz").headers["x-request-id"]
    second = api.anonymous.get("/healthz").headers["x-request-id"]
    assert first and second and first != second


def test_health_readiness_and_metrics_answer(api: Api) -> None:
    health = api.anonymous.get("/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    ready = api.anonymous.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ok"
    assert ready.json()["database"] in ("sqlite", "postgresql")

    instance_id = submit(api.as_("u-zhangsan"), LEAVE)
    api.as_("u-zhangsan").get(f"/api/v1/instances/{instance_id}")
    metrics = api.anonymous.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    for family in (
        "signoff_http_requests_total",
        "signoff_http_request_seconds",
        "signoff_actions_total",
        "signoff_inbox_pending_size",
        "signoff_pending_tasks",
    ):
        assert f"# TYPE {family}" in text, family
    requests = [
        line for line in text.splitlines() if line.startswith("signoff_http_requests_total{")
    ]
    # one series per route template, not per path: the instance id is not a label value
    assert any(
        'method="POST",route="' in line and '/instances",status="201"} 1.0' in line
        for line in requests
    ), requests
    assert any(
        'method="GET",route="' in line and '/instances/{instance_id}",status="200"} 1.0' in line
        for line in requests
    ), requests
    assert instance_id not in text
    assert "signoff_pending_tasks 1.0" in text


def test_every_applied_command_is_counted_in_signoff_actions_total(api: Api) -> None:
    """`signoff_actions_total{action, outcome}` counts commands: a submission, an approval
    on its own route and one in a batch, and a refused approval."""
    me = api.as_("u-zhangsan")
    submit(me, LEAVE)
    submit(me, LEAVE)
    lead = api.as_("u-chenjie")
    first, second = (i["task_id"] for i in lead.get("/api/v1/inbox/pending").json()["items"])
    assert lead.post(f"/api/v1/tasks/{first}/approve", json={}).is_success
    problem(lead.post(f"/api/v1/tasks/{first}/approve", json={}), 409, "task_already_done")
    batch = lead.post("/api/v1/inbox/batch", json={"action": "approve", "task_ids": [second]})
    assert batch.json()["succeeded"] == 1
    samples = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in api.anonymous.get("/metrics").text.splitlines()
        if line.startswith("signoff_actions_total{")
    }
    assert samples.get('signoff_actions_total{action="Approve",outcome="task_already_done"}') == 1
    assert samples.get('signoff_actions_total{action="Approve",outcome="ok"}') == 2, samples
    assert samples.get('signoff_actions_total{action="Submit",outcome="ok"}') == 2, samples


def test_odd_requests_are_answered_with_a_4xx_problem_never_a_500(api: Api) -> None:
    """A sweep of odd requests: each is answered with a 4xx problem."""
    me = api.as_("u-zhangsan")
    instance_id = submit(me, LEAVE)
    odd: list[tuple[str, str, Any]] = [
        ("POST", "/api/v1/instances", {"template_key": "leave", "form": None}),
        ("POST", "/api/v1/instances", {"template_key": "leave", "form": {"days": [1, 2]}}),
        ("POST", "/api/v1/instances", {"template_key": "x" * 65, "form": {}}),
        ("POST", "/api/v1/instances", {"template_key": "leave", "choices": {"hr": [3]}}),
        ("POST", "/api/v1/instances", {"template_key": "leave", "choices": {"x": ["u-lina"]}}),
        ("POST", "/api/v1/templates/leave/preview", {"form": {"days": "x"}}),
        ("POST", "/api/v1/templates/nope/preview", {}),
        ("POST", "/api/v1/templates/leave/preview", {"applicant_id": "u-lina"}),
        ("POST", f"/api/v1/instances/{instance_id}/cc", {"people": ["u-nobody"]}),
        ("POST", f"/api/v1/instances/{instance_id}/urge", {"task_ids": ["bogus"]}),
        ("POST", f"/api/v1/instances/{instance_id}/urge", {"task_ids": [f"{instance_id}.t99"]}),
        ("POST", f"/api/v1/instances/{instance_id}/submit", {}),
        ("PUT", f"/api/v1/instances/{instance_id}/draft", {"form": {}}),
        ("POST", f"/api/v1/instances/{instance_id}/comments", {"text": ""}),
        ("POST", f"/api/v1/instances/{instance_id}/copy", None),
        ("POST", "/api/v1/tasks/.t1/approve", {}),
        ("POST", "/api/v1/tasks/x.tx/approve", {}),
        ("POST", f"/api/v1/tasks/{instance_id}.t1/read", None),
        ("POST", f"/api/v1/tasks/{instance_id}.t1/remove", {}),
        ("GET", "/api/v1/inbox/pending?since=yesterday", None),
        ("GET", "/api/v1/inbox/pending?status=lost", None),
        ("GET", "/api/v1/templates/leave?version=99", None),
        ("GET", "/api/v1/templates/leave?version=0", None),
        ("GET", "/api/v1/directory/identities/not-an-identity", None),
        ("POST", "/api/v1/auth/refresh", {"refresh_token": "nope"}),
    ]
    for method, url, body in odd:
        sent = me.request(method, url, json=body)
        assert 400 <= sent.status_code < 500, (method, url, body, sent.text)
        assert sent.headers["content-type"].startswith("application/problem+json"), sent.text
    raw = [
        b'{"template_key": "leave", "form": {"days": 1e400}}',
        b'{"template_key": "leave", "form": {"days": NaN}}',
        b"",
        b"null",
        b"[]",
    ]
    for content in raw:
        sent = me.post(
            "/api/v1/instances", content=content, headers={"Content-Type": "application/json"}
        )
        assert 400 <= sent.status_code < 500, (content, sent.text)
        assert sent.headers["content-type"].startswith("application/problem+json"), sent.text


def test_inbox_dates_at_the_edge_of_the_calendar_are_refused_not_a_500(api: Api) -> None:
    me = api.as_("u-zhangsan")
    for name, value in (
        ("until", "0001-01-01T00:00:00+14:00"),
        ("since", "9999-12-31T23:59:59-14:00"),
    ):
        sent = me.get("/api/v1/inbox/pending", params={name: value})
        assert sent.status_code in (200, 422), (name, value, sent.text)
        assert sent.headers["content-type"].startswith("application/"), sent.text


def test_a_lone_surrogate_in_a_form_is_refused_not_a_500(api: Api) -> None:
    """JSON may spell a lone UTF-16 surrogate (\\ud800); it cannot be stored as UTF-8."""
    me = api.as_("u-zhangsan")
    for content in (
        b'{"template_key": "leave", "form": {"reason": "\\ud800"}}',
        b'{"template_key": "leave", "form": {"\\udfff": 1}}',
    ):
        sent = me.post(
            "/api/v1/instances", content=content, headers={"Content-Type": "application/json"}
        )
        assert sent.status_code in (400, 422), (content, sent.text)
        assert sent.headers["content-type"].startswith("application/problem+json")


def test_a_nul_character_in_an_id_a_query_or_a_text_is_refused_not_a_500(api: Api) -> None:
    """PostgreSQL text cannot hold NUL (0x00); SQLite can. Neither may answer 500."""
    me = api.as_("u-zhangsan")
    instance_id = submit(me, LEAVE)
    task_id = first_task(api, "u-chenjie")
    form = {**LEAVE, "reason": "a\x00b"}
    sent: list[Response] = [
        me.get("/api/v1/instances/a%00b"),
        me.get("/api/v1/directory/principals/a%00b"),
        me.get("/api/v1/directory/principals", params={"q": "a\x00b"}),
        me.get("/api/v1/inbox/pending", params={"template": "a\x00b"}),
        me.post(f"/api/v1/instances/{instance_id}/comments", json={"text": "a\x00b"}),
        api.as_("u-chenjie").post(f"/api/v1/tasks/{task_id}/approve", json={"comment": "\x00"}),
        me.post("/api/v1/instances", json={"template_key": "leave", "form": form}),
        api.anonymous.post(
            "/api/v1/auth/login", json={"principal_id": "a\x00b", "password": "whatever1"}
        ),
    ]
    answers = [(r.request.method, r.request.url.path, r.status_code) for r in sent]
    assert all(status < 500 for _, _, status in answers), answers
