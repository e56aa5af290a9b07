"""PDF through LibreOffice when it is installed; a reason, never a crash, when it is not."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from docx.document import Document

from signoff.documents.pdf import find_soffice, to_pdf
from signoff.documents.render import render
from signoff.documents.values import document_values
from signoff.domain.directory import InMemoryDirectory
from signoff.domain.instance import Instance

from .conftest import make_docx


@pytest.fixture(scope="module")
def simple() -> bytes:
    def build(document: Document) -> None:
        document.add_paragraph("采购合同 PC-2026-0001：甲方 Acme 示例科技")

    return make_docx(build)


def script(tmp_path: Path, body: str) -> str:
    """A stand-in for soffice: a shell script."""
    path = tmp_path / "soffice"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_without_libreoffice_there_is_no_pdf_and_the_result_says_why(
    simple: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("SIGNOFF_SOFFICE", raising=False)
    assert find_soffice() is None
    result = to_pdf(simple)
    assert result.pdf is None
    assert result.reason == "LibreOffice (soffice) is not installed; only the .docx is made"


def test_a_failing_libreoffice_gives_its_exit_status_and_message(
    simple: bytes, tmp_path: Path
) -> None:
    failing = script(tmp_path, 'echo "source file could not be loaded" >&2; exit 3')
    result = to_pdf(simple, soffice=failing)
    assert result.pdf is None
    assert result.reason == "LibreOffice exited with status 3: source file could not be loaded"


def test_a_libreoffice_that_hangs_is_killed_after_the_timeout(
    simple: bytes, tmp_path: Path
) -> None:
    hanging = script(tmp_path, "exec sleep 30")
    result = to_pdf(simple, soffice=hanging, timeout=0.2)
    assert result.pdf is None and result.reason == "LibreOffice did not finish within 0.2 s"


def test_a_libreoffice_that_exits_without_a_pdf_says_so(simple: bytes, tmp_path: Path) -> None:
    assert to_pdf(simple, soffice=script(tmp_path, "exit 0")).reason == (
        "LibreOffice produced no PDF"
    )


@pytest.mark.skipif(find_soffice() is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_turns_a_rendered_contract_into_a_pdf(
    contract_template: bytes, approved: Instance, directory: InMemoryDirectory
) -> None:
    values = document_values(approved, directory)
    result = to_pdf(render(contract_template, values.values, values.tables))
    assert result.reason is None and result.pdf is not None
    assert result.pdf.startswith(b"%PDF-") and len(result.pdf) > 10_000
