"""Access control, enforced on the server for every route.

An instance is visible to its applicant, everyone who holds or held a task on it, everyone
CC'd, their delegates, the template's admins and administrators, and to an app only when
the app owns the template. To anyone else it does not exist: 404, the same answer as for
an id nobody ever used. Only the current assignee acts on a task. Hidden fields are
removed from everything a person may see. Only administrators manage templates, the
directory and apps.

The walks visit every route of the app (found by iterating the app's routes,
not by a hand-written list) as someone who takes no part, as an app that owns another
template, and without credentials. `ROUTES` says what each route is; a route it does not
know fails the walk, so a new route cannot ship without being classified here.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, get_args

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from httpx import Response
from pydantic import BaseModel

from tests.api.conftest import ADMIN, PASSWORD, Api

APPLICANT = "u-zhangsan"
STRANGER = "u-wangwu"  # a frontend engineer: no task, no CC, no template admin, not an admin
FAKE_INSTANCE = "no-such-instance-0000"
FAKE_TASK = f"{FAKE_INSTANCE}.t1"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# values found nowhere else in the demo data, so finding one in an answer is a leak
LEAVE_REASON = "family trip to Guilin, ref LV-7Q2X"
EXPENSE_NOTE = "taxi to the airport, ref EX-9K4M"
INVOICE_NAME = "invoice-EX-3F8Z.pdf"
EXPENSE_TOTAL = "3217.45"


def leave_form() -> dict[str, Any]:
    return {
        "leave_type": "annual",
        "period": ["2026-12-01", "2026-12-05"],
        "days": 5,
        "reason": LEAVE_REASON,
    }


def expense_form(total: str = EXPENSE_TOTAL) -> dict[str, Any]:
    return {
        "expense_type": "travel",
        "items": [
            {
                "date": "2026-11-20",
                "category": "transport",
                "description": EXPENSE_NOTE,
                "amount": total,
            }
        ],
        "total": total,
        "invoices": [
            {"id": "f-3F8Z", "name": INVOICE_NAME, "size": 2048, "content_type": "application/pdf"}
        ],
        "payee": APPLICANT,
    }


# ---- the route table ---------------------------------------------------------------------


class Scope(Enum):
    PUBLIC = "no credentials needed"
    SIGNED_IN = "anyone signed in, about themself or shared reference data"
    ADMIN = "administrators only"
    INSTANCE = "one instance: only those who may see it"
    TASK = "one task: only those who may see its instance"


@dataclass(frozen=True)
class Rule:
    scope: Scope
    # for PUBLIC and SIGNED_IN routes: what the stranger's minimal request gets
    stranger: int | None = None


ROUTES: dict[tuple[str, str], Rule] = {
    ("POST", "/api/v1/auth/login"): Rule(Scope.PUBLIC, 200),  # the stranger's own password
    ("POST", "/api/v1/auth/refresh"): Rule(Scope.PUBLIC, 401),  # a made-up refresh token
    ("GET", "/api/v1/me"): Rule(Scope.SIGNED_IN, 200),
    ("GET", "/api/v1/templates"): Rule(Scope.SIGNED_IN, 200),
    ("GET", "/api/v1/templates/{key}"): Rule(Scope.SIGNED_IN, 200),
    ("POST", "/api/v1/templates/validate"): Rule(Scope.ADMIN),
    ("PUT", "/api/v1/templates/{key}/draft"): Rule(Scope.ADMIN),
    ("GET", "/api/v1/templates/{key}/draft"): Rule(Scope.ADMIN),
    ("POST", "/api/v1/templates/{key}/publish"): Rule(Scope.ADMIN),
    ("POST", "/api/v1/templates/{key}/preview"): Rule(Scope.SIGNED_IN, 200),  # own path
    ("PUT", "/api/v1/templates/{key}/document"): Rule(Scope.ADMIN),
    ("GET", "/api/v1/templates/{key}/document"): Rule(Scope.ADMIN),
    ("GET", "/api/v1/templates/{key}/document/file"): Rule(Scope.ADMIN),
    ("POST", "/api/v1/instances"): Rule(Scope.SIGNED_IN, 422),  # an empty form: refused
    ("GET", "/api/v1/instances/{instance_id}"): Rule(Scope.INSTANCE),
    ("GET", "/api/v1/instances/{instance_id}/timeline"): Rule(Scope.INSTANCE),
    ("PUT", "/api/v1/instances/{instance_id}/draft"): Rule(Scope.INSTANCE),
    ("POST", "/api/v1/instances/{instance_id}/submit"): Rule(Scope.INSTANCE),
    ("POST", "/api/v1/instances/{instance_id}/resubmit"): Rule(Scope.INSTANCE),
    ("POST", "/api/v1/instances/{instance_id}/withdraw"): Rule(Scope.INSTANCE),
    ("POST", "/api/v1/instances/{instance_id}/terminate"): Rule(Scope.INSTANCE),
    ("POST", "/api/v1/instances/{instance_id}/urge"): Rule(Scope.INSTANCE),
    ("POST", "/api/v1/instances/{instance_id}/comments"): Rule(Scope.INSTANCE),
    ("POST", "/api/v1/instances/{instance_id}/cc"): Rule(Scope.INSTANCE),
    ("POST", "/api/v1/instances/{instance_id}/copy"): Rule(Scope.INSTANCE),
    # designers only, among those who see the request (tests/api/test_documents.py)
    ("POST", "/api/v1/instances/{instance_id}/document/preview"): Rule(Scope.INSTANCE),
    ("POST", "/api/v1/instances/{instance_id}/documents"): Rule(Scope.INSTANCE),
    ("GET", "/api/v1/instances/{instance_id}/documents"): Rule(Scope.INSTANCE),
    # and only with every field the document shows visible (tests/api/test_documents.py)
    ("GET", "/api/v1/instances/{instance_id}/documents/{document_id}"): Rule(Scope.INSTANCE),
    ("POST", "/api/v1/tasks/{task_id}/approve"): Rule(Scope.TASK),
    ("POST", "/api/v1/tasks/{task_id}/reject"): Rule(Scope.TASK),
    ("POST", "/api/v1/tasks/{task_id}/return"): Rule(Scope.TASK),
    ("POST", "/api/v1/tasks/{task_id}/transfer"): Rule(Scope.TASK),
    ("POST", "/api/v1/tasks/{task_id}/delegate"): Rule(Scope.TASK),
    ("POST", "/api/v1/tasks/{task_id}/add-approvers"): Rule(Scope.TASK),
    ("POST", "/api/v1/tasks/{task_id}/remove"): Rule(Scope.TASK),
    ("POST", "/api/v1/tasks/{task_id}/take-back"): Rule(Scope.TASK),
    ("POST", "/api/v1/tasks/{task_id}/read"): Rule(Scope.TASK),
    ("GET", "/api/v1/inbox/{box}"): Rule(Scope.SIGNED_IN, 200),  # own inbox
    # each task answered on its own: every one of someone else's is "not found"
    ("POST", "/api/v1/inbox/batch"): Rule(Scope.SIGNED_IN, 200),
    ("GET", "/api/v1/directory/principals"): Rule(Scope.SIGNED_IN, 200),
    ("GET", "/api/v1/directory/principals/{principal_id}"): Rule(Scope.SIGNED_IN, 200),
    ("GET", "/api/v1/directory/departments"): Rule(Scope.SIGNED_IN, 200),
    ("GET", "/api/v1/directory/roles"): Rule(Scope.SIGNED_IN, 200),
    ("GET", "/api/v1/directory/positions"): Rule(Scope.SIGNED_IN, 200),
    ("GET", "/api/v1/directory/identities/{identity}"): Rule(Scope.ADMIN),
    ("POST", "/api/v1/directory/import"): Rule(Scope.ADMIN),
    ("POST", "/api/v1/directory/hand-over"): Rule(Scope.ADMIN),
    ("POST", "/api/v1/apps"): Rule(Scope.ADMIN),
    ("GET", "/api/v1/apps"): Rule(Scope.ADMIN),
    ("GET", "/api/v1/apps/{app_id}"): Rule(Scope.ADMIN),
    ("DELETE", "/api/v1/apps/{app_id}"): Rule(Scope.ADMIN),
    ("POST", "/api/v1/apps/{app_id}/webhooks"): Rule(Scope.ADMIN),
    ("GET", "/api/v1/apps/{app_id}/webhooks"): Rule(Scope.ADMIN),
    ("DELETE", "/api/v1/apps/{app_id}/webhooks/{endpoint_id}"): Rule(Scope.ADMIN),
    ("POST", "/api/v1/apps/{app_id}/webhooks/{endpoint_id}/rotate"): Rule(Scope.ADMIN),
    ("PUT", "/api/v1/apps/{app_id}/wecom"): Rule(Scope.ADMIN),
    ("GET", "/api/v1/apps/{app_id}/wecom"): Rule(Scope.ADMIN),  # never its secrets
    # WeCom calls these; its signature is the credential: unsigned, they answer 4xx
    # (tests/integrations/test_wecom_callback.py)
    ("GET", "/integrations/wecom/callback/{app_id}"): Rule(Scope.PUBLIC, 422),
    ("POST", "/integrations/wecom/callback/{app_id}"): Rule(Scope.PUBLIC, 422),
    ("GET", "/api/v1/deliveries"): Rule(Scope.ADMIN),
    ("POST", "/api/v1/deliveries/replay"): Rule(Scope.ADMIN),
    ("GET", "/api/v1/events/types"): Rule(Scope.PUBLIC, 200),  # the documented list, no data
    ("GET", "/api/v1/calendar"): Rule(Scope.SIGNED_IN, 200),  # the company's working hours
    ("PUT", "/api/v1/calendar"): Rule(Scope.ADMIN),
    ("POST", "/api/v1/delegations"): Rule(Scope.SIGNED_IN, 422),  # their own tasks only
    ("GET", "/api/v1/delegations"): Rule(Scope.SIGNED_IN, 200),  # their own
    ("DELETE", "/api/v1/delegations/{delegation_id}"): Rule(Scope.SIGNED_IN, 404),
    ("GET", "/healthz"): Rule(Scope.PUBLIC, 200),
    ("GET", "/readyz"): Rule(Scope.PUBLIC, 200),
    ("GET", "/metrics"): Rule(Scope.PUBLIC, 200),  # counts and route templates, never ids
    ("GET", "/"): Rule(Scope.PUBLIC, 200),  # the web app's page: no data, it asks the API
}

# Routes that are not FastAPI API routes (no dependencies, so no caller): the docs only.
# A WebSocket endpoint or a mounted app added later lands here and must be classified.
OTHER_ROUTES = {
    "/openapi.json",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
    "/static",  # the web app's files (JavaScript, CSS, translations): the same for everyone
    "/ws",  # live messages: the token is checked in the first message (tests/events/test_ws.py)
}

# Required request-body fields, by name, for a minimal valid body of any route's model.
# `None` means "filled in by the walk" (the task ids under test).
SAMPLES: dict[str, Any] = {
    "url": "http://127.0.0.1:9/hook",
    "ids": [1],
    "delegate_id": "u-nobody",
    "starts_at": "2026-11-23T00:00:00Z",
    "ends_at": "2026-11-30T00:00:00Z",
    "principal_id": STRANGER,
    "password": PASSWORD,
    "refresh_token": "not-a-refresh-token",
    "template_key": "leave",
    "text": "just looking",
    "people": [STRANGER],
    "to": STRANGER,
    "action": "approve",
    "task_ids": None,
    "from_person": "u-lina",
    "name": "probe app",
    "corp_id": "ww-probe",
}


def api_routes(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    """(method, full path, route) of every API route, as the app serves them."""
    out = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            out += [(m, str(context.path), route) for m in sorted(context.methods or ())]
    return out


def other_routes(app: FastAPI) -> set[str]:
    return {
        str(context.path)
        for context in iter_route_contexts(app.routes)
        if not isinstance(context.original_route, APIRoute)
    }


def body_model(route: APIRoute) -> type[BaseModel] | None:
    if route.body_field is None:
        return None
    annotation = route.body_field.field_info.annotation
    for candidate in (annotation, *get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def minimal_body(route: APIRoute, method: str, values: Mapping[str, Any]) -> Any:
    """The smallest body the route's model accepts; a template document for the routes
    that take one; `{}` for the others that take a body (directory import)."""
    if method in ("GET", "DELETE"):
        return None
    model = body_model(route)
    if model is None:
        if route.body_field is not None:  # a template document (a plain JSON object)
            return {"key": values.get("key", "leave")}
        return {}
    body: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if info.is_required():
            assert name in SAMPLES, f"add a sample for {model.__name__}.{name} to SAMPLES"
            body[name] = SAMPLES[name] if SAMPLES[name] is not None else values[name]
    model.model_validate(body)  # the route's own model accepts it: 422 would test nothing
    return body


PATH_PARAM = re.compile(r"{(\w+)}")


@dataclass(frozen=True)
class Call:
    method: str
    template: str
    url: str
    body: Any
    rule: Rule

    def send(self, client: TestClient) -> Response:
        if self.body is None:
            return client.request(self.method, self.url)
        return client.request(self.method, self.url, json=self.body)

    @property
    def sent(self) -> str:
        return self.url + json.dumps(self.body, ensure_ascii=False)


def walk(app: FastAPI, params: Mapping[str, list[str]], task_ids: list[str]) -> Iterator[Call]:
    """Every route once per combination of the given path parameter values."""
    unknown = [(m, p) for m, p, _ in api_routes(app) if (m, p) not in ROUTES]
    assert not unknown, f"classify these routes in ROUTES before walking them: {unknown}"
    for method, path, route in api_routes(app):
        names = PATH_PARAM.findall(path)
        missing = [n for n in names if n not in params]
        assert not missing, f"no values for path parameters {missing} of {method} {path}"
        for combo in itertools.product(*(params[n] for n in names)):
            values = dict(zip(names, combo, strict=True))
            url = path
            for name, value in values.items():
                url = url.replace("{" + name + "}", value)
            body = minimal_body(route, method, {**values, "task_ids": task_ids})
            yield Call(method, path, url, body, ROUTES[(method, path)])


def text_of(response: Response) -> str:
    """The whole answer (headers and body), JSON decoded so that escapes hide nothing."""
    headers = " ".join(f"{k}: {v}" for k, v in response.headers.items())
    try:
        body = json.dumps(response.json(), ensure_ascii=False)
    except ValueError:
        body = response.text
    return headers + "\n" + body


def leaked(response: Response, markers: set[str], call: Call) -> list[str]:
    """The markers the answer contains that the request did not already."""
    text = text_of(response)
    return sorted(m for m in markers if m and m not in call.sent and m in text)


def problem_shape(response: Response) -> tuple[int, str | None, tuple[str, ...]]:
    """What a "not found or not allowed" answer says, with the ids taken out."""
    try:
        body = response.json()
    except ValueError:
        return response.status_code, None, ()
    details = body.get("details") or {} if isinstance(body, dict) else {}
    code = body.get("code") if isinstance(body, dict) else None
    return response.status_code, code, tuple(sorted(details))


# ---- the world: a leave and an expense request in flight ---------------------------------


def ok(response: Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, (response.request.url, response.text)
    body: dict[str, Any] = response.json()
    return body


def refused(response: Response, status: int, code: str) -> None:
    assert response.status_code == status, (response.request.url, response.text)
    assert response.json()["code"] == code, response.text


def show(api: Api, instance_id: str, person: str = APPLICANT) -> dict[str, Any]:
    return ok(api.as_(person).get(f"/api/v1/instances/{instance_id}"))


def task_of(api: Api, instance_id: str, person: str, status: str = "pending") -> str:
    """The id of the person's one task on the instance in that status."""
    tasks = show(api, instance_id)["tasks"]
    found = [t["id"] for t in tasks if t["assignee"] == person and t["status"] == status]
    assert len(found) == 1, (person, status, found)
    task_id: str = found[0]
    return task_id


