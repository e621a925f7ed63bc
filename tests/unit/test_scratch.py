"""Scratch folders: removed at exit, a dead run's swept at the next start, a live run's kept."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from verbatim import scratch

REPO = Path(__file__).resolve().parents[2]


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture
def tmp_base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(scratch.BASE_ENV, str(tmp_path))
    return tmp_path


def test_sweep_removes_dead_runs_only(tmp_base: Path) -> None:
    uid = os.getuid()
    dead = tmp_base / f"verbatim-{uid}-{_dead_pid()}-abc123"
    live = tmp_base / f"verbatim-{uid}-{os.getppid()}-def456"
    other = tmp_base / f"verbatim-{uid + 1}-{_dead_pid()}-xyz"  # another user's name
    unrelated = tmp_base / "pytest-of-someone"
    for folder in (dead, live, other, unrelated):
        folder.mkdir()
        (folder / "words.json").write_text("plaintext")
    assert dead in scratch.sweep()
    assert not dead.exists()
    assert live.exists() and other.exists() and unrelated.exists()


def test_a_run_cleans_up_at_exit_and_workers_share_its_folders(tmp_base: Path) -> None:
    code = textwrap.dedent("""
        import multiprocessing, os, sys, tempfile
        from verbatim import scratch

        def child(q):
            scratch.enter()
            q.put((tempfile.gettempdir(), str(scratch.memory_dir())))

        if __name__ == "__main__":
            temp = scratch.enter()
            (temp / "spill.bin").write_bytes(b"x")
            memory = scratch.memory_dir()
            (memory / "P1-1.json").write_text("{}")
            ctx = multiprocessing.get_context("spawn")
            q = ctx.Queue()
            p = ctx.Process(target=child, args=(q,))
            p.start()
            got = q.get(timeout=60)
            p.join()
            print(temp, memory, *got)
    """)
    script = tmp_base / "run.py"
    script.write_text(code)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop(scratch.OWNER_ENV, None)
    out = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True,
                         timeout=120, check=True).stdout.split()
    temp, memory, child_temp, child_memory = map(Path, out)
    assert temp.parent == tmp_base and temp.name.startswith(f"verbatim-{os.getuid()}-")
    assert (child_temp, child_memory) == (temp, memory)  # the worker used its parent's
    assert not temp.exists() and not memory.exists()  # removed at exit
