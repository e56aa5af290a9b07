"""Browser tests: Debian's Chromium driven by Playwright against a real `signoff serve` on a
seeded SQLite database. One server and one browser per session; a new browser context
(fresh storage, its own locale and viewport) per test.

Without /usr/bin/chromium the browser tests are skipped with the reason; under CI
(CI=true) a missing browser is a failure. Never `playwright install`: the tests use the
system's Chromium.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.support import Server, seed_database, serve, signoff_serve

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}  # a small phone: nothing may scroll sideways
PHONE_390 = {"width": 390, "height": 844}  # a common phone: the screenshots, every action
TIMEOUT_MS = 10_000


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI") == "true":
        pytest.fail(
            f"{CHROMIUM} is missing: CI must run the browser tests (apt-get install chromium)"
        )
    pytest.skip(f"browser tests need {CHROMIUM} (apt-get install -y chromium)")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`signoff serve` on a seeded database, for the whole session."""
    require_chromium()
    directory = tmp_path_factory.mktemp("web")
    url = seed_database(directory / "signoff.db")
    with serve(signoff_serve(), url, directory / "server.log") as running:
        yield running


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    # expect(...) retries for 5 s unless told otherwise: too short on a busy 2-core machine,
    # where an answer, a render and a live message can take seconds; give it what actions get
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


NewPage = Callable[..., Any]


@pytest.fixture
def new_page(browser: Any, server: Server) -> Iterator[NewPage]:
    """new_page(person=None, locale="en", viewport=DESKTOP, server=server) -> a page of a
    fresh context, signed in as `person` (or not signed in), already at the app's base."""
    contexts: list[Any] = []
    errors: list[str] = []

    def make(
        person: str | None = None,
        locale: str = "en",
        viewport: dict[str, int] = DESKTOP,
        on: Server = server,
        path: str = "",
    ) -> Any:
        context = browser.new_context(
            locale=locale,
            viewport=viewport,
            storage_state=on.storage_state(person) if person else None,
            service_workers="block",
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(on.url + path)
        return page

    yield make
    for context in contexts:
        context.close()
    assert not errors, f"errors in the page: {errors}"
