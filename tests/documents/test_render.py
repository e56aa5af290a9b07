"""Rendering templates: every part filled, table rows repeated, nothing left blank."""

from __future__ import annotations

import io
import zipfile

import docx
import pytest
from docx.document import Document

from signoff.documents.errors import PlaceholderMalformed, PlaceholderMissing
from signoff.documents.render import list_placeholders, missing, preview, render
from signoff.documents.values import document_values
from signoff.domain.directory import InMemoryDirectory
from signoff.domain.instance import Instance

from .conftest import (
    CONTRACT_FORM,
    Play,
    body_text,
    first_paragraph,
    footnotes_text,
    headers_text,
    make_docx,
    run_texts,
    textbox_text,
)

# ---- the contract template authored in LibreOffice --------------------------------------

CONTRACT_BODY = [
    "服务器采购 采购合同",
    "合同编号：PC-2026-0001",
    "甲方：Acme 示例科技（以下简称“甲方”）",
    "乙方：某某供应商（以下简称“乙方”）",
    "甲乙双方经友好协商，就服务器采购事宜签订本合同。合同总金额为人民币600,000.00元"
    "（大写：陆拾万元整），自2026-12-01起生效。",
    "一、采购明细",
    "| 序号 | 物品名称 | 规格型号 | 数量 | 单价（元） | 小计（元） |",
    "| 1 | 服务器 | 2U | 10 | 55,000.00 | 550,000.00 |",
    "| 2 | 交换机 |  | 2 | 25,000.00 | 50,000.00 |",
    "| 合计（大写：陆拾万元整） | 600,000.00 |",
    "二、交付清单",
    "1. 服务器（2U）× 10",
    "2. 交换机（）× 2",
    "三、付款条款",
    "以上金额以美元计时写作 $100，与 $100 无关。",
    "四、审批记录",
    "| 需求部门负责人 | 李娜 | 同意 | 2026-11-23 09:14 |",
    "| 法务审核 | 高敏 | 同意：条款已审 | 2026-11-23 09:21 |",
    "| 财务总监 | 孙丽 | 同意 | 2026-11-23 09:28 |",
    "| 采购委员会 | 何军、王强 | 同意 | 2026-11-23 |",
    "五、签章",
    "| 甲方（盖章）：Acme 示例科技 ¶ | 经办人 | 张三 | ¶ | 批准日期 | 2026-11-23 | ¶  "
    "| 乙方（盖章）：某某供应商 ¶ 签订日期：2026-12-01 |",
    "（以下无正文）",
]
CONTRACT_HEADERS = {
    "header": ["合同编号：PC-2026-0001"],
    "even_page_header": ["Acme 示例科技 与 某某供应商 之采购合同"],
    "first_page_header": ["采购合同审批 · PC-2026-0001"],
    "footer": ["经办人：张三（后端组）"],
    "even_page_footer": ["经办人：张三（后端组）"],
    "first_page_footer": ["首页 · 申请日期 2026-11-23"],
}


def test_a_libreoffice_contract_is_filled_in_every_paragraph_cell_header_footer_and_box(
    contract_template: bytes, approved: Instance, directory: InMemoryDirectory
) -> None:
    values = document_values(approved, directory)
    out = render(contract_template, values.values, values.tables)
    assert body_text(out) == CONTRACT_BODY
    assert headers_text(out) == CONTRACT_HEADERS
    assert textbox_text(out) == ["付款方式：货到付款"] * 2  # DrawingML and its VML fallback
    assert footnotes_text(out) == ["乙方名称以营业执照为准：某某供应商"]
    assert list_placeholders(out) == frozenset()  # and the result is a valid template again


def test_the_libreoffice_template_really_splits_placeholders_across_runs(
    contract_template: bytes,
) -> None:
    party_a = docx.Document(io.BytesIO(contract_template)).paragraphs[2]
    assert party_a.text == "甲方：$party_a（以下简称“甲方”）"
    assert run_texts(party_a)[:4] == [
        ("甲方：", False),
        ("$par", False),
        ("ty", True),
        ("_a", False),
    ]
    headers = headers_text(contract_template)
    assert headers["first_page_header"] == ["$instance.template · $instance.serial"]


def test_a_value_takes_the_formatting_of_its_placeholders_first_character(
    contract_template: bytes, approved: Instance, directory: InMemoryDirectory
) -> None:
    values = document_values(approved, directory)
    paragraphs = docx.Document(io.BytesIO(render(contract_template, values.values, values.tables)))
    party_a, amount = paragraphs.paragraphs[2], paragraphs.paragraphs[4]
    assert ("Acme 示例科技", False) in run_texts(party_a)  # `$par` was plain, `ty` bold
    assert ("600,000.00", True) in run_texts(amount)  # `$contract_` was bold


