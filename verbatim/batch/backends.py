"""Where a batch's tasks run: local worker processes, or the workers of a Dask cluster.

Both offer the same four calls to the runner (``submit``, ``wait_any``,
``result``, ``close``), so the client's loop is written once. A worker that
dies becomes ``WorkerLost``: the local pool is rebuilt and the task sent
again; Dask reschedules it on another worker by itself and reports
``WorkerLost`` only when it has given up.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import multiprocessing
import os
import queue
import signal
import time
import uuid
import warnings
from collections.abc import Iterable
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from verbatim.batch.task import (
    PROGRESS_TOPIC,
    TaskRequest,
    TaskResult,
    set_local_progress,
    transcribe_task,
)

Progress = tuple[str, str, float]
"""(item key, pipeline stage, fraction of the stage) as a worker reports it."""


class WorkerLost(RuntimeError):
    """A worker died while it held the task (killed, out of memory, machine lost)."""


class Backend(Protocol):
    """What the runner needs from a place that runs tasks."""

    description: str
    retries_lost: bool
    """True when the runner must resubmit a task whose worker died (the local pool)."""

    progress_channel: str | None
    """What ``TaskRequest.progress`` says to the workers of this backend."""

    def submit(self, request: TaskRequest) -> Any: ...
    def progress(self) -> list[Progress]: ...
    def wait_any(self, handles: Iterable[Any], timeout: float) -> set[Any]: ...
    def result(self, handle: Any) -> TaskResult: ...
    def restart(self) -> None: ...
    def close(self, *, cancel: bool = False) -> None: ...


def _worker_init(progress: Any = None) -> None:
    """Each local worker: offline, dies with the client, leaves Ctrl-C to the client."""
    from transcribe.lifeline import set_parent_death_signal
    from transcribe.privacy import block_network

    block_network()
    set_local_progress(progress)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the client cancels; workers just stop
    set_parent_death_signal()  # a killed client leaves no worker computing for nobody
    if os.getppid() == 1:  # the client died before that took hold
        os._exit(1)


class LocalBackend:
    """``workers`` processes on this machine (multiprocessing "spawn", one task each)."""

    retries_lost = True
    progress_channel: str | None = "local"

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.description = f"{workers} local worker process{'es' if workers != 1 else ''}"
        self._pool, self._progress = self._new_pool()

    def _new_pool(self) -> tuple[concurrent.futures.ProcessPoolExecutor, Any]:
        context = multiprocessing.get_context("spawn")
        channel = context.Queue()  # handed to each worker when it starts (never pickled later)
        pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=self.workers, mp_context=context, initializer=_worker_init,
            initargs=(channel,))
        return pool, channel

    def submit(self, request: TaskRequest) -> Any:
        return self._pool.submit(transcribe_task, request)

    def progress(self) -> list[Progress]:
        found: list[Progress] = []
        with contextlib.suppress(queue.Empty, OSError, ValueError):
            while len(found) < 1000:
                found.append(self._progress.get_nowait())
        return found

    def wait_any(self, handles: Iterable[Any], timeout: float) -> set[Any]:
        done, _ = concurrent.futures.wait(list(handles), timeout=timeout,
                                          return_when=concurrent.futures.FIRST_COMPLETED)
        return set(done)

    def result(self, handle: Any) -> TaskResult:
        try:
            result: TaskResult = handle.result()
        except BrokenProcessPool:
            raise WorkerLost("a worker process died (killed, or out of memory?)") from None
        return result

    def restart(self) -> None:
        self._stop(self._pool)
        self._close_channel()
        self._pool, self._progress = self._new_pool()

    def close(self, *, cancel: bool = False) -> None:
        if cancel:
            self._stop(self._pool)
        else:
            self._pool.shutdown(wait=True)
        self._close_channel()

    def _close_channel(self) -> None:
        with contextlib.suppress(Exception):
            self._progress.close()
            self._progress.join_thread()

    @staticmethod
    def _stop(pool: concurrent.futures.ProcessPoolExecutor) -> None:
        # The executor has no public way to stop a running task: end its processes.
        processes = list(getattr(pool, "_processes", {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            with contextlib.suppress(Exception):
                process.kill()
        for process in processes:
            with contextlib.suppress(Exception):
                process.join(5)


class DaskBackend:
    """The workers of a running Dask cluster, reached through its scheduler only."""

    retries_lost = False  # the scheduler reruns a dead worker's task elsewhere
    progress_channel: str | None = "dask"

    def __init__(self, client: Any, *, description: str, cluster: Any = None) -> None:
        self.client = client
        self.cluster = cluster
        self.description = description
        self._futures: set[Any] = set()
        # worker events arrive on the client's event loop thread; a deque is safe to share
        self._events: collections.deque[Any] = collections.deque(maxlen=10_000)
        client.subscribe_topic(PROGRESS_TOPIC, self._events.append)

    def progress(self) -> list[Progress]:
        found: list[Progress] = []
        while self._events:
            _, message = self._events.popleft()
            with contextlib.suppress(TypeError, ValueError):
                key, stage, fraction = message
                found.append((str(key), str(stage), float(fraction)))
        return found

    def submit(self, request: TaskRequest) -> Any:
        with warnings.catch_warnings():
            # the audio travels inside the task on purpose: the scheduler keeps it, so a
            # task whose worker dies can run again elsewhere without asking the client
            warnings.filterwarnings("ignore", message=".*[Ll]arge (graph|object).*")
            future = self.client.submit(transcribe_task, request, pure=False,
                                        key=f"verbatim-{request.key}-{uuid.uuid4().hex[:8]}")
        self._futures.add(future)
        return future

    def wait_any(self, handles: Iterable[Any], timeout: float) -> set[Any]:
        # distributed.wait needs a default client; this one is deliberately not the default
        # (a batch must not leak its cluster into other code), so poll the futures' state.
        handles = list(handles)
        deadline = time.monotonic() + timeout
        while True:
            done = {f for f in handles if f.done()}
            if done or time.monotonic() >= deadline:
                return done
            time.sleep(0.05)

    def result(self, handle: Any) -> TaskResult:
        from distributed import KilledWorker

        self._futures.discard(handle)
        try:
            result: TaskResult = handle.result()
        except KilledWorker:
            raise WorkerLost("the task's workers died each time it ran (out of memory?)") \
                from None
        finally:
            handle.release()  # the worker drops the (sealed) result from its memory
        return result

    def restart(self) -> None:  # pragma: no cover - the scheduler handles lost workers
        pass

    def close(self, *, cancel: bool = False) -> None:
        with contextlib.suppress(Exception):
            if cancel and self._futures:
                self.client.cancel(list(self._futures), force=True)
        with contextlib.suppress(Exception):
            self.client.close(timeout=10)
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close()
