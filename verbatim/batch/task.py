"""The one task function of a batch: audio bytes and options in, a transcript document out.

It runs the same pipeline as ``verbatim transcribe`` (``transcribe_file``), in
a local worker process or on a Dask worker alike. The audio arrives as bytes
(an encrypted study's recording is decrypted in the client's memory) and is
put in an anonymous in-memory file (``memfd``), so a recording never lands on
a worker's disk. On a cluster the result is sealed with age to a key only the
client holds, so a worker that spills its memory to disk spills ciphertext.
The worker never opens the study: it only returns data.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from transcribe.pipeline import PipelineOptions


@dataclass(frozen=True)
class TaskRequest:
    """One interview (or file) to transcribe, everything the worker needs."""

    key: str
    """The interview id (P4-1) or the file's name: how the client knows the answer."""
    audio: bytes
    """The recording's bytes as stored (decrypted if the study is encrypted)."""
    options: PipelineOptions
    worker_store: bool = False
    """True on a cluster: options.models_dir is the client's path; use the worker's store."""
    seal_to: str | None = None
    """An age recipient: seal the returned document to it (cluster runs)."""
    progress: str | None = None
    """How to report stages back: "local" (the pool's queue), "dask" (worker events)."""


@dataclass(frozen=True)
class TaskResult:
    """What a worker returns: the document (JSON, sealed or not) and how the run went."""

    key: str
    document: bytes
    """``verbatim-transcript/1`` JSON as UTF-8, or age ciphertext of it when sealed."""
    sealed: bool
    seconds: float
    duration: float
    worker: str


PROGRESS_TOPIC = "verbatim-progress"
"""The Dask event topic of task progress: (key, stage, fraction), never any content."""
PROGRESS_INTERVAL = 1.0  # seconds between two reports of the same stage

# Set in each local worker process by the pool's initializer: a multiprocessing queue.
_local_progress: Any = None


def set_local_progress(channel: Any) -> None:
    global _local_progress
    _local_progress = channel


def progress_sender(request: TaskRequest) -> Callable[[str, float], None] | None:
    """The pipeline's ``progress(stage, fraction)`` for this task, throttled; None if unasked."""
    send: Callable[[Any], None]
    if request.progress == "local" and _local_progress is not None:
        send = _local_progress.put_nowait
    elif request.progress == "dask":
        try:
            from distributed import get_worker

            worker = get_worker()
        except (ImportError, ValueError):
            return None

        def send(message: Any) -> None:
            worker.log_event(PROGRESS_TOPIC, message)
    else:
        return None
    last_stage, last_at = [""], [0.0]

    def report(stage: str, fraction: float) -> None:
        now = time.monotonic()
        if stage == last_stage[0] and fraction < 1.0 and now - last_at[0] < PROGRESS_INTERVAL:
            return
        last_stage[0], last_at[0] = stage, now
        with contextlib.suppress(Exception):  # progress is a courtesy: never fail the task
            send((request.key, stage, float(fraction)))

    return report


# A worker process keeps its loaded ASR engine between tasks: loading tiny.en costs about a
# second, large-v3 half a minute, and a batch runs many interviews on the same model.
_engines: dict[tuple[str, str, int], Any] = {}
# One transcription at a time per process: an engine is not shared between threads, and a
# Dask worker started with several threads would otherwise run two on one model.
_run_lock = threading.Lock()


def transcribe_task(request: TaskRequest) -> TaskResult:
    """Transcribe ``request.audio`` with ``request.options``; the task every worker runs."""
    from transcribe.pipeline import transcribe_file
    from transcribe.privacy import apply_privacy_env
    from transcript.document import dumps

    apply_privacy_env()  # offline model loading, no telemetry, on every worker
    options = request.options
    if request.worker_store:
        options = for_worker_store(options)
    with _run_lock, memory_audio(request.audio, request.key) as path:
        started = time.perf_counter()
        doc = transcribe_file(path, options, engine=_engine(options),
                              progress=progress_sender(request))
    data = dumps(doc).encode("utf-8")
    if request.seal_to:
        data = seal(data, request.seal_to)
    return TaskResult(key=request.key, document=data, sealed=bool(request.seal_to),
                      seconds=time.perf_counter() - started, duration=doc.audio.duration,
                      worker=f"{socket.gethostname()}:{os.getpid()}")


