"""Transcribe an interview of a study and save the result as its next version.

Both doors call ``transcribe_interview``: it refuses a locked interview (its
extracts cite the frozen numbering), runs the pipeline in a worker process,
stores the transcript's audio as ``audio/<file>`` with the recording's
checksum, and saves a new version. The worker's JSON hand-over file lives in
RAM for an encrypted study (``.work/`` of a plain one) and is removed as soon
as it is read, before the save, so no transcript text is left beside the study.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transcribe.progress import Report, Tracker
from transcript.model import Transcript
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
                f"{len(doc.speakers)} speakers{resumed_note(doc)})")


def check_transcribable(study: Study, iid: str, *, accept_changed_audio: bool = False) -> Path:
    """The interview's recording, or a one-line refusal before any work: locked, no
    recording, or a recording changed since import (unless accepted: audited)."""
    from verbatim.usecases.saving import check_transcribable as check

    check(study, iid, accept_changed_audio=accept_changed_audio)
    return study.audio_path(iid)


def work_file(study_dir: Path, iid: str) -> Path:
    """A name for the worker's hand-over (only test runners write it; the real one
    returns the document in memory): RAM for an encrypted study, else ``.work/``."""
    from verbatim.usecases.saving import work_file as where

    path = where(study_dir, iid)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    return path


def _in_memory(path: Path, options: PipelineOptions, out: Path, *,
               progress: Any = None, cancel: threading.Event | None = None) -> Transcript:
    """The real runner: the worker process hands the document back through a pipe."""
    from transcribe import jobs
    from transcript.document import loads

    jobs.validate(path, options)
    return loads(jobs.run_worker(path, options, progress=progress, cancel=cancel))


def transcribe_interview(study: Study, iid: str, options: PipelineOptions, *,
                         progress: Report | None = None,
                         cancel: threading.Event | None = None,
                         runner: Runner | None = None,
                         accept_changed_audio: bool = False) -> TranscriptionResult:
    """Transcribe the interview's stored recording and save it as a new version.

    Checks first (a second, not minutes of work): locked, recording missing or
    changed, room on the disk and a writable database. A save the disk refuses
    keeps the finished transcript and says how to import it.
    """
    from transcribe.errors import TranscribeError
    from transcribe.jobs import JobCancelled, JobFailed
    from verbatim.storage import preflight
    from verbatim.usecases.saving import save_or_keep

    audio = check_transcribable(study, iid, accept_changed_audio=accept_changed_audio)
    interview = study.interview(iid)
    preflight(study.path, need_bytes=int(64_000 + 200 * (interview.audio_duration or 0)),
              database=study.path / "study.sqlite")
    out = work_file(study.path, iid)
    if options.checkpoint_dir is None:  # a killed job resumes from here
        options = replace(options, checkpoint_dir=out.parent / "checkpoints")
        options = _sealed_checkpoints(study.path, options)
    tracker = Tracker(progress or (lambda tick: None), diarize=options.diarize)
    try:
        doc = (runner or _in_memory)(audio, options, out, progress=tracker, cancel=cancel)
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
    version = save_or_keep(study, iid, doc, options)
    with contextlib.suppress(OSError):  # finished: an empty checkpoint folder is clutter
        out.parent.joinpath("checkpoints").rmdir()
    saved = study.transcript_version(iid, version)
    tracker.finish()
    return TranscriptionResult(iid, version, saved,
                               f"{options.engine} {options.model}, diarize {options.diarize}")


def _sealed_checkpoints(study_dir: Path, options: PipelineOptions) -> PipelineOptions:
    """An encrypted study's checkpoints live in memory (``options.checkpoint_dir``) and,
    sealed for the study's recipient, in ``.work/checkpoints``: a sealed one left by a
    killed job is opened back into memory here, so the job resumes."""
    from transcribe.resume import unseal
    from verbatim.study import files

    recipient = files.sealing_recipient(study_dir)
    if recipient is None or options.checkpoint_dir is None:
        return options
    sealed = study_dir / ".work" / "checkpoints"
    unseal(sealed, options.checkpoint_dir, files._held_identities(study_dir))
    return replace(options, checkpoint_seal=(sealed, recipient))


def _writing_runner() -> Runner:
    from transcribe.jobs import run_transcription_job

    return run_transcription_job


def transcribe_file(path: Path, options: PipelineOptions, out: Path, *,
                    progress: Report | None = None, runner: Runner | None = None,
                    cancel: threading.Event | None = None) -> Transcript:
    """Transcribe a recording outside any study to ``out`` (``verbatim transcribe FILE``)."""
    from transcribe.errors import TranscribeError
    from transcribe.jobs import JobCancelled, JobFailed

    tracker = Tracker(progress or (lambda tick: None), diarize=options.diarize)
    try:
        doc = (runner or _writing_runner())(path, options, out, progress=tracker,
                                             cancel=cancel)
    except (TranscribeError, JobFailed) as exc:
        raise StudyError(str(exc)) from None
    except (JobCancelled, KeyboardInterrupt):
        raise TranscriptionCancelled("transcription cancelled; nothing was written") from None
    tracker.finish()
    return doc


def describe(doc: Any) -> str:
    """"123 words, 2 speakers, 14 pauses": a one-line count of a transcript."""
    pauses = sum(1 for m in doc.marks if m.kind == "pause")
    return f"{len(doc.words)} words, {len(doc.speakers)} speakers, {pauses} pauses" + \
        resumed_note(doc)


def resumed_note(doc: Any) -> str:
    """", resumed: 9 finished groups kept from the run that stopped" when the job
    continued from a checkpoint (so the user knows the earlier work was not lost)."""
    groups = (doc.extra or {}).get("pipeline", {}).get("resumed_groups", 0)
    if not groups:
        return ""
    return f", resumed: {groups} finished group{'s' if groups != 1 else ''} kept " \
        "from the run that stopped"
