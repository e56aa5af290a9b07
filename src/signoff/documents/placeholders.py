"""Placeholders in WordprocessingML paragraphs, found and replaced across runs.

Syntax (the conventions of Python's `string.Template`):

    $party_a           a name: an ASCII letter or `_`, then letters, digits, `_`;
                       dotted parts (`$items.name`, `$approver.legal.comment`) are one name
    ${party_a}         the same, for a placeholder followed by ASCII letters or digits
                       (`${amount}USD`); inside braces name parts may contain `-`
                       (`${approver.team-lead.name}`)
    $$                 a literal `$`

Names are ASCII on purpose: Chinese text usually follows a placeholder directly
(`$amount元`, `$party_a（以下简称甲方）`), so a Chinese character always ends a name.
`$` followed by a digit or a space stays as it is (`$100`). Text that looks like a
placeholder but is not one (`${party a}`, `${amount` with no `}`, `$甲方`) is malformed.

Word and LibreOffice split what was typed as `$party_a` over several runs (`w:r`): spell
check marks, formatting changes, edit sessions (rsid), Chinese/Latin font changes. A
paragraph's text is therefore read from all its `w:t` elements in order; a placeholder
found there is replaced in the `w:t` holding its first character (so the value keeps that
character's formatting) and its other characters are removed from the following `w:t`s.
Tabs, breaks, drawings and text boxes inside a paragraph end a name; a text box's own
paragraphs are separate paragraphs.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Final

from lxml import etree  # type: ignore[import-untyped]  # no stubs in the pinned dev set (lxml-stubs)

W: Final = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
XML_SPACE: Final = "{http://www.w3.org/XML/1998/namespace}space"
P: Final = f"{{{W}}}p"
R: Final = f"{{{W}}}r"
T: Final = f"{{{W}}}t"
TR: Final = f"{{{W}}}tr"
_BR: Final = f"{{{W}}}br"
_TAB: Final = f"{{{W}}}tab"
_RPR: Final = f"{{{W}}}rPr"
_MC: Final = "http://schemas.openxmlformats.org/markup-compatibility/2006"
#: elements inside a paragraph that show something other than text: they end a name
_BREAKS: Final = frozenset(
    {
        _BR,
        _TAB,
        f"{{{W}}}cr",
        f"{{{W}}}ptab",
        f"{{{W}}}sym",
        f"{{{W}}}noBreakHyphen",
        f"{{{W}}}softHyphen",
        f"{{{W}}}fldChar",
        f"{{{W}}}drawing",
        f"{{{W}}}pict",
        f"{{{W}}}object",
        f"{{{W}}}footnoteReference",
        f"{{{W}}}endnoteReference",
        f"{{{_MC}}}AlternateContent",
        P,
    }
)
#: subtrees that never hold the paragraph's own text
_SKIP: Final = frozenset({f"{{{W}}}pPr", _RPR, f"{{{W}}}instrText", f"{{{W}}}delText"})
_GAP: Final = "\x00"  # stands for a break in a paragraph's text; never valid in XML text

_NAME: Final = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*"
BRACED_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*", re.ASCII)
PATTERN: Final = re.compile(
    r"\$(?:(?P<escape>\$)|\{(?P<braced>[^{}\x00]{0,200})\}|(?P<bare>"
    + _NAME
    + r")|(?P<open>\{)|(?P<cjk>[\u3400-\u9fff\uf900-\ufaff]+))",
    re.ASCII,
)
_SPECIAL: Final = re.compile(r"[\n\t]")
_NOT_XML: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class Found:
    """One occurrence in a paragraph's text: a name, an escaped `$$`, or malformed text."""

    start: int
    end: int
    name: str | None  # None for `$$`
    malformed: str | None = None  # the offending text, quoted in errors


def find(text: str) -> list[Found]:
    """Every placeholder, `$$` and malformed placeholder in a paragraph's text."""
    out: list[Found] = []
    for m in PATTERN.finditer(text):
        braced = m["braced"]
        if m["escape"]:
            out.append(Found(m.start(), m.end(), None))
        elif m["bare"]:
            out.append(Found(m.start(), m.end(), m["bare"]))
        elif braced is not None and BRACED_NAME.fullmatch(braced):
            out.append(Found(m.start(), m.end(), braced))
        else:
            quoted = text[m.start() : m.start() + 12] if m["open"] else m[0]
            out.append(Found(m.start(), m.end(), None, quoted.split(_GAP)[0]))
    return out


