"""Worker processes that die with their parent.

A transcription worker holds a gigabyte of model and the recording; if the
command that started it is killed (``kill -9``, a closed terminal, an
out-of-memory kill), nobody will ever read its result. ``die_with_parent``
makes a child process exit at once when its parent goes, two ways:

* Linux's ``PR_SET_PDEATHSIG``: the kernel sends SIGKILL the moment the parent
  (strictly: the parent *thread* that started the child, so callers keep that
  thread alive while the child runs, as ``transcribe.jobs`` does) exits.
* A lifeline: the read end of a pipe whose only write end the parent holds. A
  watcher thread blocks on it; end-of-file means the parent is gone, and the
  child ends its process group and exits. This works where prctl does not
  (other Unixes) and also catches a parent that died before prctl ran.

Any batch or worker process can call it first thing; it needs no torch.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import threading
from typing import Any

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def set_parent_death_signal(sig: int = signal.SIGKILL) -> bool:
    """Ask the kernel to send ``sig`` when the parent exits; False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _end_now() -> None:
    # our own process group only when we lead it (never the caller's terminal group)
    if os.getpgid(0) == os.getpid():
        with contextlib.suppress(OSError):
            os.killpg(os.getpid(), signal.SIGKILL)
    os._exit(1)


def watch_lifeline(lifeline: Any) -> threading.Thread:
    """Exit the process when ``lifeline`` (a Connection or fd) reaches end-of-file."""
    def wait() -> None:
        try:
            if isinstance(lifeline, int):
                while os.read(lifeline, 64):
                    pass
            else:
                while True:
                    lifeline.recv_bytes()
        except (EOFError, OSError):
            pass
        _end_now()

    thread = threading.Thread(target=wait, name="lifeline", daemon=True)
    thread.start()
    return thread


def die_with_parent(parent_pid: int, lifeline: Any | None = None) -> None:
    """Call first thing in a worker: exit when ``parent_pid`` is no longer our parent."""
    set_parent_death_signal(signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before the prctl took effect
        _end_now()
    if lifeline is not None:
        watch_lifeline(lifeline)
