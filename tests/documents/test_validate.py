"""Bad templates are refused at upload, each with a stable code and a message naming
the entry, the limit or the placeholder."""

from __future__ import annotations

import io
import warnings
import zipfile

import pytest
from docx.document import Document

from signoff.documents import errors
from signoff.documents.render import render
from signoff.documents.validate import Limits, check_template
from signoff.domain.errors import Invalid

from .conftest import make_docx, with_entries


@pytest.fixture(scope="module")
def good() -> bytes:
    def build(document: Document) -> None:
        document.add_paragraph("甲方：$party_a")
        document.sections[0].header.paragraphs[0].text = "$serial"

    return make_docx(build)


def refused(data: bytes, error: type[errors.DocumentInvalid], **kwargs: object) -> str:
    """check_template refuses `data` with `error`; the message."""
    with pytest.raises(error) as caught:
        check_template(data, **kwargs)
    assert isinstance(caught.value, Invalid)
    assert caught.value.code == error.code
    return caught.value.message


def test_a_good_template_passes_and_lists_its_placeholders(good: bytes) -> None:
    assert check_template(good, "合同模板.docx") == ("party_a", "serial")


def test_the_libreoffice_contract_passes(contract_template: bytes) -> None:
    names = check_template(contract_template, "contract.docx")
    assert len(names) == 32 and names[0] == "approver.committee.date"


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (errors.NotDocx, "docx_not_docx"),
        (errors.DocxTooLarge, "docx_too_large"),
        (errors.DocxTooManyEntries, "docx_too_many_entries"),
        (errors.DocxZipBomb, "docx_zip_bomb"),
        (errors.DocxUnsafeEntry, "docx_unsafe_entry"),
        (errors.DocxUnsafeXml, "docx_unsafe_xml"),
        (errors.DocxExternalLink, "docx_external_link"),
        (errors.DocxMacros, "docx_macros"),
        (errors.PlaceholderMalformed, "placeholder_malformed"),
        (errors.PlaceholderMissing, "placeholder_missing"),
    ],
)
def test_every_refusal_is_an_invalid_input_with_a_stable_code(
    error: type[errors.DocumentInvalid], code: str
) -> None:
    assert issubclass(error, errors.DocumentInvalid) and issubclass(error, Invalid)
    assert error.code == code


# ---- not a Word document ----------------------------------------------------------------


def test_text_is_not_a_docx() -> None:
    assert "not a zip package" in refused("甲方：$party_a".encode(), errors.NotDocx)


def test_an_old_doc_or_password_protected_file_is_told_apart() -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600
    assert "password-protected" in refused(ole, errors.NotDocx)


def test_an_old_doc_name_is_refused_before_reading(good: bytes) -> None:
    assert "old .doc" in refused(good, errors.NotDocx, filename="合同.DOC")


def test_a_zip_without_a_word_document_is_not_a_docx(good: bytes) -> None:
    no_types = with_entries(good, **{"[Content_Types].xml": None})
    assert "[Content_Types].xml" in refused(no_types, errors.NotDocx)
    no_main = with_entries(good, **{"word/document.xml": None})
    assert "main document" in refused(no_main, errors.NotDocx)


def test_broken_xml_names_its_entry(good: bytes) -> None:
    broken = with_entries(good, **{"word/document.xml": b"<w:document><w:body>"})
    assert "word/document.xml is not well-formed" in refused(broken, errors.NotDocx)


# ---- limits -------------------------------------------------------------------------------


def test_a_template_over_the_size_limit_names_the_limit(good: bytes) -> None:
    message = refused(good, errors.DocxTooLarge, limits=Limits(max_bytes=1000))
    assert message == f"the template is {len(good):,} bytes; the limit is 1,000 bytes"


def test_too_many_zip_entries_are_refused(good: bytes) -> None:
    many = with_entries(good, **{f"word/media/image{i}.png": b"x" for i in range(30)})
    message = refused(many, errors.DocxTooManyEntries, limits=Limits(max_entries=25))
    assert "the limit is 25" in message


def test_an_entry_that_unpacks_a_thousand_times_its_size_is_a_zip_bomb(good: bytes) -> None:
    bomb = with_entries(good, **{"word/media/zeros.bin": b"\x00" * (8 * 1024 * 1024)})
    assert len(bomb) < 100_000
    message = refused(bomb, errors.DocxZipBomb)
    assert message.startswith("entry word/media/zeros.bin unpacks") and "limit is 200" in message


def test_a_template_unpacking_to_more_than_the_limit_is_a_zip_bomb(good: bytes) -> None:
    message = refused(good, errors.DocxZipBomb, limits=Limits(max_unpacked=10_000))
    assert "the limit is 10,000" in message