def for_worker_store(options: PipelineOptions) -> PipelineOptions:
    """The options with this machine's model store (VERBATIM_MODELS or the default)."""
    from verbatim.config import default_models_dir

    return dataclasses.replace(options, models_dir=default_models_dir())


def _engine(options: PipelineOptions) -> Any:
    from transcribe.engines import load_engine
    from transcribe.models import resolve_model

    model_path = resolve_model(options.model, engine=options.engine,
                               models_dir=options.models_dir)
    key = (options.engine, str(model_path), options.threads)
    if key not in _engines:
        _engines.clear()  # one model per worker process: memory is the limit
        _engines[key] = load_engine(options.engine, model_path, threads=options.threads)
    return _engines[key]


@contextmanager
def memory_audio(data: bytes, label: str) -> Iterator[Path]:
    """``data`` as a file path that lives in RAM only (Linux ``memfd``), closed afterwards.

    The path (``/proc/<pid>/fd/<n>``) opens in this process and in its children
    (an ffmpeg decode), like any file, and vanishes with the descriptor.
    """
    memfd_create = getattr(os, "memfd_create", None)
    if memfd_create is None:
        raise RuntimeError("this worker cannot hold audio in memory (no memfd: Linux only)")
    fd = memfd_create(f"verbatim-{label}", getattr(os, "MFD_CLOEXEC", 1))
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        yield Path(f"/proc/{os.getpid()}/fd/{fd}")
    finally:
        os.close(fd)


def seal(data: bytes, recipient: str) -> bytes:
    """``data`` encrypted with age to ``recipient`` (an ``age1…`` public key)."""
    import pyrage

    return bytes(pyrage.encrypt(data, [pyrage.x25519.Recipient.from_str(recipient)]))


# ---- models: each worker checks the ones it was asked for, by sha256 -------------------


def model_hashes(entry: Path) -> dict[str, str]:
    """sha256 of every file of a store entry (a file or a folder), by relative name."""
    files = sorted(p for p in entry.rglob("*") if p.is_file()) if entry.is_dir() else [entry]
    return {(str(p.relative_to(entry)) if entry.is_dir() else p.name): _sha256(p)
            for p in files}


_hash_cache: dict[tuple[str, int, int], str] = {}


def _sha256(path: Path) -> str:
    info = path.stat()
    cache_key = (str(path), info.st_mtime_ns, info.st_size)
    if cache_key not in _hash_cache:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
        _hash_cache[cache_key] = digest.hexdigest()
    return _hash_cache[cache_key]


def check_models(wanted: dict[str, dict[str, str]], models_dir: Path | None = None) -> str:
    """One line: do this machine's models match ``wanted`` ({entry: {file: sha256}})?

    Starts with ``ok`` when every entry is present with the same bytes, else
    ``missing`` and what is absent or different.
    """
    from verbatim.config import default_models_dir

    store = models_dir or default_models_dir()
    problems: list[str] = []
    for name, files in sorted(wanted.items()):
        entry = store / name
        if not entry.exists():
            problems.append(f"{name} (not in {store})")
            continue
        have = model_hashes(entry)
        differ = sorted(f for f, digest in files.items() if have.get(f) != digest)
        if differ:
            problems.append(f"{name} (sha256 differs: {', '.join(differ[:3])})")
    if problems:
        return "missing " + "; ".join(problems)
    return f"ok: {', '.join(sorted(wanted))} match by sha256"
