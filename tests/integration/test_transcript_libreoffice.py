"""The .docx export opens in LibreOffice, and Word-style line numbering matches the print.

LibreOffice converts the export to PDF headless; the PDF's text must show,
on every transcript line, the layout engine's own line number (from
``w:lnNumType``) equal to the number printed in the text. That proves the
font sizing keeps each numbered line to one laid-out line. The text is
measured in the PDF too (at least 9 pt with long speaker labels), and a
round trip docx -> odt -> docx keeps the numbers and the labelled note.

Set-up: ``apt-get install libreoffice-writer-nogui poppler-utils`` took 40 s
on the development machine (Debian 12, 110 packages); these tests take
about 20 s. Without LibreOffice they are skipped with that hint.
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from tests.golden.fixture import fixture_document, synthetic_document
from transcript.export import export
from transcript.lines import lock, number_lines

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


def _long_labels(words: int = 1500):  # type: ignore[no-untyped-def]
    doc = synthetic_document(words, seed=4)
    return replace(doc, speakers=(doc.speakers[0],
                                  replace(doc.speakers[1], label="Occupational Therapist")))


def _pdf_text(pdf: Path, *args: str) -> str:
    if PDFTOTEXT is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: the PDF was made but its "
                    "text cannot be checked")
    return subprocess.run([PDFTOTEXT, *args, str(pdf), "-"], check=True, capture_output=True,
                          text=True, timeout=60).stdout


def _check_numbers(pdf: Path, doc, width: int) -> str:  # type: ignore[no-untyped-def]
    """Word's own margin number equals our printed number on every transcript line."""
    text = _pdf_text(pdf, "-layout")
    lines = number_lines(doc, width=width)
    pairs = re.findall(r"^\s*(\d+)\s+(\d+)\s{2}", text, flags=re.MULTILINE)
    assert len(pairs) == len(lines), "every transcript line carries both numbers"
    assert all(word == printed for word, printed in pairs)
    assert [int(p) for _, p in pairs] == [ln.n for ln in lines]
    return text


def _points(pdf: Path) -> float:
    """The transcript's type size, measured: a monospaced word is 0.6 em per character."""
    html = _pdf_text(pdf, "-bbox")
    sizes = [(float(x1) - float(x0)) / (0.6 * len(word))
             for x0, x1, word in re.findall(
                 r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">'
                 r"([a-z]{6,})</word>", html)]
    assert sizes, "no words measured in the PDF"
    return statistics.median(sizes)


@pytest.mark.parametrize("width", [60, 80])
def test_docx_converts_to_pdf_with_matching_line_numbers(tmp_path: Path, width: int) -> None:
    doc = _long_labels()
    src = tmp_path / "transcript.docx"
    export(doc, "docx", src, width=width)
    pdf = _convert(src, "pdf", tmp_path)
    text = _check_numbers(pdf, doc, width)
    assert "Occupational Therapist:" in text or ("Occupational" in text and "Therapist:" in text)
    assert _points(pdf) >= 8.9  # a long label never shrinks the text below 9 pt


def test_an_overlong_line_keeps_its_number_in_word(tmp_path: Path) -> None:
    """A 150-character stutter and a locked line written in Jefferson's longer notation."""
    doc = _long_labels(600)
    words = list(doc.words)
    words[40] = replace(words[40], text="-".join(["okay"] * 30))
    locked = lock(replace(doc, words=tuple(words)), width=80)
    src = tmp_path / "long.docx"
    export(locked, "docx", src, profile="jefferson")
    pdf = _convert(src, "pdf", tmp_path)
    _check_numbers(pdf, locked, 80)
    assert _points(pdf) >= 8.9  # the rest of the text keeps its size


def test_round_trip_through_odt_keeps_numbers_and_labelled_notes(tmp_path: Path) -> None:
    from docx import Document

    doc = replace(_long_labels(600), notes=fixture_document().notes)
    src = tmp_path / "transcript.docx"
    export(doc, "docx", src, width=80)
    odt = _convert(src, "odt", tmp_path)
    back_dir = tmp_path / "back"
    back_dir.mkdir()
    back = _convert(odt, "docx:MS Word 2007 XML", back_dir)
    _check_numbers(_convert(back, "pdf", back_dir), doc, 80)
    comments = " ".join(c.text for c in Document(str(back)).comments)
    for label in ("Moment:", "Response:", "Understanding:"):
        assert label in comments


def test_fixture_docx_text_survives_libreoffice(tmp_path: Path) -> None:
    src = tmp_path / "fixture.docx"
    export(fixture_document(), "docx", src, width=40)
    txt = _convert(src, "txt:Text", tmp_path).read_text(encoding="utf-8-sig")
    assert "for me, it's th- .. it's that dual edge" in txt
    assert "[  ] [laughs]" in txt
    assert "Reflexive notes" in txt
