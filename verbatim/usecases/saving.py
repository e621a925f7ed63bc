"""Checking an interview and saving a pipeline's result: the flow's pieces, for every door.

``verbatim transcribe P4-1``, ``verbatim batch`` and the app's jobs screen all
come through here, so an interview is checked, transcribed and saved the same
way whichever door started it. The pieces are separate because a batch
transcribes elsewhere (worker processes, a Dask cluster) and only saves here:

- ``pipeline_options``: the run's options, from flags over the config;
- ``check_transcribable``: refuse a locked interview, a missing recording, or one
  changed since import (unless the user accepts it: its new sha256 is audited);
- ``save_pipeline_transcript``: point the document at the stored recording and
  save it as a new version (the only write, always in the caller's process);
- ``verbatim.usecases.transcription.transcribe_interview``: all three around one
  local pipeline run, with progress, cancel and a time left, for the CLI and the app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from transcript.model import AudioRef, Transcript
from verbatim.errors import UserError
from verbatim.usecases.options import pipeline_options  # the one place options are built

if TYPE_CHECKING:  # pragma: no cover
    from transcribe.pipeline import PipelineOptions
    from verbatim.study import Study
    from verbatim.study.values import Interview

Progress = Callable[[str, float], None]

__all__ = ["check_transcribable", "pipeline_options", "save_or_keep",
           "save_pipeline_transcript", "work_file"]


def check_transcribable(study: Study, iid: str, *,
                        accept_changed_audio: bool = False) -> Interview:
    """The interview, if a new transcription may be saved for it; else a UserError."""
    interview = study.interview(iid)
    if interview.locked:
        raise UserError(f"{iid} is locked: its extracts cite the frozen line numbers, "
                        "which a new transcription would not match")
    study.audio_path(iid)  # StudyError (one line) when the recording is gone
    check_recording(study, iid, accept=accept_changed_audio)
    return study.interview(iid)


def check_recording(study: Study, iid: str, *, accept: bool) -> None:
    """Refuse a recording that changed since import, unless the user accepts it (audited)."""
    import sys

    from verbatim.study.integrity import accept_changed, changed_since_import

    sha = changed_since_import(study, iid)
    if sha is None:
        return
    if not accept:
        raise UserError(f"the recording of {iid} has changed since it was imported (its sha256 "
                        "no longer matches); check it, then run again with "
                        "--accept-changed-audio to transcribe it as it is now (the new "
                        "checksum goes into the audit trail)")
    accept_changed(study, iid, sha)
    sys.stderr.write(f"{iid}: the changed recording is accepted (sha256 {sha[:12]}…, in the "
                     "audit trail)\n")


def save_pipeline_transcript(study: Study, iid: str, doc: Transcript,
                             options: PipelineOptions, *, where: str = "") -> int:
    """Save a pipeline's document as the interview's new version; returns its number.

    The document's audio reference becomes the study's stored recording (the
    pipeline saw a temporary or in-memory path). ``where`` names the machine
    or cluster that ran it, for the version history.
    """
    interview = study.interview(iid)
    doc = replace(doc, audio=AudioRef(path=f"audio/{interview.audio_file}",
                                      sha256=interview.audio_sha256 or "",
                                      duration=interview.audio_duration or 0.0))
    used = str(doc.extra.get("pipeline", {}).get("model") or options.model)  # auto's choice
    description = f"{options.engine} {used}, diarize {options.diarize}"
    if where:
        description += f", {where}"
    return study.save_transcript(iid, doc, origin="pipeline", description=description)


def save_or_keep(study: Study, iid: str, doc: Transcript, options: PipelineOptions, *,
                 where: str = "") -> int:
    """Save a finished transcription; if the disk refuses, keep it and say how to import it."""
    import sqlite3

    from verbatim.config import load_config
    from verbatim.storage import StorageError, explain

    try:
        return save_pipeline_transcript(study, iid, doc, options, where=where)
    except (OSError, sqlite3.Error) as exc:
        reason = explain(exc, study.path)
        if reason is None:
            raise
        from verbatim.study import unsaved

        reason = reason.replace("; nothing was lost", "")
        try:
            kept = unsaved.keep(load_config().data_dir, study.path, iid, doc)
        except OSError as kept_exc:
            raise StorageError(f"{reason}; the transcription could not be kept either "
                               f"({kept_exc.strerror or kept_exc})") from None
        raise StorageError(f"{reason}. The finished transcript is kept in {kept}; once there "
                           f"is room: verbatim transcribe {iid} --from {kept}") from None


def work_file(study_dir: Path, iid: str) -> Path:
    """Where the worker leaves its JSON: the study's ``.work/``, or memory if encrypted."""
    from verbatim.vault import is_encrypted

    if not is_encrypted(study_dir):
        return study_dir / ".work" / f"{iid}.json"
    from verbatim.vault.memdir import private_memory_dir

    return private_memory_dir() / f"{iid}.json"