def paragraphs(root: etree._Element) -> Iterator[etree._Element]:
    """Every paragraph of a part: body, tables (nested too), text boxes, headers, notes."""
    found: Iterator[etree._Element] = root.iter(P)
    return found


def _walk(element: etree._Element, out: list[tuple[etree._Element | None, str]]) -> None:
    for child in element:
        tag = child.tag
        if tag == T:
            out.append((child, child.text or ""))
        elif tag in _BREAKS:
            out.append((None, _GAP))
        elif tag not in _SKIP and isinstance(tag, str):
            _walk(child, out)


def paragraph_text(p: etree._Element) -> tuple[str, list[tuple[etree._Element | None, int]]]:
    """The paragraph's own text (breaks as NUL) and where each `w:t` starts in it."""
    pieces: list[tuple[etree._Element | None, str]] = []
    _walk(p, pieces)
    segments: list[tuple[etree._Element | None, int]] = []
    offset = 0
    for element, text in pieces:
        segments.append((element, offset))
        offset += len(text)
    return "".join(text for _, text in pieces), segments


def _set_text(t: etree._Element, text: str) -> None:
    t.text = text
    t.set(XML_SPACE, "preserve")


def _put(t: etree._Element, before: str, value: str, after: str) -> None:
    """`w:t` becomes before + value + after; newlines and tabs of `value` become
    `w:br` / `w:tab` siblings in the same run (so they keep its formatting too)."""
    parts = _SPECIAL.split(value)
    if len(parts) == 1:
        _set_text(t, before + value + after)
        return
    separators = _SPECIAL.findall(value)
    _set_text(t, before + parts[0])
    anchor = t
    for sep, part in zip(separators, parts[1:], strict=True):
        mark = etree.Element(_BR if sep == "\n" else _TAB)
        anchor.addnext(mark)
        text = etree.Element(T)
        mark.addnext(text)
        _set_text(text, part)
        anchor = text
    _set_text(anchor, (anchor.text or "") + after)


def _cut(t: etree._Element, start: int, end: int) -> None:
    """Remove characters [start, end) of a `w:t`; drop it (and its run) when emptied."""
    text = t.text or ""
    rest = text[:start] + text[end:]
    if rest:
        _set_text(t, rest)
        return
    run = t.getparent()
    if run is None:
        return
    run.remove(t)
    if run.tag == R and all(child.tag == _RPR for child in run):
        parent = run.getparent()
        if parent is not None:
            parent.remove(run)


def clean(value: str) -> str:
    """A value that XML can hold: control characters other than newline and tab removed."""
    return _NOT_XML.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


Resolve = Callable[[str], str | None]


@dataclass(slots=True)
class Report:
    """What a substitution pass could not do: names without a value, malformed text."""

    missing: set[str] = field(default_factory=set)
    malformed: list[str] = field(default_factory=list)


def substitute(p: etree._Element, resolve: Resolve, report: Report) -> bool:
    """Replace every placeholder of the paragraph by `resolve(name)` and every `$$` by `$`.

    A name `resolve` has no value for (None) goes to `report.missing`, malformed text to
    `report.malformed`; both are left as they are. True if the paragraph changed.
    """
    text, segments = paragraph_text(p)
    if "$" not in text:
        return False
    starts = [offset for _, offset in segments]
    occurrences = find(text)
    report.malformed.extend(f.malformed for f in occurrences if f.malformed is not None)
    changed = False
    for found in reversed(occurrences):  # from the end: earlier offsets stay valid
        if found.malformed is not None:
            continue
        value = "$" if found.name is None else resolve(found.name)
        if value is None:
            report.missing.add(str(found.name))
            continue
        _replace(segments, starts, found.start, found.end, clean(value))
        changed = True
    return changed


def _replace(
    segments: list[tuple[etree._Element | None, int]],
    starts: list[int],
    start: int,
    end: int,
    value: str,
) -> None:
    # the last segment starting at or before `start` holds it (a `$` is never a break)
    first = bisect.bisect_right(starts, start) - 1
    element, offset = segments[first]
    assert element is not None  # noqa: S101  # `$` is text, not a break
    text = element.text or ""
    head, tail = start - offset, end - offset
    if tail <= len(text):
        _put(element, text[:head], value, text[tail:])
        return
    _put(element, text[:head], value, "")
    for other, other_offset in segments[first + 1 :]:
        if other_offset >= end:
            break
        if other is not None:
            _cut(other, 0, end - other_offset)
