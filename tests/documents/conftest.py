"""Helpers for the document tests: templates built with python-docx (runs split on
purpose), the full text of a .docx read back, and an approved purchase contract."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.document import Document
from docx.oxml.ns import qn
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from lxml import etree

from signoff.domain.commands import Approve, Command, Submit
from signoff.domain.directory import InMemoryDirectory
from signoff.domain.instance import Instance
from signoff.domain.navigation import Env
from signoff.domain.templates import Template, parse_template

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai

CONTRACT_FORM: dict[str, Any] = {
    "contract_name": "服务器采购",
    "party_a": "Acme 示例科技",
    "party_b": "某某供应商",
    "contract_amount": "600000",
    "sign_date": "2026-12-01",
    "payment_terms": "货到付款",
    "department": "d-rd",
    "items": [  # prices below
        {
            "name": "服务器",
            "spec": "2U",
            "quantity": 10,
            "unit_price": "55000",
            "subtotal": "550000",
        },
        {"name": "交换机", "quantity": 2, "unit_price": "25000", "subtotal": "50000"},
    ],
}


# ---- building templates ---------------------------------------------------------------


def make_docx(build: Callable[[Document], None]) -> bytes:
    """A .docx made by python-docx after `build` fills it."""
    document = docx.Document()
    build(document)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def add_runs(paragraph: Paragraph, *pieces: str, bold: int | None = None) -> Paragraph:
    """The paragraph gets one run per piece (the piece at index `bold` is bold)."""
    for index, piece in enumerate(pieces):
        run = paragraph.add_run(piece)
        if index == bold:
            run.bold = True
    return paragraph


def between_runs(paragraph: Paragraph, index: int, xml: str) -> None:
    """Insert raw WordprocessingML before run `index` (proofErr, bookmarks, ...)."""
    element = etree.fromstring(f'<root xmlns:w="{W}">{xml}</root>')
    run = paragraph.runs[index]._r
    for child in list(element):
        run.addprevious(child)


def with_entries(data: bytes, **entries: bytes | None) -> bytes:
    """The package with entries replaced or added (None removes one); `__` stands for `/`."""
    changes = {name.replace("__", "/"): value for name, value in entries.items()}
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            if info.filename in changes:
                continue
            target.writestr(info, source.read(info))
        for name, value in changes.items():
            if value is not None:
                target.writestr(name, value)
    return out.getvalue()


# ---- reading documents back ---------------------------------------------------------


def _lines(items: Iterator[Paragraph | Table]) -> list[str]:
    out: list[str] = []
    for item in items:
        if isinstance(item, Paragraph):
            out.append(item.text)
            continue
        for row in item.rows:
            cells = [_Cell(tc, item) for tc in row._tr.tc_lst]  # merged cells once
            texts = (" ¶ ".join(_lines(cell.iter_inner_content())) for cell in cells)
            out.append("| " + " | ".join(texts) + " |")
    return out


def body_text(data: bytes) -> list[str]:
    """The body in order: each paragraph's text; each table row as `| a | b |`, a cell's
    paragraphs joined by ` ¶ ` (a nested table's rows are among them)."""
    return _lines(docx.Document(io.BytesIO(data)).iter_inner_content())


HEADERS = (
    "header",
    "even_page_header",
    "first_page_header",
    "footer",
    "even_page_footer",
    "first_page_footer",
)


def headers_text(data: bytes) -> dict[str, list[str]]:
    """The paragraphs of every header and footer of the first section, by kind."""
    section = docx.Document(io.BytesIO(data)).sections[0]
    return {kind: [p.text for p in getattr(section, kind).paragraphs] for kind in HEADERS}


def xml_texts(data: bytes, part: str, xpath: str) -> list[str]:
    """The text of each element `xpath` selects in a package part (w:t joined)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        root = etree.fromstring(zf.read(part))
    return ["".join(el.itertext()) for el in root.xpath(xpath, namespaces={"w": W})]


def textbox_text(data: bytes) -> list[str]:
    """Paragraphs inside text boxes (DrawingML and its VML fallback both)."""
    return xml_texts(data, "word/document.xml", "//w:txbxContent/w:p")


def footnotes_text(data: bytes) -> list[str]:
    return xml_texts(data, "word/footnotes.xml", "//w:footnote[not(@w:type)]/w:p")


def run_texts(paragraph: Paragraph) -> list[tuple[str, bool]]:
    """(text, bold) of each run."""
    return [(r.text, bool(r.bold)) for r in paragraph.runs]


def first_paragraph(data: bytes) -> Paragraph:
    return docx.Document(io.BytesIO(data)).paragraphs[0]


def run_count(paragraph: Paragraph) -> int:
    return len(paragraph._p.findall(qn("w:r")))


# ---- an approved purchase contract ----------------------------------------------------


def demo_directory() -> InMemoryDirectory:
    return InMemoryDirectory.from_json(json.loads((ROOT / "examples/directory.json").read_text()))


def purchase_template() -> Template:
    return parse_template(
        json.loads((ROOT / "examples/templates/purchase_contract.json").read_text())
    )


class Play:
    """One purchase contract played through; the clock moves 7 minutes per command."""

    def __init__(self, directory: InMemoryDirectory, form: dict[str, Any]) -> None:
        self.directory = directory
        self.now = T0
        self.instance = Instance.new("i-1", purchase_template(), "u-zhangsan")
        self.do(
            Submit(
                actor="u-zhangsan",
                form=form,
                serial="PC-2026-0001",
                choices={"legal": ("u-gaomin",)},
            )
        )

    def do(self, command: Command) -> None:
        self.now += timedelta(minutes=7)
        self.instance.execute(command, Env(self.now, self.directory))

    def approve_all(self, comments: dict[str, str] | None = None) -> Instance:
        """Approve, first pending task first, until the request is finished."""
        said = comments or {}
        while not self.instance.finished:
            task = sorted(self.instance.pending_tasks(), key=lambda t: t.id)[0]
            comment = said.get(task.node_id)
            self.do(Approve(actor=task.assignee, task_id=task.id, comment=comment))
        return self.instance


@pytest.fixture(scope="session")
def directory() -> InMemoryDirectory:
    return demo_directory()


@pytest.fixture
def approved(directory: InMemoryDirectory) -> Instance:
    """The purchase contract of CONTRACT_FORM, approved by everyone; 法务 commented."""
    return Play(directory, CONTRACT_FORM).approve_all({"legal": "条款已审"})


@pytest.fixture(scope="session")
def contract_template() -> bytes:
    """The LibreOffice-built contract template (tests/documents/fixtures/build.sh)."""
    return (FIXTURES / "contract.docx").read_bytes()
