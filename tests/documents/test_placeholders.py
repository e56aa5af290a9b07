"""Placeholders found and replaced across the runs Word and LibreOffice split them into."""

from __future__ import annotations

import itertools
import re

import pytest
from docx.document import Document
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from signoff.documents.placeholders import (
    P,
    R,
    Report,
    T,
    W,
    find,
    paragraph_text,
    substitute,
)
from signoff.documents.render import render

from .conftest import add_runs, between_runs, first_paragraph, make_docx, run_count, run_texts

# ---- the syntax ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("甲方：$party_a（以下简称甲方）", ["party_a"]),
        ("$amount元", ["amount"]),
        ("${amount}USD", ["amount"]),
        ("$items.name。", ["items.name"]),
        ("签订于$sign_date.", ["sign_date"]),
        ("$approver.legal.comment", ["approver.legal.comment"]),
        ("${approver.team-lead.name}", ["approver.team-lead.name"]),
        ("$approver.team-lead.name", ["approver.team"]),
        ("$a$b", ["a", "b"]),
        ("$$party_a", [None]),
        ("$$$party_a", [None, "party_a"]),
        ("$100 and $ 5 and US$", []),
    ],
)
def test_names_are_ascii_identifiers_with_dotted_parts(text: str, names: list[str | None]) -> None:
    found = find(text)
    assert [f.name for f in found] == names
    assert all(f.malformed is None for f in found)


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("${party a}（以下简称甲方）", "${party a}"),
        ("${amount 元", "${amount 元"),
        ("${}", "${}"),
        ("${9lives}", "${9lives}"),
        ("甲方：$甲方", "$甲方"),
    ],
)
def test_text_that_looks_like_a_placeholder_but_is_not_is_malformed(text: str, quoted: str) -> None:
    assert [(f.name, f.malformed) for f in find(text)] == [(None, quoted)]


# ---- replacing inside one paragraph --------------------------------------------------------


def paragraph(*runs: tuple[str, bool]) -> etree._Element:
    """A w:p with one run per (text, bold)."""
    p = etree.Element(P, nsmap={"w": W})
    for text, bold in runs:
        r = etree.SubElement(p, R)
        if bold:
            etree.SubElement(etree.SubElement(r, f"{{{W}}}rPr"), f"{{{W}}}b")
        t = etree.SubElement(r, T)
        t.text = text
    return p


def runs_of(p: etree._Element) -> list[tuple[str, bool]]:
    out = []
    for r in p.iter(R):
        text = "".join(
            {T: el.text or "", f"{{{W}}}br": "\n", f"{{{W}}}tab": "\t"}.get(el.tag, "") for el in r
        )
        out.append((text, r.find(f"{{{W}}}rPr/{{{W}}}b") is not None))
    return out


def test_a_placeholder_split_over_four_runs_is_replaced_in_the_first_one() -> None:
    p = paragraph(("甲方：", False), ("$", True), ("par", False), ("ty_", True), ("a。", False))
    report = Report()
    assert substitute(p, {"party_a": "Acme 示例科技"}.get, report)
    assert runs_of(p) == [("甲方：", False), ("Acme 示例科技", True), ("。", False)]
    assert report == Report()


def test_newlines_and_tabs_of_a_value_become_breaks_and_tabs_in_the_same_run() -> None:
    p = paragraph(("条款：$te", True), ("rms。", False))
    substitute(p, {"terms": "一、货到付款\n二、\t验收"}.get, Report())
    assert runs_of(p) == [("条款：一、货到付款\n二、\t验收", True), ("。", False)]
    assert len(p.findall(f"{{{W}}}r/{{{W}}}br")) == 1


def test_a_name_without_a_value_is_reported_and_left_as_it_is() -> None:
    p = paragraph(("$known and $unk", False), ("nown", False))
    report = Report()
    substitute(p, {"known": "K"}.get, report)
    assert paragraph_text(p)[0] == "K and $unknown"
    assert report.missing == {"unknown"}


def test_values_are_never_read_again_as_placeholders() -> None:
    p = paragraph(("$a $b", False))
    substitute(p, {"a": "$b", "b": "${a}$$"}.get, Report())
    assert paragraph_text(p)[0] == "$b ${a}$$"


def test_control_characters_of_a_value_are_dropped_rather_than_breaking_the_xml() -> None:
    p = paragraph(("$a", False))
    substitute(p, {"a": "x\x00y\x0bz\r\nw"}.get, Report())
    assert runs_of(p) == [("xyz\nw", False)]


