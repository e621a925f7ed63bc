"""Giving the heap a finished piece of work freed back to the system.

glibc keeps freed memory in its heap for reuse, and a long job that allocates
buffers of many sizes (the voice model's convolutions over windows of every
length, the ASR's decoder over groups of chunks) leaves that heap fragmented: the
process grows with the recording although nothing is kept. Measured with CAM++ on
2,000 word-length windows: resident memory rose from 0.59 to 1.27 GB, and one
``malloc_trim`` brought it back to 0.64 GB. Long loops call ``give_back_memory``
every so often (a few milliseconds each time).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
from typing import Any


@functools.cache
def _libc() -> Any:
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")


def give_back_memory() -> None:
    """Return the freed heap to the system (nothing to do where libc is not glibc)."""
    with contextlib.suppress(OSError, AttributeError):
        _libc().malloc_trim(0)