def act(api: Api, person: str, task_id: str, action: str = "approve", **body: Any) -> None:
    ok(api.as_(person).post(f"/api/v1/tasks/{task_id}/{action}", json=body))


@dataclass
class World:
    api: Api
    leave_id: str
    expense_id: str
    app_id: str
    app_key: str
    views: dict[str, dict[str, Any]] = field(default_factory=dict)

    def show(self, instance_id: str, person: str = APPLICANT) -> dict[str, Any]:
        return show(self.api, instance_id, person)

    def refresh(self) -> None:
        self.views = {i: self.show(i) for i in (self.leave_id, self.expense_id)}

    def task(self, instance_id: str, person: str, status: str = "pending") -> str:
        return task_of(self.api, instance_id, person, status)

    def act(self, person: str, task_id: str, action: str = "approve", **body: Any) -> None:
        act(self.api, person, task_id, action, **body)

    def task_ids(self, *instance_ids: str) -> list[str]:
        return [t["id"] for i in instance_ids for t in self.views[i]["tasks"]]

    def markers(self, *instance_ids: str, people: bool) -> set[str]:
        """What a stranger must not learn of these instances; with `people`, also who
        applied and who approves (a person's id is fine in the directory, not beside an
        instance)."""
        out: set[str] = set()
        for instance_id in instance_ids:
            view = self.views[instance_id]
            out |= {view["id"], view["title"], view["serial"], *self.task_ids(instance_id)}
            if people:
                out |= {view["applicant_id"], *(t["assignee"] for t in view["tasks"])}
        out |= {LEAVE_REASON, EXPENSE_NOTE, INVOICE_NAME, EXPENSE_TOTAL}
        return out