# ---- unsafe entries ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["../evil.xml", "word/../../evil.xml", "/etc/passwd", "word\\..\\evil", "C:/evil", "./x"],
)
def test_an_entry_name_pointing_outside_the_package_is_refused(good: bytes, name: str) -> None:
    message = refused(with_entries(good, **{name: b"x"}), errors.DocxUnsafeEntry)
    assert repr(name) in message


def test_an_entry_appearing_twice_is_refused(good: bytes) -> None:
    out = io.BytesIO(good)
    with warnings.catch_warnings(), zipfile.ZipFile(out, "a") as zf:
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate we want
        zf.writestr("word/document.xml", b"<x/>")
    assert "appears twice" in refused(out.getvalue(), errors.DocxUnsafeEntry)


def test_an_encrypted_entry_is_refused(good: bytes) -> None:
    data = bytearray(with_entries(good, **{"word/secret.xml": b"<x/>"}))
    # zipfile writes no encrypted entries: set bit 0 of the entry's central directory flags
    record = data.rfind(b"PK\x01\x02", 0, data.rfind(b"word/secret.xml"))
    data[record + 8] |= 0x1
    assert "word/secret.xml is encrypted" in refused(bytes(data), errors.DocxUnsafeEntry)


def test_a_dtd_is_refused_so_that_entities_never_expand(good: bytes) -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b"<w:document>&lol2;</w:document>"
    )
    bad = with_entries(good, **{"word/document.xml": laughs})
    assert "word/document.xml declares a DTD" in refused(bad, errors.DocxUnsafeXml)


RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/{kind}" Target="{target}" TargetMode="External"/></Relationships>'
)


def test_a_remote_template_word_would_fetch_on_opening_is_refused(good: bytes) -> None:
    rels = RELS.format(kind="attachedTemplate", target="http://198.51.100.7/t.dotm")
    bad = with_entries(good, **{"word/_rels/settings.xml.rels": rels.encode()})
    message = refused(bad, errors.DocxExternalLink)
    assert message == (
        "entry word/_rels/settings.xml.rels has an external attachedTemplate relationship to "
        "http://198.51.100.7/t.dotm; only hyperlinks may point outside the document"
    )


def test_an_external_hyperlink_is_fine(good: bytes) -> None:
    rels = RELS.format(kind="hyperlink", target="https://example.com/terms")
    linked = with_entries(good, **{"word/_rels/footnotes.xml.rels": rels.encode()})
    assert check_template(linked) == ("party_a", "serial")


# ---- macros ---------------------------------------------------------------------------------


def test_a_docm_name_is_refused(good: bytes) -> None:
    assert "macro-enabled" in refused(good, errors.DocxMacros, filename="合同.docm")


def test_a_vba_project_is_refused_whatever_the_file_is_called(good: bytes) -> None:
    with_vba = with_entries(good, **{"word/vbaProject.bin": b"\x00\x01"})
    assert "word/vbaProject.bin" in refused(with_vba, errors.DocxMacros, filename="a.docx")


def test_a_macro_enabled_content_type_is_refused(good: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(good)) as zf:
        types = zf.read("[Content_Types].xml")
    macro = types.replace(
        b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        b"application/vnd.ms-word.document.macroEnabled.main+xml",
    )
    assert macro != types
    bad = with_entries(good, **{"[Content_Types].xml": macro})
    assert "macroEnabled" in refused(bad, errors.DocxMacros)


def test_activex_controls_are_refused(good: bytes) -> None:
    bad = with_entries(good, **{"word/activeX/activeX1.xml": b"<ax/>"})
    assert "word/activeX/activeX1.xml" in refused(bad, errors.DocxMacros)


# ---- placeholders ---------------------------------------------------------------------------


def test_malformed_placeholders_are_refused_at_upload_each_quoted() -> None:
    def build(document: Document) -> None:
        document.add_paragraph("甲方：${party a}，乙方：$乙方，金额：${amount")
        document.sections[0].footer.paragraphs[0].text = "${}"

    with pytest.raises(errors.PlaceholderMalformed) as caught:
        check_template(make_docx(build))
    assert [(p.path, p.message) for p in caught.value.problems] == [
        ("${party a}", "in word/document.xml"),
        ("$乙方", "in word/document.xml"),
        ("${amount", "in word/document.xml"),
        ("${}", "in word/footer1.xml"),
    ]


def test_render_checks_the_template_again(good: bytes) -> None:
    with pytest.raises(errors.DocxTooLarge):
        render(good, {"party_a": "甲", "serial": "1"}, limits=Limits(max_bytes=100))
