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
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
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


def session_semaphores(sid: int) -> set[str]:
    """The POSIX semaphores (``/dev/shm/sem.mp-*``) the session's processes have mapped.

    Only these are ours: other programs on the machine have their own.
    """
    names = set()
    for pid in session_pids(sid):
        try:
            maps = Path(f"/proc/{pid}/maps").read_text()
        except OSError:
            continue
        names |= set(re.findall(r"/dev/shm/(sem\.mp-\S+)", maps))
    return names


class Env:
    """The environment of every command: this tree, a private home, the test models."""

    def __init__(self, tmp: Path, models: Path) -> None:
        self.vars = {**os.environ, "PYTHONPATH": str(REPO), "VERBATIM_MODELS": str(models),
                     "VERBATIM_CONFIG": str(tmp / "config.toml"),
                     "VERBATIM_DATA": str(tmp / "data"), "XDG_RUNTIME_DIR": str(tmp / "run"),
                     "VERBATIM_NO_VOLUME_WARNING": "1"}
        self.semaphores: set[str] = set()  # held by the last killed command's session
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
                   ready: Callable[[int], bool], delay: float = 0.0,
                   stdout: Path | None = None) -> tuple[int, list[int]]:
        """Start ``verbatim argv``, wait for ``ready(pid)``, SIGKILL it; (exit code, survivors).

        What the command printed before the kill (what the user saw) goes to ``stdout``.
        """
        out = stdout.open("a") if stdout is not None else subprocess.DEVNULL
        child = subprocess.Popen([sys.executable, "-m", "verbatim", *argv],
                                 stdin=subprocess.PIPE, stdout=out,
                                 stderr=subprocess.DEVNULL, text=True, env=self.vars,
                                 start_new_session=True)
        if stdout is not None:
            out.close()  # type: ignore[union-attr]
        assert child.stdin is not None
        child.stdin.write(stdin)
        child.stdin.close()
        deadline = time.monotonic() + 120
        while not ready(child.pid) and child.poll() is None:
            assert time.monotonic() < deadline, f"{argv} never became ready"
            time.sleep(0.01)
        time.sleep(delay)
        with_pid = child.pid
        self.semaphores = session_semaphores(with_pid)
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
def env(tmp_path: Path, models_dir: Path) -> Iterator[Env]:
    yield Env(tmp_path, models_dir)
    from verbatim.vault import agent

    for sock in (tmp_path / "run" / "verbatim").glob("*.sock"):  # key agents the test started
        agent._request(sock, {"op": "lock"})


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
    if work.is_dir():  # (empty folders, e.g. checkpoints/, hold nothing)
        found += [p for p in work.rglob("*") if p.is_file()]
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
    survivors = 0
    held: set[str] = set()
    for delay in (0.0, 1.5):
        _, alive = env.kill_after(argv, ready=worker_started, delay=delay)
        held |= env.semaphores
        survivors += len(alive)
        assert not alive, f"survived a kill at +{delay}s: {alive}"
    left = {name for name in held if (Path("/dev/shm") / name).exists()}
    assert not left, f"semaphores of the killed job left in /dev/shm: {left}"
    done = env.run(*argv)
    # version 1, or 2 where a quiet machine finished the job before the +1.5 s kill
    assert re.search(r"transcript version [12] ", done.stdout), done.stdout
    assert "leaked" not in done.stderr and "Warning" not in done.stderr, done.stderr
    stale = _stale_files(folder)
    assert not stale
    assert _integrity_ok(folder)
    _count("transcribe", kills=2, survivors=survivors, stale=len(stale))


PASS = "first passphrase"
NEW_PASS = "second passphrase"
RECOVERY = re.compile(r"RECOVERY KEY: (AGE-SECRET-KEY-1[0-9A-Z]+)")


def shown_recovery_keys(stdout: Path) -> list[str]:
    return RECOVERY.findall(stdout.read_text()) if stdout.exists() else []


def opens(folder: Path, *, passphrase: str | None = None, recovery: str | None = None) -> bool:
    """Whether this passphrase or recovery key opens the study (vault and database)."""
    from verbatim.vault import VaultError, ops

    try:
        ops.open_vault(folder, passphrase=passphrase, identity_text=recovery)
    except VaultError:
        return False
    return True


def _file_appears(pattern: str, folder: Path) -> Callable[[int], bool]:
    return lambda pid: any(folder.glob(pattern))