def test_a_preview_of_a_pending_request_names_what_only_approval_will_give(
    contract_template: bytes, directory: InMemoryDirectory
) -> None:
    pending = Play(directory, CONTRACT_FORM).instance
    values = document_values(pending, directory)
    report = preview(contract_template, values.values, values.tables)
    assert not report.ok
    assert report.missing == (
        "approver.committee.date",
        "approver.committee.decision",
        "approver.committee.name",
        "approver.finance_director.decision",
        "approver.finance_director.name",
        "approver.finance_director.time",
        "approver.legal.comment",
        "approver.legal.decision",
        "approver.legal.name",
        "approver.legal.time",
        "approver.requesting_head.decision",
        "approver.requesting_head.name",
        "approver.requesting_head.time",
        "instance.approved",
    )
    assert set(report.missing) < set(report.placeholders)
    assert report.repeated == ("items",) and report.malformed == ()
    assert "items.unit_price" in report.placeholders and "party_a" in report.placeholders
    assert missing(contract_template, values.values, values.tables) == report.missing


def test_every_missing_placeholder_is_named_in_one_error(contract_template: bytes) -> None:
    with pytest.raises(PlaceholderMissing) as caught:
        render(contract_template, {"party_a": "甲"}, {"items": [{"name": "x"}]})
    error = caught.value
    assert error.code == "placeholder_missing"
    assert "party_b" in error.names and "instance.serial" in error.names
    assert "items.spec" in error.names and "party_a" not in error.names
    assert [p.path for p in error.problems] == list(error.names)
    assert error.message.startswith(f"{len(error.names)} placeholder(s) have no value: ${{")


def test_list_placeholders_gives_the_names_of_every_part(contract_template: bytes) -> None:
    names = list_placeholders(contract_template)
    assert {"instance.template", "instance.submitted", "payment_terms"} <= names  # header, box
    assert "items.row" in names and "$" not in "".join(names)


# ---- tables --------------------------------------------------------------------------------


def items_table(document: Document, header: bool = True) -> None:
    document.add_paragraph("明细：")
    table = document.add_table(rows=1 + header, cols=3)
    if header:
        for cell, text in zip(table.rows[0].cells, ("名称", "数量", "金额"), strict=True):
            cell.text = text
    for cell, text in zip(
        table.rows[-1].cells, ("$items.name", "$items.quantity", "$items.amount元"), strict=True
    ):
        cell.text = text
    document.add_paragraph("合计：$total")


ITEMS = [
    {"name": "服务器", "quantity": "10", "amount": "550,000.00"},
    {"name": "交换机", "quantity": "2", "amount": "50,000.00"},
    {"name": "网线", "quantity": "100", "amount": "1,000.00"},
]


def test_a_table_row_repeats_once_per_row_of_its_table_field() -> None:
    out = render(make_docx(items_table), {"total": "601,000.00"}, {"items": ITEMS})
    assert body_text(out) == [
        "明细：",
        "| 名称 | 数量 | 金额 |",
        "| 服务器 | 10 | 550,000.00元 |",
        "| 交换机 | 2 | 50,000.00元 |",
        "| 网线 | 100 | 1,000.00元 |",
        "合计：601,000.00",
    ]


def test_a_table_field_without_rows_removes_the_repeated_row() -> None:
    out = render(make_docx(items_table), {"total": "0.00"}, {"items": []})
    assert body_text(out) == ["明细：", "| 名称 | 数量 | 金额 |", "合计：0.00"]


def test_a_table_left_without_rows_is_removed_and_its_cell_keeps_a_paragraph() -> None:
    def build(document: Document) -> None:
        outer = document.add_table(rows=1, cols=1)
        inner = outer.cell(0, 0).add_table(rows=1, cols=1)
        inner.cell(0, 0).text = "$items.name"
        for paragraph in outer.cell(0, 0).paragraphs:  # the table alone in its cell
            paragraph._p.getparent().remove(paragraph._p)

    assert body_text(make_docx(build)) == ["| | $items.name | |"]
    out = render(make_docx(build), {}, {"items": []})
    assert body_text(out) == ["|  |"]


def test_a_paragraph_outside_tables_repeats_per_row_as_a_list() -> None:
    def build(document: Document) -> None:
        document.add_paragraph("交付清单：")
        document.add_paragraph("$items.row. $items.name × $items.quantity（$unit）")

    rows = [{**row, "row": str(n)} for n, row in enumerate(ITEMS, start=1)]
    out = render(make_docx(build), {"unit": "台"}, {"items": rows})
    assert body_text(out) == [
        "交付清单：",
        "1. 服务器 × 10（台）",
        "2. 交换机 × 2（台）",
        "3. 网线 × 100（台）",
    ]


