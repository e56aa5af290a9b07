"""Checks on an uploaded Word template, and the package reader the renderer uses.

`check_template(data, filename)` is what an upload calls: it refuses (with the errors of
`signoff.documents.errors`) anything that is not a plain .docx within the limits, and
returns the template's placeholders. Every check runs again whenever a template is opened
for rendering, so a template stored before a limit changed is still read safely.

Refused: not a zip (an old `.doc`, a password-protected .docx, which is an OLE file);
no `[Content_Types].xml` or no Word main document part; more bytes than `max_bytes`; more
entries than `max_entries`; entries unpacking to more than `max_unpacked` bytes in all
or compressing better than `max_ratio` (zip bombs); entry names that are absolute, hold
`..`, backslashes or drive letters, repeat, or are encrypted; XML with a DTD (entity
expansion); relationships to outside the package other than hyperlinks (a remote template
or picture Word would fetch on opening); macros and ActiveX (a `.docm`/`.dotm` name,
`vbaProject.bin`, `vbaData.xml`, macro-enabled or ActiveX content types); malformed
placeholders.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from lxml import etree  # type: ignore[import-untyped]  # no stubs in the pinned dev set (lxml-stubs)

from signoff.documents.errors import (
    DocxExternalLink,
    DocxMacros,
    DocxTooLarge,
    DocxTooManyEntries,
    DocxUnsafeEntry,
    DocxUnsafeXml,
    DocxZipBomb,
    NotDocx,
    PlaceholderMalformed,
)
from signoff.documents.placeholders import find, paragraph_text, paragraphs
from signoff.domain.errors import Problem

_WML: Final = "application/vnd.openxmlformats-officedocument.wordprocessingml."
MAIN_TYPES: Final = frozenset({_WML + "document.main+xml", _WML + "template.main+xml"})
TEXT_TYPES: Final = MAIN_TYPES | {
    _WML + kind + "+xml" for kind in ("header", "footer", "footnotes", "endnotes")
}
_CT: Final = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_REL: Final = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_MACRO_NAME: Final = re.compile(r"(^|/)(vbaProject\.bin|vbaData\.xml)$|(^|/)activeX/", re.I)
_MACRO_TYPE: Final = re.compile(r"macroEnabled|vba|activeX", re.I)
_DRIVE: Final = re.compile(r"^[A-Za-z]:")
_OLE: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BIG_ENTRY: Final = 1024 * 1024  # compression ratios are judged on entries above this


@dataclass(frozen=True, slots=True)
class Limits:
    """What an uploaded template may be. The defaults fit any real contract template."""

    max_bytes: int = 10 * 1024 * 1024
    max_entries: int = 1000
    max_unpacked: int = 100 * 1024 * 1024
    max_ratio: int = 200


DEFAULT_LIMITS: Final = Limits()


def xml_parser() -> etree.XMLParser:
    """No DTDs, no entities, no network (a new parser per call: lxml parsers are per-thread)."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def parse_xml(name: str, data: bytes) -> etree._Element:
    if b"<!DOCTYPE" in data:  # XML keywords are case-sensitive; entities need a DTD
        raise DocxUnsafeXml(f"entry {name} declares a DTD; Word documents never do", entry=name)
    try:
        return etree.fromstring(data, xml_parser())
    except etree.XMLSyntaxError as error:
        raise NotDocx(f"entry {name} is not well-formed XML: {error}", entry=name) from None


class Package:
    """A checked .docx: its entries in order, and which of them hold document text."""

    def __init__(self, infos: list[zipfile.ZipInfo], data: dict[str, bytes]) -> None:
        self.infos = infos
        self.data = data
        self.text_parts = _text_parts(data)

    def xml(self, name: str) -> etree._Element:
        return parse_xml(name, self.data[name])

    def roots(self) -> Iterator[tuple[str, etree._Element]]:
        for name in self.text_parts:
            yield name, self.xml(name)

    def write(self, changed: dict[str, bytes]) -> bytes:
        """The package again, with `changed` entries replaced (others byte for byte)."""
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for info in self.infos:
                entry = zipfile.ZipInfo(info.filename, info.date_time)
                entry.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(entry, changed.get(info.filename, self.data[info.filename]))
        return out.getvalue()


def _text_parts(data: dict[str, bytes]) -> tuple[str, ...]:
    types = data.get("[Content_Types].xml")
    if types is None:
        raise NotDocx("not a Word document: the package has no [Content_Types].xml")
    root = parse_xml("[Content_Types].xml", types)
    overrides: dict[str, str] = {}
    for item in root.iter(f"{_CT}Override"):
        name, kind = item.get("PartName", ""), item.get("ContentType", "")
        if _MACRO_TYPE.search(kind):
            raise DocxMacros(
                f"entry {name.lstrip('/')} has content type {kind}: macros and ActiveX "
                "are not accepted; save the template as .docx",
                entry=name.lstrip("/"),
            )
        overrides[name.lstrip("/")] = kind
    for item in root.iter(f"{_CT}Default"):
        kind = item.get("ContentType", "")
        if _MACRO_TYPE.search(kind):
            raise DocxMacros(f"content type {kind} is macro-enabled; save the template as .docx")
    mains = [n for n, k in overrides.items() if k in MAIN_TYPES and n in data]
    if not mains:
        raise NotDocx("not a Word document: the package has no Word main document part")
    return tuple(n for n, k in overrides.items() if k in TEXT_TYPES and n in data)


