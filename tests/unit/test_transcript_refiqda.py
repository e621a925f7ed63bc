"""REFI-QDA (.qdpx): holds its recording, stores its text once, every sync point in the audio."""

from __future__ import annotations

import io
import wave
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from tests.golden.fixture import fixture_document, fixture_extract
from transcript.export import ExportMeta, export, render
from transcript.lines import lock
from transcript.pseudonymise import Replacements

XSD = next((p / "shared" / "specs" / "refi-qda-project-1.0.xsd"
            for p in Path(__file__).resolve().parents
            if (p / "shared" / "specs" / "refi-qda-project-1.0.xsd").exists()),
           Path("/work/shared/specs/refi-qda-project-1.0.xsd"))
NS = {"q": "urn:QDA-XML:project:1.0"}


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    if not XSD.exists():
        pytest.skip(f"REFI-QDA schema not found at {XSD}")
    return etree.XMLSchema(etree.parse(str(XSD)))


@pytest.fixture
def study_wav(tmp_path: Path) -> Path:
    """A 19 s recording (the fixture's length) in a study's audio folder: 8 kHz, 8-bit, silent."""
    wav = tmp_path / "study" / "audio" / "P4-1.wav"
    wav.parent.mkdir(parents=True)
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(8000)
        w.writeframes(b"\x80" * 8000 * 19)
    return wav


def _meta(wav: Path | None, **kw: object) -> ExportMeta:
    return ExportMeta(title="P4-1", participant_id="P4", interview_id="P4-1",
                      extracts=(fixture_extract(),), created="2026-11-26T12:00:00Z",
                      media_path=str(wav) if wav else "", **kw)  # type: ignore[arg-type]


def test_the_project_holds_its_recording_and_every_sync_point_falls_inside_it(
        tmp_path: Path, study_wav: Path, schema: etree.XMLSchema) -> None:
    out = tmp_path / "exports" / "P4-1.qdpx"
    out.parent.mkdir()
    doc = lock(fixture_document(), width=40)
    export(doc, "qdpx", out, meta=_meta(study_wav))
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(out) as zf:
        zf.extractall(unpacked)
    project = etree.parse(str(unpacked / "project.qde")).getroot()
    assert schema.validate(project), schema.error_log.last_error
    audio = project.find(".//q:AudioSource", NS)
    assert audio is not None and audio.get("path", "").startswith("internal://")
    recording = unpacked / "Sources" / audio.get("path", "").removeprefix("internal://")
    assert recording.read_bytes() == study_wav.read_bytes()  # the recording itself, whole
    with wave.open(str(recording)) as w:
        length_ms = w.getnframes() * 1000 / w.getframerate()
    text = (unpacked / "Sources" / project.find(".//q:Transcript", NS).get("plainTextPath")
            .removeprefix("internal://")).read_text(encoding="utf-8")
    syncs = project.findall(".//q:SyncPoint", NS)
    assert len(syncs) == len(doc.lines) + 1
    for sync in syncs:
        assert 0 <= int(sync.get("timeStamp")) <= length_ms
        assert 0 <= int(sync.get("position")) <= len(text)
    ids = {s.get("guid") for s in syncs}
    for selection in project.findall(".//q:TranscriptSelection", NS):
        assert {selection.get("fromSyncPoint"), selection.get("toSyncPoint")} <= ids
    # each line's sync point opens that line and plays from that line's time
    for line, sync in zip(doc.lines, syncs, strict=False):
        assert text[int(sync.get("position")):].lstrip().startswith(f"{line.n} ")
        assert int(sync.get("timeStamp")) == round(line.start * 1000)
    # no folder of this machine is named in a self-contained project
    assert str(tmp_path) not in (unpacked / "project.qde").read_text(encoding="utf-8")


def test_the_transcript_text_is_stored_once(study_wav: Path) -> None:
    data = render(fixture_document(), "qdpx", meta=_meta(study_wav))
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        texts = [n for n in zf.namelist() if n.endswith(".txt")]
        project = etree.fromstring(zf.read("project.qde"))
    assert len(texts) == 1
    paths = set(project.xpath("//@plainTextPath", namespaces=NS))
    assert paths == {texts[0].replace("Sources/", "internal://")}


