"""A rendered .docx as PDF, through LibreOffice (`soffice`) when it is installed.

    result = to_pdf(docx_bytes)
    if result.pdf is None:
        log.info("no PDF: %s", result.reason)   # "LibreOffice (soffice) is not installed"

Each conversion runs `soffice --headless --convert-to pdf` in its own temporary directory
with its own LibreOffice profile (so conversions can run side by side), under a timeout
after which the process group is killed. Nothing here raises for a missing or failing
LibreOffice: the result says why there is no PDF, and the .docx is still the document.
Install on Debian/Ubuntu: `apt-get install libreoffice-writer-nogui fonts-noto-cjk`
(the CJK fonts make Chinese text render with real glyphs).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

DEFAULT_TIMEOUT: Final = 120.0
_CANDIDATES: Final = ("soffice", "libreoffice")


@dataclass(frozen=True, slots=True)
class PdfResult:
    """The PDF, or None and the reason there is none."""

    pdf: bytes | None
    reason: str | None = None


def find_soffice() -> str | None:
    """The LibreOffice executable on PATH (`SIGNOFF_SOFFICE` overrides), or None."""
    configured = os.environ.get("SIGNOFF_SOFFICE")
    if configured:
        return shutil.which(configured)
    return next((found for name in _CANDIDATES if (found := shutil.which(name))), None)


def to_pdf(
    docx: bytes, *, soffice: str | None = None, timeout: float = DEFAULT_TIMEOUT
) -> PdfResult:
    """Convert a .docx to PDF; never raises for LibreOffice's absence or failure."""
    program = soffice or find_soffice()
    if program is None:
        return PdfResult(None, "LibreOffice (soffice) is not installed; only the .docx is made")
    with tempfile.TemporaryDirectory(prefix="signoff-pdf-") as work:
        folder = Path(work)
        source = folder / "document.docx"
        source.write_bytes(docx)
        command = [
            program,
            f"-env:UserInstallation={(folder / 'profile').as_uri()}",
            "--headless",
            "--norestore",
            "--nologo",
            "--nodefault",
            "--convert-to",
            "pdf:writer_pdf_Export",
            "--outdir",
            str(folder),
            str(source),
        ]
        failure = _run(command, folder, timeout)
        target = folder / "document.pdf"
        if target.is_file() and target.stat().st_size > 0:
            return PdfResult(target.read_bytes())
        return PdfResult(None, failure or "LibreOffice produced no PDF")


def _run(command: list[str], folder: Path, timeout: float) -> str | None:
    """Run soffice in its own process group; a reason if it failed, None if it exited 0."""
    env = {**os.environ, "HOME": str(folder)}
    try:
        process = subprocess.Popen(  # noqa: S603  # a fixed argument list, no shell
            command,
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as error:
        return f"LibreOffice could not be started: {error}"
    try:
        _, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(process)
        return f"LibreOffice did not finish within {timeout:g} s"
    if process.returncode != 0:
        tail = stderr.decode("utf-8", "replace").strip()[-300:]
        return f"LibreOffice exited with status {process.returncode}: {tail}"
    return None


def _kill(process: subprocess.Popen[bytes]) -> None:
    """Kill soffice and whatever it started (its process group, where there are groups)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (AttributeError, ProcessLookupError, PermissionError):
        process.kill()
    process.communicate()