def submit(api: Api, template_key: str, form: dict[str, Any], person: str = APPLICANT) -> str:
    body = {"template_key": template_key, "form": form}
    instance_id: str = ok(api.as_(person).post("/api/v1/instances", json=body), 201)["instance_id"]
    return instance_id


@pytest.fixture
def world(api: Api) -> World:
    """A 5-day leave of 张三's, approved by his team lead (u-chenjie), now with 李娜
    (u-lina), CC'd to 马骏 (u-majun); an expense claim of his over the 1000-5000 route,
    approved by u-chenjie and the reviewer he chose (u-zhoujing), now with the cashier
    (u-zhengyu); an app that owns only the leave template."""
    leave_id = submit(api, "leave", leave_form())
    expense_id = submit(api, "expense", expense_form())
    created = ok(
        api.as_(ADMIN).post("/api/v1/apps", json={"name": "HR system", "templates": ["leave"]}),
        201,
    )
    world = World(api, leave_id, expense_id, created["id"], created["api_key"])
    world.act("u-chenjie", world.task(leave_id, "u-chenjie"))
    ok(api.as_(APPLICANT).post(f"/api/v1/instances/{leave_id}/cc", json={"people": ["u-majun"]}))
    choice = {"finance_review": ["u-zhoujing"]}
    world.act("u-chenjie", world.task(expense_id, "u-chenjie"), choices=choice)
    world.act("u-zhoujing", world.task(expense_id, "u-zhoujing"))
    world.refresh()
    assert [t["assignee"] for t in world.views[leave_id]["pending"]] == ["u-lina"]
    assert [t["assignee"] for t in world.views[expense_id]["pending"]] == ["u-zhengyu"]
    return world


