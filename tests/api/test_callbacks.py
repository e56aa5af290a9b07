"""Callbacks in (seed 002): a business system drives the tasks it owns with its API key —
the tasks of the principal it acts as, in the instances of its templates."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import ADMIN, Api

LEAVE = {"leave_type": "annual", "period": ["2026-12-01", "2026-12-02"], "days": 1, "reason": "x"}


def new_app(api: Api, **body: Any) -> str:
    made = api.as_(ADMIN).post("/api/v1/apps", json={"name": "ERP", **body})
    assert made.status_code == 201, made.text
    assert made.json()["acts_as"] == body.get("acts_as")
    key: str = made.json()["api_key"]
    return key


def submit(api: Api) -> dict[str, Any]:
    created = api.as_("u-zhangsan").post(
        "/api/v1/instances", json={"template_key": "leave", "form": LEAVE}
    )
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


def test_an_app_approves_the_task_of_the_principal_it_acts_as(api: Api) -> None:
    key = new_app(api, templates=["leave"], acts_as="u-chenjie")
    outcome = submit(api)
    task = outcome["pending"][0]
    assert task["assignee"] == "u-chenjie"
    done = api.with_key(key).post(
        f"/api/v1/tasks/{task['task_id']}/approve", json={"comment": "paid in ERP"}
    )
    assert done.status_code == 200, done.text
    assert done.json()["pending"][0]["assignee"] != "u-chenjie"  # the flow moved on


def test_an_app_may_not_act_on_someone_elses_task(api: Api) -> None:
    key = new_app(api, templates=["leave"], acts_as="u-lina")
    task = submit(api)["pending"][0]
    refused = api.with_key(key).post(f"/api/v1/tasks/{task['task_id']}/approve", json={})
    assert refused.status_code == 403
    assert refused.json()["code"] == "not_assignee"


def test_an_app_that_acts_as_nobody_cannot_act(api: Api) -> None:
    key = new_app(api, templates=["leave"])
    task = submit(api)["pending"][0]
    refused = api.with_key(key).post(f"/api/v1/tasks/{task['task_id']}/reject", json={})
    assert refused.status_code == 403


def test_an_app_sees_nothing_of_templates_it_does_not_own(api: Api) -> None:
    key = new_app(api, templates=["expense"], acts_as="u-chenjie")
    task = submit(api)["pending"][0]
    hidden = api.with_key(key).post(f"/api/v1/tasks/{task['task_id']}/approve", json={})
    assert hidden.status_code == 404


def test_an_app_cannot_act_as_someone_who_does_not_exist(api: Api) -> None:
    made = api.as_(ADMIN).post("/api/v1/apps", json={"name": "ERP", "acts_as": "u-ghost"})
    assert made.status_code == 404
    assert made.json()["code"] == "unknown_principal"
