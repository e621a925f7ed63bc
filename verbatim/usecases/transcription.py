"""Transcribe an interview of a study and save the result as its next version.

Both doors call ``transcribe_interview``: it refuses a locked interview (its
extracts cite the frozen numbering), runs the pipeline in a worker process,
stores the transcript's audio as ``audio/<file>`` with the recording's
checksum, and saves a new version. The worker's JSON hand-over file lives in
RAM for an encrypted study (``.work/`` of a plain one) and is removed as soon
as it is read, before the save, so no transcript text is left beside the study.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transcribe.progress import Report, Tracker
from transcript.model import AudioRef, Transcript
from verbatim.study import Study, StudyError

if TYPE_CHECKING:  # pragma: no cover
    from transcribe.pipeline import PipelineOptions

Runner = Callable[..., Transcript]
"""``run_transcription_job(path, options, out_path, *, progress, cancel) -> Transcript``."""


class TranscriptionCancelled(StudyError):
    """The user cancelled; nothing was saved."""


@dataclass(frozen=True)
class TranscriptionResult:
    """A saved transcription: its version and what it holds."""

    interview: str
    version: int
    document: Transcript
    description: str

    @property
    def summary(self) -> str:
        doc = self.document
        return (f"{self.interview}: transcript version {self.version} ({len(doc.words)} words, "
                f"{len(doc.speakers)} speakers)")


def check_transcribable(study: Study, iid: str) -> Path:
    """The interview's recording, or StudyError (locked, no recording) before any work."""
    interview = study.interview(iid)
    if interview.locked:
        raise StudyError(f"{iid} is locked: its extracts cite the frozen line numbers, "
                         "which a new transcription would not match")
    return study.audio_path(iid)


def work_file(study_dir: Path, iid: str) -> Path:
    """Where the worker hands its JSON over: RAM for an encrypted study, else ``.work/``."""
    from verbatim.vault import is_encrypted

    if is_encrypted(study_dir):
        from verbatim.vault.memdir import private_memory_dir

        return private_memory_dir() / f"{study_dir.name}-{iid}.json"
    folder = study_dir / ".work"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder / f"{iid}.json"


def _default_runner() -> Runner:
    from transcribe.jobs import run_transcription_job

    return run_transcription_job


def transcribe_interview(study: Study, iid: str, options: PipelineOptions, *,
                         progress: Report | None = None,
                         cancel: threading.Event | None = None,
                         runner: Runner | None = None) -> TranscriptionResult:
    """Transcribe the interview's stored recording and save it as a new version."""
    from transcribe.errors import TranscribeError
    from transcribe.jobs import JobCancelled, JobFailed

    audio = check_transcribable(study, iid)
    interview = study.interview(iid)
    tracker = Tracker(progress or (lambda tick: None), diarize=options.diarize)
    out = work_file(study.path, iid)
    try:
        doc = (runner or _default_runner())(audio, options, out, progress=tracker,
                                            cancel=cancel)
    except JobCancelled:
        raise TranscriptionCancelled("transcription cancelled; nothing was saved") from None
    except (TranscribeError, JobFailed) as exc:
        if cancel is not None and cancel.is_set():
            raise TranscriptionCancelled("transcription cancelled; nothing was saved") from None
        raise StudyError(f"transcription of {iid} failed: {exc}") from None
    finally:
        out.unlink(missing_ok=True)
    if cancel is not None and cancel.is_set():
        raise TranscriptionCancelled("transcription cancelled; nothing was saved")
    doc = replace(doc, audio=AudioRef(path=f"audio/{interview.audio_file}",
                                      sha256=interview.audio_sha256 or "",
                                      duration=interview.audio_duration or 0.0))
    description = f"{options.engine} {options.model}, diarize {options.diarize}"
    version = study.save_transcript(iid, doc, origin="pipeline", description=description)
    tracker.finish()
    return TranscriptionResult(iid, version, doc, description)


def transcribe_file(path: Path, options: PipelineOptions, out: Path, *,
                    progress: Report | None = None, runner: Runner | None = None,
                    cancel: threading.Event | None = None) -> Transcript:
    """Transcribe a recording outside any study to ``out`` (``verbatim transcribe FILE``)."""
    from transcribe.errors import TranscribeError
    from transcribe.jobs import JobCancelled, JobFailed

    tracker = Tracker(progress or (lambda tick: None), diarize=options.diarize)
    try:
        doc = (runner or _default_runner())(path, options, out, progress=tracker, cancel=cancel)
    except (TranscribeError, JobFailed) as exc:
        raise StudyError(str(exc)) from None
    except (JobCancelled, KeyboardInterrupt):
        raise TranscriptionCancelled("transcription cancelled; nothing was written") from None
    tracker.finish()
    return doc


def describe(doc: Any) -> str:
    """"123 words, 2 speakers, 14 pauses": a one-line count of a transcript."""
    pauses = sum(1 for m in doc.marks if m.kind == "pause")
    return f"{len(doc.words)} words, {len(doc.speakers)} speakers, {pauses} pauses"
