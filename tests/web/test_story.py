"""The whole story in one test, as the people of the demo company live it, each in their own
browser context:

1. The administrator (黄莉) designs a new leave template, `leave_story`, in the designers: a
   single choice 请假类型 whose 病假 shows a required 病假说明, and a number 请假天数; the flow
   直属主管 (the applicant's department head), then a condition: more than 3 days goes to
   部门负责人 (the head above). After a return the request goes back to whoever returned it.
   She publishes it.
2. An employee (张三) fills the form: choosing 病假 shows 病假说明; submitting without it
   puts the server's message next to it; the approval path follows the number of days (2:
   the 3-days route does not apply; 5: it applies, with 李娜). He submits and keeps the
   request open.
3. In a second context the team lead (陈杰) has his inbox open: the task appears without a
   reload; he approves. 张三's open request page shows the new step without a reload.
4. The department head (李娜) sends it back with a comment and 张三 resubmits. A rejection
   (拒绝) is final in the engine — a rejected request cannot be resubmitted, only copied into
   a new one — so, as DingTalk users do when the applicant should fix something, she
   *returns it to the applicant* (退回) and he resubmits it (重新提交); it comes back to her.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.web.conftest import NewPage
from tests.web.support import Server
from tests.web.test_live import LIVE_MS, connected
from tests.web.test_request import act, dialog

ADMIN, EMPLOYEE, LEAD, HEAD = "u-huangli", "u-zhangsan", "u-chenjie", "u-lina"
KEY = "leave_story"


def design_and_publish(page: Any) -> None:
    page.get_by_role("button", name="New template").click()
    dialog(page).get_by_label("Key").fill(KEY)
    dialog(page).get_by_label("Name").fill("请假（全流程）")
    dialog(page).get_by_role("button", name="Create").click()

    palette = page.get_by_role("navigation", name="Fields")
    field = page.get_by_role("complementary", name="Field properties")
    palette.get_by_role("button", name="Add Single choice").click()
    field.get_by_label("Label", exact=True).fill("请假类型")
    field.get_by_label("Field id").fill("leave_type")
    field.get_by_label("Required").check()
    field.get_by_label("Label of option 1").fill("年假")
    field.get_by_label("Value of option 1").fill("annual")
    field.get_by_label("Label of option 2").fill("病假")
    field.get_by_label("Value of option 2").fill("sick")

    palette.get_by_role("button", name="Add Text").click()
    field.get_by_label("Label", exact=True).fill("病假说明")
    field.get_by_label("Field id").fill("sick_note")
    field.get_by_label("Required").check()
    field.get_by_label("Show this field").select_option("leave_type")
    field.get_by_role("checkbox", name="病假").check()

    palette.get_by_role("button", name="Add Number").click()
    field.get_by_label("Label", exact=True).fill("请假天数")
    field.get_by_label("Field id").fill("days")
    field.get_by_label("Required").check()
    field.get_by_label("Minimum").fill("0.5")

    page.get_by_role("tab", name="Flow").click()
    node = page.get_by_role("complementary", name="Node settings")
    page.get_by_role("button", name="Add a node after Applicant").click()
    page.get_by_role("menuitem", name="Approver").click()
    node.get_by_label("Name").fill("直属主管")
    node.get_by_role("button", name="Add approvers").click()  # the department head, level 1
    page.get_by_role("button", name="Add a node after 直属主管").click()
    page.get_by_role("menuitem", name="Condition", exact=True).click()
    page.get_by_role("button", name="Route: Condition 1").click()
    node.get_by_label("Name").fill("超过3天")
    node.get_by_role("button", name="Add a condition").click()
    node.get_by_label("Field of condition 1").select_option(label="请假天数")
    node.get_by_label("Comparison of condition 1").select_option("gt")
    node.get_by_label("Value of condition 1").fill("3")
    page.get_by_role("button", name="Add a node after 超过3天").click()
    page.get_by_role("menuitem", name="Approver").click()
    node.get_by_label("Name").fill("部门负责人")
    node.get_by_role("button", name="Add approvers").click()
    node.get_by_label("Level").fill("2")

    page.get_by_role("tab", name="Basics & settings").click()
    page.get_by_label("After a return").select_option("back_to_returner")
    expect(page.locator(".check-status")).to_have_text("No problems")
    page.get_by_role("button", name="Publish").click()
    dialog(page).get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Published version 1")).to_be_visible()


def test_a_leave_template_is_designed_requested_approved_returned_and_resubmitted(
    new_page: NewPage, server: Server
) -> None:
    design_and_publish(new_page(ADMIN, path="#/admin/templates"))
    published = server.call(ADMIN, "GET", f"templates/{KEY}")
    assert [f["id"] for f in published["form"]["fields"]] == ["leave_type", "sick_note", "days"]
    assert published["form"]["fields"][1]["visible_when"] == {"field": "leave_type", "in": ["sick"]}
    gateway = published["flow"]["nodes"][1]
    assert gateway["routes"][0]["when"] == {"all": [{"field": "form.days", "op": "gt", "value": 3}]}
    assert gateway["routes"][0]["nodes"][0]["assignees"] == [
        {"type": "department_head", "level": 2}
    ]

    # the team lead's inbox is open before anything is asked of him
    lead = new_page(LEAD, path="#/inbox/pending")
    connected(lead)

    # 张三 fills the form
    page = new_page(EMPLOYEE, path=f"#/new/{KEY}")
    note = page.get_by_label("病假说明")
    expect(page.get_by_role("radio", name="年假")).to_be_visible()
    expect(note).to_be_hidden()
    page.get_by_role("radio", name="病假").check()
    expect(note).to_be_visible()
    path = page.get_by_role("region", name="Approval path")
    over_3 = path.locator(".route").filter(has_text="超过3天")
    page.get_by_label("请假天数").fill("2")
    expect(over_3).to_have_class("route is-skipped")
    expect(path.get_by_text("李娜")).to_have_count(0)
    expect(path.get_by_text("陈杰")).to_be_visible()
    page.get_by_label("请假天数").fill("5")
    expect(over_3).to_have_class("route is-taken")
    expect(over_3.get_by_text("李娜")).to_be_visible()
    page.get_by_role("button", name="Submit", exact=True).click()
    expect(note).to_have_accessible_description("a value is required")
    expect(note).to_have_attribute("aria-invalid", "true")
    note.fill("发烧，医生建议休息")
    page.get_by_role("button", name="Submit", exact=True).click()
    page.wait_for_url(re.compile(r"#/requests/[^/?]+$"))
    instance_id = page.url.rsplit("/", 1)[1]
    waiting = page.get_by_role("region", name="Waiting for")
    expect(waiting).to_contain_text("陈杰")
    connected(page)  # and from here on, never reloaded

    # the team lead sees it arrive, and approves
    row = lead.locator(f'[data-instance="{instance_id}"]')
    expect(row).to_be_visible(timeout=LIVE_MS)
    assert lead.evaluate("window.__notReloaded") is True
    row.get_by_role("link").first.click()
    expect(lead.get_by_role("region", name="Waiting for")).to_contain_text("陈杰")
    act(lead, "Approve")
    dialog(lead).get_by_label("Comment").fill("同意，好好休息")
    dialog(lead).get_by_role("button", name="Approve", exact=True).click()
    expect(dialog(lead)).to_have_count(0)

    # 张三's page follows
    timeline = page.get_by_role("list", name="Timeline")
    approved = timeline.locator('[data-event="TaskApproved"]')
    expect(approved).to_contain_text("陈杰", timeout=LIVE_MS)
    expect(approved).to_contain_text("同意，好好休息")
    expect(waiting).to_contain_text("李娜")

    # the department head returns it to him with a comment
    head = new_page(HEAD, path=f"#/requests/{instance_id}")
    act(head, "Return")
    expect(dialog(head).get_by_label("Return to")).to_have_value("")  # the applicant
    dialog(head).get_by_label("Comment").fill("请补充医院的诊断证明")
    dialog(head).get_by_role("button", name="Return").click()
    expect(head.locator(".summary").get_by_text("Returned")).to_be_visible()

    expect(page.locator(".summary").get_by_text("Returned")).to_be_visible(timeout=LIVE_MS)
    expect(timeline).to_contain_text("请补充医院的诊断证明")
    assert page.evaluate("window.__notReloaded") is True

    # 张三 resubmits; it goes back to whoever returned it
    act(page, "Resubmit")
    page.wait_for_url(re.compile("resubmit="))
    # the form's text box, not the request page's read-only field that may still be shown
    # (its "Resubmit" button too: the heading says which page it is)
    expect(page.get_by_role("heading", name="Resubmit: 请假（全流程）")).to_be_visible()
    note = page.get_by_role("textbox", name="病假说明")
    expect(note).to_have_value("发烧，医生建议休息")
    note.fill("发烧，附医院诊断证明编号 2026-1234")
    page.get_by_role("button", name="Resubmit").click()
    page.wait_for_url(re.compile(f"#/requests/{instance_id}$"))
    expect(page.locator(".summary").get_by_text("In progress")).to_be_visible()
    expect(page.get_by_role("region", name="Waiting for")).to_contain_text("李娜")
    view = server.call(EMPLOYEE, "GET", f"instances/{instance_id}")
    assert view["status"] == "pending"
    assert view["form"] == {
        "leave_type": "sick",
        "sick_note": "发烧，附医院诊断证明编号 2026-1234",
        "days": 5,
    }
    assert [t["assignee"] for t in view["pending"]] == [HEAD]
