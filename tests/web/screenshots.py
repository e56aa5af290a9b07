"""Screenshots of the web app for the README and docs/web.md: each main page (sign-in, inbox,
new request, request, form designer, flow designer, admin) on a desktop (1280x800) and on a
phone (390x844), in Chinese, against a real server with the demo company.

    .venv/bin/python -m tests.web.screenshots        # writes docs/screenshots/*.png

`inbox.png` is the desktop shot, `inbox-phone.png` the phone's. Not a test: it only writes
files. It needs /usr/bin/chromium, like the browser tests.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE_390
from tests.web.support import ROOT, Server, seed_database, serve, signoff_serve

OUT = ROOT / "docs" / "screenshots"


def make_requests(server: Server) -> str:
    """A few requests in different states; answers the one the request page shows."""

    def start(person: str, key: str, form: dict[str, Any], **extra: Any) -> str:
        body = {"template_key": key, "form": form, **extra}
        return str(server.call(person, "POST", "instances", json=body)["instance_id"])

    def act(person: str, instance_id: str, action: str, **body: Any) -> None:
        view = server.call(person, "GET", f"instances/{instance_id}")
        task = next(t for t in view["pending"] if t["assignee"] == person)
        server.call(person, "POST", f"tasks/{task['id']}/{action}", json=body)

    leave = {
        "leave_type": "annual",
        "period": ["2026-12-07", "2026-12-11"],
        "days": 5,
        "reason": "年底回老家探亲",
    }
    start("u-zhangsan", "leave", leave)
    permission = {
        "apply_type": "rd",
        "resources": ["dashboard", "core_db"],
        "role": "analyst",
        "duration": ["2026-12-01", "2027-02-28"],
        "reason": "季度经营分析",
    }
    start("u-zhangsan", "permission", permission)
    expense = {
        "expense_type": "travel",
        "items": [
            {
                "date": "2026-11-18",
                "category": "transport",
                "description": "北京—上海高铁往返",
                "amount": "1106.00",
            },
            {
                "date": "2026-11-19",
                "category": "lodging",
                "description": "客户拜访住宿两晚",
                "amount": "1280.00",
            },
            {"date": "2026-11-19", "category": "meals", "amount": "236.50"},
        ],
        "total": "2622.50",
        "invoices": [
            {
                "id": "f-1",
                "name": "发票-高铁.pdf",
                "size": 182_344,
                "content_type": "application/pdf",
            },
            {
                "id": "f-2",
                "name": "发票-酒店.pdf",
                "size": 240_112,
                "content_type": "application/pdf",
            },
        ],
        "payee": "u-zhangsan",
    }
    shown = start("u-zhangsan", "expense", expense)
    act(
        "u-chenjie",
        shown,
        "approve",
        comment="情况属实，同意报销",
        choices={"finance_review": ["u-zhoujing"]},
    )
    act("u-zhoujing", shown, "approve", comment="票据齐全")
    small = dict(expense, items=expense["items"][2:], total="236.50")
    start("u-wangwu", "expense", small)
    late = start(
        "u-zhangsan",
        "leave",
        dict(leave, days=1, period=["2026-11-30", "2026-11-30"], reason="看病"),
    )
    act("u-chenjie", late, "approve", comment="好好休息")
    start(
        "u-zhangsan",
        "leave",
        dict(leave, days=2, period=["2026-12-14", "2026-12-15"], reason="搬家"),
    )
    return shown


@dataclass(frozen=True)
class Shot:
    """One page: who looks at it (None: signed out), where, what shows it is ready, and what
    to do before the picture: fill labelled fields with values, click a selector (on a phone too,
    unless `click_on_phone` is false)."""

    name: str
    person: str | None
    path: str
    ready: str
    click: str = ""
    fill: tuple[tuple[str, str], ...] = ()
    click_on_phone: bool = True


def shots(request_id: str) -> list[Shot]:
    return [
        Shot("login", None, "#/login", "form"),
        Shot("inbox", "u-chenjie", "#/inbox/pending", ".items .item"),
        Shot(
            "new-request",
            "u-zhangsan",
            "#/new/leave",
            ".path-step",
            fill=(("请假天数", "5"), ("请假事由", "年底回老家探亲")),
        ),
        Shot("request", "u-zhangsan", f"#/requests/{request_id}", ".timeline .tl-item"),
        Shot(
            "form-designer",
            "u-huangli",
            "#/admin/templates/leave?tab=form&source=published",
            ".fd-card",
            '.fd-card[data-field="medical_certificate"]',
        ),
        Shot(
            "flow-designer",
            "u-huangli",
            "#/admin/templates/expense?tab=flow&source=published",
            ".fl-node",
            '[aria-label="审批人：财务会签"]',
            click_on_phone=False,  # the tree, not the settings sheet that covers it
        ),
        Shot("admin", "u-huangli", "#/admin/directory", "table.data tbody tr"),
    ]


def main() -> int:
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing: apt-get install -y chromium", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        url = seed_database(Path(tmp) / "signoff.db")
        with (
            serve(signoff_serve(), url, Path(tmp) / "server.log") as server,
            sync_playwright() as p,
        ):
            request_id = make_requests(server)
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            for shot in shots(request_id):
                for suffix, viewport in (("", DESKTOP), ("-phone", PHONE_390)):
                    take(browser, server, shot, viewport, OUT / f"{shot.name}{suffix}.png")
            browser.close()
    return 0


def take(browser: Any, server: Server, shot: Shot, viewport: dict[str, int], out: Path) -> None:
    state = server.storage_state(shot.person) if shot.person else None
    context = browser.new_context(viewport=viewport, locale="zh-CN", storage_state=state)
    try:
        page = context.new_page()
        page.goto(server.url + shot.path)
        page.locator(shot.ready).first.wait_for()
        for label, value in shot.fill:
            page.get_by_label(label).fill(value)
        if shot.click and (shot.click_on_phone or viewport == DESKTOP):
            page.locator(shot.click).first.click()
        page.evaluate("window.scrollTo(0, 0)")
        page.wait_for_timeout(800)  # fonts, the live dot and the approval path settle
        page.screenshot(path=str(out))
    finally:
        context.close()
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