def params_for(world: World, instance_ids: list[str], task_ids: list[str]) -> dict[str, list[str]]:
    return {
        "instance_id": instance_ids,
        "task_id": task_ids,
        "key": ["leave"],
        "box": ["pending", "done", "cc", "mine"],
        "principal_id": [APPLICANT],
        "identity": ["wecom:user:zhangsan"],
        "app_id": [world.app_id],
        "endpoint_id": ["ep-none"],
        "delegation_id": ["dl-none"],
        "document_id": ["doc-none"],
    }


def fake_call(call: Call) -> Call:
    """The same request about an instance or task nobody ever created."""
    url = re.sub(r"/instances/[^/]+", f"/instances/{FAKE_INSTANCE}", call.url)
    url = re.sub(r"/tasks/[^/]+", f"/tasks/{FAKE_TASK}", url)
    return Call(call.method, call.template, url, call.body, call.rule)


# ---- the walk ----------------------------------------------------------------------------


def test_every_route_of_the_app_is_classified_in_the_access_table(api: Api) -> None:
    app = api.app_client.app
    assert isinstance(app, FastAPI)
    served = {(m, p) for m, p, _ in api_routes(app)}
    assert served - set(ROUTES) == set(), "new routes: say who may use them in ROUTES"
    assert set(ROUTES) - served == set(), "ROUTES names routes the app no longer serves"
    assert other_routes(app) == OTHER_ROUTES, "a non-API route: classify it and test its access"


