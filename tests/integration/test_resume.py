"""A long job killed half way resumes from its checkpoint and gives the same transcript.

A 65 s two-channel recording of real speech (JFK on the left, a LibriSpeech
reader on the right, taking turns), ASR in groups of one chunk so there are
several checkpoints. The worker is killed with SIGKILL as soon as its first
group is checkpointed; the same job run again reads the checkpoint, decodes only the groups
not yet done (so at most the one in flight when it died is decoded twice), and
its transcript equals an uninterrupted run's (the restart runs in this process,
which saves a second worker start-up; the checkpoint is the same either way).
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import signal
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import REPO
from transcribe.audio import load_audio
from transcribe.engines import load_engine
from transcribe.jobs import JobFailed, run_transcription_job
from transcribe.pipeline import PipelineOptions, transcribe_file
from verbatim.usecases.transcription import describe

pytestmark = pytest.mark.integration

SHARED = next((p for p in (Path(os.environ.get("VERBATIM_TEST_AUDIO", "/nonexistent")),
                           REPO.parent / "shared" / "audio",
                           REPO.parent.parent / "shared" / "audio") if p.is_dir()),
              REPO.parent / "shared" / "audio")


@pytest.fixture(scope="module")
def turns_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sources = [SHARED / "jfk.flac", SHARED / "2412-153948-0000.flac"]
    if not all(p.is_file() for p in sources):
        pytest.skip("real speech in ../shared/audio not present")
    voices = [load_audio(p).mono for p in sources]
    rate = 16_000
    gap = np.zeros(int(1.5 * rate), np.float32)
    left: list[np.ndarray] = []
    right: list[np.ndarray] = []
    for turn in range(5):
        voice = voices[turn % 2]
        own, other = (left, right) if turn % 2 == 0 else (right, left)
        own += [voice, gap]
        other += [0.03 * voice, gap]  # a little bleed into the other microphone
    path = tmp_path_factory.mktemp("resume") / "turns.wav"
    sf.write(path, np.stack([np.concatenate(left), np.concatenate(right)], axis=1), rate,
             subtype="PCM_16")
    return path


def test_a_killed_job_resumes_with_the_same_transcript(turns_wav: Path, tmp_path: Path,
                                                       models_dir: Path,
                                                       faster_whisper_tiny: Path) -> None:
    checkpoints = tmp_path / "checkpoints"
    options = PipelineOptions(engine="faster-whisper", model=str(faster_whisper_tiny),
                              diarize="channels", models_dir=models_dir, asr_group=1,
                              checkpoint_dir=checkpoints)
    engine = load_engine("faster-whisper", faster_whisper_tiny)
    uninterrupted = transcribe_file(turns_wav, dataclasses.replace(options, checkpoint_dir=None),
                                    engine=engine)

    def kill_half_way(stage: str, fraction: float) -> None:
        """SIGKILL once a first group is checkpointed (while the next one decodes)."""
        saved = list(checkpoints.glob("*.json"))
        if stage != "asr" or not saved or not json.loads(saved[0].read_text())["groups"]:
            return
        for child in multiprocessing.active_children():
            if child.name == "verbatim-transcribe" and child.pid:
                os.kill(child.pid, signal.SIGKILL)

    out = tmp_path / "t.json"
    with pytest.raises(JobFailed, match="SIGKILL"):
        run_transcription_job(turns_wav, options, out, progress=kill_half_way)
    [saved] = list(checkpoints.glob("*.json"))  # (and perhaps a killed write's temporary)
    state = json.loads(saved.read_text())
    groups = len(state["chunks"])
    finished = len(state["groups"])
    assert groups >= 3 and 1 <= finished < groups, (finished, groups)

    resumed = transcribe_file(turns_wav, options, engine=engine)  # the restarted job
    assert resumed.extra["pipeline"]["resumed_groups"] == finished  # only the rest decoded
    assert describe(resumed).endswith(f"resumed: {finished} finished group"
                                      f"{'s' * (finished > 1)} kept from the run that stopped")
    assert "resumed" not in describe(uninterrupted)
    assert [(w.text, w.start, w.end, w.speaker) for w in resumed.words] == \
        [(w.text, w.start, w.end, w.speaker) for w in uninterrupted.words]
    assert resumed.marks == uninterrupted.marks
    assert {w.speaker for w in resumed.words} == {"S1", "S2"}
    assert not checkpoints.exists() or not list(checkpoints.iterdir())  # removed once made


def test_a_checkpoint_for_other_settings_is_not_used(turns_wav: Path, tmp_path: Path,
                                                     models_dir: Path,
                                                     faster_whisper_tiny: Path) -> None:
    from transcribe.resume import Checkpoint, checkpoint_key

    options = PipelineOptions(engine="faster-whisper", model=str(faster_whisper_tiny),
                              diarize="channels", models_dir=models_dir)
    key = checkpoint_key("ab" * 32, options.result_settings())
    other = checkpoint_key("ab" * 32, dataclasses.replace(options, language="de")
                           .result_settings())
    assert key != other
    (tmp_path / key).write_text("{not json")
    damaged = Checkpoint.open(tmp_path, key)
    assert damaged.diarisation is None and damaged.groups == []  # ignored, started afresh
