"""CLI verbs of the transcription room: ``transcribe FILE`` and ``models``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from verbatim.config import Config
from verbatim.errors import UserError

if TYPE_CHECKING:  # pragma: no cover
    from transcribe.pipeline import PipelineOptions


class ProgressBar:
    """A one-line progress bar on stderr (plain lines per stage when not a terminal)."""

    def __init__(self, stream: TextIO | None = None, *, width: int = 30) -> None:
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.stage = ""
        self.last = 0.0

    def __call__(self, stage: str, fraction: float) -> None:
        if self.tty:
            now = time.monotonic()
            if stage == self.stage and fraction < 1.0 and now - self.last < 0.1:
                return
            self.last = now
            filled = round(self.width * max(0.0, min(1.0, fraction)))
            bar = "#" * filled + "." * (self.width - filled)
            self.stream.write(f"\r{stage:<8} [{bar}] {fraction * 100:3.0f}%")
            self.stream.flush()
        elif stage != self.stage:
            self.stream.write(f"{stage}...\n")
            self.stream.flush()
        self.stage = stage

    def finish(self) -> None:
        if self.tty and self.stage:
            self.stream.write("\n")
            self.stream.flush()


def pipeline_options(args: argparse.Namespace, config: Config) -> PipelineOptions:
    """The CLI flags over the config's defaults."""
    from transcribe.pipeline import PipelineOptions

    return PipelineOptions(
        engine=args.engine or config.engine, model=args.model or config.model,
        diarize=args.diarize or config.diarize, speakers=args.speakers,
        language=args.language or config.language, models_dir=config.models_dir,
        device=getattr(args, "device", None) or config.device,
        diarization=_speaker_settings(args, config),
        checkpoint_dir=config.data_dir / "checkpoints")  # a killed job resumes from here


def run_transcribe(args: argparse.Namespace, config: Config) -> int:
    from transcribe.errors import TranscribeError
    from transcribe.jobs import JobCancelled, JobFailed, JobResultNotSaved, run_transcription_job

    if not Path(args.target).exists() and not Path(args.target).is_symlink():
        raise UserError(f"{args.target}: no such recording, and not an interview id (ids look "
                        "like P4-1: see 'verbatim interview list')")
    if args.out is None:
        raise UserError("transcribe FILE needs --out T.json (where to write the transcript)")
    options = pipeline_options(args, config)
    bar = ProgressBar()
    try:
        doc = run_transcription_job(Path(args.target), options, args.out, progress=bar)
    except JobResultNotSaved as exc:
        bar.finish()
        raise _kept(exc, Path(args.out), config) from None
    except (TranscribeError, JobFailed) as exc:
        bar.finish()
        raise UserError(str(exc)) from None
    except (JobCancelled, KeyboardInterrupt):
        bar.finish()
        raise UserError("transcription cancelled; nothing was written") from None
    bar.finish()
    pauses = sum(1 for m in doc.marks if m.kind == "pause")
    sys.stderr.write(f"wrote {args.out}: {len(doc.words)} words, {len(doc.speakers)} speakers, "
                     f"{pauses} pauses; {made_by(doc.extra.get('pipeline', {}))}\n")
    return 0


def made_by(pipeline: dict) -> str:
    """'model faster-whisper-base (auto) on cpu, language de (detected, 0.98)'."""
    text = f"model {pipeline.get('model', '?')}"
    if pipeline.get("model_requested") == "auto":
        text += " (auto)"
    if pipeline.get("device"):
        text += f" on {pipeline['device']}"
    if pipeline.get("language"):
        text += f", language {pipeline['language']}"
        if "language_probability" in pipeline:
            text += f" (detected, {pipeline['language_probability']:.2f})"
    return text


def _kept(exc: Any, out: Path, config: Config) -> UserError:
    """The transcript could not be written to ``out``: keep it in the data folder instead."""
    from transcript.document import write_atomic
    from verbatim.storage import StorageError, explain

    reason = (explain(exc.cause, out.parent) or f"cannot write {out}: {exc.cause}")
    reason = reason.replace("; nothing was lost", "")
    kept = Path(config.data_dir) / "unsaved" / out.name
    try:
        kept.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomic(kept, exc.result)
    except OSError as kept_exc:
        return StorageError(f"{reason}; the transcription could not be kept either "
                            f"({kept_exc.strerror or kept_exc})")
    return StorageError(f"{reason}. The finished transcript is kept in {kept}; once there is "
                        f"room, move it to {out}")


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def run_models(args: argparse.Namespace, config: Config) -> int:
    from transcribe import models

    store = config.models_dir
    try:
        if args.action == "list":
            entries = models.list_models(store)
            if not entries:
                print(f"no models in {store} (import one: verbatim models import PATH)")
            sources = models.read_manifest(store)
            for entry in entries:
                source = sources.get(entry.name, {}).get("source", "copied in by hand")
                print(f"{entry.name:<32} {entry.kind:<18} {_size(entry.size):>9}  {source}")
            return 0
        if args.action == "available":
            from transcribe.models import catalogue

            for line in catalogue.format_rows(catalogue.available(store, engine=args.engine)):
                print(line)
            print("speed: seconds of work per second of audio on this machine (auto picks the "
                  "most accurate model in the store at 0.50x or less)")
            return 0
        if args.action == "verify":
            results = models.verify_models(store)
            if not results:
                print(f"no models in {store}")
            for result in results:
                print(f"{'ok' if result.ok else 'FAILED':<7}{result.name}: {result.detail}")
            return 0 if all(r.ok for r in results) else 1
        if args.action == "import":
            report = models.import_models(args.path, store, name=args.name)
            for entry in report.imported:
                print(f"imported {entry.name} ({entry.kind}, {_size(entry.size)}) into {store}")
            for name, reason in report.refused:
                sys.stderr.write(f"refused {name}: {reason}\n")
            if not report.imported:
                raise UserError(f"nothing imported from {args.path}")
            return 0
        if args.action == "provision":
            from transcribe.models.provision import provision

            outcomes = provision(store, cache=args.cache, log=print)
            ready = sum(o.status in ("provisioned", "present") for o in outcomes)
            print(f"default models: {ready} of {len(outcomes)} ready in {store}")
            return 0
        if args.action == "download":
            bar = ProgressBar()

            def progress(name: str, done: int, total: int) -> None:
                bar(name, done / total if total else 0.0)

            entry = models.download_model(args.name, store, progress=progress)
            bar.finish()
            print(f"downloaded {entry.name} ({_size(entry.size)}) into {store}")
            return 0
    except models.ModelError as exc:
        raise UserError(str(exc)) from None
    raise UserError(f"unknown models action {args.action!r}")


def _speaker_settings(args: argparse.Namespace, config: Config) -> dict:
    """[diarization] with --min-speakers, --max-speakers and --voice-model over it, and
    the enrolled voiceprints."""
    from verbatim.transcription import speaker_flags
    from verbatim.voices import diarization_settings

    return diarization_settings(config, speakers=args.speakers, **speaker_flags(args))
