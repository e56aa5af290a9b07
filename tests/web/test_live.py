"""Live updates over the WebSocket: a new task appears and the counts change without a
reload; the request page follows what others do."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from playwright.sync_api import expect

from signoff.service.auth import TokenIssuer
from tests.api.conftest import PASSWORD
from tests.web.conftest import NewPage
from tests.web.support import SECRET, SESSION_KEY, Server
from tests.web.test_request import approve, leave

LIVE_MS = 15_000


def connected(page: Any) -> None:
    expect(page.locator(".live-dot.is-on")).to_be_visible(timeout=LIVE_MS)
    page.evaluate("window.__notReloaded = true")


def test_a_new_task_appears_in_the_open_inbox_and_the_count_changes(
    new_page: NewPage, server: Server
) -> None:
    page = new_page("u-zhaolei", path="#/inbox/pending")
    connected(page)
    before = server.call("u-zhaolei", "GET", "me")["counts"]["pending"]
    instance_id = leave(server, applicant="u-lisi")
    # the toast first: it shows as the message arrives and goes 3.5 s later, while the list
    # is read again only after that
    expect(page.get_by_role("status").get_by_text("New task:")).to_be_visible(timeout=LIVE_MS)
    expect(page.locator(f'[data-instance="{instance_id}"]')).to_be_visible(timeout=LIVE_MS)
    header = page.get_by_role("navigation", name="Main").locator('[data-count="pending"]')
    expect(header).to_have_attribute("data-value", str(before + 1), timeout=LIVE_MS)
    expect(page.locator('.tabs [data-count="pending"]')).to_have_text(str(before + 1))
    assert page.evaluate("window.__notReloaded") is True


def test_the_request_page_follows_what_someone_else_does(new_page: NewPage, server: Server) -> None:
    instance_id = leave(server)
    page = new_page("u-zhangsan", path=f"#/requests/{instance_id}")
    connected(page)
    expect(page.get_by_role("region", name="Waiting for")).to_contain_text("陈杰")
    approve(server, "u-chenjie", instance_id)
    timeline = page.get_by_role("list", name="Timeline")
    expect(timeline.locator('[data-event="TaskApproved"]')).to_contain_text("陈杰", timeout=LIVE_MS)
    expect(page.get_by_role("region", name="Waiting for")).to_contain_text("黄莉")
    assert page.evaluate("window.__notReloaded") is True


def test_an_expired_token_is_refreshed_for_the_api_and_the_socket(
    browser: Any, server: Server
) -> None:
    fresh = httpx.post(
        f"{server.api}/auth/login",
        json={"principal_id": "u-liuyang", "password": PASSWORD},
        timeout=10,
    ).json()
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    expired = TokenIssuer(SECRET).access_token("u-liuyang", False, an_hour_ago)
    session = dict(fresh, access_token=expired)
    state = {
        "cookies": [],
        "origins": [
            {
                "origin": server.origin,
                "localStorage": [{"name": SESSION_KEY, "value": json.dumps(session)}],
            }
        ],
    }
    context = browser.new_context(locale="en", storage_state=state)
    try:
        page = context.new_page()
        page.goto(server.url + "#/inbox/pending")
        expect(page.locator(".me-name")).to_have_text("刘洋")
        expect(page.locator(".live-dot.is-on")).to_be_visible(timeout=LIVE_MS)
        now = json.loads(page.evaluate(f"localStorage.getItem('{SESSION_KEY}')"))
        assert now["access_token"] != expired
        assert now["refresh_token"] != fresh["refresh_token"]  # spent, and replaced
    finally:
        context.close()
