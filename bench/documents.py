"""How fast are contracts made? Documents rendered per second from a Word template.

The contract: ten A4 pages — 16 clauses whose placeholders are split across runs the
way Word splits them, headers and footers, a 采购明细 table whose row repeats for 200
items, an approval record and a signature block. Each document is rendered from the
template bytes (checks, parsing, filling, zipping), as the service would.

Run: `.venv/bin/python -m bench.documents [--seconds N] [--runs N] [--pdf]`.
`--pdf` also converts one document with LibreOffice and reports its pages and time.
A script, not a test: it prints figures, it asserts nothing about them.
"""

from __future__ import annotations

import argparse
import io
import re
import statistics
import time

import docx
from docx.document import Document
from docx.shared import Mm
from docx.text.paragraph import Paragraph

from signoff.documents.pdf import to_pdf
from signoff.documents.render import render

ROWS = 200
CLAUSES = 16
CLAUSE = (
    "第{n}条 甲方${{party_a}}与乙方$party_b就$contract_name事宜，经友好协商一致，"
    "订立本条款。乙方应按照本合同约定的时间、地点和方式交付货物，并保证所交付货物的品质、"
    "规格、数量符合约定；甲方应按照约定支付合同价款人民币$contract_amount元"
    "（大写：$contract_amount_upper）。任何一方违反本条约定的，应当承担相应的违约责任。"
)
COLUMNS = ("row", "name", "spec", "quantity", "unit_price", "subtotal")


def split_runs(paragraph: Paragraph, text: str) -> None:
    """Each placeholder split into three runs, the middle one bold (as Word leaves them)."""
    for piece in re.split(r"(\$\{?[A-Za-z_][\w.]*\}?)", text):
        if piece.startswith("$") and len(piece) > 4:
            third = len(piece) // 3
            for k, part in enumerate((piece[:third], piece[third : 2 * third], piece[2 * third :])):
                paragraph.add_run(part).bold = k == 1
        elif piece:
            paragraph.add_run(piece)


def contract_template() -> bytes:
    document: Document = docx.Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.header.paragraphs[0].text = "合同编号：$instance.serial　　$party_a"
    section.footer.paragraphs[0].text = "经办人：$instance.applicant（$instance.department）"
    document.add_heading("$contract_name 采购合同", level=0)
    split_runs(document.add_paragraph(), "合同编号：$instance.serial　签订日期：$sign_date")
    split_runs(document.add_paragraph(), "甲方：$party_a（以下简称“甲方”）")
    split_runs(document.add_paragraph(), "乙方：$party_b（以下简称“乙方”）")
    for n in range(1, CLAUSES + 1):
        split_runs(document.add_paragraph(), CLAUSE.format(n=n))
    document.add_heading("附件一：采购明细", level=1)
    table = document.add_table(rows=3, cols=len(COLUMNS))
    table.style = "Table Grid"
    for cell, title in zip(
        table.rows[0].cells, ("序号", "名称", "规格", "数量", "单价", "小计"), strict=True
    ):
        cell.text = title
    for cell, column in zip(table.rows[1].cells, COLUMNS, strict=True):
        split_runs(cell.paragraphs[0], f"$items.{column}")
    table.rows[2].cells[0].text = "合计"
    table.rows[2].cells[-1].text = "$contract_amount"
    document.add_heading("审批记录", level=1)
    for node in ("requesting_head", "legal", "finance_director", "committee"):
        split_runs(
            document.add_paragraph(),
            f"$approver.{node}.name　$approver.{node}.decision　$approver.{node}.time",
        )
    split_runs(document.add_paragraph(), "甲方（盖章）：$party_a　　乙方（盖章）：$party_b")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def request_values() -> tuple[dict[str, str], dict[str, list[dict[str, str]]]]:
    values = {
        "contract_name": "服务器及网络设备采购",
        "party_a": "Acme 示例科技有限公司",
        "party_b": "某某信息技术有限公司",
        "contract_amount": "1,234,567.80",
        "contract_amount_upper": "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角",
        "sign_date": "2026-12-01",
        "instance.serial": "PC-2026-0001",
        "instance.applicant": "张三",
        "instance.department": "后端组",
    }
    for node, name in (
        ("requesting_head", "李娜"),
        ("legal", "高敏"),
        ("finance_director", "孙丽"),
        ("committee", "何军、王强"),
    ):
        prefix = f"approver.{node}."
        values |= {prefix + "name": name, prefix + "decision": "同意"}
        values[prefix + "time"] = "2026-11-23 09:30"
    rows = [
        {
            "row": str(i),
            "name": f"服务器配件 {i}",
            "spec": "2U / 64 GB",
            "quantity": "2",
            "unit_price": "3,086.42",
            "subtotal": "6,172.84",
        }
        for i in range(1, ROWS + 1)
    ]
    return values, {"items": rows}


def one_run(template: bytes, seconds: float) -> tuple[int, float, float, int]:
    """Render for about `seconds`; documents, wall, cpu, size of the last document."""
    values, tables = request_values()
    done, size = 0, 0
    wall0, cpu0 = time.perf_counter(), time.process_time()
    deadline = wall0 + seconds
    while time.perf_counter() < deadline:
        size = len(render(template, values, tables))
        done += 1
    return done, time.perf_counter() - wall0, time.process_time() - cpu0, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0, help="length of one run")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pdf", action="store_true", help="also time one PDF conversion")
    args = parser.parse_args()
    template = contract_template()
    rates, per_cpu, size = [], [], 0
    for _ in range(args.runs):
        done, wall, cpu, size = one_run(template, args.seconds)
        rates.append(done / wall)
        per_cpu.append(done / cpu)
    print(f"contract: {CLAUSES} clauses, a {ROWS}-row table, headers and footers")
    print(f"{'template / document':<28}{len(template):,} / {size:,} bytes")
    print(f"{'runs':<28}{args.runs} x {args.seconds:.1f} s")
    print(
        f"{'documents/s (min/med/max)':<28}{min(rates):,.1f} / {statistics.median(rates):,.1f}"
        f" / {max(rates):,.1f}"
    )
    print(f"{'documents per CPU-second':<28}{statistics.median(per_cpu):,.1f}")
    print(f"{'ms per document (median)':<28}{1000 / statistics.median(rates):,.1f}")
    if args.pdf:
        values, tables = request_values()
        started = time.perf_counter()
        result = to_pdf(render(template, values, tables))
        if result.pdf is None:
            print(f"{'PDF':<28}none: {result.reason}")
        else:
            pages = len(re.findall(rb"/Type\s*/Page(?!s)", result.pdf))
            print(f"{'PDF (LibreOffice)':<28}{pages} pages, {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
