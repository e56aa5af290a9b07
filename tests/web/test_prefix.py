"""The app behind a path prefix: every URL it computes (API, WebSocket, static files) is
relative to the base the server fills in, so nothing escapes the prefix."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.web.conftest import NewPage, require_chromium
from tests.web.forms import fill_leave, submit
from tests.web.prefixed import PREFIX
from tests.web.support import Server, seed_database, serve


@pytest.fixture(scope="module")
def prefixed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    require_chromium()
    directory = tmp_path_factory.mktemp("prefixed")
    url = seed_database(directory / "signoff.db")
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "tests.web.prefixed:app",
        "--factory",
        "--port",
        "{port}",
        "--log-level",
        "warning",
    ]
    with serve(command, url, directory / "server.log", prefix=PREFIX) as running:
        yield running


def test_the_app_works_behind_a_path_prefix(new_page: NewPage, prefixed: Server) -> None:
    page = new_page(on=prefixed)
    assert page.evaluate("document.baseURI") == prefixed.url
    seen: list[str] = []
    sockets: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    page.on("websocket", lambda socket: sockets.append(socket.url))
    page.reload()
    page.get_by_label("Account").fill("u-zhangsan")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".me-name")).to_have_text("张三")
    expect(page.locator(".live-dot.is-on")).to_be_visible()
    page.get_by_role("link", name="New request").first.click()
    page.get_by_role("link", name=re.compile("请假申请")).click()
    expected = fill_leave(page)
    instance_id = submit(page)
    expect(page.get_by_role("list", name="Timeline")).to_contain_text("张三")
    assert prefixed.call("u-zhangsan", "GET", f"instances/{instance_id}")["form"] == expected

    ours = [url for url in seen if url.startswith(prefixed.origin)]
    assert any("/api/v1/" in url for url in ours) and any("/static/" in url for url in ours)
    assert all(url.startswith(prefixed.url) for url in ours), ours
    assert sockets and all(s == prefixed.url.replace("http", "ws", 1) + "ws" for s in sockets)
