"""A new request: the form rendered from each example template, show/hide fields, tables,
pickers and attachments, the server's validation messages next to their fields, and the
approval path beside the form."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import NewPage
from tests.web.forms import FILLERS, fill_expense, fill_purchase_contract, pick, row, submit
from tests.web.support import Server


@pytest.mark.parametrize("key", sorted(FILLERS))
def test_each_example_template_is_submitted_through_its_rendered_form(
    new_page: NewPage, server: Server, key: str
) -> None:
    page = new_page("u-zhangsan", path=f"#/new/{key}")
    expected = FILLERS[key](page)
    instance_id = submit(page)
    expect(page.locator(".summary").get_by_text("In progress")).to_be_visible()
    form = server.call("u-zhangsan", "GET", f"instances/{instance_id}")["form"]
    for attachment_field in ("invoices", "medical_certificate"):
        if attachment_field in form:
            assert [f["name"] for f in form.pop(attachment_field)] == ["invoice.pdf"]
    assert form == expected


def test_a_hidden_field_keeps_no_value(new_page: NewPage, server: Server) -> None:
    page = new_page("u-zhangsan", path="#/new/leave")
    page.get_by_role("radio", name="病假").check()
    page.get_by_label("病假证明").set_input_files(
        {"name": "note.pdf", "mimeType": "application/pdf", "buffer": b"x"}
    )
    expect(page.get_by_text("note.pdf")).to_be_visible()
    page.get_by_role("radio", name="事假").check()
    expect(page.get_by_text("note.pdf")).to_be_hidden()
    page.get_by_label("请假时间 start").fill("2026-12-03")
    page.get_by_label("请假时间 end").fill("2026-12-03")
    page.get_by_label("请假天数").fill("1")
    page.get_by_label("请假事由").fill("办事")
    instance_id = submit(page)
    form = server.call("u-zhangsan", "GET", f"instances/{instance_id}")["form"]
    assert form["leave_type"] == "personal"
    assert "medical_certificate" not in form


def test_the_servers_validation_messages_appear_next_to_the_fields_they_name(
    new_page: NewPage,
) -> None:
    page = new_page("u-zhangsan", path="#/new/leave")
    page.get_by_label("请假时间 start").fill("2026-12-09")
    page.get_by_label("请假时间 end").fill("2026-12-01")
    page.get_by_label("请假天数").fill("1.25")
    page.get_by_role("button", name="Submit", exact=True).click()
    expect(page.get_by_label("请假事由")).to_have_accessible_description("a value is required")
    expect(page.get_by_label("请假天数")).to_have_accessible_description("at most 1 decimal places")
    expect(page.get_by_role("group", name="请假时间")).to_have_accessible_description(
        "the start is after the end"
    )
    expect(page.get_by_label("请假事由")).to_have_attribute("aria-invalid", "true")
    # typing in a field clears its message
    page.get_by_label("请假事由").fill("ok")
    expect(page.get_by_label("请假事由")).to_have_accessible_description("")
    assert "#/new/leave" in page.url


def test_a_message_about_a_table_cell_appears_in_its_row(new_page: NewPage) -> None:
    page = new_page("u-zhangsan", path="#/new/expense")
    fill_expense(page)
    row(page, "费用明细", 2).get_by_label("金额").fill("0")
    page.get_by_role("button", name="Submit", exact=True).click()
    cell = row(page, "费用明细", 2).get_by_label("金额")
    expect(cell).to_have_accessible_description("at least 0.01")
    expect(row(page, "费用明细", 1).get_by_label("金额")).to_have_accessible_description("")


def test_the_approval_path_follows_the_amount_into_another_branch(new_page: NewPage) -> None:
    page = new_page("u-zhangsan", path="#/new/expense")
    path = page.get_by_role("region", name="Approval path")
    expect(path.get_by_text("陈杰")).to_be_visible()
    big = path.locator('[data-route="total_5000_up"]')
    small = path.locator('[data-route="total_small"]')
    page.get_by_label("报销总额").fill("6000")
    expect(big).to_have_class("route is-taken")
    expect(big.get_by_text("周静")).to_be_visible()
    expect(small).to_have_class("route is-skipped")
    page.get_by_label("报销总额").fill("500")
    expect(small).to_have_class("route is-taken")
    expect(big).to_have_class("route is-skipped")
    expect(path.get_by_text("周静")).to_have_count(0)


def test_an_applicant_chosen_approver_is_required_before_submitting(
    new_page: NewPage, server: Server
) -> None:
    page = new_page("u-zhangsan", path="#/new/purchase_contract")
    fill_purchase_contract(page)
    # remove the chosen lawyer again: the server asks for one
    page.get_by_role("button", name="Remove 高敏").click()
    page.get_by_role("button", name="Submit", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text="法务审核")).to_be_visible()
    pick(page, "Choose approvers for 法务审核", "林", "林峰")
    instance_id = submit(page)
    view: dict[str, Any] = server.call("u-zhangsan", "GET", f"instances/{instance_id}")
    assert view["pending"][0]["assignee"] == "u-lina"
