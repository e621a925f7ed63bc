"""A finished transcription the study cannot take is kept, and imported once there is room."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.fixtures.studies import silent_study
from transcript.model import AudioRef, Transcript, Word
from verbatim.cli import main
from verbatim.study import Study
from verbatim.usecases import transcription

WORDS = tuple(Word(text=f"w{i}", start=float(i), end=i + 0.5, speaker="S1") for i in range(5))


@pytest.fixture
def study(tmp_path: Path) -> Path:
    return silent_study(tmp_path)


def test_a_transcript_the_disk_refused_is_kept_then_imported(
        study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(transcription, "_in_memory",  # the worker process
                        lambda *a, **k: Transcript(audio=AudioRef("x.wav"), words=WORDS))
    real_save = Study.save_transcript

    def full(self: Study, *args: object, **kwargs: object) -> int:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(Study, "save_transcript", full)
    code = main(["--study", str(study), "transcribe", "P1-1", "--diarize", "none"])
    err = capsys.readouterr().err.strip()
    assert code == 74 and "\n" not in err and "disk full" in err, err
    kept = Path(err.split("kept in ")[1].split(";")[0])
    import os

    assert kept.is_file() and kept.parent == Path(os.environ["VERBATIM_DATA"]) / "unsaved"
    assert f"verbatim transcribe P1-1 --from {kept}" in err
    assert (kept.stat().st_mode & 0o777) == 0o600
    monkeypatch.setattr(Study, "save_transcript", real_save)
    assert main(["--study", str(study), "transcribe", "P1-1", "--from", str(kept)]) == 0
    assert "imported" in capsys.readouterr().out
    assert not kept.exists()
    with Study.open(study) as opened:
        doc = opened.transcript("P1-1")
        assert doc is not None and [w.text for w in doc.words] == [w.text for w in WORDS]
        assert opened.versions("P1-1")[-1].origin == "import"
    # a kept transcript of another interview is refused
    other = kept.with_name("other.json")
    other.write_text('{"interview": "P9-1", "document": {}}')
    assert main(["--study", str(study), "transcribe", "P1-1", "--from", str(other)]) == 1
    assert "P9-1" in capsys.readouterr().err
