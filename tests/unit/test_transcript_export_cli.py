"""Exports of a study's interview through the command line: notation after lock, media links,
the .qdpx that holds its recording (issue 19)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from lxml import etree

from tests.golden.fixture import fixture_document
from verbatim.cli import main
from verbatim.study import Study

NS = {"q": "urn:QDA-XML:project:1.0"}


@pytest.fixture
def study(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
          capsys: pytest.CaptureFixture[str]) -> Path:
    monkeypatch.chdir(tmp_path)
    study_dir = tmp_path / "study"
    assert main(["study", "init", str(study_dir), "--name", "Resistance"]) == 0
    monkeypatch.setenv("VERBATIM_STUDY", str(study_dir))
    assert main(["participant", "add", "P4", "--attr", "profession=Social Worker"]) == 0
    wav = tmp_path / "Sarah Smith interview.wav"
    sf.write(str(wav), np.zeros(8000 * 20, dtype="int16"), 8000, subtype="PCM_16")
    assert main(["interview", "add", "P4", str(wav)]) == 0
    with Study.open(study_dir) as s:
        s.save_transcript("P4-1", fixture_document(), origin="pipeline")
    assert main(["lock", "P4-1", "--width", "40"]) == 0
    capsys.readouterr()
    return study_dir


def _export(tmp_path: Path, fmt: str, *extra: str) -> Path:
    out = tmp_path / "exports" / f"P4-1.{fmt}"
    out.parent.mkdir(exist_ok=True)
    assert main(["export", "P4-1", "--format", fmt, "--out", str(out), *extra]) == 0
    return out


def test_a_locked_interview_exports_in_the_notation_asked_for(study: Path,
                                                              tmp_path: Path) -> None:
    text = _export(tmp_path, "txt", "--notation", "jefferson").read_text(encoding="utf-8")
    assert "Notation: jefferson; width 40; line numbers locked" in text
    assert "th- (0.6) it's that dual edge" in text
    paper = _export(tmp_path, "txt", "--notation", "paper").read_text(encoding="utf-8")
    assert "th- .. it's that dual edge" in paper
    assert [ln.split()[0] for ln in text.splitlines() if ln[:2].strip().isdigit()] == \
        [ln.split()[0] for ln in paper.splitlines() if ln[:2].strip().isdigit()]


def test_eaf_links_the_study_recording_absolutely_and_relatively(study: Path,
                                                                 tmp_path: Path) -> None:
    out = _export(tmp_path, "eaf")
    media = etree.parse(str(out)).find(".//MEDIA_DESCRIPTOR")
    assert media is not None
    with Study.open(study) as s:
        stored = (study / "audio" / s.interview("P4-1").audio_file).resolve()
    assert media.get("MEDIA_URL") == stored.as_uri()
    assert (out.parent / media.get("RELATIVE_MEDIA_URL", "")).resolve() == stored
    pseudo = _export(tmp_path, "eaf", "--pseudonymise")
    media = etree.parse(str(pseudo)).find(".//MEDIA_DESCRIPTOR")
    assert media is not None and media.get("MEDIA_URL") == "P4-1.wav"
    assert str(tmp_path) not in pseudo.read_text(encoding="utf-8")


def test_qdpx_holds_the_recording_unless_told_not_to(study: Path, tmp_path: Path) -> None:
    with Study.open(study) as s:
        stored = study / "audio" / s.interview("P4-1").audio_file
    out = _export(tmp_path, "qdpx")
    with zipfile.ZipFile(out) as zf:
        inside = [n for n in zf.namelist() if n.endswith(".wav")]
        assert len(inside) == 1 and zf.read(inside[0]) == stored.read_bytes()
    out = _export(tmp_path, "qdpx", "--no-media")
    with zipfile.ZipFile(out) as zf:
        assert not [n for n in zf.namelist() if n.endswith(".wav")]
        project = etree.fromstring(zf.read("project.qde"))
    path = project.find(".//q:AudioSource", NS).get("path")
    assert (Path(project.get("basePath")) / path.removeprefix("relative://")).resolve() == \
        stored.resolve()
    out = _export(tmp_path, "qdpx", "--pseudonymise")
    with zipfile.ZipFile(out) as zf:
        assert not [n for n in zf.namelist() if n.endswith(".wav")]
    out = _export(tmp_path, "qdpx", "--pseudonymise", "--media")
    with zipfile.ZipFile(out) as zf:
        assert len([n for n in zf.namelist() if n.endswith(".wav")]) == 1


def test_an_encrypted_study_puts_the_plain_recording_in_the_qdpx_and_links_by_name(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        vault_runtime: Path) -> None:
    from verbatim.vault import session

    monkeypatch.chdir(tmp_path)
    study_dir, key = tmp_path / "vault", tmp_path / "team.key"
    assert main(["study", "init", str(study_dir), "--encrypt", "--key-file", str(key)]) == 0
    monkeypatch.setenv("VERBATIM_STUDY", str(study_dir))
    monkeypatch.setenv("VERBATIM_KEY_FILE", str(key))
    assert main(["participant", "add", "P4"]) == 0
    wav = tmp_path / "r.wav"
    sf.write(str(wav), np.zeros(8000 * 20, dtype="int16"), 8000, subtype="PCM_16")
    assert main(["interview", "add", "P4", str(wav)]) == 0
    with Study.open(study_dir) as s:
        s.save_transcript("P4-1", fixture_document(), origin="pipeline")
    assert not list((study_dir / "audio").glob("*.wav"))  # stored encrypted only
    out = _export(tmp_path, "qdpx")
    with zipfile.ZipFile(out) as zf:
        inside = [n for n in zf.namelist() if n.endswith(".wav")]
        assert len(inside) == 1 and zf.read(inside[0]) == wav.read_bytes()
    media = etree.parse(str(_export(tmp_path, "eaf"))).find(".//MEDIA_DESCRIPTOR")
    assert media is not None and media.get("MEDIA_URL") == "P4-1.wav"
    assert "plaintext export" in capsys.readouterr().err
    session.forget()


def test_a_transcript_file_finds_its_recording_beside_it(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from transcript.document import write
    from transcript.model import AudioRef

    folder = tmp_path / "work"
    (folder / "audio").mkdir(parents=True)
    wav = folder / "audio" / "P4-1.wav"
    sf.write(str(wav), np.zeros(8000 * 20, dtype="int16"), 8000, subtype="PCM_16")
    write(replace(fixture_document(), audio=AudioRef("audio/P4-1.wav")), folder / "t.json")
    monkeypatch.chdir(tmp_path)  # not the transcript's folder: found beside the file anyway
    out = tmp_path / "t.qdpx"
    assert main(["export", str(folder / "t.json"), "--format", "qdpx", "--out", str(out)]) == 0
    with zipfile.ZipFile(out) as zf:
        assert [zf.read(n) for n in zf.namelist() if n.endswith(".wav")] == [wav.read_bytes()]
    assert main(["export", str(folder / "t.json"), "--format", "eaf",
                 "--out", str(tmp_path / "t.eaf")]) == 0
    media = etree.parse(str(tmp_path / "t.eaf")).find(".//MEDIA_DESCRIPTOR")
    assert media is not None and media.get("RELATIVE_MEDIA_URL") == "./work/audio/P4-1.wav"


def test_extract_of_lines_in_the_teens_cites_both_digits(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["study", "init", str(tmp_path / "s")]) == 0
    monkeypatch.setenv("VERBATIM_STUDY", str(tmp_path / "s"))
    assert main(["participant", "add", "P4", "--attr", "profession=Social Worker"]) == 0
    sf.write(str(tmp_path / "r.wav"), np.zeros(8000 * 20, dtype="int16"), 8000)
    assert main(["interview", "add", "P4", str(tmp_path / "r.wav")]) == 0
    with Study.open(tmp_path / "s") as s:
        s.save_transcript("P4-1", fixture_document(), origin="pipeline")
    assert main(["lock", "P4-1", "--width", "10"]) == 0  # narrow: enough lines for the teens
    capsys.readouterr()
    assert main(["extract", "add", "P4-1", "--lines", "10-14"]) == 0
    assert capsys.readouterr().out.strip().endswith("Social Worker. 10-14)")
