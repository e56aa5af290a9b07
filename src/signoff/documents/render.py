"""Render a Word template: placeholders replaced, table rows repeated.

    names = list_placeholders(template)                      # {"party_a", "items.name", ...}
    report = preview(template, values, tables)               # placeholders, missing, malformed
    docx = render(template, values, tables)                  # bytes of the filled .docx

`values` maps a name to its text (`"party_a" -> "Acme 示例科技"`); `tables` maps a table
field to its rows, each row mapping a column id to its text (`"items" -> [{"name": ...}]`).

Repeating: a paragraph that holds a placeholder `$<table>.<column>` of a table in `tables`
belongs to a repeated unit: the innermost table row (`w:tr`) around it, or the paragraph
itself when it is not in a table. The unit is copied once per row of the table (zero rows:
it is removed), and in each copy `$<table>.<column>` is that row's value while every other
name comes from `values`. One unit repeats one table: a unit naming two tables is
malformed. Units do not nest (a unit inside another is filled as part of the outer one).

Every text part is filled: the body (tables and nested tables, text boxes, content
controls), every header and footer (default, first page, even pages), footnotes and
endnotes. Nothing is left half done: a placeholder without a value, or a malformed one,
raises (`PlaceholderMissing` names every such placeholder) instead of a blank.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lxml import etree  # type: ignore[import-untyped]  # no stubs in the pinned dev set (lxml-stubs)

from signoff.documents.errors import PlaceholderMalformed, PlaceholderMissing
from signoff.documents.placeholders import (
    TR,
    P,
    Report,
    Resolve,
    W,
    find,
    paragraph_text,
    paragraphs,
    substitute,
)
from signoff.documents.validate import DEFAULT_LIMITS, Limits, open_package, scan
from signoff.domain.errors import Problem

Rows = Sequence[Mapping[str, str]]
_TC = f"{{{W}}}tc"
_TBL = f"{{{W}}}tbl"
_EMPTY: Mapping[str, Rows] = {}


@dataclass(frozen=True, slots=True)
class Preview:
    """A template against one request's values: what it asks for and what is missing."""

    placeholders: tuple[str, ...]  # every name in the template, sorted
    missing: tuple[str, ...]  # names without a value for these values, sorted
    malformed: tuple[str, ...]  # text that looks like a placeholder but is not one
    repeated: tuple[str, ...]  # tables whose rows repeat a unit of the template

    @property
    def ok(self) -> bool:
        return not self.missing and not self.malformed


def list_placeholders(template: bytes, limits: Limits = DEFAULT_LIMITS) -> frozenset[str]:
    """Every placeholder name of a template (malformed placeholders are not names)."""
    names, _ = scan(open_package(template, limits))
    return frozenset(names)


def missing(
    template: bytes,
    values: Mapping[str, str],
    tables: Mapping[str, Rows] = _EMPTY,
    limits: Limits = DEFAULT_LIMITS,
) -> tuple[str, ...]:
    """The names `render` would refuse for want of a value, sorted."""
    return preview(template, values, tables, limits).missing


def preview(
    template: bytes,
    values: Mapping[str, str],
    tables: Mapping[str, Rows] = _EMPTY,
    limits: Limits = DEFAULT_LIMITS,
) -> Preview:
    """Everything `render` would complain about, without raising."""
    package = open_package(template, limits)
    names, _ = scan(package)
    report = Report()
    repeated: set[str] = set()
    for _, root in package.roots():
        repeated.update(_fill(root, values, tables, report))
    return Preview(
        tuple(sorted(names)),
        tuple(sorted(report.missing)),
        tuple(dict.fromkeys(report.malformed)),
        tuple(sorted(repeated)),
    )


def render(
    template: bytes,
    values: Mapping[str, str],
    tables: Mapping[str, Rows] = _EMPTY,
    limits: Limits = DEFAULT_LIMITS,
) -> bytes:
    """The filled document; `PlaceholderMissing` / `PlaceholderMalformed` if it cannot be."""
    package = open_package(template, limits)
    report = Report()
    changed: dict[str, bytes] = {}
    for name in package.text_parts:
        if b"$" not in package.data[name]:
            continue
        root = package.xml(name)
        _fill(root, values, tables, report)
        changed[name] = etree.tostring(
            root, xml_declaration=True, encoding="UTF-8", standalone=True
        )
    if report.malformed:
        quoted = dict.fromkeys(report.malformed)
        problems = [Problem(text, "malformed", "not a placeholder") for text in quoted]
        raise PlaceholderMalformed(problems)
    if report.missing:
        raise PlaceholderMissing(sorted(report.missing))
    return package.write(changed)


def _fill(
    root: etree._Element, values: Mapping[str, str], tables: Mapping[str, Rows], report: Report
) -> set[str]:
    """Fill one part in place; the tables whose units it repeated."""
    units = _units(root, tables, report)
    inside = {p for unit in units for p in unit.iter(P)}  # (lxml keeps these proxies)
    plain = values.get
    for p in list(paragraphs(root)):
        if p not in inside:
            substitute(p, plain, report)
    for unit, table in units.items():
        rows = tables[table]
        for row in rows:
            clone = copy.deepcopy(unit)
            resolve = _row_resolver(table, row, values)
            for p in list(clone.iter(P)):
                substitute(p, resolve, report)
            unit.addprevious(clone)
        _remove(unit)
    return set(units.values())


def _row_resolver(table: str, row: Mapping[str, str], values: Mapping[str, str]) -> Resolve:
    prefix = table + "."
    size = len(prefix)

    def resolve(name: str) -> str | None:
        return row.get(name[size:]) if name.startswith(prefix) else values.get(name)

    return resolve


def _units(
    root: etree._Element, tables: Mapping[str, Rows], report: Report
) -> dict[etree._Element, str]:
    """The repeated units of a part (outermost only), each with its table, in order."""
    if not tables:
        return {}
    units: dict[etree._Element, str] = {}
    for p in paragraphs(root):
        text, _ = paragraph_text(p)
        if "$" not in text:
            continue
        used = {
            f.name.partition(".")[0]
            for f in find(text)
            if f.name is not None and "." in f.name and f.name.partition(".")[0] in tables
        }
        if not used:
            continue
        unit = next((a for a in p.iterancestors(TR)), p)
        if unit in units:
            used.add(units[unit])
        if len(used) > 1:
            names = " and ".join(sorted(used))
            report.malformed.append(f"a repeated row or paragraph names {names}")
            continue
        units[unit] = used.pop()
    return {
        unit: table
        for unit, table in units.items()
        if not any(a in units for a in unit.iterancestors())
    }


def _remove(unit: etree._Element) -> None:
    """Remove a repeated unit, keeping the document valid: a table left without rows goes
    too, and a table cell left without a paragraph gets an empty one."""
    parent = unit.getparent()
    if parent is None:
        return
    parent.remove(unit)
    if parent.tag == _TBL and not any(child.tag == TR for child in parent):
        grand = parent.getparent()
        if grand is None:
            return
        grand.remove(parent)
        parent = grand
    if parent.tag == _TC and not any(child.tag in (P, _TBL) for child in parent):
        parent.append(etree.Element(P))
