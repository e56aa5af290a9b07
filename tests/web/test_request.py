"""The request page: the form as this person may see it, the timeline, who acts now, and
the actions: approve, reject, return, resubmit; user text always shown as text; someone who
may not see a request is told so plainly."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import NewPage
from tests.web.support import Server

MARKUP = '<img src=x onerror="window.__xss = 1">'


def leave(
    server: Server, applicant: str = "u-zhangsan", days: int = 2, reason: str = "家事"
) -> str:
    form = {
        "leave_type": "annual",
        "period": ["2026-12-01", "2026-12-05"],
        "days": days,
        "reason": reason,
    }
    outcome = server.call(
        applicant, "POST", "instances", json={"template_key": "leave", "form": form}
    )
    return str(outcome["instance_id"])


def approve(server: Server, person: str, instance_id: str) -> None:
    view = server.call(person, "GET", f"instances/{instance_id}")
    task = next(t for t in view["pending"] if t["assignee"] == person)
    server.call(person, "POST", f"tasks/{task['id']}/approve", json={})


def dialog(page: Any) -> Any:
    return page.get_by_role("dialog")


def act(page: Any, action: str) -> None:
    """Click one of the request's actions."""
    page.get_by_role("toolbar", name="Actions").get_by_role(
        "button", name=action, exact=True
    ).click()


def test_an_approver_approves_and_the_request_moves_on(new_page: NewPage, server: Server) -> None:
    instance_id = leave(server)
    page = new_page("u-chenjie", path=f"#/requests/{instance_id}")
    expect(page.get_by_role("heading", name="张三的请假申请（2天）")).to_be_visible()
    expect(page.get_by_role("region", name="Waiting for")).to_contain_text("陈杰")
    act(page, "Approve")
    dialog(page).get_by_label("Comment").fill("同意，注意交接")
    dialog(page).get_by_role("button", name="Approve", exact=True).click()
    expect(dialog(page)).to_have_count(0)
    timeline = page.get_by_role("list", name="Timeline")
    approved = timeline.locator('[data-event="TaskApproved"]')
    expect(approved).to_contain_text("陈杰")
    expect(approved).to_contain_text("同意，注意交接")
    expect(page.get_by_role("region", name="Waiting for")).to_contain_text("黄莉")
    actions = page.get_by_role("toolbar", name="Actions")
    expect(actions.get_by_role("button", name="Approve", exact=True)).to_have_count(0)
    tasks = server.call("u-zhangsan", "GET", f"instances/{instance_id}")["tasks"]
    assert tasks[0]["status"] == "approved" and tasks[0]["comment"] == "同意，注意交接"


def test_a_rejection_asks_for_a_comment_first(new_page: NewPage, server: Server) -> None:
    instance_id = leave(server)
    page = new_page("u-chenjie", path=f"#/requests/{instance_id}")
    act(page, "Reject")
    dialog(page).get_by_role("button", name="Reject").click()
    expect(dialog(page).get_by_role("alert")).to_have_text("A comment is required")
    dialog(page).get_by_label("Comment").fill("时间冲突")
    dialog(page).get_by_role("button", name="Reject").click()
    expect(page.locator(".summary").get_by_text("Rejected")).to_be_visible()
    expect(page.get_by_role("list", name="Timeline")).to_contain_text("时间冲突")
    assert server.call("u-zhangsan", "GET", f"instances/{instance_id}")["status"] == "rejected"


def test_an_approver_returns_it_to_an_earlier_node(new_page: NewPage, server: Server) -> None:
    instance_id = leave(server, days=5)
    approve(server, "u-chenjie", instance_id)
    page = new_page("u-lina", path=f"#/requests/{instance_id}")
    act(page, "Return")
    dialog(page).get_by_label("Return to").select_option(label="直属主管")
    dialog(page).get_by_label("Comment").fill("请主管再确认")
    dialog(page).get_by_role("button", name="Return").click()
    expect(page.get_by_role("region", name="Waiting for")).to_contain_text("陈杰")
    view = server.call("u-zhangsan", "GET", f"instances/{instance_id}")
    assert [t["assignee"] for t in view["pending"]] == ["u-chenjie"]


def test_a_request_returned_to_the_applicant_is_resubmitted(
    new_page: NewPage, server: Server
) -> None:
    instance_id = leave(server)
    page = new_page("u-chenjie", path=f"#/requests/{instance_id}")
    act(page, "Return")
    expect(dialog(page).get_by_label("Return to")).to_have_value("")
    dialog(page).get_by_label("Comment").fill("请补充事由")
    dialog(page).get_by_role("button", name="Return").click()
    expect(page.locator(".summary").get_by_text("Returned")).to_be_visible()

    applicant = new_page("u-zhangsan", path=f"#/requests/{instance_id}")
    act(applicant, "Resubmit")
    applicant.wait_for_url(re.compile("resubmit="))
    reason = applicant.get_by_role("textbox", name="请假事由")
    expect(reason).to_have_value("家事")
    reason.fill("家事：搬家")
    applicant.get_by_role("button", name="Resubmit").click()
    applicant.wait_for_url(re.compile(f"#/requests/{instance_id}$"))
    expect(applicant.locator(".summary").get_by_text("In progress")).to_be_visible()
    view = server.call("u-zhangsan", "GET", f"instances/{instance_id}")
    assert view["status"] == "pending" and view["form"]["reason"] == "家事：搬家"