def test_tracked_deletions_and_field_codes_are_not_text() -> None:
    xml = (
        f'<w:p xmlns:w="{W}"><w:del><w:r><w:delText>$old</w:delText></w:r></w:del>'
        "<w:r><w:instrText> PAGE $code </w:instrText></w:r>"
        "<w:r><w:t>$na</w:t></w:r><w:ins><w:r><w:t>me</w:t></w:r></w:ins></w:p>"
    )
    p = etree.fromstring(xml)
    report = Report()
    substitute(p, {"name": "N"}.get, report)
    assert paragraph_text(p)[0] == "N" and report.missing == set()
    assert "".join(p.itertext()) == "$old PAGE $code N"


def test_a_tab_inside_what_looks_like_one_name_ends_the_name() -> None:
    xml = f'<w:p xmlns:w="{W}"><w:r><w:t>$par</w:t><w:tab/><w:t>ty</w:t></w:r></w:p>'
    report = Report()
    substitute(etree.fromstring(xml), {}.get, report)
    assert report.missing == {"par"}


# ---- any split of any text: the same result as the unsplit text -----------------------------

VALUES = {"party_a": "⟨A⟩", "amount": "⟨M⟩", "x": "⟨X⟩"}
PIECES = {  # piece -> what it becomes; no concatenation of pieces changes how they read
    "甲方：": "甲方：",
    "$party_a元": "⟨A⟩元",
    "${amount}": "⟨M⟩",
    "USD": "USD",
    "$$": "$",
    " ": " ",
    "$100": "$100",
    "。": "。",
    "${x}": "⟨X⟩",
}


PLACEHOLDERS = {"$party_a元", "${amount}", "${x}"}


@settings(max_examples=300, deadline=None)
@given(
    pieces=st.lists(st.sampled_from(sorted(PIECES)), min_size=1, max_size=12),
    cuts=st.sets(st.integers(min_value=1, max_value=120)),
    bold=st.lists(st.booleans(), min_size=130, max_size=130),
)
def test_however_the_runs_are_split_the_text_is_as_if_typed_in_one_run(
    pieces: list[str], cuts: set[int], bold: list[bool]
) -> None:
    text = "".join(pieces)
    bounds = [0, *sorted(c for c in cuts if c < len(text)), len(text)]
    spans = list(itertools.pairwise(bounds))
    p = paragraph(*((text[a:b], bold[i]) for i, (a, b) in enumerate(spans)))
    report = Report()
    substitute(p, VALUES.get, report)
    assert paragraph_text(p)[0] == "".join(PIECES[piece] for piece in pieces)
    assert report == Report()
    # each value sits whole in one run, formatted as the run that held its `$`
    starts, at = [], 0
    for piece in pieces:
        if piece in PLACEHOLDERS:
            starts.append(at)
        at += len(piece)
    expected = [next(bold[i] for i, (a, b) in enumerate(spans) if a <= s < b) for s in starts]
    actual = [b for t, b in runs_of(p) for _ in re.findall("⟨.⟩", t)]
    assert actual == expected


# ---- templates as Word and LibreOffice write them ------------------------------------------


def test_spell_check_marks_and_bookmarks_between_runs_do_not_hide_a_placeholder() -> None:
    def build(document: Document) -> None:
        p = add_runs(document.add_paragraph(), "乙方：", "$party", "_", "b", "。")
        between_runs(p, 1, '<w:proofErr w:type="spellStart"/>')
        between_runs(p, 2, '<w:bookmarkStart w:id="0" w:name="乙方"/>')
        between_runs(p, 3, '<w:bookmarkEnd w:id="0"/><w:proofErr w:type="spellEnd"/>')

    out = render(make_docx(build), {"party_b": "某某供应商"})
    assert first_paragraph(out).text == "乙方：某某供应商。"


def test_runs_of_edit_sessions_and_chinese_latin_fonts_keep_the_first_runs_formatting() -> None:
    def build(document: Document) -> None:
        p = add_runs(document.add_paragraph(), "金额", "$con", "tract_", "amount", "元", bold=1)
        for index, run in enumerate(p.runs):
            run._r.set(f"{{{W}}}rsidR", f"00A{index}12B3")
            fonts = etree.SubElement(run._r.get_or_add_rPr(), f"{{{W}}}rFonts")
            fonts.set(f"{{{W}}}eastAsia", "宋体" if index % 2 else "SimHei")

    out = render(make_docx(build), {"contract_amount": "600,000.00"})
    paragraph_ = first_paragraph(out)
    assert paragraph_.text == "金额600,000.00元"
    assert run_texts(paragraph_) == [("金额", False), ("600,000.00", True), ("元", False)]
    assert run_count(paragraph_) == 3  # the emptied runs are gone


def test_a_placeholder_inside_a_hyperlink_is_replaced() -> None:
    def build(document: Document) -> None:
        p = document.add_paragraph()
        link = etree.SubElement(p._p, f"{{{W}}}hyperlink")
        for piece in ("$web", "site"):
            etree.SubElement(etree.SubElement(link, R), T).text = piece

    out = render(make_docx(build), {"website": "https://example.com"})
    assert first_paragraph(out).text == "https://example.com"
