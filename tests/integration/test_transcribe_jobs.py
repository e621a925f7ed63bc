"""Transcription jobs in a worker process: CLI end to end, cancel, a killed worker."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import soundfile as sf

from tests.fixtures.synth import make_interview
from transcribe.jobs import JobCancelled, JobFailed, run_transcription_job
from transcribe.pipeline import PipelineOptions
from transcribe.privacy import allow_network
from transcript.document import read

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 12 s of the two-channel interview: both speakers, two pauses."""
    interview = make_interview(channels=2)
    data, rate = sf.read(interview.path, dtype="float32")
    path = tmp_path_factory.mktemp("jobs") / "clip.wav"
    sf.write(path, data[: 12 * rate], rate)
    return path


@pytest.fixture
def options(faster_whisper_tiny: Path, models_dir: Path) -> PipelineOptions:
    return PipelineOptions(model=str(faster_whisper_tiny), diarize="channels",
                           models_dir=models_dir)


@pytest.fixture
def cli() -> Iterator[object]:
    from verbatim.cli import main

    yield main
    allow_network()


def test_cli_transcribes_a_file_in_a_worker(clip: Path, tmp_path: Path, cli: object,
                                            faster_whisper_tiny: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "t.json"
    code = cli(["transcribe", str(clip), "--out", str(out), "--diarize", "channels",  # type: ignore[operator]
                "--model", str(faster_whisper_tiny)])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "asr" in err and "wrote" in err
    doc = read(out)
    assert {w.speaker for w in doc.words} == {"S1", "S2"}
    assert any(m.kind == "pause" and m.speaker for m in doc.marks)
    assert doc.extra["pipeline"]["offline"] is True  # the worker blocked the network itself
    assert (out.stat().st_mode & 0o777) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["t.json"]  # no temp files left


def test_cancel_leaves_the_old_file_alone(clip: Path, tmp_path: Path,
                                          options: PipelineOptions) -> None:
    out = tmp_path / "t.json"
    out.write_text("the previous transcript")
    cancel = threading.Event()
    with pytest.raises(JobCancelled):
        run_transcription_job(clip, options, out, cancel=cancel,
                              progress=lambda stage, fraction: cancel.set())
    assert out.read_text() == "the previous transcript"
    assert [p.name for p in tmp_path.iterdir()] == ["t.json"]
    assert not multiprocessing.active_children()


def test_a_killed_worker_is_a_clear_failure(clip: Path, tmp_path: Path,
                                            options: PipelineOptions) -> None:
    def kill_worker(stage: str, fraction: float) -> None:
        for child in multiprocessing.active_children():
            if child.name == "verbatim-transcribe" and child.pid:
                os.kill(child.pid, signal.SIGKILL)

    with pytest.raises(JobFailed, match="killed by SIGKILL"):
        run_transcription_job(clip, options, tmp_path / "t.json", progress=kill_worker)
    assert not (tmp_path / "t.json").exists()
