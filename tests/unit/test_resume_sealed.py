"""An encrypted study's checkpoints: sealed on disk, opened back into memory to resume."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyrage
import pytest

from tests.unit.test_vault_store import new_encrypted, tone_wav
from transcribe.diarize import Diarisation, SpeakerTurn
from transcribe.engines import AsrWord
from transcribe.jobs import JobFailed
from transcribe.pipeline import PipelineOptions
from transcribe.resume import Checkpoint, unseal
from transcript.model import AudioRef, Transcript, Word
from verbatim.study import Study, StudyError
from verbatim.usecases.transcription import transcribe_interview

CHUNKS = [(0.0, 4.0), (5.0, 9.0)]
DIARISATION = Diarisation(turns=(SpeakerTurn(0.0, 4.5, "S1"), SpeakerTurn(4.5, 9.0, "S2")),
                          backend="embedding")
SECRET = "Safeguarding"  # a word that must never be readable at rest


def half_done(folder: Path, seal: tuple[Path, str] | None, key: str = "k.json") -> None:
    checkpoint = Checkpoint.open(folder, key, seal=seal)
    checkpoint.group = 1
    checkpoint.start(CHUNKS, DIARISATION)
    checkpoint.finish_group([AsrWord(SECRET, 0.5, 1.0, 0.9)])


def test_a_sealed_checkpoint_reopens_with_the_key_and_only_with_it(tmp_path: Path) -> None:
    identity = pyrage.x25519.Identity.generate()
    memory, disk = tmp_path / "memory", tmp_path / "work"
    half_done(memory, (disk, str(identity.to_public())))
    sealed = disk / "k.json.age"
    assert sealed.is_file() and SECRET.encode() not in sealed.read_bytes()

    again = tmp_path / "memory-after-restart"  # the program and its memory are gone
    assert unseal(disk, again, [pyrage.x25519.Identity.generate()]) == 0  # another key
    assert unseal(disk, again, []) == 0  # locked: nothing to open with
    assert unseal(disk, again, [identity]) == 1
    resumed = Checkpoint.open(again, "k.json", seal=(disk, str(identity.to_public())))
    assert resumed.matches(CHUNKS) and resumed.diarisation == DIARISATION
    assert resumed.resumed_groups == 1 and resumed.groups[0][0].text == SECRET

    resumed.remove()  # the transcript is made: neither copy is left
    assert not sealed.exists() and not (again / "k.json").exists() and not disk.exists()


@pytest.mark.usefixtures("vault_runtime")
def test_an_encrypted_studys_killed_job_resumes_from_its_sealed_checkpoint(
        tmp_path: Path) -> None:
    folder, _, _ = new_encrypted(tmp_path)
    with Study.open(folder) as study:
        study.add_participant("P1")
        study.add_interview("P1", tone_wav(tmp_path / "one.wav"))
    seen: list[Any] = []

    def killed(audio: Path, options: PipelineOptions, out: Path, **_: Any) -> Transcript:
        assert options.checkpoint_seal is not None
        half_done(options.checkpoint_dir, options.checkpoint_seal)  # type: ignore[arg-type]
        raise JobFailed("the worker died (SIGKILL)")

    def resumed(audio: Path, options: PipelineOptions, out: Path, **_: Any) -> Transcript:
        checkpoint = Checkpoint.open(options.checkpoint_dir, "k.json",
                                     seal=options.checkpoint_seal)
        seen.append(checkpoint)
        checkpoint.remove()
        return Transcript(audio=AudioRef(path=str(audio)),
                          words=(Word(SECRET, 0.5, 1.0, "S1"),))

    with Study.open(folder) as study, pytest.raises(StudyError, match="failed"):
        transcribe_interview(study, "P1-1", PipelineOptions(), runner=killed)
    sealed = list((folder / ".work" / "checkpoints").iterdir())
    assert [p.name for p in sealed] == ["k.json.age"]
    assert SECRET.encode() not in sealed[0].read_bytes()

    # a new program: its memory folder is new, the sealed copy is all that is left
    from verbatim import scratch

    for leftover in scratch.memory_dir().rglob("k.json"):
        leftover.unlink()
    with Study.open(folder) as study:
        transcribe_interview(study, "P1-1", PipelineOptions(), runner=resumed)
    assert seen[0].resumed_groups == 1 and seen[0].groups[0][0].text == SECRET
    assert not (folder / ".work" / "checkpoints").exists()