def test_no_media_links_the_recording_from_the_project_folder(
        tmp_path: Path, study_wav: Path, schema: etree.XMLSchema) -> None:
    out = tmp_path / "exports" / "P4-1.qdpx"
    out.parent.mkdir()
    export(fixture_document(), "qdpx", out, meta=_meta(study_wav, embed_media=False))
    with zipfile.ZipFile(out) as zf:
        assert not [n for n in zf.namelist() if n.endswith(".wav")]
        project = etree.fromstring(zf.read("project.qde"))
    assert schema.validate(project)
    path = project.find(".//q:AudioSource", NS).get("path")
    assert path == "relative://../study/audio/P4-1.wav"
    base = Path(project.get("basePath"))
    assert (base / path.removeprefix("relative://")).resolve() == study_wav


def test_pseudonymised_project_links_by_interview_id_only(
        tmp_path: Path, study_wav: Path, schema: etree.XMLSchema) -> None:
    named = study_wav.rename(study_wav.with_name("Sarah Smith.wav"))
    reps = Replacements.from_pairs([("dual edge", "thing")])
    out = tmp_path / "P4-1.qdpx"
    export(fixture_document(), "qdpx", out, replacements=reps, meta=_meta(named))
    with zipfile.ZipFile(out) as zf:
        assert not [n for n in zf.namelist() if n.endswith(".wav")]  # a voice identifies
        qde = zf.read("project.qde").decode("utf-8")
    project = etree.fromstring(qde.encode("utf-8"))
    assert schema.validate(project)
    assert project.find(".//q:AudioSource", NS).get("path") == "relative://P4-1.wav"
    assert project.get("basePath") is None
    assert "Sarah" not in qde and str(tmp_path) not in qde
    # asked for explicitly, the recording goes in, still under a neutral name
    export(fixture_document(), "qdpx", out, replacements=reps,
           meta=_meta(named, embed_media=True))
    with zipfile.ZipFile(out) as zf:
        inside = [n for n in zf.namelist() if n.endswith(".wav")]
        assert len(inside) == 1 and "Sarah" not in inside[0]


def test_a_missing_recording_is_a_one_line_refusal(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="missing; export with --no-media"):
        export(fixture_document(), "qdpx", tmp_path / "x.qdpx",
               meta=_meta(tmp_path / "gone.wav"))
    assert not list(tmp_path.iterdir())  # nothing half-written is left
    with pytest.raises(ValueError, match="does not say where it is"):
        render(fixture_document(), "qdpx", meta=_meta(None, embed_media=True))


def test_streamed_file_equals_the_rendered_bytes(tmp_path: Path, study_wav: Path) -> None:
    out = tmp_path / "t.qdpx"
    export(fixture_document(), "qdpx", out, meta=_meta(study_wav))
    assert out.read_bytes() == render(fixture_document(), "qdpx", meta=_meta(study_wav),
                                      target_dir=tmp_path)
    assert out.stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("fmt", ["json", "txt", "md", "eaf", "qdpx", "docx"])
def test_no_pseudonymised_format_names_the_recordings_folder_or_file(fmt: str,
                                                                     tmp_path: Path) -> None:
    from dataclasses import replace

    from transcript.model import AudioRef

    secret = tmp_path / "Sarah Smith" / "Sarah Smith interview.wav"
    doc = replace(fixture_document(), audio=AudioRef(str(secret), "ab" * 32, 19.0))
    reps = Replacements.from_pairs([("dual edge", "thing")])
    data = render(doc, fmt, replacements=reps, meta=ExportMeta(interview_id="P4-1"))
    if fmt in ("qdpx", "docx"):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            data = b"".join(zf.read(n) for n in zf.namelist())
    assert b"Sarah" not in data
    if fmt in ("json", "eaf", "qdpx"):
        assert b"P4-1.wav" in data