def test_a_row_of_a_nested_table_repeats_inside_its_cell() -> None:
    def build(document: Document) -> None:
        outer = document.add_table(rows=1, cols=2)
        outer.cell(0, 0).text = "$party_a"
        inner = outer.cell(0, 1).add_table(rows=1, cols=2)
        inner.cell(0, 0).text = "$items.name"
        inner.cell(0, 1).text = "$items.quantity"

    out = render(make_docx(build), {"party_a": "甲方"}, {"items": ITEMS[:2]})
    assert body_text(out) == ["| 甲方 |  ¶ | 服务器 | 10 | ¶ | 交换机 | 2 | ¶  |"]


def test_one_row_naming_two_tables_is_malformed() -> None:
    def build(document: Document) -> None:
        table = document.add_table(rows=1, cols=2)
        table.cell(0, 0).text = "$items.name"
        table.cell(0, 1).text = "$payees.name"

    with pytest.raises(
        PlaceholderMalformed, match="a repeated row or paragraph names items and payees"
    ):
        render(make_docx(build), {}, {"items": ITEMS, "payees": [{"name": "x"}]})


def test_a_row_value_is_not_read_again_as_a_placeholder() -> None:
    rows = [{"name": "$total", "quantity": "${total}", "amount": "$$"}]
    out = render(make_docx(items_table), {"total": "1"}, {"items": rows})
    assert body_text(out)[2] == "| $total | ${total} | $$元 |"


def test_a_table_name_not_given_is_a_missing_placeholder_per_column() -> None:
    with pytest.raises(PlaceholderMissing) as caught:
        render(make_docx(items_table), {"total": "1"})
    assert caught.value.names == ("items.amount", "items.name", "items.quantity")


# ---- headers, footers and other parts -------------------------------------------------------


def test_first_page_and_even_page_headers_and_footers_are_filled() -> None:
    def build(document: Document) -> None:
        document.settings.odd_and_even_pages_header_footer = True
        section = document.sections[0]
        section.different_first_page_header_footer = True
        section.header.paragraphs[0].text = "编号 $serial"
        section.even_page_header.paragraphs[0].text = "偶数页 $serial"
        section.first_page_header.paragraphs[0].text = "首页 $serial"
        section.footer.paragraphs[0].text = "$applicant"
        section.even_page_footer.paragraphs[0].text = "偶数页 $applicant"
        section.first_page_footer.paragraphs[0].text = "首页 $applicant"
        document.add_paragraph("正文")

    out = render(make_docx(build), {"serial": "PC-1", "applicant": "张三"})
    assert headers_text(out) == {
        "header": ["编号 PC-1"],
        "even_page_header": ["偶数页 PC-1"],
        "first_page_header": ["首页 PC-1"],
        "footer": ["张三"],
        "even_page_footer": ["偶数页 张三"],
        "first_page_footer": ["首页 张三"],
    }


def test_parts_without_placeholders_are_kept_byte_for_byte(contract_template: bytes) -> None:
    names = list_placeholders(contract_template)
    row = {name.removeprefix("items."): "v" for name in names if name.startswith("items.")}
    out = render(contract_template, dict.fromkeys(names, "v"), {"items": [row]})
    with (
        zipfile.ZipFile(io.BytesIO(contract_template)) as before,
        zipfile.ZipFile(io.BytesIO(out)) as after,
    ):
        assert before.namelist() == after.namelist()
        for name in ("word/styles.xml", "word/settings.xml", "[Content_Types].xml"):
            assert before.read(name) == after.read(name)
        assert before.read("word/document.xml") != after.read("word/document.xml")


def test_a_malformed_placeholder_is_refused_rather_than_printed(
    contract_template: bytes,
) -> None:
    def build(document: Document) -> None:
        document.add_paragraph("甲方：${party a}")

    with pytest.raises(PlaceholderMalformed) as caught:
        render(make_docx(build), {"party a": "x"})
    assert caught.value.code == "placeholder_malformed"
    assert caught.value.details["placeholders"] == ["${party a}"]


def test_a_preview_reports_malformed_placeholders_instead_of_raising() -> None:
    def build(document: Document) -> None:
        document.add_paragraph("甲方：${party a}，乙方：$party_b，再写一次 ${party a}")

    report = preview(make_docx(build), {})
    assert report.placeholders == ("party_b",) and report.missing == ("party_b",)
    assert report.malformed == ("${party a}",) and not report.ok


def test_a_document_without_placeholders_comes_out_with_the_same_text() -> None:
    def build(document: Document) -> None:
        document.add_paragraph("价格 $100，无占位符。")

    out = render(make_docx(build), {})
    assert first_paragraph(out).text == "价格 $100，无占位符。"
