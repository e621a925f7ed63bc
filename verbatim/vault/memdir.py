"""A private folder in memory (tmpfs) for short-lived plaintext of an encrypted study.

The transcription worker hands its result back through a JSON file; for an
encrypted study that file lives in RAM (``/dev/shm`` or ``$XDG_RUNTIME_DIR``),
owner-only, and is removed as soon as it has been read. Each run of the program
has its own subfolder, named by its pid (``verbatim.scratch``): removed at
exit, and swept by the next start when a crash or a ``kill -9`` left it.
"""

from __future__ import annotations

from pathlib import Path

from verbatim.scratch import memory_dir, user_memory_dir

__all__ = ["private_memory_dir", "user_memory_dir"]


def private_memory_dir() -> Path:
    """This run's ``<tmpfs>/verbatim-<uid>/<pid>``: owner-only, removed at exit."""
    return memory_dir()


