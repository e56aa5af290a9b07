"""Webhooks: an app's endpoints hear the notices of its templates' requests, once per
event id, in order per request, signed as Standard Webhooks has it; a receiver that is
away gets retries, then dead letters an administrator replays.

The receiver is a real HTTP server verifying every delivery with `standardwebhooks`; the
dispatcher is stepped by hand and time is the test's clock."""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from cloudevents.core.bindings.http import HTTPMessage, from_http_event
from fastapi.testclient import TestClient
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from signoff.api.app import create_app
from signoff.bootstrap import Services, build
from signoff.events.dispatcher import Dispatcher
from signoff.events.webhooks import new_secret
from signoff.service.clock import ManualClock
from signoff.service.commands import Outcome
from signoff.settings import Settings
from signoff.store import outbox as box
from signoff.store.database import Database
from signoff.store.schema import deliveries, outbox
from tests.events.conftest import approve_next, rows, run_step, settings, submit_leave

ADMIN = "u-huangli"


# ---- a receiver on the test's clock ------------------------------------------------------


class ClockedWebhook(Webhook):
    """`standardwebhooks`' verification with "now" read from the test's clock: the
    dispatcher stamps `webhook-timestamp` with its clock, and the library refuses a stamp
    more than five minutes away from now."""

    def __init__(self, secret: str, clock: ManualClock) -> None:
        super().__init__(secret)
        self.clock = clock

    # the library's private check (name-mangled), same rule, the test's now
    def _Webhook__verify_timestamp(self, timestamp_header: str) -> datetime:
        try:
            stamp = datetime.fromtimestamp(float(timestamp_header), tz=UTC)
        except ValueError:
            raise WebhookVerificationError("Invalid Signature Headers") from None
        if stamp < self.clock.now() - timedelta(minutes=5):
            raise WebhookVerificationError("Message timestamp too old")
        if stamp > self.clock.now() + timedelta(minutes=5):
            raise WebhookVerificationError("Message timestamp too new")
        return stamp


@dataclass(frozen=True)
class Post:
    """One delivery as the receiver saw it."""

    body: bytes
    headers: dict[str, str]

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass
class Hooks:
    """Accepts a delivery signed with any of `secrets` (204), refuses others (401), and
    answers 503 while `down`. Keeps the verified deliveries in arrival order."""

    clock: ManualClock
    secrets: list[str] = field(default_factory=list)
    down: bool = False
    url: str = ""
    posts: list[Post] = field(default_factory=list)
    refused: int = 0  # 503s while down
    unverified: int = 0  # 401s: no secret verified the signature
    in_flight: Counter[str] = field(default_factory=Counter)  # webhook-id -> being handled
    most_at_once: int = 0  # the most deliveries of one webhook-id handled at one time
    lock: threading.Lock = field(default_factory=threading.Lock)

    def verify(self, post: Post, secret: str) -> dict[str, Any]:
        event: dict[str, Any] = ClockedWebhook(secret, self.clock).verify(post.body, post.headers)
        return event

    def ids(self) -> list[str]:
        return [p.id for p in self.posts]

    def handle(self, post: Post) -> int:
        with self.lock:
            if self.down:
                self.refused += 1
                return 503
            self.in_flight[post.id] += 1
            self.most_at_once = max(self.most_at_once, self.in_flight[post.id])
        try:
            threading.Event().wait(0.01)  # a receiver takes a moment: duplicates would overlap
            for secret in self.secrets:
                try:
                    self.verify(post, secret)
                except WebhookVerificationError:
                    continue
                with self.lock:
                    self.posts.append(post)
                return 204
            with self.lock:
                self.unverified += 1
            return 401
        finally:
            with self.lock:
                self.in_flight[post.id] -= 1


class Server(ThreadingHTTPServer):
    request_queue_size = 128  # the default (5) resets a burst of 50 connections: ReadError
    daemon_threads = True