def test_killed_encrypt_keeps_every_key_the_user_saw(env: Env, tmp_path: Path,
                                                      clip: Path) -> None:
    folder = _plain_study(env, tmp_path, clip)
    for _ in range(2):
        env.run("--study", str(folder), "interview", "add", "P1", str(clip))
    shown = tmp_path / "shown.txt"
    argv = ["study", "encrypt", str(folder), "--yes"]
    kills = survivors = lost = 0
    # kill as the vault appears (around the key's display), mid-recordings, at the database
    for ready in (_file_appears("vault.json", folder), _file_appears("audio/*.age", folder)):
        if not (folder / "study.sqlite").read_bytes().startswith(b"SQLite format 3"):
            break  # a previous kill came after the database: nothing left to interrupt
        _, alive = env.kill_after(argv, stdin=PASS + "\n", ready=ready, stdout=shown)
        kills += 1
        survivors += len(alive)
        # between kill and re-run: the passphrase (always typed) opens it if a vault exists
        if (folder / "vault.json").exists():
            lost += not opens(folder, passphrase=PASS)
            keys = shown_recovery_keys(shown)
            vault = json.loads((folder / "vault.json").read_text())
            if keys and vault.get("recovery_confirmed", True):
                lost += not opens(folder, recovery=keys[-1])
    vault_now = folder / "vault.json"
    finished = vault_now.exists() and "state" not in json.loads(vault_now.read_text())
    if not finished:  # (a quiet machine can finish before the kill lands: nothing to re-run)
        rerun = env.run(*argv, stdin=PASS + "\n")
        with shown.open("a") as fh:
            fh.write(rerun.stdout)
        assert "opens with" in rerun.stdout
    keys = shown_recovery_keys(shown)
    assert keys, "the user was never shown a recovery key"
    lost += not opens(folder, passphrase=PASS)
    lost += not opens(folder, recovery=keys[-1])
    stale = _stale_files(folder)
    assert not stale and not survivors and not lost, (stale, survivors, lost)
    assert "state" not in json.loads((folder / "vault.json").read_text())
    info = env.run("--study", str(folder), "study", "info")  # the agent holds the keys
    assert "interviews 3" in info.stdout
    _count("encrypt", kills=kills, survivors=survivors, stale=len(stale), keys_lost=lost)


def test_killed_rekey_keeps_old_and_new_keys_until_done(env: Env, tmp_path: Path,
                                                         clip: Path) -> None:
    folder = _plain_study(env, tmp_path, clip)
    shown = tmp_path / "shown.txt"
    first = env.run("study", "encrypt", str(folder), "--yes", stdin=PASS + "\n")
    old_recovery = shown_recovery_keys_text(first.stdout)
    argv = ["--study", str(folder), "study", "rekey", "--yes"]
    kills = survivors = lost = 0
    finished = False  # a quiet machine can finish the rotation before the kill lands
    first_recipient = json.loads((folder / "vault.json").read_text())["recipient"]
    argv_stdin = f"{PASS}\n{NEW_PASS}\n"
    for ready in (lambda pid: "rekeying" in (folder / "vault.json").read_text(),
                  _file_appears(".study.sqlite.rekey", folder)):
        if finished or ("rekeying" not in (folder / "vault.json").read_text() and kills):
            break
        _, alive = env.kill_after(argv, stdin=f"{PASS}\n{NEW_PASS}\n", ready=ready,
                                  stdout=shown)
        kills += 1
        survivors += len(alive)
        vault = json.loads((folder / "vault.json").read_text())
        if vault.get("state") == "rekeying":  # mid-rotation: every key the user has opens it
            lost += not opens(folder, passphrase=PASS)
            lost += not opens(folder, recovery=old_recovery)
            if kills == 1:  # (each passphrase costs a second of scrypt: once is enough)
                lost += not opens(folder, passphrase=NEW_PASS)
            argv_stdin = f"{PASS}\n"  # the re-run needs one passphrase, old or new
        elif vault["recipient"] != first_recipient:
            finished = True  # the new keys are in place and were printed (into ``shown``)
    if not finished:  # (a finished one showed its key before the kill could cut it short)
        said = env.run(*argv, stdin=argv_stdin).stdout
        with shown.open("a") as fh:
            fh.write(said)
        assert "opens with" in said
    keys = shown_recovery_keys(shown)
    assert keys, "the user was never shown the new recovery key"
    lost += not opens(folder, passphrase=NEW_PASS)
    lost += not opens(folder, recovery=keys[-1])
    assert not opens(folder, passphrase=PASS) and not opens(folder, recovery=old_recovery)
    stale = _stale_files(folder)
    assert not stale and not survivors and not lost, (stale, survivors, lost)
    assert "interviews 1" in env.run("--study", str(folder), "study", "info").stdout
    _count("rekey", kills=kills, survivors=survivors, stale=len(stale), keys_lost=lost)


