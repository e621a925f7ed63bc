"""Transcription as a job: a worker process, progress, cancel, an atomic result.

ASR and diarisation run in a child process (multiprocessing "spawn", so no
locks or threads leak in from the caller), which blocks the network first
thing. A crash or an out-of-memory kill in the child becomes ``JobFailed`` in
the caller, which stays alive. The transcript is written to a temporary file
beside ``out_path`` and renamed, so a cancelled or failed job leaves nothing
half-written and never touches an existing file.
"""

from __future__ import annotations

import multiprocessing
import queue
import signal
import threading
from pathlib import Path
from typing import Any

from transcribe.diarize import Progress
from transcribe.errors import TranscribeError
from transcribe.pipeline import PipelineOptions, validate
from transcript.document import dumps, loads, write_atomic
from transcript.model import Transcript

_POLL_SECONDS = 0.1


class JobCancelled(Exception):
    """The caller cancelled; nothing was written."""


class JobFailed(RuntimeError):
    """The worker failed or died; ``str()`` is one line saying why."""


def _worker(path: str, options: PipelineOptions, messages: Any) -> None:
    """Child process: block the network, transcribe, send the document back as JSON."""
    from transcribe.privacy import block_network

    block_network()
    try:
        from transcribe.pipeline import transcribe_file

        def progress(stage: str, fraction: float) -> None:
            messages.put(("progress", stage, float(fraction)))

        doc = transcribe_file(path, options, progress=progress)
        messages.put(("done", dumps(doc)))
    except TranscribeError as exc:
        messages.put(("error", str(exc)))
    except MemoryError:
        messages.put(("error", "transcription ran out of memory"))
    except Exception as exc:  # a bug: say what kind, never the transcript's content
        messages.put(("error", f"transcription failed: {type(exc).__name__}: "
                               f"{str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")))


def run_transcription_job(path: str | Path, options: PipelineOptions, out_path: str | Path, *,
                          progress: Progress | None = None,
                          cancel: threading.Event | None = None) -> Transcript:
    """Transcribe ``path`` in a worker process and write the result to ``out_path``.

    Bad input raises ``TranscribeError`` at once, before the worker starts.
    """
    out_path = Path(out_path)
    validate(path, options)
    if not out_path.parent.is_dir():
        raise TranscribeError(f"cannot write {out_path}: folder {out_path.parent} does not exist")
    context = multiprocessing.get_context("spawn")
    messages = context.Queue()
    child = context.Process(target=_worker, args=(str(path), options, messages),
                            name="verbatim-transcribe", daemon=True)
    child.start()
    try:
        result = _follow(child, messages, progress, cancel)
    finally:
        if child.is_alive():
            child.terminate()
            child.join(5)
            if child.is_alive():
                child.kill()
        child.join()
        messages.close()
    doc = loads(result)
    write_atomic(out_path, result)
    return doc


def _follow(child: Any, messages: Any, progress: Progress | None,
            cancel: threading.Event | None) -> str:
    while True:
        if cancel is not None and cancel.is_set():
            raise JobCancelled("transcription cancelled")
        try:
            message = messages.get(timeout=_POLL_SECONDS)
        except queue.Empty:
            if not child.is_alive():
                # One last look: the child may have put its answer just before exiting.
                try:
                    message = messages.get(timeout=1.0)
                except queue.Empty:
                    raise JobFailed(_death_message(child.exitcode)) from None
            else:
                continue
        kind = message[0]
        if kind == "progress" and progress is not None:
            try:
                progress(message[1], message[2])
            except Exception as exc:  # a callback may raise to stop the job
                raise JobCancelled("transcription cancelled") from exc
        elif kind == "done":
            return str(message[1])
        elif kind == "error":
            raise JobFailed(str(message[1]))


def _death_message(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        hint = " (out of memory?)" if name == "SIGKILL" else ""
        return f"transcription worker was killed by {name}{hint}"
    return f"transcription worker stopped unexpectedly (exit code {exitcode})"
