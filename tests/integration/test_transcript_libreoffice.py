"""The .docx export opens in LibreOffice, and Word-style line numbering matches the print.

LibreOffice converts the export to PDF headless; the PDF's text must show,
on every transcript line, the layout engine's own line number (from
``w:lnNumType``) equal to the number printed in the text. That proves the
font sizing keeps each numbered line to one laid-out line.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from tests.golden.fixture import fixture_document, synthetic_document
from transcript.export import export
from transcript.lines import number_lines

pytestmark = pytest.mark.integration

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
PDFTOTEXT = shutil.which("pdftotext")


def _convert(src: Path, target: str, tmp: Path) -> Path:
    if SOFFICE is None:
        pytest.skip("LibreOffice (soffice) is not installed: apt-get install "
                    "libreoffice-writer-nogui to run this check")
    profile = tmp / "lo-profile"
    subprocess.run([SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless",
                    "--convert-to", target, "--outdir", str(tmp), str(src)],
                   check=True, capture_output=True, timeout=180)
    out = tmp / f"{src.stem}.{target.split(':')[0]}"
    assert out.exists(), f"LibreOffice did not produce {out.name}"
    return out


def test_docx_converts_to_pdf_with_matching_line_numbers(tmp_path: Path) -> None:
    doc = synthetic_document(1500, seed=4)
    doc = replace(doc, speakers=(doc.speakers[0],
                                 replace(doc.speakers[1], label="Occupational Therapist")))
    src = tmp_path / "transcript.docx"
    export(doc, "docx", src, width=80)
    pdf = _convert(src, "pdf", tmp_path)
    if PDFTOTEXT is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: the PDF was made but its "
                    "text cannot be checked")
    text = subprocess.run([PDFTOTEXT, "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True, timeout=60).stdout
    lines = number_lines(doc, width=80)
    pairs = re.findall(r"^\s*(\d+)\s+(\d+)\s{2}", text, flags=re.MULTILINE)
    assert len(pairs) == len(lines), "every transcript line carries both numbers"
    assert all(word == printed for word, printed in pairs)
    assert [int(p) for _, p in pairs] == [ln.n for ln in lines]
    assert "Occupational Therapist:" in text


def test_fixture_docx_text_survives_libreoffice(tmp_path: Path) -> None:
    src = tmp_path / "fixture.docx"
    export(fixture_document(), "docx", src, width=40)
    txt = _convert(src, "txt:Text", tmp_path).read_text(encoding="utf-8-sig")
    assert "for me, it's th- .. it's that dual edge" in txt
    assert "[  ] [laughs]" in txt
    assert "Reflexive notes" in txt