def test_a_stranger_walking_every_route_learns_nothing_and_changes_nothing(
    world: World,
) -> None:
    api, stranger = world.api, world.api.as_(STRANGER)
    app = api.app_client.app
    assert isinstance(app, FastAPI)
    ids = [world.leave_id, world.expense_id]
    task_ids = world.task_ids(*ids)
    instance_markers = world.markers(*ids, people=True)
    open_markers = world.markers(*ids, people=False)
    versions = {i: world.views[i]["version"] for i in ids}
    failures: list[str] = []
    fakes: dict[str, tuple[int, str | None, tuple[str, ...]]] = {}
    for call in walk(app, params_for(world, ids, task_ids), task_ids):
        response = call.send(stranger)
        where = f"{call.method} {call.url}"
        scope = call.rule.scope
        if scope in (Scope.INSTANCE, Scope.TASK):
            if call.template not in fakes:
                fakes[call.template] = problem_shape(fake_call(call).send(stranger))
            if response.status_code != 404:
                failures.append(
                    f"{where}: {response.status_code}, expected 404: {response.text[:300]}"
                )
            elif problem_shape(response) != fakes[call.template]:
                failures.append(
                    f"{where}: answers {problem_shape(response)} but "
                    f"{fakes[call.template]} for an id nobody used"
                )
            if "etag" in response.headers:
                failures.append(f"{where}: an ETag (the instance's version) on a refusal")
            markers = instance_markers
        elif scope is Scope.ADMIN:
            if problem_shape(response)[:2] != (403, "not_admin"):
                failures.append(f"{where}: {response.status_code}, expected 403 not_admin")
            markers = instance_markers
        else:
            if response.status_code != call.rule.stranger:
                failures.append(
                    f"{where}: {response.status_code}, expected {call.rule.stranger}: "
                    f"{response.text[:300]}"
                )
            markers = open_markers
        found = leaked(response, markers, call)
        if found:
            failures.append(f"{where}: the answer contains {found}")
        if response.status_code >= 500:
            failures.append(f"{where}: {response.status_code}")
    assert not failures, "\n".join(failures)

    # a batch over someone else's tasks: each one "not found", like a task nobody made
    def batch(ids: list[str]) -> list[dict[str, Any]]:
        body = {"action": "reject", "task_ids": ids}
        results: list[dict[str, Any]] = ok(stranger.post("/api/v1/inbox/batch", json=body))[
            "results"
        ]
        return results

    def said(result: dict[str, Any]) -> tuple[Any, ...]:
        problem = result["problem"]
        return result["ok"], result["outcome"], problem["status"], problem["code"]

    expected = said(batch([FAKE_TASK])[0])
    assert expected[:3] == (False, None, 404)
    assert [said(r) for r in batch(task_ids)] == [expected] * len(task_ids)
    # nothing the stranger sent changed either request
    for instance_id, version in versions.items():
        assert world.show(instance_id)["version"] == version
    # and their own inbox is empty of them
    for box in ("pending", "done", "cc", "mine"):
        inbox = ok(stranger.get(f"/api/v1/inbox/{box}"))
        assert inbox["items"] == [], (box, inbox)
    counts = ok(stranger.get("/api/v1/me"))["counts"]
    assert counts.get("pending", 0) == 0 and counts.get("cc", 0) == 0, counts


def test_an_app_walking_every_route_learns_nothing_of_a_template_it_does_not_own(
    world: World,
) -> None:
    app_client = world.api.with_key(world.app_key)
    app = world.api.app_client.app
    assert isinstance(app, FastAPI)
    ids = [world.expense_id]
    task_ids = world.task_ids(*ids)
    instance_markers = world.markers(*ids, people=True)
    open_markers = world.markers(*ids, people=False)
    version = world.views[world.expense_id]["version"]
    failures: list[str] = []
    for call in walk(app, params_for(world, ids, task_ids), task_ids):
        response = call.send(app_client)
        where = f"{call.method} {call.url}"
        scope = call.rule.scope
        if scope in (Scope.INSTANCE, Scope.TASK):
            fake = fake_call(call).send(app_client)
            if response.status_code not in (403, 404):
                failures.append(f"{where}: {response.status_code}, expected 404 (or 403)")
            elif problem_shape(response) != problem_shape(fake):
                failures.append(
                    f"{where}: answers {problem_shape(response)} but "
                    f"{problem_shape(fake)} for an id nobody used"
                )
        elif scope is Scope.ADMIN and problem_shape(response)[:2] != (403, "not_admin"):
            failures.append(f"{where}: {response.status_code}, expected 403 not_admin")
        open_route = scope in (Scope.SIGNED_IN, Scope.PUBLIC)
        found = leaked(response, open_markers if open_route else instance_markers, call)
        if found:
            failures.append(f"{where}: the answer contains {found}")
        if response.status_code >= 500:
            failures.append(f"{where}: {response.status_code}")
    assert not failures, "\n".join(failures)
    assert world.show(world.expense_id)["version"] == version


