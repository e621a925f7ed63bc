"""``verbatim batch``: a study's interviews (or a folder of files) on many workers at once.

This door turns flags into a list of ``BatchItem``s, a backend (local
processes, a Dask scheduler, a Slurm cluster) and a save function, runs
``verbatim.batch.runner.run_batch`` and prints one overall progress bar, a
line per interview and a closing summary. Saving goes through
``verbatim.usecases.saving.save_or_keep``, as ``transcribe P4-1``
does.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from verbatim.config import Config
from verbatim.errors import UserError

if TYPE_CHECKING:  # pragma: no cover
    from transcribe.pipeline import PipelineOptions
    from verbatim.batch.runner import BatchEvent, BatchItem, BatchSummary

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".m4a", ".aac", ".opus", ".wma", ".mp4")


class BatchDisplay:
    """One overall bar on stderr, with a line per finished interview printed above it."""

    def __init__(self, stream: TextIO | None = None, *, width: int = 30) -> None:
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = time.monotonic()
        self.last: BatchEvent | None = None

    def __call__(self, event: BatchEvent) -> None:
        self.last = event
        if event.kind == "saved":
            self._line(f"{event.key:<10} saved    {event.detail}")
        elif event.kind == "failed":
            self._line(f"{event.key:<10} FAILED   {event.detail}")
        elif event.kind == "retry":
            self._line(f"{event.key:<10} retry    {event.detail}")
        elif event.kind == "started" and not self.tty:
            self._line(f"{event.key:<10} started")
        self._bar()

    def _line(self, text: str) -> None:
        clear = "\r\033[K" if self.tty else ""
        self.stream.write(f"{clear}{text}\n")
        self.stream.flush()

    def _bar(self) -> None:
        event = self.last
        if not self.tty or event is None:
            return
        fraction = event.done_seconds / event.total_seconds if event.total_seconds else \
            event.done_items / max(1, event.total_items)
        filled = round(self.width * max(0.0, min(1.0, fraction)))
        elapsed = time.monotonic() - self.started
        eta = f", about {_clock(elapsed * (1 - fraction) / fraction)} left" \
            if 0.0 < fraction < 1.0 else ""
        self.stream.write(f"\r\033[K[{'#' * filled}{'.' * (self.width - filled)}] "
                          f"{event.done_items}/{event.total_items} interviews, "
                          f"{_clock(event.done_seconds)} of {_clock(event.total_seconds)} "
                          f"audio{eta}")
        self.stream.flush()

    def finish(self) -> None:
        if self.tty and self.last is not None:
            self.stream.write("\n")
            self.stream.flush()


def _clock(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def run_batch_command(args: argparse.Namespace, config: Config) -> int:
    from verbatim.batch.cluster import parse_scheduler
    from verbatim.usecases.options import speaker_flags
    from verbatim.usecases.saving import pipeline_options

    if args.scheduler is not None:  # the address rules first: they need nothing else
        parse_scheduler(args.scheduler, insecure=args.insecure)
    options = pipeline_options(config, engine=args.engine, model=args.model,
                               diarize=args.diarize, speakers=args.speakers,
                               language=args.language, device=getattr(args, "device", None),
                               **speaker_flags(args))
    _check_options(options)
    section = dict(config.batch)
    with _items(args, config, options) as (items, save, skipped):
        for line in skipped:
            sys.stderr.write(line + "\n")
        if not items:
            sys.stderr.write("nothing to transcribe\n")
            return 0 if not skipped or args.pending or args.folder else 1
        backend, options, unseal, worker_store, in_flight = _backend(args, options, section,
                                                                     len(items))
        sys.stderr.write(f"{len(items)} recording{'s' if len(items) != 1 else ''} "
                         f"({_clock(sum(i.duration for i in items))} of audio) on "
                         f"{backend.description}\n")
        from verbatim.batch.runner import run_batch

        display = BatchDisplay()
        try:
            summary = run_batch(items, backend, options, save=save, report=display,
                                in_flight=in_flight, worker_store=worker_store, unseal=unseal)
        finally:
            display.finish()
    sys.stderr.write(_summary_text(summary) + "\n")
    if summary.cancelled:
        return 130
    return 0 if summary.ok else 1


def _summary_text(summary: BatchSummary) -> str:
    from verbatim.batch.runner import audio_hours_per_hour

    parts = [f"{len(summary.saved)} saved"]
    if summary.failed:
        parts.append(f"{len(summary.failed)} failed ({', '.join(summary.failed)})")
    if summary.not_done:
        parts.append(f"{len(summary.not_done)} not done ({', '.join(summary.not_done)})")
    head = "cancelled: " if summary.cancelled else ""
    rate = audio_hours_per_hour(summary)
    tail = (f"; {_clock(summary.audio_seconds)} of audio in {_clock(summary.wall_seconds)} "
            f"({rate:.1f} audio hours per hour) on {summary.backend}")
    resume = "; run 'verbatim batch --pending' to finish" if summary.not_done else ""
    return head + ", ".join(parts) + tail + resume


def _check_options(options: PipelineOptions) -> None:
    """Fail in a second, before any worker starts: mode and engine names, the local model."""
    from transcribe.diarize.registry import check_mode
    from transcribe.errors import TranscribeError
    from transcribe.models import resolve_model

    try:
        check_mode(options.diarize)
        resolve_model(options.model, engine=options.engine, models_dir=options.models_dir)
    except TranscribeError as exc:
        raise UserError(str(exc)) from None


# ---- what to transcribe ----------------------------------------------------------------


@contextmanager
def _items(args: argparse.Namespace, config: Config, options: PipelineOptions,
           ) -> Iterator[tuple[list[BatchItem], Any, list[str]]]:
    if args.folder is not None:
        if args.ids or args.pending:
            raise UserError("--folder transcribes files; give interview ids or --pending "
                            "without it")
        yield _folder_items(Path(args.folder), args.out)
        return
    if args.out is not None:
        raise UserError("--out is for --folder (a study's transcripts are saved in the study)")
    if not args.ids and not args.pending:
        raise UserError("batch needs interview ids (P1-1 P2-1 …), --pending or --folder DIR")
    if config.study is None:
        raise UserError("no study: give --study DIR, set VERBATIM_STUDY, or use --folder DIR")
    from verbatim.batch.study import study_items
    from verbatim.study import Study
    from verbatim.vault.commands import warn_if_exposed

    with Study.open(config.study) as study:
        warn_if_exposed(study.path)
        yield study_items(study, list(args.ids), options, pending=args.pending)


def _folder_items(folder: Path, out: Path | None) -> tuple[list[BatchItem], Any, list[str]]:
    from transcribe.audio import file_sha256, probe_audio
    from transcribe.errors import TranscribeError
    from transcript.document import dumps, write_atomic
    from transcript.model import AudioRef
    from verbatim.batch.runner import BatchItem

    if not folder.is_dir():
        raise UserError(f"--folder {folder}: no such folder")
    if out is None:
        raise UserError("--folder needs --out DIR (where the transcript files go)")
    out.mkdir(parents=True, exist_ok=True)
    items: list[BatchItem] = []
    skipped: list[str] = []
    sources: dict[str, Path] = {}
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES):
        if (out / f"{path.stem}.json").exists():
            skipped.append(f"{path.name:<10} skipped  {out / (path.stem + '.json')} exists")
            continue
        try:
            duration = probe_audio(path).duration
        except TranscribeError as exc:
            skipped.append(f"{path.name:<10} skipped  {exc}")
            continue
        sources[path.name] = path
        items.append(BatchItem(path.name, duration, path.read_bytes))
    if not items and not skipped:
        raise UserError(f"--folder {folder}: no audio files ({', '.join(AUDIO_SUFFIXES)})")

    def save(item: BatchItem, doc: Any, result: Any) -> str:
        source = sources[item.key]
        doc = dataclasses.replace(doc, audio=AudioRef(path=str(source.absolute()),
                                                      sha256=file_sha256(source),
                                                      duration=doc.audio.duration))
        target = out / f"{source.stem}.json"
        write_atomic(target, dumps(doc))
        return f"{target}, {len(doc.words)} words"

    return items, save, skipped


# ---- where it runs ---------------------------------------------------------------------


def _backend(args: argparse.Namespace, options: PipelineOptions, section: dict[str, Any],
             count: int) -> tuple[Any, PipelineOptions, Any, bool, int]:
    """(backend, options as sent, unseal identity or None, worker_store, tasks in flight)."""
    from verbatim.batch import cluster

    if args.scheduler is None and not args.slurm:
        from verbatim.batch.backends import LocalBackend

        workers = min(cluster.local_workers(args.local or section.get("workers")), count)
        threads = args.threads or max(1, cluster.cores() // workers)
        options = dataclasses.replace(options, threads=threads)
        return LocalBackend(workers), options, None, False, workers
    import pyrage

    from verbatim.batch.backends import DaskBackend

    options, wanted = cluster.wanted_models(options)
    if args.threads:
        options = dataclasses.replace(options, threads=args.threads)
    if args.slurm:
        slurm = section.get("slurm")
        if not isinstance(slurm, dict):
            raise UserError("--slurm needs a [batch.slurm] section in the config (see README)")
        from distributed import Client

        dask_cluster, description = cluster.slurm_cluster(slurm)
        client = Client(dask_cluster, direct_to_workers=False, set_as_default=False)
        client.wait_for_workers(1, timeout=float(slurm.get("start_timeout", 600)))
    else:
        address = cluster.parse_scheduler(args.scheduler, insecure=args.insecure)
        files = cluster.tls_files(ca=args.tls_ca, cert=args.tls_cert, key=args.tls_key,
                                  section=section)
        client = cluster.connect(address, files)
        dask_cluster, description = None, f"Dask scheduler {address}"
    lines = cluster.check_workers(client, wanted)
    for line in lines:
        sys.stderr.write(f"worker {line}\n")
    if not lines:
        client.close()
        raise UserError("the Dask cluster has no workers yet; start some with 'dask worker'")
    if any(": missing" in line for line in lines):
        client.close()
        raise UserError("some workers lack the models (above): import them there with "
                        "'verbatim models import', or stop those workers")
    backend = DaskBackend(client, cluster=dask_cluster,
                          description=f"{description} ({len(lines)} workers)")
    return backend, options, pyrage.x25519.Identity.generate(), True, len(lines) + 1
