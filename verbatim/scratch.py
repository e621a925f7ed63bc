"""Scratch folders of one run of the program, removed at exit; a crash's leftovers swept at start.

Two kinds, both owner-only and named by the process that made them:

- **temp**: ``<tmp>/verbatim-<uid>-<pid>-<random>/``. ``enter()`` points
  ``TMPDIR`` (and :mod:`tempfile`) at it, so every temporary file of ours or of
  a library (torch's compile cache, a decoder's spill file) lands there, in
  worker processes too (they inherit the environment).
- **memory**: ``/dev/shm/verbatim-<uid>/<pid>/`` (see ``vault.memdir``), for
  plaintext that must never reach a disk: the transcription result of an
  encrypted study, a joined encrypted recording.

At normal exit both are removed (``atexit``). A ``kill -9``, a power cut or an
out-of-memory kill skips that, so every start first sweeps this user's
folders whose process is no longer alive (by pid). Folders of live processes,
another user's, and anything not named this way are never touched.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import tempfile
from pathlib import Path

# The pid of the process whose scratch folders this process (or its worker) uses.
OWNER_ENV = "VERBATIM_SCRATCH_OWNER"
# The temp folder as it was before enter() redirected TMPDIR (for sweeps in workers).
BASE_ENV = "VERBATIM_TMP_BASE"

_state: dict[str, Path] = {}


def _uid() -> int:
    return os.getuid()


def _temp_pattern() -> re.Pattern[str]:
    return re.compile(rf"^verbatim-{_uid()}-(\d+)-[A-Za-z0-9_]+$")


def alive(pid: int) -> bool:
    """Whether a process with this pid exists (a zombie counts as gone)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def temp_base() -> Path:
    """The system temp folder (before this program redirected TMPDIR)."""
    return Path(os.environ.get(BASE_ENV) or tempfile.gettempdir())


def _ours(path: Path) -> bool:
    try:
        info = path.lstat()
    except OSError:
        return False
    return info.st_uid == _uid() and not path.is_symlink() and path.is_dir()


def sweep() -> list[Path]:
    """Remove this user's scratch folders whose process is gone; returns what was removed."""
    removed: list[Path] = []
    pattern = _temp_pattern()
    candidates: list[tuple[Path, int]] = []
    with contextlib.suppress(OSError):
        for entry in temp_base().iterdir():
            match = pattern.match(entry.name)
            if match:
                candidates.append((entry, int(match.group(1))))
    memory = _memory_base()
    if memory is not None:
        with contextlib.suppress(OSError):
            candidates += [(entry, int(entry.name)) for entry in memory.iterdir()
                           if entry.name.isdigit()]
    for folder, pid in candidates:
        if pid != os.getpid() and not alive(pid) and _ours(folder):
            shutil.rmtree(folder, ignore_errors=True)
            if not folder.exists():
                removed.append(folder)
    return removed


def _owner() -> int:
    try:
        return int(os.environ.get(OWNER_ENV, ""))
    except ValueError:
        return 0


def enter() -> Path:
    """Sweep a crash's leftovers, then give this run its own temp folder (TMPDIR).

    A worker process started by a run that already entered reuses its parent's
    folders (it inherits TMPDIR and the owner pid), and neither sweeps nor removes.
    """
    if "temp" in _state:
        return _state["temp"]
    owner = _owner()
    if owner and owner != os.getpid() and alive(owner):
        return Path(tempfile.gettempdir())
    os.environ[BASE_ENV] = str(temp_base())
    sweep()
    folder = Path(tempfile.mkdtemp(prefix=f"verbatim-{_uid()}-{os.getpid()}-",
                                   dir=temp_base()))
    _state["temp"] = folder
    os.environ["TMPDIR"] = str(folder)
    os.environ[OWNER_ENV] = str(os.getpid())
    tempfile.tempdir = None  # recomputed from TMPDIR on next use
    atexit.register(leave)
    return folder


def leave() -> None:
    """Remove this run's temp and memory folders (at exit; safe to call twice)."""
    for key in ("temp", "memory"):
        folder = _state.pop(key, None)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    base = os.environ.get(BASE_ENV)
    if base and os.environ.get("TMPDIR", "").startswith(base) and \
            os.environ.get(OWNER_ENV) == str(os.getpid()):
        os.environ["TMPDIR"] = base
        os.environ.pop(OWNER_ENV, None)
        tempfile.tempdir = None


def _memory_base() -> Path | None:
    from verbatim.vault.errors import VaultError
    from verbatim.vault.memdir import user_memory_dir

    try:
        return user_memory_dir()
    except VaultError:
        return None


def memory_dir() -> Path:
    """This run's private in-memory folder (``/dev/shm/verbatim-<uid>/<pid>``), made on first use.

    VaultError when the machine has no private tmpfs. Removed by ``leave()`` at exit.
    """
    folder = _state.get("memory")
    if folder is not None and folder.is_dir():
        return folder
    from verbatim.vault.memdir import user_memory_dir

    owner = _owner()
    pid = owner if owner and alive(owner) else os.getpid()
    folder = user_memory_dir() / str(pid)
    folder.mkdir(mode=0o700, exist_ok=True)
    if pid == os.getpid():
        _state["memory"] = folder
        if "temp" not in _state:  # a library user that never called enter()
            atexit.register(leave)
    return folder
