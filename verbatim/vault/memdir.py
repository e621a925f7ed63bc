"""A private folder in memory (tmpfs) for short-lived plaintext of an encrypted study.

The transcription worker hands its result back through a JSON file; for an
encrypted study that file lives in RAM (``/dev/shm`` or ``$XDG_RUNTIME_DIR``),
owner-only, and is removed as soon as it has been read. Each run of the program
has its own subfolder, named by its pid (``verbatim.scratch``): removed at
exit, and swept by the next start when a crash or a ``kill -9`` left it.
"""

from __future__ import annotations

import os
from pathlib import Path

from verbatim.vault.errors import VaultError


def _tmpfs_roots() -> list[Path]:
    roots = [Path("/dev/shm")]
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        roots.append(Path(runtime))
    return roots


def _is_tmpfs(path: Path) -> bool:
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return False
    best, kind = "", ""
    for line in mounts:
        parts = line.split()
        if len(parts) >= 3 and (str(path) == parts[1] or str(path).startswith(
                parts[1].rstrip("/") + "/")) and len(parts[1]) >= len(best):
            best, kind = parts[1], parts[2]
    return kind in ("tmpfs", "ramfs")


def private_memory_dir() -> Path:
    """This run's ``<tmpfs>/verbatim-<uid>/<pid>``: owner-only, removed at exit."""
    from verbatim.scratch import memory_dir

    return memory_dir()


def user_memory_dir() -> Path:
    """``<tmpfs>/verbatim-<uid>``: created 0700, checked to be ours; VaultError if none."""
    for root in _tmpfs_roots():
        if not root.is_dir() or not _is_tmpfs(root):
            continue
        folder = root / f"verbatim-{os.getuid()}"
        try:
            folder.mkdir(mode=0o700, exist_ok=True)
            info = folder.lstat()
        except OSError:
            continue
        if info.st_uid == os.getuid() and not info.st_mode & 0o077 and not folder.is_symlink():
            return folder
    raise VaultError("no private in-memory folder (/dev/shm) for the transcription of an "
                     "encrypted study")
