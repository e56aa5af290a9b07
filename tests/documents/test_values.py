"""The names an instance fills: form fields formatted for a Chinese contract, the request's
facts and each decided approver node."""

from __future__ import annotations

from datetime import UTC, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from signoff.documents.money import UPPER_LIMIT, money_text, rmb_upper
from signoff.documents.values import document_values
from signoff.domain.commands import Approve, Reject, Submit
from signoff.domain.directory import InMemoryDirectory
from signoff.domain.instance import Instance
from signoff.domain.navigation import Env
from signoff.domain.templates import parse_template

from .conftest import CONTRACT_FORM, T0, Play

# ---- 人民币大写 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "upper"),
    [
        # the examples of the People's Bank of China rules
        ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
        ("107000.53", "壹拾万柒仟元伍角叁分"),
        ("1409.50", "壹仟肆佰零玖元伍角"),
        ("6007.14", "陆仟零柒元壹角肆分"),
        ("325.04", "叁佰贰拾伍元零肆分"),
        # and the edges
        ("0", "零元整"),
        ("0.05", "伍分"),
        ("0.5", "伍角"),
        ("10", "壹拾元整"),
        ("1010", "壹仟零壹拾元整"),
        ("100000", "壹拾万元整"),
        ("600000.00", "陆拾万元整"),
        ("1004005.60", "壹佰万肆仟零伍元陆角"),
        ("100000005", "壹亿零伍元整"),
        ("105000000", "壹亿零伍佰万元整"),
        ("100010000", "壹亿零壹万元整"),
        ("-12.5", "负壹拾贰元伍角"),
        ("0.005", "壹分"),
        ("999999999999.99", "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    ],
)
def test_amounts_in_chinese_capitals_follow_the_central_bank_rules(amount: str, upper: str) -> None:
    assert rmb_upper(Decimal(amount)) == upper


def test_an_amount_of_a_trillion_yuan_has_no_capitals() -> None:
    with pytest.raises(ValueError, match="too large"):
        rmb_upper(Decimal(UPPER_LIMIT))


_UNITS = {"拾": 10, "佰": 100, "仟": 1000}
_DIGITS = {d: i for i, d in enumerate("零壹贰叁肆伍陆柒捌玖")}


def read_upper(text: str) -> Decimal:
    """The amount a 大写 text stands for (an independent reading, for the property)."""
    total = section = number = 0
    cents = 0
    for ch in text.removesuffix("整"):
        if ch in _DIGITS:
            number = _DIGITS[ch]
        elif ch in _UNITS:
            section += number * _UNITS[ch]
            number = 0
        elif ch == "万":
            total += (section + number) * 10_000
            section = number = 0
        elif ch == "亿":
            total = (total + section + number) * 100_000_000
            section = number = 0
        elif ch == "元":
            total += section + number
            section = number = 0
        elif ch == "角":
            cents += number * 10
            number = 0
        elif ch == "分":
            cents += number
            number = 0
    return Decimal(total) + Decimal(cents) / 100


@given(st.integers(min_value=0, max_value=UPPER_LIMIT * 100 - 1))
def test_capitals_read_back_to_the_amount_with_no_doubled_or_dangling_zero(cents: int) -> None:
    amount = Decimal(cents) / 100
    upper = rmb_upper(amount)
    assert read_upper(upper) == amount
    assert "零零" not in upper
    assert upper == "零元整" or not (upper.startswith("零") or "零元" in upper)
    assert upper.endswith("整") == (cents % 100 == 0)


@pytest.mark.parametrize(
    ("amount", "scale", "text"),
    [
        ("1234567.8", 2, "1,234,567.80"),
        ("-0.00", 2, "0.00"),
        ("-1234.5", 2, "-1,234.50"),
        ("1234.5", 0, "1,235"),
        ("0.1234", 4, "0.1234"),
    ],
)
def test_amounts_are_written_with_thousands_separators_and_their_scale(
    amount: str, scale: int, text: str
) -> None:
    assert money_text(Decimal(amount), scale) == text


# ---- an approved purchase contract -----------------------------------------------------------


def test_an_approved_contract_gives_its_fields_facts_and_approvers(
    approved: Instance, directory: InMemoryDirectory
) -> None:
    values = document_values(approved, directory).values
    assert {k: v for k, v in values.items() if not k.startswith("approver.")} == {
        "contract_name": "服务器采购",
        "party_a": "Acme 示例科技",
        "party_b": "某某供应商",
        "contract_amount": "600,000.00",
        "contract_amount_upper": "陆拾万元整",
        "sign_date": "2026-12-01",
        "payment_terms": "货到付款",
        "department": "研发中心",
        "attachments": "",
        "instance.id": "i-1",
        "instance.serial": "PC-2026-0001",
        "instance.title": "服务器采购（某某供应商）",
        "instance.template": "采购合同审批",
        "instance.applicant": "张三",
        "instance.department": "后端组",
        "instance.submitted": "2026-11-23",
        "instance.submitted_at": "2026-11-23 09:07",
        "instance.approved": "2026-11-23",
        "instance.approved_at": "2026-11-23 09:49",
    }
    assert {k: v for k, v in values.items() if k.startswith("approver.legal.")} == {
        "approver.legal.name": "高敏",
        "approver.legal.decision": "同意",
        "approver.legal.comment": "条款已审",
        "approver.legal.date": "2026-11-23",
        "approver.legal.time": "2026-11-23 09:21",
    }
    # the vote passed with two of three: the third vote was never cast
    assert values["approver.committee.name"] == "何军、王强"
    assert values["approver.requesting_head.comment"] == ""


def test_table_rows_are_formatted_and_numbered(
    approved: Instance, directory: InMemoryDirectory
) -> None:
    tables = document_values(approved, directory).tables
    assert tables == {
        "items": [
            {
                "row": "1",
                "name": "服务器",
                "spec": "2U",
                "quantity": "10",
                "unit_price": "55,000.00",
                "unit_price_upper": "伍万伍仟元整",
                "subtotal": "550,000.00",
                "subtotal_upper": "伍拾伍万元整",
            },
            {
                "row": "2",
                "name": "交换机",
                "spec": "",
                "quantity": "2",
                "unit_price": "25,000.00",
                "unit_price_upper": "贰万伍仟元整",
                "subtotal": "50,000.00",
                "subtotal_upper": "伍万元整",
            },
        ]
    }


def test_times_are_written_in_the_given_zone(
    approved: Instance, directory: InMemoryDirectory
) -> None:
    values = document_values(approved, directory, tz=UTC).values
    assert values["instance.submitted_at"] == "2026-11-23 01:07"
    assert values["approver.legal.time"] == "2026-11-23 01:21"


def test_a_pending_request_has_no_approval_date_nor_undecided_approvers(
    directory: InMemoryDirectory,
) -> None:
    play = Play(directory, CONTRACT_FORM)
    play.do(Approve(actor="u-lina", task_id=play.instance.pending_tasks()[0].id))
    values = document_values(play.instance, directory).values
    assert "instance.approved" not in values and "instance.submitted" in values
    assert values["approver.requesting_head.name"] == "李娜"
    assert not any(k.startswith(("approver.legal.", "approver.ceo.")) for k in values)


def test_a_rejecting_node_says_so_and_the_request_has_no_approval_date(
    directory: InMemoryDirectory,
) -> None:
    play = Play(directory, CONTRACT_FORM)
    task = play.instance.pending_tasks()[0]
    play.do(Reject(actor=task.assignee, task_id=task.id, comment="预算不足"))
    values = document_values(play.instance, directory).values
    assert values["approver.requesting_head.decision"] == "驳回"
    assert values["approver.requesting_head.comment"] == "预算不足"
    assert "instance.approved" not in values


# ---- every field type --------------------------------------------------------------------------


def field(field_id: str, type_: str, **extra: Any) -> dict[str, Any]:
    return {"id": field_id, "type": type_, "label": field_id, **extra}


OPTIONS = [{"value": "a", "label": "甲类"}, {"value": "b", "label": "乙类"}]
FIELDS = [
    field("name", "text"),
    field("notes", "textarea"),
    field("qty", "number"),
    field("ratio", "number", precision=2),
    field("total", "money"),
    field("total_upper", "text"),
    field("usd", "money", currency="USD"),
    field("fee", "money"),
    field("memo", "text"),
    field("day", "date"),
    field("period", "date_range"),
    field("kind", "select", options=OPTIONS),
    field("tags", "multi_select", options=OPTIONS),
    field("level", "radio", options=OPTIONS),
    field("checks", "checkbox", options=OPTIONS),
    field("owner", "user"),
    field("watchers", "user", multiple=True),
    field("dept", "department"),
    field("files", "attachment"),
    field("steps", "table", columns=[field("row", "text"), field("what", "text")]),
]
FORM = {
    "name": "张三",
    "notes": "第一行\n第二行",
    "qty": 12000,
    "ratio": 0.5,
    "total": "1234.5",
    "total_upper": "由字段填写",
    "usd": "99.9",
    "day": "2026-12-01",
    "period": ["2026-12-01", "2026-12-05"],
    "kind": "a",
    "tags": ["a", "b"],
    "level": "b",
    "checks": ["b"],
    "owner": "u-lina",
    "watchers": ["u-lina", "u-nobody"],
    "dept": "d-rd",
    "files": [
        {"id": "f1", "name": "报价单.pdf", "size": 10, "content_type": "application/pdf"},
        {"id": "f2", "name": "合同草稿.docx", "size": 20, "content_type": "application/msword"},
    ],
    "steps": [{"row": "A", "what": "签字"}],
}


def test_every_field_type_is_written_as_a_contract_expects(directory: InMemoryDirectory) -> None:
    template = parse_template(
        {
            "key": "all_fields",
            "name": "全部字段",
            "version": 1,
            "form": {"fields": FIELDS},
            "flow": {
                "nodes": [
                    {
                        "id": "boss",
                        "type": "approver",
                        "name": "会签",
                        "mode": "all",
                        "assignees": [{"type": "users", "users": ["u-lina", "u-sunli"]}],
                    }
                ]
            },
        }
    )
    instance = Instance.new("i-9", template, "u-zhangsan")
    now = T0
    instance.execute(Submit(actor="u-zhangsan", form=FORM, serial="ALL-1"), Env(now, directory))
    for person, comment in (("u-sunli", "同意签字"), ("u-lina", None)):
        now += timedelta(hours=1)
        task = next(t for t in instance.pending_tasks() if t.assignee == person)
        instance.execute(
            Approve(actor=person, task_id=task.id, comment=comment), Env(now, directory)
        )
    out = document_values(instance, directory)
    assert {k: v for k, v in out.values.items() if "." not in k} == {
        "name": "张三",
        "notes": "第一行\n第二行",
        "qty": "12000",
        "ratio": "0.5",
        "total": "1,234.50",
        "total_upper": "由字段填写",  # the field wins over the money field's capitals
        "usd": "99.90",
        "fee": "",
        "fee_upper": "",
        "memo": "",
        "day": "2026-12-01",
        "period": "2026-12-01 至 2026-12-05",
        "period_start": "2026-12-01",
        "period_end": "2026-12-05",
        "kind": "甲类",
        "tags": "甲类、乙类",
        "level": "乙类",
        "checks": "乙类",
        "owner": "李娜",
        "watchers": "李娜、u-nobody",
        "dept": "研发中心",
        "files": "报价单.pdf、合同草稿.docx",
    }
    assert out.tables == {"steps": [{"row": "A", "what": "签字"}]}  # its own `row` column
    assert out.values["approver.boss.name"] == "孙丽、李娜"
    assert out.values["approver.boss.comment"] == "孙丽：同意签字"
    assert out.values["approver.boss.time"] == "2026-11-23 11:00"
