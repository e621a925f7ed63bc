"""Exporters: structure of each format, beyond the golden bytes."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree

from tests.golden.fixture import fixture_document, fixture_extract, synthetic_document
from transcript.document import dumps, loads, read, to_dict, write
from transcript.export import FORMATS, SUFFIXES, ExportMeta, export, render
from transcript.lines import lock, number_lines
from transcript.pseudonymise import Replacements

XSD = next((p / "shared" / "specs" / "refi-qda-project-1.0.xsd"
            for p in Path(__file__).resolve().parents
            if (p / "shared" / "specs" / "refi-qda-project-1.0.xsd").exists()),
           Path("/work/shared/specs/refi-qda-project-1.0.xsd"))
META = ExportMeta(title="P4-1", participant_id="P4", attributes={"profession": "Social Worker"},
                  extracts=(fixture_extract(),), created="2026-11-26T12:00:00Z")
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def test_json_export_round_trips_exactly(tmp_path: Path) -> None:
    out = tmp_path / "t.json"
    export(fixture_document(), "json", out, width=40)
    first = out.read_bytes()
    doc = read(out)
    assert doc.lines == number_lines(fixture_document(), width=40)
    assert doc.extra["numbering"] == {"profile": "paper", "width": 40, "locked": False}
    export(doc, "json", tmp_path / "again.json", width=72)
    assert (tmp_path / "again.json").read_bytes() == first  # its lines are now the frozen ones
    export(doc, "json", tmp_path / "jefferson.json", width=72, profile="jefferson")
    jefferson = read(tmp_path / "jefferson.json")  # the same lines, written in jefferson
    assert [(ln.n, ln.start) for ln in jefferson.lines] == [(ln.n, ln.start) for ln in doc.lines]
    assert jefferson.extra["numbering"]["profile"] == "jefferson"
    assert loads(dumps(doc)) == doc and to_dict(loads(dumps(doc))) == to_dict(doc)


def test_stored_document_round_trips_exactly(tmp_path: Path) -> None:
    doc = lock(fixture_document(), width=40)
    write(doc, tmp_path / "t.json")
    again = read(tmp_path / "t.json")
    assert again == doc and again.extra == doc.extra
    assert dumps(again) == dumps(doc)


def test_every_format_writes_an_owner_only_file(tmp_path: Path) -> None:
    for fmt in FORMATS:
        out = tmp_path / f"t{SUFFIXES[fmt]}"
        export(fixture_document(), fmt, out, meta=META)
        assert out.stat().st_size > 0, fmt
        assert out.stat().st_mode & 0o077 == 0, fmt


def test_bad_targets_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown export format"):
        render(fixture_document(), "pdf")
    with pytest.raises(ValueError, match="does not exist"):
        export(fixture_document(), "txt", tmp_path / "no" / "t.txt")
    with pytest.raises(ValueError, match="folder"):
        export(fixture_document(), "txt", tmp_path)


def test_qdpx_validates_against_the_refi_qda_schema() -> None:
    if not XSD.exists():
        pytest.skip(f"schema not found at {XSD}")
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    for doc in (fixture_document(), synthetic_document(600, seed=3)):
        data = render(doc, "qdpx", meta=META)
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            project = etree.fromstring(zf.read("project.qde"))
            assert schema.validate(project), schema.error_log.last_error
            ns = {"q": "urn:QDA-XML:project:1.0"}
            paths = project.xpath("//@plainTextPath", namespaces=ns)
            assert paths and all(p.replace("internal://", "Sources/") in zf.namelist()
                                 for p in paths)
            text = zf.read(paths[0].replace("internal://", "Sources/")).decode("utf-8")
        lines = number_lines(doc)
        syncs = project.xpath("//q:SyncPoint", namespaces=ns)
        assert len(syncs) == len(lines) + 1
        for line, sync in zip(lines, syncs, strict=False):
            position = int(sync.get("position"))
            assert text[position:].lstrip().startswith(f"{line.n} ")  # opens its line
            assert int(sync.get("timeStamp")) == round(line.start * 1000)
        notes = project.xpath("//q:Notes/q:Note", namespaces=ns)
        assert len(notes) == len(doc.notes)


def test_docx_has_word_line_numbering_bold_labels_and_note_comments() -> None:
    from docx import Document

    data = render(fixture_document(), "docx", width=40, meta=META)
    document = Document(io.BytesIO(data))
    sect = document.sections[0]._sectPr
    ln = sect.find(f"{W}lnNumType")
    assert ln is not None and ln.get(f"{W}countBy") == "1"
    numbered = [p for p in document.paragraphs if p.style.name == "Verbatim Line"]
    lines = number_lines(fixture_document(), width=40)
    assert len(numbered) == len(lines)
    for para, line in zip(numbered, lines, strict=True):
        assert para.text.split()[0] == str(line.n)
        assert para.text.endswith(line.text)
    assert numbered[0].runs[1].bold and numbered[0].runs[1].text == "Interviewer:"
    others = [p for p in document.paragraphs if p.style.name != "Verbatim Line"]
    assert all(p._p.pPr is not None and p._p.pPr.find(f"{W}suppressLineNumbers") is not None
               for p in others)
    comments = list(document.comments)
    assert len(comments) == 1 and "his voice dropped" in comments[0].text
    assert any("(Extract 1. P4, Social Worker. 2-3)" in p.text for p in others)


def test_vtt_voice_tags_and_escaping() -> None:
    doc = fixture_document()
    doc = replace(doc, speakers=(doc.speakers[0], replace(doc.speakers[1], label="P4 <b>")))
    text = render(doc, "vtt").decode()
    assert text.startswith("WEBVTT\n\n")
    assert "<v Interviewer>so what was that like for you?" in text
    assert "<v P4 &lt;b&gt;>" in text


def test_nvivo_rows_have_equal_tabs_and_maxqda_f4_timestamps() -> None:
    rows = render(fixture_document(), "nvivo").decode().split("\r\n")[:-1]
    assert rows[0] == "Timespan\tSpeaker\tLines\tContent"
    assert {r.count("\t") for r in rows} == {3}
    assert rows[2].startswith("00:00:02.9 - 00:00:17.2\tP4\t2-3\tfor me, it's th- ..")
    paragraphs = render(fixture_document(), "maxqda").decode().split("\r\n\r\n")
    assert paragraphs[0] == "Interviewer: so what was that like for you? #00:00:01-7#"


def test_pseudonymised_export_keeps_line_numbers() -> None:
    doc = fixture_document()
    reps = Replacements.from_pairs([("dual edge", "thing"), ("Interviewer", "[R]")])
    plain = render(doc, "txt", width=40).decode().splitlines()
    pseudo = render(doc, "txt", width=40, replacements=reps).decode().splitlines()
    assert len(plain) == len(pseudo)
    assert "[thing]" in "\n".join(pseudo) and "dual edge" not in "\n".join(pseudo)
    numbers = [ln.split()[0] for ln in pseudo if ln[:3].strip().isdigit()]
    assert numbers == [str(n) for n in range(1, 8)]
    assert doc == fixture_document()  # the original is untouched


def test_locked_document_exports_its_frozen_lines_under_any_profile() -> None:
    locked = lock(fixture_document(), width=40)
    text = render(locked, "txt", profile="jefferson", width=100).decode()
    assert "th- (0.6) it's that dual edge" in text  # the locked line, in jefferson
    assert "Notation: jefferson; width 40; line numbers locked" in text
    assert render(locked, "txt", profile="paper", width=100) == render(locked, "txt", width=40)


def test_an_empty_transcript_exports_in_every_format() -> None:
    from transcript.model import AudioRef, Transcript

    empty = Transcript(audio=AudioRef(""))
    for fmt in FORMATS:
        render(empty, fmt)  # no words yet must not be a crash
    if XSD.exists():
        with zipfile.ZipFile(io.BytesIO(render(empty, "qdpx"))) as zf:
            project = etree.fromstring(zf.read("project.qde"))
        assert etree.XMLSchema(etree.parse(str(XSD))).validate(project)
    assert render(empty, "txt").decode().splitlines()[0] == "Transcript"


def test_a_mark_speaker_of_the_wrong_type_is_a_clear_error() -> None:
    from transcript.document import DocumentError

    bad = ('{"format": "verbatim-transcript/1", "marks": [{"kind": "pause", "start": 0, '
           '"end": 1, "speaker": ["S1"]}]}')
    with pytest.raises(DocumentError, match="speaker must be a string"):
        loads(bad)
