"""CLI verbs of the transcription room: ``transcribe FILE`` and ``models``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

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
        diarization=_speaker_settings(args, config))


def run_transcribe(args: argparse.Namespace, config: Config) -> int:
    from transcribe.errors import TranscribeError
    from transcribe.jobs import JobCancelled, JobFailed, run_transcription_job

    if args.out is None:
        raise UserError("transcribe FILE needs --out T.json (where to write the transcript)")
    options = pipeline_options(args, config)
    bar = ProgressBar()
    try:
        doc = run_transcription_job(Path(args.target), options, args.out, progress=bar)
    except (TranscribeError, JobFailed) as exc:
        bar.finish()
        raise UserError(str(exc)) from None
    except (JobCancelled, KeyboardInterrupt):
        bar.finish()
        raise UserError("transcription cancelled; nothing was written") from None
    bar.finish()
    pauses = sum(1 for m in doc.marks if m.kind == "pause")
    sys.stderr.write(f"wrote {args.out}: {len(doc.words)} words, {len(doc.speakers)} speakers, "
                     f"{pauses} pauses\n")
    return 0


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
            for entry in entries:
                print(f"{entry.name:<40} {entry.kind:<18} {_size(entry.size):>9}")
            return 0
        if args.action == "verify":
            results = models.verify_models(store)
            if not results:
                print(f"no models in {store}")
            for result in results:
                print(f"{'ok' if result.ok else 'FAILED':<7}{result.name}: {result.detail}")
            return 0 if all(r.ok for r in results) else 1
        if args.action == "import":
            entry = models.import_model(args.path, store, name=args.name)
            print(f"imported {entry.name} ({entry.kind}, {_size(entry.size)}) into {store}")
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
    from transcribe.diarize.registry import DiarisationError, speaker_settings
    from verbatim.commands.voice_cmds import enrolled

    try:
        settings = speaker_settings(config.diarization, speakers=args.speakers,
                                    min_speakers=getattr(args, "min_speakers", None),
                                    max_speakers=getattr(args, "max_speakers", None),
                                    voice_model=getattr(args, "voice_model", None))
    except DiarisationError as exc:
        raise UserError(str(exc)) from None
    prints = enrolled(config)
    if prints:  # enrolled voices: speakers that match are named (voiceprints.identify)
        settings["voiceprints"] = prints
    return settings