def test_without_credentials_every_route_but_sign_in_and_operations_answers_401(
    world: World,
) -> None:
    anonymous = world.api.anonymous
    app = world.api.app_client.app
    assert isinstance(app, FastAPI)
    ids = [world.leave_id, world.expense_id]
    task_ids = world.task_ids(*ids)
    markers = world.markers(*ids, people=True)
    failures: list[str] = []
    for call in walk(app, params_for(world, ids, task_ids), task_ids):
        response = call.send(anonymous)
        where = f"{call.method} {call.url}"
        if call.rule.scope is not Scope.PUBLIC:
            if problem_shape(response)[:2] != (401, "not_authenticated"):
                failures.append(f"{where}: {response.status_code}, expected 401")
            elif response.headers.get("www-authenticate") != "Bearer":
                failures.append(f"{where}: 401 without WWW-Authenticate: Bearer")
        found = leaked(response, markers, call)
        if found:
            failures.append(f"{where}: the answer contains {found}")
    assert not failures, "\n".join(failures)


# ---- who sees an instance, who acts on a task --------------------------------------------


def visible_to(world: World, instance_id: str, person: str) -> bool:
    response = world.api.as_(person).get(f"/api/v1/instances/{instance_id}")
    assert response.status_code in (200, 404), response.text
    timeline = world.api.as_(person).get(f"/api/v1/instances/{instance_id}/timeline")
    assert timeline.status_code == response.status_code, timeline.text
    if response.status_code == 404:
        assert response.json()["code"] == "unknown_instance"
        assert world.views[instance_id]["title"] not in response.text
    return response.status_code == 200


def test_the_applicant_past_and_current_assignees_cc_and_admins_see_a_request(
    world: World,
) -> None:
    leave = world.leave_id
    for person in (APPLICANT, "u-chenjie", "u-lina", "u-majun", ADMIN):
        assert visible_to(world, leave, person), person
    cc_box = ok(world.api.as_("u-majun").get("/api/v1/inbox/cc"))
    assert [i["instance_id"] for i in cc_box["items"]] == [leave]
    # the HR approvers come after 李娜: they hold no task yet
    for person in ("u-xuting", STRANGER, "u-liuyang", "u-sunli"):
        assert not visible_to(world, leave, person), person


def test_a_template_admin_sees_the_requests_of_their_template_only(world: World) -> None:
    assert visible_to(world, world.expense_id, "u-sunli")  # admin of the expense template
    assert not visible_to(world, world.leave_id, "u-sunli")
    assert not visible_to(world, world.expense_id, "u-zhaolei")  # admin of permission


def test_the_next_approver_sees_a_request_once_they_hold_a_task(world: World) -> None:
    leave = world.leave_id
    assert not visible_to(world, leave, "u-xuting")
    world.act("u-lina", world.task(leave, "u-lina"))
    assert visible_to(world, leave, "u-xuting")
    task = world.task(leave, "u-xuting")
    inbox = ok(world.api.as_("u-xuting").get("/api/v1/inbox/pending"))
    assert task in [i["task_id"] for i in inbox["items"]]


TASK_ACTIONS: dict[str, dict[str, Any]] = {
    "approve": {},
    "reject": {"comment": "no"},
    "return": {"comment": "again"},
    "transfer": {"to": "u-liuyang"},
    "delegate": {"to": "u-liuyang"},
    "add-approvers": {"people": ["u-liuyang"]},
    "read": {},
}


def test_only_the_current_assignee_may_act_on_a_task(world: World) -> None:
    leave = world.leave_id
    task = world.task(leave, "u-lina")
    version = world.views[leave]["version"]
    for action, body in TASK_ACTIONS.items():
        url = f"/api/v1/tasks/{task}/{action}"
        # they see the request, but the task is not theirs
        for person in (APPLICANT, "u-chenjie", "u-majun", ADMIN):
            refused(world.api.as_(person).post(url, json=body), 403, "not_assignee")
        # they do not even see the request
        for person in ("u-xuting", STRANGER):
            refused(world.api.as_(person).post(url, json=body), 404, "unknown_instance")
    assert world.show(leave)["version"] == version
    batch = {"action": "approve", "task_ids": [task]}
    result = ok(world.api.as_("u-chenjie").post("/api/v1/inbox/batch", json=batch))
    assert result["succeeded"] == 0 and result["results"][0]["status"] == 403
    assert world.show(leave)["version"] == version
    world.act("u-lina", task)
    assert world.show(leave)["pending"][0]["node_id"] == "hr"