def _check_name(name: str, seen: set[str]) -> None:
    bad = (
        name.startswith(("/", "\\"))
        or "\\" in name
        or "\x00" in name
        or _DRIVE.match(name)
        or any(part in ("..", ".") for part in name.split("/"))
    )
    if bad:
        raise DocxUnsafeEntry(f"entry name {name!r} points outside the package", entry=name)
    if name.lower() in seen:
        raise DocxUnsafeEntry(f"entry {name!r} appears twice", entry=name)
    seen.add(name.lower())
    if _MACRO_NAME.search(name):
        raise DocxMacros(
            f"entry {name} holds macros or ActiveX controls; save the template as .docx",
            entry=name,
        )


def open_package(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Package:
    """The package of a template, after every check on the zip itself."""
    if len(data) > limits.max_bytes:
        raise DocxTooLarge(
            f"the template is {len(data):,} bytes; the limit is {limits.max_bytes:,} bytes",
            size=len(data),
            limit=limits.max_bytes,
        )
    if data.startswith(_OLE):
        raise NotDocx(
            "not a .docx: this is an old .doc file or a password-protected document; "
            "save it as an unprotected .docx"
        )
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        raise NotDocx("not a .docx: the file is not a zip package") from None
    with zf:
        infos = zf.infolist()
        _check_entries(infos, limits)
        contents = {info.filename: _read(zf, info) for info in infos}
    for name, content in contents.items():
        if name.endswith((".xml", ".rels")):
            if b"<!DOCTYPE" in content:
                message = f"entry {name} declares a DTD; Word documents never do"
                raise DocxUnsafeXml(message, entry=name)
            if name.endswith(".rels"):
                _check_links(name, content)
    return Package(infos, contents)


def _check_entries(infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    if len(infos) > limits.max_entries:
        raise DocxTooManyEntries(
            f"the template has {len(infos):,} zip entries; the limit is {limits.max_entries:,}",
            entries=len(infos),
            limit=limits.max_entries,
        )
    seen: set[str] = set()
    total = 0
    for info in infos:
        _check_name(info.filename, seen)
        if info.flag_bits & 0x1:
            raise DocxUnsafeEntry(f"entry {info.filename} is encrypted", entry=info.filename)
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _BIG_ENTRY and ratio > limits.max_ratio:
            raise DocxZipBomb(
                f"entry {info.filename} unpacks {ratio:,.0f} times its packed size; "
                f"the limit is {limits.max_ratio}",
                entry=info.filename,
                limit=limits.max_ratio,
            )
    if total > limits.max_unpacked:
        raise DocxZipBomb(
            f"the template unpacks to {total:,} bytes; the limit is {limits.max_unpacked:,}",
            size=total,
            limit=limits.max_unpacked,
        )


def _check_links(name: str, content: bytes) -> None:
    """Only hyperlinks may point outside the package: an external template, frame, OLE
    object or linked picture would make Word fetch it when the contract is opened."""
    for rel in parse_xml(name, content).iter(f"{_REL}Relationship"):
        kind = rel.get("Type", "").rsplit("/", 1)[-1]
        if rel.get("TargetMode") == "External" and kind != "hyperlink":
            target = rel.get("Target", "")
            raise DocxExternalLink(
                f"entry {name} has an external {kind} relationship to {target[:100]}; "
                "only hyperlinks may point outside the document",
                entry=name,
                target=target,
            )


def _read(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """An entry's bytes, never more than its declared size (which the limits checked)."""
    try:
        with zf.open(info) as stream:
            data = stream.read(info.file_size + 1)
    except (zipfile.BadZipFile, NotImplementedError, EOFError, OSError, ValueError) as error:
        raise NotDocx(
            f"entry {info.filename} cannot be read: {error}", entry=info.filename
        ) from None
    if len(data) > info.file_size:
        raise DocxZipBomb(f"entry {info.filename} unpacks to more than it declares")
    return data


def scan(package: Package) -> tuple[set[str], list[Problem]]:
    """The placeholder names of every text part, and every malformed placeholder."""
    names: set[str] = set()
    problems: list[Problem] = []
    for part, root in package.roots():
        for p in paragraphs(root):
            text, _ = paragraph_text(p)
            if "$" not in text:
                continue
            for found in find(text):
                if found.malformed is not None:
                    problems.append(Problem(found.malformed, "malformed", f"in {part}"))
                elif found.name is not None:
                    names.add(found.name)
    return names, problems


def check_template(
    data: bytes, filename: str | None = None, limits: Limits = DEFAULT_LIMITS
) -> tuple[str, ...]:
    """Refuse a bad template at upload; its placeholder names, sorted, otherwise."""
    if filename is not None:
        lower = filename.lower()
        if lower.endswith((".docm", ".dotm")):
            raise DocxMacros(f"{filename} is a macro-enabled document; save it as .docx")
        if lower.endswith(".doc"):
            raise NotDocx(f"{filename} is an old .doc file; save it as .docx")
    names, problems = scan(open_package(data, limits))
    if problems:
        raise PlaceholderMalformed(problems)
    return tuple(sorted(names))
