"""The client's side of a batch: submit tasks, collect documents, save each once, report.

The runner is the only code that writes results, and it does so in the
calling process (the CLI, or the app's worker thread): the study's SQLite
database is never opened by a worker. Each interview is saved at most once
per run, at the moment its document arrives, in its own transaction, so a
client killed half-way keeps everything saved so far and ``--pending``
resumes with the rest. Audio is read only when its task is submitted, and at
most ``in_flight`` tasks are out at once, so a 40-interview study never sits
in memory whole.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from verbatim.batch.backends import Backend, WorkerLost
from verbatim.batch.task import TaskRequest, TaskResult

if TYPE_CHECKING:  # pragma: no cover
    from transcribe.pipeline import PipelineOptions
    from transcript.model import Transcript

MAX_LOST = 3  # a task whose worker dies this often is given up (it is likely the cause)
_POLL_SECONDS = 0.2
_PROGRESS_EVERY = 0.5  # seconds between two "progress" events

# Share of an interview's time each pipeline stage takes (ASR dominates, then diarisation):
# turns a worker's (stage, fraction) into how far that interview is.
STAGE_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("load", 0.05), ("vad", 0.05), ("diarise", 0.2), ("asr", 0.65), ("marks", 0.05))


def stage_fraction(stage: str, fraction: float) -> float:
    """How far one interview is, from the pipeline's (stage, fraction-of-stage) report."""
    done = 0.0
    for name, weight in STAGE_WEIGHTS:
        if name == stage:
            return min(done + weight * max(0.0, min(fraction, 1.0)), 0.99)
        done += weight
    return 0.0  # a stage this version does not weigh: say nothing rather than jump


@dataclass(frozen=True)
class BatchItem:
    """One recording to transcribe: its key, its length and how to read its bytes."""

    key: str
    duration: float
    load: Callable[[], bytes]


@dataclass(frozen=True)
class BatchEvent:
    """Something happened to one item; ``done_seconds``/``total_seconds`` are the whole batch.

    ``done_seconds`` counts the audio of saved items plus the reported share of
    running ones, so a bar over hour-long interviews moves while they run.
    """

    kind: str  # started | progress | saved | failed | retry
    key: str
    detail: str
    done_items: int
    total_items: int
    done_seconds: float
    total_seconds: float


@dataclass
class BatchSummary:
    """How a batch ended."""

    backend: str
    saved: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    not_done: list[str] = field(default_factory=list)
    cancelled: bool = False
    audio_seconds: float = 0.0
    wall_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_done and not self.cancelled


SaveResult = Callable[[BatchItem, "Transcript", TaskResult], str]
"""Save a finished document (in the client); returns a few words for the item's line."""


