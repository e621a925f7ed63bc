"""Kill anything, lose nothing: SIGKILL the CLI at several points of each long operation.

Each command runs as ``verbatim ...`` in its own session, so every process it
starts (the transcription worker, its helpers, multiprocessing's resource
tracker) can be found by session id. After the kill the battery asserts:
no process of the session survives a couple of seconds, the next command
leaves no stale file behind, the study opens with the keys the user was
shown, and the re-run succeeds. Short audio, tiny.en: the battery's budget
is about a minute.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import soundfile as sf

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
FIGURES: dict[str, dict[str, int]] = {}


def session_pids(sid: int) -> list[int]:
    """Every live process whose session is ``sid`` (zombies excluded)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        state, session = fields[0], int(fields[3])
        if session == sid and state not in ("Z", "X"):
            found.append(int(entry.name))
    return found


def wait_no_survivors(sid: int, seconds: float = 2.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while True:
        alive = session_pids(sid)
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


def shm_semaphores() -> set[str]:
    return {p.name for p in Path("/dev/shm").glob("sem.mp-*")}


class Env:
    """The environment of every command: this tree, a private home, the test models."""

    def __init__(self, tmp: Path, models: Path) -> None:
        self.vars = {**os.environ, "PYTHONPATH": str(REPO), "VERBATIM_MODELS": str(models),
                     "VERBATIM_CONFIG": str(tmp / "config.toml"),
                     "VERBATIM_DATA": str(tmp / "data"), "XDG_RUNTIME_DIR": str(tmp / "run"),
                     "VERBATIM_NO_VOLUME_WARNING": "1"}
        self.vars.pop("VERBATIM_STUDY", None)
        self.vars.pop("VERBATIM_KEY_FILE", None)
        (tmp / "run").mkdir(mode=0o700, exist_ok=True)

    def run(self, *argv: str, stdin: str = "", check: bool = True
            ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([sys.executable, "-m", "verbatim", *argv], input=stdin, text=True,
                              capture_output=True, env=self.vars, timeout=300)
        if check:
            assert done.returncode == 0, (argv, done.stderr)
        return done

    def kill_after(self, argv: list[str], *, stdin: str = "",
                   ready: Callable[[int], bool], delay: float = 0.0) -> tuple[int, list[int]]:
        """Start ``verbatim argv``, wait for ``ready(pid)``, SIGKILL it; (exit code, survivors)."""
        child = subprocess.Popen([sys.executable, "-m", "verbatim", *argv],
                                 stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, text=True, env=self.vars,
                                 start_new_session=True)
        assert child.stdin is not None
        child.stdin.write(stdin)
        child.stdin.close()
        deadline = time.monotonic() + 120
        while not ready(child.pid) and child.poll() is None:
            assert time.monotonic() < deadline, f"{argv} never became ready"
            time.sleep(0.01)
        time.sleep(delay)
        with_pid = child.pid
        if child.poll() is None:
            os.kill(with_pid, signal.SIGKILL)
        code = child.wait()
        return code, wait_no_survivors(with_pid)


def _count(operation: str, kills: int = 0, survivors: int = 0, stale: int = 0,
           keys_lost: int = 0) -> None:
    row = FIGURES.setdefault(operation, {"kills": 0, "survivors": 0, "stale": 0,
                                         "keys_lost": 0})
    row["kills"] += kills
    row["survivors"] += survivors
    row["stale"] += stale
    row["keys_lost"] += keys_lost


@pytest.fixture(scope="module", autouse=True)
def report_figures() -> object:
    yield
    if FIGURES:
        sys.stderr.write("\nkill battery: " + json.dumps(FIGURES, sort_keys=True) + "\n")


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Eleven seconds of real speech (JFK), as a WAV file."""
    source = REPO.parent / "shared" / "audio" / "jfk.flac"
    if not (REPO.parent / "shared" / "audio").is_dir():
        source = Path("/work/shared/audio/jfk.flac")
    if not source.is_file():
        pytest.skip("real speech not found (../shared/audio/jfk.flac)")
    data, rate = sf.read(str(source), dtype="float32")
    path = tmp_path_factory.mktemp("clip") / "clip.wav"
    sf.write(str(path), data, rate)
    return path


@pytest.fixture
def env(tmp_path: Path, models_dir: Path) -> Env:
    return Env(tmp_path, models_dir)


def _plain_study(env: Env, tmp_path: Path, clip: Path) -> Path:
    folder = tmp_path / "study"
    env.run("study", "init", str(folder))
    env.run("--study", str(folder), "participant", "add", "P1")
    env.run("--study", str(folder), "interview", "add", "P1", str(clip))
    return folder


def _stale_files(folder: Path) -> list[str]:
    """Files a finished command should never leave: partial imports, temp and work files."""
    patterns = (".import-*.partial", "*.tmp", "*.rekey", ".*.encrypting", "*-journal")
    found = [p for pattern in patterns for p in folder.rglob(pattern)]
    work = folder / ".work"
    if work.is_dir():
        found += list(work.iterdir())
    return sorted(str(p.relative_to(folder)) for p in found)


def _integrity_ok(folder: Path) -> bool:
    conn = sqlite3.connect(folder / "study.sqlite")
    try:
        return bool(conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok")
    finally:
        conn.close()


def worker_started(pid: int) -> bool:
    """Ready when the command has started its worker: command, tracker and worker run."""
    return len(session_pids(pid)) >= 3


def test_killed_transcribe_leaves_no_worker_and_reruns(env: Env, tmp_path: Path,
                                                        clip: Path) -> None:
    folder = _plain_study(env, tmp_path, clip)
    argv = ["--study", str(folder), "transcribe", "P1-1", "--model", "faster-whisper-tiny.en",
            "--diarize", "none"]
    semaphores_before = shm_semaphores()
    survivors = 0
    for delay in (0.0, 1.5):
        _, alive = env.kill_after(argv, ready=worker_started, delay=delay)
        survivors += len(alive)
        assert not alive, f"survived a kill at +{delay}s: {alive}"
    assert shm_semaphores() <= semaphores_before  # the tracker cleaned what the worker held
    done = env.run(*argv)
    assert "transcript version 1" in done.stdout
    assert "leaked" not in done.stderr and "Warning" not in done.stderr, done.stderr
    stale = _stale_files(folder)
    assert not stale
    assert _integrity_ok(folder)
    _count("transcribe", kills=2, survivors=survivors, stale=len(stale))
