"""The inbox: the four boxes with their counts, filters, paging and batch approval."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import expect

from tests.web.conftest import NewPage
from tests.web.support import Server


def start_leave(server: Server, applicant: str, days: int = 1) -> str:
    form = {
        "leave_type": "annual",
        "period": ["2026-12-01", "2026-12-01"],
        "days": days,
        "reason": "r",
    }
    outcome = server.call(
        applicant, "POST", "instances", json={"template_key": "leave", "form": form}
    )
    return str(outcome["instance_id"])


def start_expense(server: Server, applicant: str) -> str:
    form = {
        "expense_type": "office",
        "items": [{"date": "2026-11-20", "category": "supplies", "amount": "10"}],
        "total": "10",
        "invoices": [{"id": "f-1", "name": "r.pdf", "size": 1, "content_type": "application/pdf"}],
        "payee": applicant,
    }
    outcome = server.call(
        applicant, "POST", "instances", json={"template_key": "expense", "form": form}
    )
    return str(outcome["instance_id"])


def items(page: Any, box: str) -> Any:
    return page.get_by_role("list", name=box).get_by_role("listitem")


def test_the_inbox_filters_by_template_status_and_date(new_page: NewPage, server: Server) -> None:
    applicant = "u-wangwu"
    first, second = start_leave(server, applicant), start_leave(server, applicant, days=2)
    start_expense(server, applicant)
    server.call(applicant, "POST", f"instances/{first}/withdraw", json={})
    page = new_page(applicant, path="#/inbox/mine")
    expect(items(page, "My requests")).to_have_count(3)
    expect(page.locator('[data-count="mine"]').first).to_have_text("3")

    page.get_by_label("Template").select_option("leave")
    expect(items(page, "My requests")).to_have_count(2)
    page.get_by_label("Status").select_option("withdrawn")
    expect(items(page, "My requests")).to_have_count(1)
    expect(items(page, "My requests").first).to_have_attribute("data-instance", first)
    expect(items(page, "My requests").first.get_by_text("Withdrawn")).to_be_visible()

    page.get_by_label("Status").select_option("pending")
    expect(items(page, "My requests")).to_have_count(1)
    expect(items(page, "My requests").first).to_have_attribute("data-instance", second)

    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    page.get_by_label("From").fill(tomorrow)
    expect(page.get_by_text("Nothing matches these filters.")).to_be_visible()
    page.get_by_role("button", name="Clear filters").click()
    expect(items(page, "My requests")).to_have_count(3)


def test_the_inbox_pages_through_its_items(new_page: NewPage, server: Server) -> None:
    applicant = "u-lisi"
    made = [start_leave(server, applicant) for _ in range(7)]
    page = new_page(applicant, path="#/inbox/mine?limit=5")
    list_ = items(page, "My requests")
    expect(list_).to_have_count(5)
    expect(list_.first).to_have_attribute("data-instance", made[-1])  # newest first
    pager = page.get_by_role("navigation", name="Pages")
    expect(pager.get_by_role("button", name="Previous")).to_be_disabled()
    pager.get_by_role("button", name="Next").click()
    expect(pager.get_by_text("Page 2")).to_be_visible()
    expect(list_).to_have_count(2)
    expect(list_.last).to_have_attribute("data-instance", made[0])
    expect(pager.get_by_role("button", name="Next")).to_be_disabled()
    pager.get_by_role("button", name="Previous").click()
    expect(list_).to_have_count(5)


def test_pending_tasks_are_approved_together(new_page: NewPage, server: Server) -> None:
    ids = [start_leave(server, "u-wufang"), start_leave(server, "u-wufang")]
    page = new_page("u-sunli", path="#/inbox/pending?template=leave")
    for instance_id in ids:
        page.locator(f'[data-instance="{instance_id}"]').get_by_role("checkbox").check()
    expect(page.get_by_text("2 selected")).to_be_visible()
    page.locator(".batch").get_by_role("button", name="Approve").click()
    page.get_by_role("dialog").get_by_role("button", name="Approve").click()
    expect(page.get_by_text("2 done, 0 failed")).to_be_visible()
    for instance_id in ids:
        expect(page.locator(f'[data-instance="{instance_id}"]')).to_have_count(0)
        view = server.call("u-wufang", "GET", f"instances/{instance_id}")
        assert view["tasks"][0]["status"] == "approved"
    page.get_by_role("link", name="Done").click()
    expect(page.locator(f'[data-instance="{ids[0]}"]')).to_be_visible()