def shown_recovery_keys_text(text: str) -> str:
    keys = RECOVERY.findall(text)
    assert keys
    return str(keys[-1])


def _long_wav(path: Path, seconds: int) -> Path:
    rng = np.random.default_rng(3)
    sf.write(str(path), rng.uniform(-0.1, 0.1, 16000 * seconds).astype("float32"), 16000,
             subtype="PCM_16")
    return path


def test_killed_interview_add_leaves_nothing_after_the_next_command(env: Env, tmp_path: Path,
                                                                    clip: Path) -> None:
    folder = _plain_study(env, tmp_path, clip)
    big = _long_wav(tmp_path / "long.wav", 1200)  # 38 MB: the copy takes a moment
    argv = ["--study", str(folder), "interview", "add", "P1", str(big)]
    kills = survivors = 0
    for delay in (0.0, 0.05):
        _, alive = env.kill_after(argv, ready=_file_appears("audio/.import-*.partial", folder),
                                  delay=delay)
        kills += 1
        survivors += len(alive)
    listed = env.run("--study", str(folder), "interview", "list").stdout  # the next command
    stale = _stale_files(folder)
    assert not stale and not survivors, (stale, survivors)
    added = env.run(*argv).stdout.strip()
    assert added.startswith("P1-") and added not in listed
    verified = env.run("--study", str(folder), "study", "verify")
    assert "all" in verified.stdout and _integrity_ok(folder)
    _count("interview add", kills=kills, survivors=survivors, stale=len(stale))


def _study_with_transcript(tmp_path: Path, clip: Path) -> Path:
    from tests.golden.fixture import synthetic_document
    from verbatim.study import Study

    folder = tmp_path / "study"
    with Study.init(folder) as study:
        study.add_participant("P1", attributes={"profession": "Nurse"})
        study.add_interview("P1", clip)
        study.save_transcript("P1-1", synthetic_document(8000))
    return folder


def _complete_backup(folder: Path) -> bool:
    stamp = folder / "backup.json"
    return stamp.is_file() and json.loads(stamp.read_text()).get("complete") is True


def test_killed_export_and_backup_leave_nothing_that_looks_finished(env: Env, tmp_path: Path,
                                                                    clip: Path) -> None:
    folder = _study_with_transcript(tmp_path, clip)
    out = tmp_path / "out"
    out.mkdir()
    export = ["--study", str(folder), "export", "P1-1", "--format", "docx", "--out",
              str(out / "P1-1.docx")]
    kills = survivors = 0
    for delay in (0.3, 0.8):
        _, alive = env.kill_after(export, ready=lambda pid: True, delay=delay)
        kills += 1
        survivors += len(alive)
    env.run(*export)
    stale_export = sorted(p.name for p in out.iterdir() if p.name != "P1-1.docx")
    assert (out / "P1-1.docx").stat().st_size > 0 and not stale_export
    _count("export", kills=kills, survivors=survivors, stale=len(stale_export))

    backups = tmp_path / "backups"
    backup = ["--study", str(folder), "study", "backup", f"{backups}/"]
    kills = survivors = 0
    for ready in (_file_appears(".*.partial", backups),
                  _file_appears(".*.partial/audio", backups)):
        _, alive = env.kill_after(backup, ready=ready)
        kills += 1
        survivors += len(alive)
        # what looks like a backup is one: a kill that landed after the last rename (a
        # quiet machine is that fast) left a finished backup, never a partial one
        assert all(_complete_backup(p) for p in backups.iterdir() if not p.name.startswith(".")), \
            "a killed backup looks like a backup"
    env.run(*backup)
    made = list(backups.iterdir())
    stale_backup = [p.name for p in made if p.name.startswith(".")]
    assert made and not stale_backup and not survivors
    assert all(_complete_backup(p) for p in made)
    assert "interviews 1" in env.run("--study", str(made[-1]), "study", "info").stdout
    _count("backup", kills=kills, survivors=survivors, stale=len(stale_backup))
