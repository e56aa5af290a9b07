"""A template's validation hook: the business system is asked before submit and before
the final approval, may refuse with a message the person sees, and its silence follows
the template's policy."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from signoff.store.uow import SqlUnitOfWork
from tests.api.conftest import Api

LEAVE = {"leave_type": "annual", "period": ["2026-12-01", "2026-12-02"], "days": 1, "reason": "x"}


class Hook:
    def __init__(self) -> None:
        self.answer: tuple[int, Any] = (200, {"allow": True})
        self.asked: list[dict[str, Any]] = []
        self.url = ""


@pytest.fixture
def hook() -> Iterator[Hook]:
    found = Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            found.asked.append(json.loads(body))
            status, answer = found.answer
            data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # stdlib's name
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    found.url = f"http://127.0.0.1:{server.server_address[1]}/check"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield found
    server.shutdown()
    server.server_close()


def publish_leave(api: Api, validation: dict[str, Any]) -> None:
    path = Path(__file__).parents[2] / "examples" / "templates" / "leave.json"
    definition = json.loads(path.read_text(encoding="utf-8"))
    definition["settings"]["validation"] = validation
    with SqlUnitOfWork(api.services.db) as uow:
        uow.templates.publish(definition, "u-huangli", api.clock.now())
        uow.commit()


def submit(api: Api) -> Any:
    return api.as_("u-zhangsan").post(
        "/api/v1/instances", json={"template_key": "leave", "form": LEAVE}
    )


def test_the_hook_is_asked_before_submit_and_its_refusal_is_shown_and_changes_nothing(
    api: Api, hook: Hook
) -> None:
    publish_leave(api, {"url": hook.url, "on": ["submit"]})
    hook.answer = (200, {"allow": False, "message": "年假余额不足 (not enough annual leave)"})
    refused = submit(api)
    assert refused.status_code == 422
    assert refused.json()["code"] == "validation_refused"
    assert "年假余额不足" in refused.json()["detail"]
    assert hook.asked[0]["moment"] == "submit"
    assert hook.asked[0]["form"]["days"] == 1
    mine = api.as_("u-zhangsan").get("/api/v1/inbox/mine").json()
    assert mine["items"] == []
    hook.answer = (200, {"allow": True})
    assert submit(api).status_code == 201


def test_the_final_approval_asks_the_hook_and_a_refusal_keeps_the_task_open(
    api: Api, hook: Hook
) -> None:
    publish_leave(api, {"url": hook.url, "on": ["final_approval"]})
    outcome = submit(api).json()
    assert hook.asked == []  # not asked at submit
    iid = outcome["instance_id"]
    hook.answer = (200, {"allow": False, "message": "HR system: overlapping leave"})
    status = "pending"
    while status == "pending":
        task = api.as_("u-huangli").get(f"/api/v1/instances/{iid}").json()["pending"][0]
        answer = api.as_(task["assignee"]).post(f"/api/v1/tasks/{task['id']}/approve", json={})
        if answer.status_code == 422:
            break
        status = answer.json()["status"]
    assert answer.json()["code"] == "validation_refused"
    assert [a["moment"] for a in hook.asked] == ["final_approval"]
    view = api.as_("u-huangli").get(f"/api/v1/instances/{iid}").json()
    assert view["status"] == "pending" and view["pending"][0]["id"] == task["id"]


@pytest.mark.parametrize(("policy", "expected"), [("refuse", 409), ("proceed", 201)])
def test_a_hook_that_fails_follows_the_templates_policy(
    api: Api, hook: Hook, policy: str, expected: int
) -> None:
    publish_leave(api, {"url": hook.url, "on": ["submit"], "on_error": policy})
    hook.answer = (500, b"oops")
    response = submit(api)
    assert response.status_code == expected, response.text
    if expected == 409:
        assert response.json()["code"] == "validation_unavailable"


def test_a_bad_hook_setting_is_refused_when_the_template_is_checked(api: Api) -> None:
    path = Path(__file__).parents[2] / "examples" / "templates" / "leave.json"
    definition = json.loads(path.read_text(encoding="utf-8"))
    definition["settings"]["validation"] = {"url": "ftp://x", "on": ["later"], "on_error": "?"}
    response = api.as_("u-huangli").post("/api/v1/templates/validate", json=definition)
    paths = {p["path"] for p in response.json()["errors"]}
    assert {"settings.validation.url", "settings.validation.on[0]"} <= paths
