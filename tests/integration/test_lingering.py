"""Nothing lingers: a kill -9 mid-job, then the next start, leaves no plaintext anywhere.

An encrypted study's transcription (twice, at two moments) and a batch are
killed (the command and its workers, as a power cut or the out-of-memory killer
would); then any
``verbatim`` command starts and sweeps. Byte scans of the study folder, the
temp folder and this user's in-memory folder look for the recording's
plaintext (a block of its samples, its WAV header) and for the run's own
folders. A second case kills a run that holds plaintext in both of its scratch
folders, so the sweep is shown to have something to remove.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from verbatim.vault.memdir import user_memory_dir

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
MARKER = b"plaintext-%d-" % os.getpid() + b"thinking-about-my-mother"


def _files(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in root.rglob("*")
            if p.is_file() and not p.is_symlink()]


def _holding(needles: list[bytes], *roots: Path) -> list[str]:
    found = []
    for path in _files(*roots):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        found += [f"{path} holds {needle[:16]!r}..." for needle in needles if needle in data]
    return found


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERBATIM_SCRATCH")}
    (tmp_path / "tmp").mkdir(exist_ok=True)
    env.update(PYTHONPATH=str(REPO), TMPDIR=str(tmp_path / "tmp"),
               VERBATIM_DATA=str(tmp_path / "data"), PYTHONWARNINGS="ignore", **extra)
    env.pop("VERBATIM_TMP_BASE", None)
    return env


def _verbatim(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "verbatim", *args], env=env, cwd=REPO,
                          text=True, capture_output=True, timeout=120, check=False)


def _run_folders(pid: int, tmp: Path) -> list[Path]:
    memory = user_memory_dir() / str(pid)
    return [memory, *tmp.glob(f"verbatim-{os.getuid()}-{pid}-*")]


HOLDER = r"""
import sys, tempfile, time
from verbatim import scratch
temp = scratch.enter()
marker = sys.argv[1].encode()
(scratch.memory_dir() / "P1-1.json").write_bytes(b'{"words": "' + marker + b'"}')
spill = tempfile.NamedTemporaryFile(delete=False)  # a library's temp file: lands in ours
spill.write(marker)
spill.flush()
print("ready", flush=True)
time.sleep(600)
"""


def test_kill_9_of_a_run_holding_plaintext_then_next_start_sweeps(tmp_path: Path) -> None:
    env = _env(tmp_path)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, MARKER.decode()], env=env,
                              cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
    before = _run_folders(holder.pid, tmp_path / "tmp")
    assert all(folder.exists() for folder in before) and len(before) == 2
    assert _holding([MARKER], *before)  # the plaintext is really there before the kill
    holder.kill()
    holder.wait()
    holder.stdout.close()
    assert _holding([MARKER], *before)  # and a kill -9 leaves it
    started = _verbatim(env, "--version")  # the next start of any command
    assert started.returncode == 0, started.stderr
    assert not any(folder.exists() for folder in before)
    assert not _holding([MARKER], tmp_path / "tmp", user_memory_dir())


@pytest.fixture
def encrypted(tmp_path: Path, vault_runtime: Path, models_dir: Path,
              faster_whisper_tiny: Path) -> tuple[dict[str, str], Path, Path]:
    """An encrypted study (team key file) with a 30 s two-channel recording; env, study, WAV.

    Real speech (JFK, looped), so the job has words to decode: a kill a second into it
    lands while it still runs even on a quiet machine (noise has no speech, and its
    job ended inside the second).
    """
    from tests.fixtures.real_voices import AUDIO

    speech, rate = sf.read(str(AUDIO / "jfk.flac"), dtype="float32")
    looped = np.resize(speech if speech.ndim == 1 else speech[:, 0], 30 * rate)
    audio = tmp_path / "P1-1.wav"
    sf.write(str(audio), np.stack([looped, looped[::-1]], axis=1), rate, subtype="PCM_16")
    key, study = tmp_path / "team.key", tmp_path / "study"
    env = _env(tmp_path, VERBATIM_KEY_FILE=str(key), VERBATIM_MODELS=str(models_dir),
               VERBATIM_STUDY=str(study), XDG_RUNTIME_DIR=str(vault_runtime))
    for args in (("study", "init", str(study), "--encrypt", "--key-file", str(key)),
                 ("participant", "add", "P1"), ("interview", "add", "P1", str(audio))):
        done = _verbatim(env, *args)
        assert done.returncode == 0, (args, done.stderr)
    return env, study, audio


KILLS = [
    ("transcribe", ("transcribe", "P1-1", "--diarize", "none"), 0.0),
    ("transcribe", ("transcribe", "P1-1", "--diarize", "none"), 1.0),
    ("batch", ("batch", "P1-1", "--local", "1", "--diarize", "none"), 1.0),
]


@pytest.mark.parametrize(("job", "args", "delay"), KILLS,
                         ids=[f"{job}-after-{delay}s" for job, _, delay in KILLS])
def test_kill_9_mid_job_in_an_encrypted_study(
        encrypted: tuple[dict[str, str], Path, Path], tmp_path: Path, job: str,
        args: tuple[str, ...], delay: float) -> None:
    env, study, audio = encrypted
    raw = audio.read_bytes()
    needles = [raw[44 + 40_000:44 + 44_096], raw[:36]]  # samples, and the plain WAV header
    run = subprocess.Popen([sys.executable, "-m", "verbatim", *args], env=env, cwd=REPO,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           start_new_session=True)
    started = user_memory_dir() / str(run.pid) if job == "transcribe" else None
    deadline = time.monotonic() + 120
    while run.poll() is None and time.monotonic() < deadline:
        # transcribe: the job has opened the study and made its in-memory folder;
        # batch: the run has made its temp folder (then the delay reaches the worker)
        if (started.exists() if started else _run_folders(run.pid, tmp_path / "tmp")[1:]):
            break
        time.sleep(0.05)
    assert run.poll() is None, f"{job} ended before it could be killed"
    time.sleep(delay)
    os.killpg(run.pid, signal.SIGKILL)  # the command and its workers at once
    run.wait()
    assert any(f.exists() for f in _run_folders(run.pid, tmp_path / "tmp"))  # it left some
    after = _verbatim(env, "study", "info")  # the next start
    assert after.returncode == 0, after.stderr
    leftovers = [str(f) for f in _run_folders(run.pid, tmp_path / "tmp") if f.exists()]
    assert not leftovers
    assert not _holding(needles, study, tmp_path / "tmp", user_memory_dir())
