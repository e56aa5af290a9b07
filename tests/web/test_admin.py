"""Admin pages: importing the directory (rejected rows listed, nothing written), API keys
shown once, failed deliveries replayed."""

from __future__ import annotations

import re
import time

import httpx
from playwright.sync_api import expect

from tests.web.conftest import NewPage
from tests.web.support import Server

ADMIN = "u-huangli"
HEADER = "id,name,department_id,roles,position,email,identities,active"


def test_a_directory_file_with_a_bad_row_imports_nothing_and_lists_the_row(
    new_page: NewPage, server: Server
) -> None:
    page = new_page(ADMIN, path="#/admin/directory")
    good = "u-web-new,新同事,d-rd,staff,engineer,new@acme.example,,true"
    bad = "u-web-bad,错部门,d-nowhere,staff,engineer,bad@acme.example,,true"
    page.get_by_label("Content").fill(f"{HEADER}\n{good}\n{bad}\n")
    page.get_by_role("button", name="Import").click()
    alert = page.locator(".import-result").get_by_role("alert")
    expect(alert).to_contain_text("Nothing was imported: 1 rejected rows.")
    expect(alert.get_by_role("row").filter(has_text="d-nowhere")).to_be_visible()
    people = server.call(ADMIN, "GET", "directory/principals", params={"q": "u-web", "limit": 10})
    assert people == []

    page.get_by_label("Content").fill(f"{HEADER}\n{good}\n")
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("Imported 0 departments and 1 people.")).to_be_visible()
    expect(page.get_by_role("cell", name="新同事")).to_be_visible()


def test_a_new_api_key_is_shown_once(new_page: NewPage, server: Server) -> None:
    page = new_page(ADMIN, path="#/admin/apps")
    page.get_by_role("button", name="New app").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("报销系统")
    dialog.get_by_role("checkbox", name="费用报销").check()
    dialog.get_by_role("button", name="Create and show the key").click()
    shown = page.locator(".fresh-key code")
    expect(shown).to_have_text(re.compile(r"^so_[A-Za-z0-9_-]{40}$"))
    key = shown.inner_text()
    row = page.get_by_role("row").filter(has_text="报销系统")
    expect(row).to_contain_text(key[:8])
    me = httpx.get(f"{server.api}/me", headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert me.json()["name"] == "报销系统"
    page.reload()
    # the list is drawn again (only then does "not in the page" mean something)
    expect(page.get_by_role("row").filter(has_text="报销系统")).to_contain_text(key[:8])
    expect(page.locator(".fresh-key")).to_have_count(0)
    assert key not in page.content()


NOWHERE = "http://127.0.0.1:9/hook"  # nothing listens there: every delivery fails


def test_a_webhook_endpoint_is_added_with_its_secret_shown_once(
    new_page: NewPage, server: Server
) -> None:
    server.call(ADMIN, "POST", "apps", json={"name": "HR 系统", "templates": ["leave"]})
    page = new_page(ADMIN, path="#/admin/webhooks")
    page.get_by_role("button", name="New endpoint").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("App", exact=True).select_option(label="HR 系统")
    dialog.get_by_label("URL", exact=True).fill(NOWHERE)
    dialog.get_by_label("Description").fill("人事系统回调")
    dialog.get_by_role("button", name="Create").click()
    shown = page.locator(".fresh-key code")
    expect(shown).to_have_text(re.compile(r"^whsec_"))
    secret = shown.inner_text()
    row = page.get_by_role("row").filter(has_text="人事系统回调")
    expect(row).to_contain_text("HR 系统")
    expect(row).to_contain_text("All events")
    row.get_by_role("button", name=f"Stop {NOWHERE}").click()
    page.get_by_role("dialog").get_by_role("button", name="Stop").click()
    expect(row.get_by_text("Disabled")).to_be_visible()
    page.reload()
    # the list is drawn again (only then does "not in the page" mean something)
    expect(page.get_by_role("row").filter(has_text="人事系统回调")).to_contain_text("Disabled")
    expect(page.locator(".fresh-key")).to_have_count(0)
    assert secret not in page.content()


def test_a_dead_delivery_is_listed_with_its_error_and_replayed(
    new_page: NewPage, server: Server
) -> None:
    app = server.call(ADMIN, "POST", "apps", json={"name": "死信测试", "templates": ["leave"]})
    hook = server.call(ADMIN, "POST", f"apps/{app['id']}/webhooks", json={"url": NOWHERE})
    form = {
        "leave_type": "annual",
        "period": ["2026-12-01", "2026-12-01"],
        "days": 1,
        "reason": "r",
    }
    server.call("u-zhangsan", "POST", "instances", json={"template_key": "leave", "form": form})
    deadline = time.monotonic() + 30
    dead: list[dict[str, object]] = []
    while not dead and time.monotonic() < deadline:
        rows = server.call(ADMIN, "GET", "deliveries", params={"status": "dead", "limit": 500})
        dead = [d for d in rows if d["target"] == hook["id"]]
        time.sleep(0.3)
    assert dead, "no delivery to the endpoint was dead-lettered"
    delivery = dead[0]
    page = new_page(ADMIN, path="#/admin/deliveries")
    row = page.locator(f'tr[data-delivery="{delivery["id"]}"]')
    expect(row).to_contain_text(str(delivery["event_id"]))
    expect(row.locator(".rejected")).not_to_be_empty()
    row.get_by_role("button", name=f"Replay {delivery['event_id']}").click()
    expect(page.get_by_text("1 replayed")).to_be_visible()
    expect(row).to_have_count(0)