def test_a_delegate_sees_the_request_and_answers_for_the_delegator(world: World) -> None:
    leave = world.leave_id
    assert not visible_to(world, leave, "u-liuyang")
    world.act("u-lina", world.task(leave, "u-lina"), "delegate", to="u-liuyang")
    assert visible_to(world, leave, "u-liuyang")
    delegated = world.task(leave, "u-liuyang")
    refused(
        world.api.as_("u-chenjie").post(f"/api/v1/tasks/{delegated}/approve", json={}),
        403,
        "not_assignee",
    )
    world.act("u-liuyang", delegated)
    # the task is back with 李娜, who decides; the delegate still sees what they answered
    world.act("u-lina", world.task(leave, "u-lina"))
    assert visible_to(world, leave, "u-liuyang")
    assert world.show(leave)["pending"][0]["node_id"] == "hr"


def test_only_the_approver_who_approved_last_may_take_it_back(world: World) -> None:
    leave = world.leave_id
    lina = world.task(leave, "u-lina")
    world.act("u-lina", lina)
    take_back = f"/api/v1/tasks/{lina}/take-back"
    for person in (APPLICANT, "u-chenjie", "u-xuting", "u-majun", ADMIN):
        refused(world.api.as_(person).post(take_back, json={}), 403, "not_assignee")
    refused(world.api.as_(STRANGER).post(take_back, json={}), 404, "unknown_instance")
    # 陈杰 approved before 李娜: too late for him
    chenjie = world.task(leave, "u-chenjie", "approved")
    late = world.api.as_("u-chenjie").post(f"/api/v1/tasks/{chenjie}/take-back", json={})
    assert late.status_code == 409, late.text
    ok(world.api.as_("u-lina").post(take_back, json={}))
    body = world.show(leave)
    assert [(t["node_id"], t["assignee"]) for t in body["pending"]] == [("dept_head", "u-lina")]
    # 徐婷 held an HR task for a moment: she still sees the request she was part of
    assert visible_to(world, leave, "u-xuting")


def test_only_the_applicant_withdraws_or_urges_and_only_template_admins_terminate(
    world: World,
) -> None:
    leave = world.leave_id
    version = world.views[leave]["version"]
    for person in ("u-chenjie", "u-lina", "u-majun"):
        client = world.api.as_(person)
        refused(client.post(f"/api/v1/instances/{leave}/withdraw", json={}), 403, "not_applicant")
        refused(client.post(f"/api/v1/instances/{leave}/urge", json={}), 403, "not_applicant")
        refused(client.post(f"/api/v1/instances/{leave}/copy"), 403, "not_applicant")
        refused(
            client.post(f"/api/v1/instances/{leave}/terminate", json={}),
            403,
            "not_template_admin",
        )
    assert world.show(leave)["version"] == version
    # 孙丽 administers the expense template: she may end a running expense claim
    ended = ok(
        world.api.as_("u-sunli").post(f"/api/v1/instances/{world.expense_id}/terminate", json={})
    )
    assert ended["status"] == "terminated"


# ---- hidden fields -----------------------------------------------------------------------