@pytest.fixture
def hooks(clock: ManualClock) -> Iterator[Hooks]:
    found = Hooks(clock)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # the stdlib's name
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            post = Post(body, {k.lower(): v for k, v in self.headers.items()})
            self.send_response(found.handle(post))
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # the stdlib's name
            pass

    server = Server(("127.0.0.1", 0), Handler)
    found.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield found
    server.shutdown()
    server.server_close()


# ---- the admin API (without its own dispatcher: the tests step one) -----------------------


@dataclass
class Admin:
    client: TestClient
    services: Services
    clock: ManualClock

    def _auth(self) -> dict[str, str]:
        token = self.services.issuer.access_token(ADMIN, True, self.clock.now())
        return {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.client.get(f"/api/v1{path}", params=params, headers=self._auth())

    def post(self, path: str, body: Any) -> httpx.Response:
        return self.client.post(f"/api/v1{path}", json=body, headers=self._auth())

    def app(self, name: str, templates: list[str]) -> str:
        answer = self.post("/apps", {"name": name, "templates": templates})
        assert answer.status_code == 201, answer.text
        app_id: str = answer.json()["id"]
        return app_id

    def webhook(self, app_id: str, url: str, event_types: list[str] | None = None) -> Any:
        """A new endpoint: its id, and its secret (in this answer only)."""
        body: dict[str, Any] = {"url": url}
        if event_types is not None:
            body["event_types"] = event_types
        answer = self.post(f"/apps/{app_id}/webhooks", body)
        assert answer.status_code == 201, answer.text
        return answer.json()


@pytest.fixture
def admin(seeded: Database, clock: ManualClock) -> Iterator[Admin]:
    config = Settings(
        database_url=seeded.url,
        secret_key="webhook-tests-secret-key-0123456789abcdef",
        log_level="warning",
        worker=False,
    )
    services = build(config, clock)
    services.db.dispose()
    services.db = seeded
    with TestClient(create_app(config, services), raise_server_exceptions=False) as client:
        yield Admin(client, services, clock)


def subscribe(admin: Admin, hooks: Hooks, event_types: list[str] | None = None) -> Any:
    """An app owning `leave`, with an endpoint at the receiver (which knows the secret)."""
    app_id = admin.app("HR system", ["leave"])
    endpoint = admin.webhook(app_id, hooks.url, event_types)
    hooks.secrets.append(endpoint["secret"])
    return endpoint


# ---- stepping ----------------------------------------------------------------------------


def deliver(dispatcher: Dispatcher) -> int:
    return run_step(dispatcher, dispatcher.deliver_webhooks)


def deliver_all(dispatcher: Dispatcher) -> int:
    """Deliver until nothing is due (each step takes one notice per request)."""
    total = 0
    for _ in range(200):
        done = deliver(dispatcher)
        if not done:
            return total
        total += done
    raise AssertionError("deliveries never ran out")


def approve_all(db: Database, clock: ManualClock, outcome: Outcome) -> Outcome:
    while outcome.status == "pending":
        outcome = approve_next(db, clock, outcome)
    return outcome


def notice_ids(db: Database, instance_id: str, type_: str | None = None) -> list[str]:
    """The instance's relayed notices, in position order."""
    where = [outbox.c.instance_id == instance_id]
    if type_ is not None:
        where.append(outbox.c.type == type_)
    return [r.event_id for r in sorted(rows(db, outbox, *where), key=lambda r: r.position)]


def webhook_deliveries(db: Database) -> list[Any]:
    return sorted(rows(db, deliveries, deliveries.c.sink == "webhook"), key=lambda r: r.id)


def received_for(hooks: Hooks, instance_id: str) -> list[str]:
    return [p.id for p in hooks.posts if p.event["subject"] == instance_id]


# ---- what an endpoint hears --------------------------------------------------------------


def test_an_app_owning_the_template_hears_every_notice_of_a_request_once_and_in_order(
    seeded: Database, clock: ManualClock, admin: Admin, hooks: Hooks
) -> None:
    subscribe(admin, hooks)
    dispatcher = Dispatcher(seeded, clock, settings())
    done = approve_all(seeded, clock, submit_leave(seeded, clock))
    assert done.status == "approved"
    other = approve_next(seeded, clock, submit_leave(seeded, clock, applicant="u-wangwu"))
    dispatcher.relay_once()
    deliver_all(dispatcher)
    assert hooks.unverified == 0
    for instance_id in (done.instance_id, other.instance_id):
        assert received_for(hooks, instance_id) == notice_ids(seeded, instance_id)
    assert len(set(hooks.ids())) == len(hooks.ids())
    assert {"signoff.instance.submitted", "signoff.task.assigned", "signoff.task.approved"} <= {
        p.event["type"] for p in hooks.posts
    }
    assert {d.status for d in webhook_deliveries(seeded)} == {"delivered"}
    assert deliver_all(dispatcher) == 0  # delivered means delivered: nothing goes out again


def test_each_delivery_is_a_cloudevent_signed_as_standard_webhooks_has_it(
    seeded: Database, clock: ManualClock, admin: Admin, hooks: Hooks
) -> None:
    endpoint = subscribe(admin, hooks)
    dispatcher = Dispatcher(seeded, clock, settings())
    outcome = approve_next(seeded, clock, submit_leave(seeded, clock))
    dispatcher.relay_once()
    deliver_all(dispatcher)
    notices = {r.event_id: r for r in rows(seeded, outbox)}
    assert len(hooks.posts) == len(notices)
    for post in hooks.posts:
        event = hooks.verify(post, endpoint["secret"])  # the library accepts it...
        with pytest.raises(WebhookVerificationError, match="No matching signature"):
            hooks.verify(post, new_secret())  # ...and refuses it under any other secret
        row = notices[post.id]
        assert event["specversion"] == "1.0"
        assert event["id"] == post.id == row.event_id
        assert event["type"] == f"signoff.{row.type}"
        assert event["subject"] == outcome.instance_id
        assert event["source"] == "urn:signoff"
        assert event["data"]["instance_id"] == outcome.instance_id
        assert post.headers["webhook-timestamp"] == str(int(clock.now().timestamp()))
        parsed = from_http_event(HTTPMessage(post.headers, post.body))  # the CloudEvents SDK
        assert (parsed.get_specversion(), parsed.get_id()) == ("1.0", post.id)
        assert parsed.get_subject() == outcome.instance_id


def test_a_body_changed_on_the_way_fails_verification(
    seeded: Database, clock: ManualClock, admin: Admin, hooks: Hooks
) -> None:
    endpoint = subscribe(admin, hooks)
    dispatcher = Dispatcher(seeded, clock, settings())
    submit_leave(seeded, clock)
    dispatcher.relay_once()
    deliver_all(dispatcher)
    post = hooks.posts[0]
    forged = Post(post.body.replace(b'"status":"pending"', b'"status":"approved"'), post.headers)
    assert forged.body != post.body
    with pytest.raises(WebhookVerificationError):
        hooks.verify(forged, endpoint["secret"])


def test_an_endpoint_subscribed_to_task_assigned_hears_only_that(
    seeded: Database, clock: ManualClock, admin: Admin, hooks: Hooks
) -> None:
    subscribe(admin, hooks, ["signoff.task.assigned"])
    dispatcher = Dispatcher(seeded, clock, settings())
    done = approve_all(seeded, clock, submit_leave(seeded, clock))
    dispatcher.relay_once()
    deliver_all(dispatcher)
    assigned = notice_ids(seeded, done.instance_id, "task.assigned")
    assert len(assigned) >= 3  # team lead, head above, HR
    assert hooks.ids() == assigned
    assert {p.event["type"] for p in hooks.posts} == {"signoff.task.assigned"}


def test_an_app_that_does_not_own_the_template_hears_nothing(
    seeded: Database, clock: ManualClock, admin: Admin, hooks: Hooks
) -> None:
    app_id = admin.app("Finance system", ["expense"])
    hooks.secrets.append(admin.webhook(app_id, hooks.url)["secret"])
    dispatcher = Dispatcher(seeded, clock, settings())
    approve_all(seeded, clock, submit_leave(seeded, clock))
    dispatcher.relay_once()
    assert deliver_all(dispatcher) == 0
    assert hooks.posts == []
    assert webhook_deliveries(seeded) == []


# ---- a receiver that is away -------------------------------------------------------------


def test_a_receiver_that_is_down_gets_retries_with_growing_delays_and_later_notices_wait(
    seeded: Database, clock: ManualClock, admin: Admin, hooks: Hooks
) -> None:
    subscribe(admin, hooks)
    dispatcher = Dispatcher(seeded, clock, settings(retry_base_seconds=10))
    outcome = approve_next(seeded, clock, submit_leave(seeded, clock))
    dispatcher.relay_once()
    hooks.down = True
    waits = []
    for _ in range(3):
        assert deliver(dispatcher) == 1  # only the request's oldest notice is tried
        first = webhook_deliveries(seeded)[0]
        waits.append(first.next_attempt_at - clock.now())
        assert deliver(dispatcher) == 0  # nothing is due until then
        clock.advance(seconds=waits[-1].total_seconds())
    assert waits == [timedelta(seconds=10), timedelta(seconds=20), timedelta(seconds=40)]
    first, *later = webhook_deliveries(seeded)
    assert (first.status, first.attempts) == ("pending", 3)
    assert first.last_error.startswith("HTTP 503")
    assert later and all(d.attempts == 0 and d.status == "pending" for d in later)
    assert hooks.refused == 3 and hooks.posts == []
    hooks.down = False
    deliver_all(dispatcher)
    assert hooks.ids() == notice_ids(seeded, outcome.instance_id)  # all of them, in order
    assert Counter(hooks.ids()).most_common(1)[0][1] == 1  # each event id exactly once
    assert {d.status for d in webhook_deliveries(seeded)} == {"delivered"}
    assert webhook_deliveries(seeded)[0].attempts == 4


def test_past_the_retry_window_a_delivery_is_dead_and_an_administrator_replays_it(
    seeded: Database, clock: ManualClock, admin: Admin, hooks: Hooks
) -> None:
    subscribe(admin, hooks)
    dispatcher = Dispatcher(seeded, clock, settings(retry_base_seconds=60, retry_window_hours=1))
    outcome = submit_leave(seeded, clock)
    dispatcher.relay_once()
    created = clock.now()
    hooks.down = True
    for _ in range(50):
        if not deliver(dispatcher):
            pending = [d for d in webhook_deliveries(seeded) if d.status == "pending"]
            if not pending:
                break
            clock.current = min(d.next_attempt_at for d in pending if d.attempts)
    assert clock.now() - created < timedelta(hours=1)  # no attempt after the window
    dead = admin.get("/deliveries", status="dead")
    assert dead.status_code == 200, dead.text
    ids = sorted(d["id"] for d in dead.json())
    assert ids == [d.id for d in webhook_deliveries(seeded)]
    assert all("503" in d["last_error"] for d in dead.json())
    # 60 s doubling from the first attempt: 0, 1, 3, 7, 15, 31 minutes; the next (63) is late
    assert webhook_deliveries(seeded)[0].attempts == 6
    assert hooks.posts == []
    hooks.down = False
    assert deliver_all(dispatcher) == 0  # dead letters wait for a person
    replay = admin.post("/deliveries/replay", {"ids": ids})
    assert replay.status_code == 200, replay.text
    assert replay.json() == {"replayed": len(ids)}
    deliver_all(dispatcher)
    assert hooks.ids() == notice_ids(seeded, outcome.instance_id)
    assert admin.get("/deliveries", status="dead").json() == []
    assert admin.post("/deliveries/replay", {"ids": ids}).json() == {"replayed": 0}
    assert deliver_all(dispatcher) == 0


# ---- secrets -----------------------------------------------------------------------------


def test_after_a_rotation_deliveries_carry_both_signatures_until_the_old_secret_expires(
    seeded: Database, clock: ManualClock, admin: Admin, hooks: Hooks
) -> None:
    endpoint = subscribe(admin, hooks)
    old = endpoint["secret"]
    rotated = admin.post(
        f"/apps/{endpoint['app_id']}/webhooks/{endpoint['id']}/rotate", {"keep_old_minutes": 60}
    )
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert new != old
    hooks.secrets.append(new)
    dispatcher = Dispatcher(seeded, clock, settings())
    submit_leave(seeded, clock)
    dispatcher.relay_once()
    deliver_all(dispatcher)
    assert hooks.posts
    for post in hooks.posts:
        assert len(post.headers["webhook-signature"].split(" ")) == 2
        assert hooks.verify(post, old) == hooks.verify(post, new) == post.event
    clock.advance(minutes=61)
    before = len(hooks.posts)
    submit_leave(seeded, clock, applicant="u-wangwu")
    dispatcher.relay_once()
    deliver_all(dispatcher)
    later = hooks.posts[before:]
    assert later
    for post in later:
        assert len(post.headers["webhook-signature"].split(" ")) == 1
        assert hooks.verify(post, new) == post.event
        with pytest.raises(WebhookVerificationError):
            hooks.verify(post, old)


# ---- several workers ---------------------------------------------------------------------

APPLICANTS = ["u-zhangsan", "u-wangwu", "u-lisi", "u-zhoujing", "u-gaomin", "u-xuting"]


def test_two_workers_delivering_at_once_never_deliver_the_same_notice_twice(
    seeded: Database, clock: ManualClock, admin: Admin, hooks: Hooks
) -> None:
    subscribe(admin, hooks)
    # more requests than one worker claims at a time (50): both get work in the first round
    outcomes = [submit_leave(seeded, clock, APPLICANTS[i % len(APPLICANTS)]) for i in range(55)]
    outcomes[:6] = [approve_next(seeded, clock, o) for o in outcomes[:6]]
    first, second = (Dispatcher(seeded, clock, settings()) for _ in range(2))
    first.relay_once()

    async def both() -> list[tuple[int, int]]:
        rounds = []
        try:
            for _ in range(100):
                a, b = await asyncio.gather(first.deliver_webhooks(), second.deliver_webhooks())
                rounds.append((a, b))
                if a + b == 0:
                    break
        finally:
            await first.stop()
            await second.stop()
        return rounds

    rounds = asyncio.run(both())
    assert sum(a + b for a, b in rounds) == len(webhook_deliveries(seeded))
    assert rounds[0][0] and rounds[0][1]  # both really worked
    counts = Counter(hooks.ids())
    assert set(counts.values()) == {1}
    assert hooks.most_at_once == 1
    for outcome in outcomes:
        assert received_for(hooks, outcome.instance_id) == notice_ids(seeded, outcome.instance_id)
    assert {d.status for d in webhook_deliveries(seeded)} == {"delivered"}


def test_a_delivery_claimed_by_a_worker_that_died_goes_out_once_when_its_lease_runs_out(
    seeded: Database, clock: ManualClock, admin: Admin, hooks: Hooks
) -> None:
    subscribe(admin, hooks)
    dispatcher = Dispatcher(seeded, clock, settings())
    outcome = submit_leave(seeded, clock)
    dispatcher.relay_once()
    with seeded.writer() as conn:  # a worker claims, then dies before delivering
        held = box.claim(conn, "webhook", clock.now(), dispatcher.lease)
    assert [h.id for h in held] == [webhook_deliveries(seeded)[0].id]
    assert deliver(dispatcher) == 0  # leased: neither it nor the notice behind it go out
    clock.advance(seconds=dispatcher.lease.total_seconds() - 1)
    assert deliver(dispatcher) == 0
    assert hooks.posts == []
    clock.advance(seconds=1)
    assert deliver(dispatcher) == 1
    assert hooks.ids() == [held[0].event_id]
    deliver_all(dispatcher)
    assert hooks.ids() == notice_ids(seeded, outcome.instance_id)
    assert webhook_deliveries(seeded)[0].attempts == 2