def test_an_approver_edits_the_fields_their_node_may_write(
    new_page: NewPage, server: Server
) -> None:
    instance_id = leave(server, days=2)
    approve(server, "u-chenjie", instance_id)
    page = new_page("u-xuting", path=f"#/requests/{instance_id}")
    days = page.get_by_role("spinbutton", name="请假天数")
    expect(days).to_have_value("2")
    expect(page.get_by_role("textbox", name="请假事由")).to_have_count(0)  # read only
    days.fill("1.5")
    act(page, "Approve")
    dialog(page).get_by_role("button", name="Approve", exact=True).click()
    expect(page.locator(".summary").get_by_text("Approved")).to_be_visible()
    view = server.call("u-zhangsan", "GET", f"instances/{instance_id}")
    assert view["form"]["days"] == 1.5


def test_a_field_hidden_from_the_approvers_node_is_absent(
    new_page: NewPage, server: Server
) -> None:
    form = {
        "expense_type": "office",
        "items": [{"date": "2026-11-20", "category": "supplies", "amount": "120"}],
        "total": "120",
        "invoices": [
            {"id": "f-1", "name": "receipt-7Q.pdf", "size": 100, "content_type": "application/pdf"}
        ],
        "payee": "u-zhangsan",
    }
    outcome = server.call(
        "u-zhangsan", "POST", "instances", json={"template_key": "expense", "form": form}
    )
    instance_id = outcome["instance_id"]
    approve(server, "u-chenjie", instance_id)
    cashier = new_page("u-zhengyu", path=f"#/requests/{instance_id}")
    expect(cashier.get_by_text("报销总额")).to_be_visible()
    expect(cashier.get_by_text("发票")).to_have_count(0)
    expect(cashier.get_by_text("receipt-7Q.pdf")).to_have_count(0)
    applicant = new_page("u-zhangsan", path=f"#/requests/{instance_id}")
    expect(applicant.get_by_text("receipt-7Q.pdf")).to_be_visible()


def test_markup_in_a_form_value_a_comment_and_a_title_is_shown_as_text(
    new_page: NewPage, server: Server
) -> None:
    instance_id = leave(server, reason=MARKUP)
    server.call("u-zhangsan", "POST", f"instances/{instance_id}/comments", json={"text": MARKUP})
    contract = {
        "contract_name": MARKUP,
        "party_a": "Acme",
        "party_b": "<b>B</b>",
        "contract_amount": "100",
        "sign_date": "2026-12-01",
        "payment_terms": "t",
        "items": [{"name": "n", "quantity": 1, "unit_price": "100", "subtotal": "100"}],
        "department": "d-rd",
    }
    server.call(
        "u-zhangsan",
        "POST",
        "instances",
        json={
            "template_key": "purchase_contract",
            "form": contract,
            "choices": {"legal": ["u-gaomin"]},
        },
    )
    page = new_page("u-zhangsan", path=f"#/requests/{instance_id}")
    expect(page.locator(".field-value").get_by_text(MARKUP)).to_be_visible()
    expect(page.locator(".tl-comment").get_by_text(MARKUP)).to_be_visible()
    inbox = new_page("u-zhangsan", path="#/inbox/mine")
    expect(inbox.get_by_role("link", name=f"{MARKUP}（<b>B</b>）").first).to_be_visible()
    for shown in (page, inbox):
        expect(shown.locator("img, b")).to_have_count(0)
        assert shown.evaluate("window.__xss") is None


@pytest.mark.parametrize(
    ("locale", "title", "text", "back"),
    [
        (
            "en",
            "Request not found or not allowed",
            "This request does not exist, or you are not allowed to see it.",
            "Back to the inbox",
        ),
        ("zh-CN", "审批单不存在或无权查看", "它不存在，或者你没有查看它的权限", "返回待办"),
    ],
    ids=["en", "zh-CN"],
)
def test_someone_who_takes_no_part_and_types_the_url_is_told_plainly(
    new_page: NewPage, server: Server, locale: str, title: str, text: str, back: str
) -> None:
    instance_id = leave(server, reason="私事")
    # 王五 is neither its applicant, an approver, CC'd nor an admin of the template: to him
    # the request does not exist (404, as for an id that was never made)
    with server.client("u-wangwu") as client:
        answer = client.get(f"instances/{instance_id}")
    assert answer.status_code == 404 and answer.json()["code"] == "unknown_instance"

    for path in (
        f"#/requests/{instance_id}",
        "#/requests/01nosuchrequest000000000000",
        f"#/new/leave?resubmit={instance_id}",
    ):
        page = new_page("u-wangwu", locale=locale, path=path)
        main = page.get_by_role("main")
        expect(main.get_by_role("heading", name=title)).to_be_visible()
        expect(main).to_contain_text(text)
        expect(main).not_to_contain_text("may not see it")  # the server's words, not shown
        expect(main).not_to_contain_text("私事")
        expect(page.locator(".me-name")).to_have_text("王五")  # signed in, the header is there
        expect(page).to_have_title(re.compile(re.escape(title)))
        main.get_by_role("link", name=back).click()
        page.wait_for_url(re.compile("#/inbox/pending$"))
        page.context.close()