def keys_anywhere(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_anywhere(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_anywhere(v)}
    return set()


def test_the_cashier_never_sees_the_invoices_their_node_hides(world: World) -> None:
    expense = world.expense_id
    seen = world.show(expense, "u-zhengyu")
    assert "invoices" not in seen["form"]
    assert seen["form"]["total"] == EXPENSE_TOTAL
    assert seen["form"]["items"][0]["description"] == EXPENSE_NOTE
    for entry in seen["timeline"]:
        assert "invoices" not in keys_anywhere(entry["data"]), entry
    assert INVOICE_NAME not in json.dumps(seen, ensure_ascii=False)
    timeline = ok(world.api.as_("u-zhengyu").get(f"/api/v1/instances/{expense}/timeline"))
    assert INVOICE_NAME not in json.dumps(timeline, ensure_ascii=False)
    # nor can the cashier overwrite what they cannot see
    task = world.task(expense, "u-zhengyu")
    other = [{"id": "f-X", "name": "other.pdf", "size": 1, "content_type": "application/pdf"}]
    edit = {"edits": {"invoices": other}}
    refused(
        world.api.as_("u-zhengyu").post(f"/api/v1/tasks/{task}/approve", json=edit),
        403,
        "field_not_writable",
    )
    # once approved, the cashier still holds a task on the cashier node only
    world.act("u-zhengyu", task)
    seen = world.show(expense, "u-zhengyu")
    assert seen["status"] == "approved" and "invoices" not in seen["form"]
    assert INVOICE_NAME not in json.dumps(seen, ensure_ascii=False)


def test_the_applicant_approvers_and_admins_see_the_invoices(world: World) -> None:
    expense = world.expense_id
    for person in (APPLICANT, "u-chenjie", "u-zhoujing", "u-sunli", ADMIN):
        seen = world.show(expense, person)
        assert seen["form"]["invoices"][0]["name"] == INVOICE_NAME, person
        submitted = next(e for e in seen["timeline"] if e["type"] == "InstanceSubmitted")
        assert submitted["data"]["form"]["invoices"][0]["name"] == INVOICE_NAME, person
    app = world.api.with_key(world.app_key)
    leave = ok(app.get(f"/api/v1/instances/{world.leave_id}"))
    assert leave["form"]["reason"] == LEAVE_REASON  # an owning app sees every field


def test_a_hidden_table_column_is_removed_from_the_form_and_the_timeline(api: Api) -> None:
    """The example templates hide no column; this one hides the items' descriptions (and
    the invoices) from its cashier."""
    document = json.loads((EXAMPLES / "templates" / "expense.json").read_text())
    document["key"] = "expense_private"
    cashier = next(n for n in document["flow"]["nodes"] if n["id"] == "cashier")
    cashier["permissions"] = {"invoices": "hidden", "items.description": "hidden"}
    ok(api.as_(ADMIN).post("/api/v1/templates/expense_private/publish", json=document), 201)
    instance_id = submit(api, "expense_private", expense_form("200.00"))
    act(api, "u-chenjie", task_of(api, instance_id, "u-chenjie"))
    seen = show(api, instance_id, "u-zhengyu")
    assert seen["form"]["items"] == [
        {"date": "2026-11-20", "category": "transport", "amount": "200.00"}
    ]
    assert "invoices" not in seen["form"]
    text = json.dumps(seen, ensure_ascii=False)
    assert INVOICE_NAME not in text
    leaking = [
        e["type"] for e in seen["timeline"] if EXPENSE_NOTE in json.dumps(e, ensure_ascii=False)
    ]
    assert EXPENSE_NOTE not in text, f"the hidden column is in these events' data: {leaking}"
    assert show(api, instance_id)["form"]["items"][0]["description"] == EXPENSE_NOTE


# ---- administrators, apps ----------------------------------------------------------------


def test_only_administrators_manage_templates_the_directory_and_apps(world: World) -> None:
    document = json.loads((EXAMPLES / "templates" / "expense.json").read_text())
    # the expense template's own admin is no administrator
    sunli = world.api.as_("u-sunli")
    refused(sunli.put("/api/v1/templates/expense/draft", json=document), 403, "not_admin")
    refused(sunli.post("/api/v1/templates/expense/publish", json=document), 403, "not_admin")
    refused(sunli.post("/api/v1/templates/validate", json=document), 403, "not_admin")
    refused(sunli.get("/api/v1/apps"), 403, "not_admin")
    hand_over = {"from_person": "u-lina", "to": "u-liuyang"}
    refused(sunli.post("/api/v1/directory/hand-over", json=hand_over), 403, "not_admin")
    admin = world.api.as_(ADMIN)
    ok(admin.put("/api/v1/templates/expense/draft", json=document))
    ok(admin.get("/api/v1/templates/expense/draft"))
    assert [a["id"] for a in ok(admin.get("/api/v1/apps"))] == [world.app_id]


def test_a_person_previews_only_their_own_path_unless_an_administrator(world: World) -> None:
    body = {"form": leave_form(), "applicant_id": APPLICANT}
    url = "/api/v1/templates/leave/preview"
    refused(world.api.as_(STRANGER).post(url, json=body), 403, "not_admin")
    own = ok(world.api.as_(STRANGER).post(url, json={"form": leave_form()}))
    assert own["steps"][0]["people"] == ["u-liuyang"]  # 王五's team lead
    theirs = ok(world.api.as_(ADMIN).post(url, json=body))
    assert theirs["steps"][0]["people"] == ["u-chenjie"]


def test_the_directory_list_shows_a_non_admin_no_more_than_one_person_s_page(
    world: World,
) -> None:
    """The one-person page gives e-mail addresses to administrators only; the list
    must not hand them to everybody else."""
    stranger = world.api.as_(STRANGER)
    person = ok(stranger.get(f"/api/v1/directory/principals/{APPLICANT}"))
    assert "email" not in person
    listed = ok(stranger.get("/api/v1/directory/principals", params={"q": APPLICANT}))
    assert [p["id"] for p in listed] == [APPLICANT]
    assert set(listed[0]) <= set(person), listed[0]


def test_an_app_sees_only_the_requests_and_templates_it_owns(world: World) -> None:
    app = world.api.with_key(world.app_key)
    assert [t["key"] for t in ok(app.get("/api/v1/templates"))] == ["leave"]
    refused(app.get("/api/v1/templates/expense"), 404, "unknown_template")
    ok(app.get("/api/v1/templates/leave"))
    ok(app.get(f"/api/v1/instances/{world.leave_id}"))
    ok(app.get(f"/api/v1/instances/{world.leave_id}/timeline"))
    for url in (
        f"/api/v1/instances/{world.expense_id}",
        f"/api/v1/instances/{world.expense_id}/timeline",
    ):
        refused(app.get(url), 404, "unknown_instance")
    for task in world.task_ids(world.expense_id):
        response = app.post(f"/api/v1/tasks/{task}/approve", json={})
        assert response.status_code in (403, 404), response.text
        assert world.views[world.expense_id]["title"] not in response.text
    me = ok(app.get("/api/v1/me"))
    assert me["app_id"] == world.app_id and me["principal_id"] is None


def test_a_revoked_app_key_opens_nothing(world: World) -> None:
    ok(world.api.as_(ADMIN).delete(f"/api/v1/apps/{world.app_id}"))
    app = world.api.with_key(world.app_key)
    refused(app.get(f"/api/v1/instances/{world.leave_id}"), 401, "not_authenticated")
    refused(app.get("/api/v1/templates"), 401, "not_authenticated")
