"""On a phone-sized screen the pages fit: nothing scrolls sideways (375x812), the main places
are in a tab bar at the bottom, and at 390x844 every action of the request page, the inbox,
the form and the designers can be reached and clicked (the request's less used actions
through its "More" menu)."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.web.conftest import PHONE, PHONE_390, NewPage
from tests.web.support import Server
from tests.web.test_request import approve, leave

LONG = "一段很长很长的说明文字，没有任何空格也应当在手机上折行显示而不撑破页面宽度" * 3


def fits(page: Any, screen: dict[str, int] = PHONE) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= screen["width"], f"the page is {width}px wide on a {screen['width']}px screen"


def test_on_a_phone_the_inbox_request_and_form_fit_the_screen(
    new_page: NewPage, server: Server
) -> None:
    form = {
        "expense_type": "travel",
        "items": [
            {
                "date": "2026-11-20",
                "category": "transport",
                "description": LONG[:200],
                "amount": "12345678.90",
            }
        ],
        "total": "12345678.90",
        "invoices": [
            {
                "id": "f-1",
                "name": "a-very-long-invoice-file-name-" * 4 + ".pdf",
                "size": 1,
                "content_type": "application/pdf",
            }
        ],
        "payee": "u-zhangsan",
    }
    outcome = server.call(
        "u-zhangsan", "POST", "instances", json={"template_key": "expense", "form": form}
    )
    page = new_page("u-zhangsan", viewport=PHONE, path="#/inbox/mine")
    expect(page.locator(f'[data-instance="{outcome["instance_id"]}"]')).to_be_visible()
    fits(page)
    nav = page.get_by_role("navigation", name="Main")
    box = nav.bounding_box()
    assert box is not None and box["y"] + box["height"] >= PHONE["height"] - 2  # a bottom tab bar

    page.locator(f'[data-instance="{outcome["instance_id"]}"] a').click()
    expect(page.get_by_role("list", name="Timeline")).to_be_visible()
    expect(page.get_by_text("a-very-long-invoice-file-name-", exact=False)).to_be_visible()
    fits(page)

    page.goto(server.url + "#/new/expense")
    # the path's steps come with an answer after the form: measured once they are there
    expect(page.locator(".path-step.is-end")).to_be_visible()
    fits(page)


# ---- 390x844: every action reachable --------------------------------------------------------

LABELS = {
    "approve": "Approve",
    "reject": "Reject",
    "return": "Return",
    "transfer": "Transfer",
    "delegate": "Delegate",
    "add_approvers": "Add approvers",
    "take_back": "Take back",
    "comment": "Comment",
    "cc": "CC",
    "urge": "Urge",
    "withdraw": "Withdraw",
    "terminate": "Terminate",
    "resubmit": "Resubmit",
    "copy": "Copy",
}
NAVIGATES = {"resubmit", "copy"}  # they leave the page: checked, not clicked


def on_screen(control: Any) -> None:
    """Wholly inside the 390x844 screen (no sideways scrolling to reach it), and clickable:
    nothing covers it (Playwright's actionability checks, without the click)."""
    box = None
    for _ in range(20):  # a page that draws part of itself again (the flow designer, once
        # its check answers) replaces the element between the two steps: measure the new one
        control.click(trial=True)  # scrolls it into view (if it must), waits until it is still
        box = control.bounding_box()
        if box is not None:
            break
    assert box is not None, f"{control} never stayed on the page long enough to measure"
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE_390["width"], box
    assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE_390["height"], box


def reach(page: Any, label: str) -> Any:
    """The request's action `label`: a button of the bar, or an item of its "More" menu."""
    bar = page.get_by_role("toolbar", name="Actions")
    button = bar.get_by_role("button", name=label, exact=True)
    if button.is_visible():
        return button
    more = bar.get_by_role("button", name="More", exact=True)
    if more.get_attribute("aria-expanded") != "true":
        on_screen(more)
        more.click()
    menu = bar.get_by_role("menu", name="More actions")
    return menu.get_by_role("menuitem", name=label, exact=True)


def every_action_is_reachable(page: Any, actions: list[str]) -> set[str]:
    """Open each action (its dialog fits the screen, then cancel); answers those checked."""
    bar = page.get_by_role("toolbar", name="Actions")
    expect(bar).to_be_visible()
    # one row on the phone: at most four buttons, "More" being the last when there are more
    shown = bar.locator(":scope > .btn:visible, .action-more-btn:visible")
    assert shown.count() <= 4
    if len([a for a in actions if a in LABELS]) > 4:
        expect(shown.last).to_have_text("More")
    checked = set()
    for action in actions:
        if action not in LABELS:
            continue
        control = reach(page, LABELS[action])
        on_screen(control)
        if action not in NAVIGATES:
            control.click()
            box = page.get_by_role("dialog")
            expect(box).to_be_visible()
            on_screen(box.get_by_role("button", name="Cancel"))
            box.get_by_role("button", name="Cancel").click()
            expect(box).to_have_count(0)
        checked.add(action)
    fits(page, PHONE_390)
    assert page.evaluate("window.scrollX") == 0
    return checked


def test_on_a_390x844_phone_every_action_of_the_request_page_is_reachable(
    new_page: NewPage, server: Server
) -> None:
    pending = leave(server, days=5)
    returned = leave(server)
    view = server.call("u-chenjie", "GET", f"instances/{returned}")
    task = next(t for t in view["pending"] if t["assignee"] == "u-chenjie")
    server.call("u-chenjie", "POST", f"tasks/{task['id']}/return", json={"comment": "补充"})
    taken_back = leave(server)
    approve(server, "u-chenjie", taken_back)
    rejected = leave(server)
    view = server.call("u-chenjie", "GET", f"instances/{rejected}")
    task = next(t for t in view["pending"] if t["assignee"] == "u-chenjie")
    server.call("u-chenjie", "POST", f"tasks/{task['id']}/reject", json={"comment": "不批"})

    seen: set[str] = set()
    for person, instance_id in [
        ("u-chenjie", pending),  # an approver: approve, reject, return, transfer, …
        ("u-zhangsan", pending),  # the applicant while it runs: urge, withdraw, comment, …
        ("u-zhangsan", returned),  # the applicant of a returned request: resubmit
        ("u-zhangsan", rejected),  # … of a rejected one: copy it into a new request
        ("u-chenjie", taken_back),  # an approver who may take back
        ("u-huangli", pending),  # the template's admin: terminate
    ]:
        actions = server.call(person, "GET", f"instances/{instance_id}")["actions"]
        page = new_page(person, viewport=PHONE_390, path=f"#/requests/{instance_id}")
        seen |= every_action_is_reachable(page, actions)
        page.context.close()
    assert {
        "approve",
        "reject",
        "return",
        "transfer",
        "add_approvers",
        "comment",
        "urge",
        "withdraw",
        "resubmit",
        "copy",
        "take_back",
        "terminate",
    } <= seen


def test_on_a_390x844_phone_the_inbox_form_and_designers_keep_their_actions_reachable(
    new_page: NewPage, server: Server
) -> None:
    instance_id = leave(server, applicant="u-lisi")
    page = new_page("u-zhaolei", viewport=PHONE_390, path="#/inbox/pending")
    item = page.locator(f'[data-instance="{instance_id}"]')
    expect(item).to_be_visible()
    boxes = page.get_by_role("navigation", name="Inbox boxes")
    for name in ("Pending", "Done", "CC'd to me", "My requests"):
        on_screen(boxes.get_by_role("link", name=re.compile(f"^{name}")))
    on_screen(page.get_by_text("Filters"))
    on_screen(item.get_by_role("checkbox"))
    item.get_by_role("checkbox").check()
    for label in ("Approve", "Reject"):
        on_screen(page.locator(".batch").get_by_role("button", name=label))
    fits(page, PHONE_390)

    page.goto(server.url + "#/new/leave")
    expect(page.locator(".path-step.is-end")).to_be_visible()
    for label in ("Submit", "Save draft"):
        on_screen(page.get_by_role("button", name=label, exact=True))
    fits(page, PHONE_390)

    admin = new_page("u-huangli", viewport=PHONE_390)
    admin.goto(server.url + "#/admin/templates/leave?tab=form&source=published")
    expect(admin.locator(".check-status .badge")).to_be_visible()
    for label in ("Save draft", "Publish", "Preview"):
        on_screen(admin.get_by_role("button", name=label, exact=True))
    on_screen(admin.get_by_role("button", name="Add Number"))
    fits(admin, PHONE_390)
    admin.get_by_role("tab", name="Flow").click()
    add = admin.get_by_role("button", name="Add a node after 直属主管")
    on_screen(add)
    admin.get_by_role("button", name="Approver: 直属主管").click()
    sheet = admin.get_by_role("complementary", name="Node settings")
    on_screen(sheet.get_by_label("Name"))
    on_screen(sheet.get_by_role("button", name="Close"))
    sheet.get_by_role("button", name="Close").click()
    fits(admin, PHONE_390)
    admin.goto(server.url + "#/admin/templates")
    sections = admin.get_by_role("navigation", name="Admin sections")
    for section in ("Templates", "Directory", "Apps", "Webhooks", "Failed deliveries"):
        on_screen(sections.get_by_role("link", name=section, exact=True))
    fits(admin, PHONE_390)
