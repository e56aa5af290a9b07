"""The other actions of the request page: transfer, add approvers, comment, urge,
withdraw, copy into a draft and submit it."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.web.conftest import NewPage
from tests.web.forms import pick
from tests.web.support import Server
from tests.web.test_request import act, dialog, leave


def test_an_approver_transfers_the_task(new_page: NewPage, server: Server) -> None:
    instance_id = leave(server)
    page = new_page("u-chenjie", path=f"#/requests/{instance_id}")
    act(page, "Transfer")
    pick(dialog(page), "To", "李娜", "李娜")
    dialog(page).get_by_role("button", name="Transfer").click()
    expect(page.get_by_role("region", name="Waiting for")).to_contain_text("李娜")
    expect(page.get_by_role("list", name="Timeline")).to_contain_text("transferred to 李娜")


def test_an_approver_adds_someone_before_themself(new_page: NewPage, server: Server) -> None:
    instance_id = leave(server)
    page = new_page("u-chenjie", path=f"#/requests/{instance_id}")
    act(page, "Add approvers")
    pick(dialog(page), "People", "王五", "王五")
    dialog(page).get_by_role("radio", name="Before me").check()
    dialog(page).get_by_role("button", name="Add approvers").click()
    expect(page.get_by_role("region", name="Waiting for")).to_contain_text("王五")
    pending = server.call("u-zhangsan", "GET", f"instances/{instance_id}")["pending"]
    assert [t["assignee"] for t in pending] == ["u-wangwu"]


def test_the_applicant_comments_urges_withdraws_and_copies(
    new_page: NewPage, server: Server
) -> None:
    instance_id = leave(server, reason="旧的事由")
    page = new_page("u-zhangsan", path=f"#/requests/{instance_id}")
    timeline = page.get_by_role("list", name="Timeline")

    act(page, "Comment")
    dialog(page).get_by_label("Comment").fill("麻烦尽快处理")
    dialog(page).get_by_role("button", name="Comment").click()
    expect(timeline.locator('[data-event="CommentAdded"]')).to_contain_text("麻烦尽快处理")

    act(page, "Urge")
    dialog(page).get_by_role("button", name="Urge").click()
    expect(timeline.locator('[data-event="Urged"]')).to_contain_text("urged 陈杰")

    act(page, "Withdraw")
    dialog(page).get_by_role("button", name="Withdraw").click()
    expect(page.locator(".summary").get_by_text("Withdrawn")).to_be_visible()

    act(page, "Copy")
    page.wait_for_url(re.compile(r"#/new/leave\?draft="))
    reason = page.get_by_role("textbox", name="请假事由")
    expect(reason).to_have_value("旧的事由")
    reason.fill("新的事由")
    page.get_by_role("button", name="Submit", exact=True).click()
    page.wait_for_url(re.compile(r"#/requests/[^/?]+$"))
    copy_id = page.url.rsplit("/", 1)[1]
    assert copy_id != instance_id
    view = server.call("u-zhangsan", "GET", f"instances/{copy_id}")
    assert view["status"] == "pending" and view["form"]["reason"] == "新的事由"


def test_a_draft_is_saved_and_submitted_later(new_page: NewPage, server: Server) -> None:
    page = new_page("u-zhangsan", path="#/new/leave")
    page.get_by_label("请假事由").fill("先存草稿")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(re.compile(r"#/requests/[^/?]+$"))
    draft_id = page.url.rsplit("/", 1)[1]
    expect(page.locator(".summary").get_by_text("Draft")).to_be_visible()
    act(page, "Edit and submit")
    page.wait_for_url(re.compile(r"\?draft="))
    expect(page.get_by_role("textbox", name="请假事由")).to_have_value("先存草稿")
    page.get_by_label("请假时间 start").fill("2026-12-21")
    page.get_by_label("请假时间 end").fill("2026-12-21")
    page.get_by_label("请假天数").fill("1")
    page.get_by_role("button", name="Submit", exact=True).click()
    page.wait_for_url(re.compile(f"#/requests/{draft_id}$"))
    expect(page.locator(".summary").get_by_text("In progress")).to_be_visible()
