"""Transcribing a study interview and saving the result: the one flow every door shares.

``verbatim transcribe P4-1``, ``verbatim batch`` and the app's jobs screen all
come through here, so an interview is checked, transcribed and saved the same
way whichever door started it. The pieces are separate because a batch
transcribes elsewhere (worker processes, a Dask cluster) and only saves here:

- ``pipeline_options``: the run's options, from flags over the config;
- ``check_transcribable``: refuse a locked interview, a missing recording, or one
  changed since import (unless the user accepts it: its new sha256 is audited);
- ``save_pipeline_transcript``: point the document at the stored recording and
  save it as a new version (the only write, always in the caller's process);
- ``transcribe_interview``: all three around one local pipeline run.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transcript.model import AudioRef, Transcript
from verbatim.config import Config
from verbatim.errors import UserError

if TYPE_CHECKING:  # pragma: no cover
    from transcribe.pipeline import PipelineOptions
    from verbatim.study import Study
    from verbatim.study.values import Interview

Progress = Callable[[str, float], None]


def pipeline_options(config: Config, *, engine: str | None = None, model: str | None = None,
                     diarize: str | None = None, speakers: int | None = None,
                     language: str | None = None, device: str | None = None,
                     min_speakers: int | None = None, max_speakers: int | None = None,
                     voice_model: str | None = None) -> PipelineOptions:
    """The run's options: each given value over the config's default (speaker flags and
    enrolled voices through ``verbatim.voices.diarization_settings``)."""
    from verbatim.voices import diarization_settings

    try:
        pipeline = importlib.import_module("transcribe.pipeline")
    except ImportError:
        raise UserError("transcription is not available in this version") from None
    options: PipelineOptions = pipeline.PipelineOptions(
        engine=engine or config.engine, model=model or config.model,
        diarize=diarize or config.diarize, speakers=speakers,
        language=language or config.language, models_dir=config.models_dir,
        device=device or config.device,
        diarization=diarization_settings(config, speakers=speakers, min_speakers=min_speakers,
                                         max_speakers=max_speakers, voice_model=voice_model))
    return options


def speaker_flags(args: Any) -> dict[str, Any]:
    """--min-speakers, --max-speakers, --voice-model of a parsed command line."""
    return {key: getattr(args, key, None)
            for key in ("min_speakers", "max_speakers", "voice_model")}


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


def transcribe_interview(study: Study, iid: str, options: PipelineOptions, *,
                         progress: Progress | None = None,
                         accept_changed_audio: bool = False) -> tuple[int, Transcript]:
    """Transcribe one interview on this machine and save it; (version, document)."""
    interview = check_transcribable(study, iid, accept_changed_audio=accept_changed_audio)
    from verbatim.storage import preflight

    # a second now rather than a failure after minutes of work: room for the new
    # version (generously ~200 bytes per second of audio) and a writable database
    preflight(study.path, need_bytes=int(64_000 + 200 * (interview.audio_duration or 0)),
              database=study.path / "study.sqlite")
    audio = study.audio_path(iid)
    if options.checkpoint_dir is None:  # a killed job resumes from here
        options = replace(options,
                          checkpoint_dir=work_file(study.path, iid).parent / "checkpoints")
    doc = run_pipeline(audio, options, work_file(study.path, iid), progress)
    version = save_or_keep(study, iid, doc, options)
    if options.checkpoint_dir is not None:  # finished: an empty checkpoint folder is clutter
        import contextlib

        with contextlib.suppress(OSError):
            Path(options.checkpoint_dir).rmdir()
    return version, doc


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


def run_pipeline(audio: Path, options: Any, out_path: Path, progress: Progress | None) -> Any:
    """Transcribe in a worker process (transcribe.jobs), or in this one if jobs is absent.

    The worker writes its JSON into the study's private ``.work/`` folder; it
    is read back and removed, so transcript text never lands outside the study.
    """
    failures: tuple[type[BaseException], ...] = (ValueError,)
    try:
        jobs = importlib.import_module("transcribe.jobs")
    except ImportError:
        jobs = None
    try:
        if jobs is None:
            pipeline = importlib.import_module("transcribe.pipeline")
            return pipeline.transcribe_file(audio, options, progress=progress)
        failures += tuple(getattr(jobs, name) for name in ("JobFailed", "JobCancelled")
                          if isinstance(getattr(jobs, name, None), type))
        if hasattr(jobs, "run_worker"):  # the result comes back in memory: no work file
            from transcript.document import loads

            jobs.validate(audio, options)
            return loads(jobs.run_worker(audio, options, progress=progress))
        out_path.parent.mkdir(mode=0o700, exist_ok=True)
        try:
            return jobs.run_transcription_job(audio, options, out_path, progress=progress)
        finally:
            out_path.unlink(missing_ok=True)
    except failures as exc:
        raise UserError(f"transcription failed: {exc}") from None