def run_batch(items: Sequence[BatchItem], backend: Backend, options: PipelineOptions, *,
              save: SaveResult, report: Callable[[BatchEvent], None] | None = None,
              cancel: threading.Event | None = None, in_flight: int = 2,
              worker_store: bool = False, unseal: Any = None) -> BatchSummary:
    """Transcribe ``items`` on ``backend``; ``save`` each document as it arrives.

    ``unseal`` is the age identity whose recipient the workers seal results to
    (a cluster run), or None. Ctrl-C (KeyboardInterrupt) or ``cancel`` stops
    the batch: running tasks are dropped, saved ones stay saved.
    """
    from transcript.document import loads

    emit = report or (lambda event: None)
    summary = BatchSummary(backend=backend.description)
    total_seconds = sum(item.duration for item in items)
    queue: deque[BatchItem] = deque(items)
    running: dict[Any, BatchItem] = {}
    lost: dict[str, int] = {}
    saved: set[str] = set()
    partial: dict[str, float] = {}  # running item -> fraction its worker reported
    durations = {item.key: item.duration for item in items}
    done_seconds = 0.0
    started = time.monotonic()
    last_progress = 0.0
    seal_to = str(unseal.to_public()) if unseal is not None else None
    drain: Callable[[], list[tuple[str, str, float]]] = getattr(backend, "progress",
                                                                 lambda: [])
    channel = getattr(backend, "progress_channel", None)

    def event(kind: str, item: BatchItem, detail: str = "") -> None:
        if kind != "progress":
            partial.pop(item.key, None)
        moving = done_seconds + sum(f * durations.get(k, 0.0) for k, f in partial.items())
        emit(BatchEvent(kind, item.key, detail, len(saved) + len(summary.failed), len(items),
                        moving, total_seconds))

    def submit(item: BatchItem) -> None:
        try:
            audio = item.load()
        except Exception as exc:  # an unreadable recording fails alone
            summary.failed[item.key] = _one_line(exc)
            event("failed", item, summary.failed[item.key])
            return
        request = TaskRequest(key=item.key, audio=audio, options=options,
                              worker_store=worker_store, seal_to=seal_to, progress=channel)
        running[backend.submit(request)] = item
        event("started", item)

    try:
        while queue or running:
            if cancel is not None and cancel.is_set():
                raise KeyboardInterrupt
            while queue and len(running) < in_flight:
                submit(queue.popleft())
            if not running:
                continue
            keys = {item.key: item for item in running.values()}
            moved = None
            for key, stage, fraction in drain():
                if key in keys:
                    partial[key] = max(partial.get(key, 0.0), stage_fraction(stage, fraction))
                    moved = keys[key]
            if moved is not None and time.monotonic() - last_progress >= _PROGRESS_EVERY:
                last_progress = time.monotonic()
                event("progress", moved)
            for handle in backend.wait_any(running, _POLL_SECONDS):
                item = running.pop(handle)
                try:
                    result = backend.result(handle)
                except WorkerLost as exc:
                    lost[item.key] = lost.get(item.key, 0) + 1
                    if backend.retries_lost and lost[item.key] < MAX_LOST:
                        _resubmit_all(backend, running, queue, item)
                        event("retry", item, str(exc))
                        break
                    summary.failed[item.key] = str(exc)
                    event("failed", item, str(exc))
                    continue
                except Exception as exc:  # the task's own error: bad audio, missing model
                    summary.failed[item.key] = _one_line(exc)
                    event("failed", item, summary.failed[item.key])
                    continue
                if item.key in saved:
                    continue  # never twice, whatever the backend delivers
                data = result.document
                if result.sealed:
                    import pyrage

                    data = pyrage.decrypt(data, [unseal])
                try:
                    detail = save(item, loads(data.decode("utf-8")), result)
                except Exception as exc:  # e.g. locked meanwhile: this item fails, not the batch
                    summary.failed[item.key] = f"not saved: {_one_line(exc)}"
                    event("failed", item, summary.failed[item.key])
                    continue
                saved.add(item.key)
                summary.saved.append(item.key)
                done_seconds += item.duration
                event("saved", item, f"{detail} in {result.seconds:.1f} s on {result.worker}")
    except KeyboardInterrupt:
        summary.cancelled = True
        backend.close(cancel=True)
    else:
        backend.close()
    summary.not_done = [i.key for i in items
                        if i.key not in saved and i.key not in summary.failed]
    summary.audio_seconds = done_seconds
    summary.wall_seconds = time.monotonic() - started
    return summary


def _resubmit_all(backend: Backend, running: dict[Any, BatchItem], queue: deque[BatchItem],
                  lost_item: BatchItem) -> None:
    """A local worker died: the pool is broken, so every running task goes round again."""
    again = [lost_item, *running.values()]
    running.clear()
    backend.restart()
    queue.extendleft(reversed(again))


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def audio_hours_per_hour(summary: BatchSummary) -> float:
    """Throughput: hours of audio transcribed per hour of wall-clock time."""
    return summary.audio_seconds / summary.wall_seconds if summary.wall_seconds else 0.0
