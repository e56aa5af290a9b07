"""Filling the example templates' forms in the browser, as a person would (by label and
role), and what each one should submit."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

PDF = {"name": "invoice.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 test"}


def pick(page: Any, label: str, query: str, option: str) -> None:
    """Choose someone (or a department) in a picker: type, then click the option."""
    box = page.get_by_role("combobox", name=label, exact=True)
    box.fill(query)
    page.get_by_role("option", name=re.compile(f"^{re.escape(option)}")).first.click()


def row(page: Any, table: str, n: int) -> Any:
    return page.get_by_role("group", name=f"{table} {n}", exact=True)


def submit(page: Any) -> str:
    """Submit the form; the request page opens. Answers the new request's id."""
    page.get_by_role("button", name="Submit", exact=True).click()
    page.wait_for_url(re.compile(r"#/requests/[^/?]+$"))
    return str(page.url.rsplit("/", 1)[1])


def fill_leave(page: Any) -> dict[str, Any]:
    # sick leave asks for a certificate; switching back to annual leave hides it again
    certificate = page.get_by_label("病假证明")
    expect(certificate).to_be_hidden()
    page.get_by_role("radio", name="病假").check()
    expect(certificate).to_be_visible()
    certificate.set_input_files(PDF)
    page.get_by_role("radio", name="年假").check()
    expect(page.get_by_text("invoice.pdf")).to_be_hidden()
    page.get_by_label("请假时间 start").fill("2026-12-01")
    page.get_by_label("请假时间 end").fill("2026-12-02")
    page.get_by_label("请假天数").fill("2")
    page.get_by_label("请假事由").fill("回家")
    pick(page, "工作交接人", "王五", "王五")
    return {
        "leave_type": "annual",
        "period": ["2026-12-01", "2026-12-02"],
        "days": 2,
        "reason": "回家",
        "handover": "u-wangwu",
    }


def fill_expense(page: Any, total: str = "3500") -> dict[str, Any]:
    page.get_by_label("报销类型").select_option("travel")
    first = row(page, "费用明细", 1)
    first.get_by_label("日期").fill("2026-11-20")
    first.get_by_label("费用类别").select_option("transport")
    first.get_by_label("金额").fill("3000")
    add = page.get_by_role("button", name="Add a row to 费用明细")
    add.click()
    second = row(page, "费用明细", 2)
    second.get_by_label("日期").fill("2026-11-21")
    second.get_by_label("费用类别").select_option("meals")
    second.get_by_label("金额").fill("99")
    add.click()
    third = row(page, "费用明细", 3)
    third.get_by_label("日期").fill("2026-11-22")
    third.get_by_label("费用类别").select_option("lodging")
    third.get_by_label("说明").fill("hotel")
    third.get_by_label("金额").fill("500")
    # the second row goes; the third becomes the second
    second.get_by_role("button", name="Remove row 2").click()
    expect(row(page, "费用明细", 3)).to_have_count(0)
    expect(row(page, "费用明细", 2).get_by_label("说明")).to_have_value("hotel")
    page.get_by_label("报销总额").fill(total)
    page.get_by_label("发票").set_input_files(PDF)
    pick(page, "收款人", "张三", "张三")
    return {
        "expense_type": "travel",
        "items": [
            {"date": "2026-11-20", "category": "transport", "amount": "3000.00"},
            {
                "date": "2026-11-22",
                "category": "lodging",
                "description": "hotel",
                "amount": "500.00",
            },
        ],
        "total": f"{total}.00",
        "payee": "u-zhangsan",
    }


def fill_permission(page: Any) -> dict[str, Any]:
    page.get_by_role("radio", name="研发", exact=True).check()
    page.get_by_role("checkbox", name="驾驶舱").check()
    page.get_by_role("checkbox", name="核心数据库").check()
    page.get_by_label("申请角色").select_option("analyst")
    page.get_by_label("有效期 start").fill("2026-12-01")
    page.get_by_label("有效期 end").fill("2027-03-01")
    page.get_by_label("申请理由").fill("季度分析")
    return {
        "apply_type": "rd",
        "resources": ["dashboard", "core_db"],
        "role": "analyst",
        "duration": ["2026-12-01", "2027-03-01"],
        "reason": "季度分析",
    }


def fill_purchase_contract(page: Any) -> dict[str, Any]:
    expect(page.get_by_label("甲方")).to_have_value("Acme 示例科技")
    page.get_by_label("合同名称").fill("服务器采购")
    page.get_by_label("乙方").fill("某某科技")
    page.get_by_label("合同金额").fill("200000")
    page.get_by_label("签订日期").fill("2026-12-10")
    page.get_by_label("付款条款").fill("验收后30天付款")
    item = row(page, "采购明细", 1)
    item.get_by_label("物品名称").fill("服务器")
    item.get_by_label("数量").fill("2")
    item.get_by_label("单价").fill("100000")
    item.get_by_label("小计").fill("200000")
    pick(page, "需求部门", "研发", "研发中心")
    # legal is chosen by the applicant, in the approval path beside the form
    pick(page, "Choose approvers for 法务审核", "高敏", "高敏")
    return {
        "contract_name": "服务器采购",
        "party_a": "Acme 示例科技",
        "party_b": "某某科技",
        "contract_amount": "200000.00",
        "sign_date": "2026-12-10",
        "payment_terms": "验收后30天付款",
        "items": [
            {"name": "服务器", "quantity": 2, "unit_price": "100000.00", "subtotal": "200000.00"}
        ],
        "department": "d-rd",
    }


FILLERS = {
    "leave": fill_leave,
    "expense": fill_expense,
    "permission": fill_permission,
    "purchase_contract": fill_purchase_contract,
}
