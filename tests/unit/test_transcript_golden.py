"""Golden files: every format exported from the one fixture document.

The fixture (tests/golden/fixture.py) holds every mark kind and a note. To
accept a deliberate change, regenerate with
``VERBATIM_UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/test_transcript_golden.py``
and review the diff of tests/golden/files/ before committing.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from tests.golden.fixture import fixture_document, fixture_extract
from transcript.export import FORMATS, ExportMeta, Timestamps, render
from transcript.notation import get_profile

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "files"
UPDATE = os.environ.get("VERBATIM_UPDATE_GOLDEN") == "1"

META = ExportMeta(title="P4-1", participant_id="P4", interview_id="P4-1",
                  attributes={"gender": "Male", "profession": "Social Worker"},
                  extracts=(fixture_extract(),), created="2026-11-26T12:00:00Z")


def _pretty(xml: bytes) -> bytes:
    tree = etree.fromstring(xml, etree.XMLParser(remove_blank_text=True))
    return etree.tostring(tree, pretty_print=True, encoding="UTF-8")


def comparable(fmt: str, data: bytes) -> dict[str, bytes]:
    """What a golden file pins for each format (zip formats: their XML and text parts)."""
    if fmt == "docx":
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return {"docx.document.xml": _pretty(zf.read("word/document.xml")),
                    "docx.comments.xml": _pretty(zf.read("word/comments.xml"))}
    if fmt == "qdpx":
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            texts = sorted(n for n in zf.namelist() if n.startswith("Sources/"))
            return {"qdpx.project.qde": zf.read("project.qde"),
                    "qdpx.source.txt": zf.read(texts[0])}
    return {fmt: data}


def assert_golden(stem: str, fmt: str, data: bytes) -> None:
    """``data`` (a ``fmt`` export) equals its golden files ``stem.<suffix>`` (written first
    with VERBATIM_UPDATE_GOLDEN=1)."""
    for suffix, content in comparable(fmt, data).items():
        path = GOLDEN / f"{stem}.{suffix}"
        if UPDATE:
            path.write_bytes(content)
        assert path.exists(), f"missing golden file {path.name}: run with VERBATIM_UPDATE_GOLDEN=1"
        assert content == path.read_bytes(), f"{path.name} differs from the export"


CASES = [(fmt, "paper") for fmt in FORMATS] + [("txt", "jefferson"), ("txt", "dresing-pehl"),
                                                ("vtt", "jefferson")]


@pytest.mark.parametrize("fmt, profile", CASES)
def test_export_matches_golden_file(fmt: str, profile: str) -> None:
    data = render(fixture_document(), fmt, profile=profile, width=40, meta=META)
    assert_golden(f"fixture.{profile}", fmt, data)


def test_every_format_has_golden_files() -> None:
    names = {p.name for p in GOLDEN.iterdir()}
    for fmt in FORMATS:
        assert any(n.startswith(f"fixture.paper.{fmt}") for n in names), fmt


STAMPED = ExportMeta(title="P4-1", participant_id="P4", interview_id="P4-1",
                     created="2026-11-26T12:00:00Z", timestamps=Timestamps(turn=True, every=10))


@pytest.mark.parametrize("fmt", ["txt", "md", "docx"])
def test_timestamped_export_matches_golden_file(fmt: str) -> None:
    """Stamps at each speaker change and every 10 s, on unnumbered rows of their own."""
    data = render(fixture_document(), fmt, profile="paper", width=40, meta=STAMPED)
    assert_golden("fixture.paper-stamped", fmt, data)


def test_dot_pauses_match_golden_file() -> None:
    """noScribe's one dot per second, as a profile option."""
    profile = get_profile("paper", {"dot_pauses": True})
    data = render(fixture_document(), "txt", profile=profile, width=40, meta=META)
    assert_golden("fixture.paper-dots", "txt", data)
