"""Transcription as a job: a worker process, progress, cancel, an atomic result.

ASR and diarisation run in a child process (multiprocessing "spawn", so no
locks or threads leak in from the caller), which blocks the network first
thing. A crash or an out-of-memory kill in the child becomes ``JobFailed`` in
the caller, which stays alive. The transcript is written to a temporary file
beside ``out_path`` and renamed, so a cancelled or failed job leaves nothing
half-written and never touches an existing file.

The worker dies with its caller (``transcribe.lifeline``): if the command is
killed, the worker exits at once instead of finishing a result nobody will
read while holding a gigabyte of memory. Messages travel over plain pipes,
not a ``multiprocessing.Queue``, so a job creates no POSIX semaphores that a
kill could leave in ``/dev/shm``; and a finished worker is left to exit by
itself (running its own clean-up) before it would ever be terminated.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
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
# How long a worker that has sent its result may take to exit by itself (freeing
# models and running its clean-up) before it is terminated.
_EXIT_GRACE_SECONDS = 10.0


class JobCancelled(Exception):
    """The caller cancelled; nothing was written."""


class JobFailed(RuntimeError):
    """The worker failed or died; ``str()`` is one line saying why."""


class JobResultNotSaved(OSError):
    """The transcription finished but ``out_path`` could not be written (a full disk).

    ``result`` holds the document's JSON so the caller can keep it elsewhere;
    ``cause`` is the ``OSError`` the write met.
    """

    def __init__(self, result: str, cause: OSError) -> None:
        super().__init__(cause.errno, cause.strerror, cause.filename)
        self.result = result
        self.cause = cause


def _quiet_tqdm() -> None:
    """tqdm's default lock is a multiprocessing one: a named semaphore per worker.

    The worker never shares a progress bar with another process, so a thread
    lock does; no semaphore can then be left behind by a cancelled worker.
    """
    try:
        import tqdm
    except ImportError:
        return
    tqdm.tqdm.set_lock(threading.RLock())


def _worker(path: str, options: PipelineOptions, messages: Any, lifeline: Any,
            parent_pid: int) -> None:
    """Child process: die with the parent, block the network, transcribe, send JSON back."""
    from transcribe.lifeline import die_with_parent
    from transcribe.privacy import block_network

    with contextlib.suppress(OSError):
        os.setpgid(0, 0)  # Ctrl-C reaches the command, which stops us; our helpers go with us
    die_with_parent(parent_pid, lifeline)
    block_network()
    _quiet_tqdm()
    try:
        from transcribe.pipeline import transcribe_file

        def progress(stage: str, fraction: float) -> None:
            messages.send(("progress", stage, float(fraction)))

        doc = transcribe_file(path, options, progress=progress)
        messages.send(("done", dumps(doc)))
    except TranscribeError as exc:
        messages.send(("error", str(exc)))
    except MemoryError:
        messages.send(("error", "transcription ran out of memory"))
    except (BrokenPipeError, EOFError):
        os._exit(1)  # the caller is gone
    except Exception as exc:  # a bug: say what kind, never the transcript's content
        messages.send(("error", f"transcription failed: {type(exc).__name__}: "
                                f"{str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")))


def run_transcription_job(path: str | Path, options: PipelineOptions, out_path: str | Path, *,
                          progress: Progress | None = None,
                          cancel: threading.Event | None = None) -> Transcript:
    """Transcribe ``path`` in a worker process and write the result to ``out_path``.

    Bad input raises ``TranscribeError`` at once, before the worker starts.
    The worker lives only as long as the calling thread, which waits for it.
    """
    out_path = Path(out_path)
    validate(path, options)
    if not out_path.parent.is_dir():
        raise TranscribeError(f"cannot write {out_path}: folder {out_path.parent} does not exist")
    result = run_worker(path, options, progress=progress, cancel=cancel)
    doc = loads(result)
    try:
        write_atomic(out_path, result)
    except OSError as exc:
        raise JobResultNotSaved(result, exc) from exc
    return doc


def run_worker(path: str | Path, options: PipelineOptions, *, progress: Progress | None = None,
               cancel: threading.Event | None = None) -> str:
    """Run the worker and return its document as JSON text (nothing is written)."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    lifeline_in, lifeline_out = context.Pipe(duplex=False)
    child = context.Process(target=_worker,
                            args=(str(path), options, sender, lifeline_in, os.getpid()),
                            name="verbatim-transcribe", daemon=True)
    try:
        child.start()
    finally:
        sender.close()  # the child holds its own copies; ours would hide its death
        lifeline_in.close()
    finished = False
    try:
        result = _follow(child, receiver, progress, cancel)
        finished = True
        return result
    finally:
        if finished:
            child.join(_EXIT_GRACE_SECONDS)
        if child.is_alive():
            child.terminate()
            child.join(5)
            if child.is_alive():
                child.kill()
        child.join()
        receiver.close()
        lifeline_out.close()


def _follow(child: Any, receiver: Any, progress: Progress | None,
            cancel: threading.Event | None) -> str:
    while True:
        if cancel is not None and cancel.is_set():
            raise JobCancelled("transcription cancelled")
        if not receiver.poll(_POLL_SECONDS):
            continue
        try:
            message = receiver.recv()
        except (EOFError, OSError):  # the worker is gone without an answer
            child.join(5)
            raise JobFailed(_death_message(child.exitcode)) from None
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
