"""Nothing leaves the machine, proven at the operating-system level (tests/netwatch.py).

Every job a user runs is traced with ``strace -f`` (threads, worker processes
and native libraries included): record, transcribe with each engine and each
diariser, lock and cite, export, pack, and the app's start-up with a
transcription from it. Any connect/sendto/sendmsg/sendmmsg to a host other than
loopback fails the test, and DNS queries are named. The children get none of
the privacy settings the test process has: the program must set them itself.

The same runs use a throw-away HOME, TMPDIR and XDG folders; afterwards those
must be empty: no file of ours or our libraries' (onnxruntime's
``~/.cache/Microsoft/...`` device id and database, torch or Hugging Face
caches, ...) may land outside the study, the data folder and the model store.

The recording is the real 5 s two-voice stereo clip (one voice per channel) and
tiny.en, so the five transcriptions stay short.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests import netwatch
from tests.integration.pulse import PrivatePulse, missing_tools
from transcribe.privacy import PRIVACY_ENV

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]

APP_SCRIPT = r"""
import asyncio, sys, time
from pathlib import Path
from verbatim.config import load_config
from verbatim.study import Study
from verbatim.tui.app import VerbatimApp

async def main() -> None:
    study = Study.open(Path(sys.argv[1]))
    app = VerbatimApp(load_config(), study=study)  # the real job runner and pipeline
    async with app.run_test(size=(80, 24)) as pilot:
        while getattr(app.screen, "loads", 1) < 1:  # the home reads the study in a worker
            await pilot.pause(0.02)
        await pilot.press("tab", "t", "ctrl+o")
        deadline = time.monotonic() + 240
        while (not app.jobs or app.jobs[1].state == "running") and time.monotonic() < deadline:
            await pilot.pause(0.2)
        print("job", app.jobs[1].state if app.jobs else "none", app.jobs[1].error)
    study.close()

asyncio.run(main())
"""


@dataclass
class World:
    """The throw-away folders and environment every traced job shares."""

    root: Path
    env: dict[str, str]
    study: Path
    clip: Path
    ledger: dict[str, netwatch.Traced] = field(default_factory=dict)

    @property
    def outside(self) -> list[Path]:
        """The folders in which nothing may appear: HOME, TMPDIR and the XDG ones."""
        return [self.root / name for name in ("home", "tmp", "xdg-cache", "xdg-config",
                                               "xdg-data")]

    def run(self, job: str, *args: str, script: str | None = None,
            env: dict[str, str] | None = None, timeout: float = 300) -> netwatch.Traced:
        argv = [sys.executable, "-c", script, *args] if script else [
            sys.executable, "-m", "verbatim", *args]
        result = netwatch.traced(argv, env=env or self.env, cwd=self.root, timeout=timeout,
                                 log=self.root / "traces" / (re.sub(r"\W+", "-", job) + ".strace"))
        self.ledger[job] = result
        assert result.returncode == 0, f"{job}: {result.stderr[-2000:]}"
        return result


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, models_dir: Path,
          faster_whisper_tiny: Path, whisper_tiny: Path, ge2e_encoder: Path) -> Iterator[World]:
    why = netwatch.available()
    if why:
        pytest.skip(why)
    clip = _shared_audio() / "stereo_diarization.wav"
    if not clip.exists():
        pytest.skip(f"{clip} not found (set VERBATIM_TEST_AUDIO to the shared/audio folder)")
    from tests.fixtures.pyannote_pipeline import build_pipeline_folder

    pipeline = build_pipeline_folder(layout="community-1")
    root = tmp_path_factory.mktemp("privacy-os")
    for name in ("home", "tmp", "xdg-cache", "xdg-config", "xdg-data", "xdg-runtime", "data",
                 "traces"):
        (root / name).mkdir(mode=0o700)
    (root / "config.toml").write_text(
        f'[diarization]\npyannote_pipeline = "{pipeline}"\n', encoding="utf-8")
    env = {key: value for key, value in os.environ.items()
           if key not in PRIVACY_ENV and not key.startswith(("XDG_", "VERBATIM_"))}
    env.update(PYTHONPATH=str(REPO), HOME=str(root / "home"), TMPDIR=str(root / "tmp"),
               XDG_CACHE_HOME=str(root / "xdg-cache"), XDG_CONFIG_HOME=str(root / "xdg-config"),
               XDG_DATA_HOME=str(root / "xdg-data"), XDG_RUNTIME_DIR=str(root / "xdg-runtime"),
               VERBATIM_DATA=str(root / "data"), VERBATIM_CONFIG=str(root / "config.toml"),
               VERBATIM_MODELS=str(models_dir), PYTHONWARNINGS="ignore")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    (root / "batch-in").mkdir()
    shutil.copy(clip, root / "batch-in" / clip.name)
    (root / "batch").mkdir()
    yield World(root=root, env=env, study=root / "study", clip=clip)


def _shared_audio() -> Path:
    """The real speech clips: $VERBATIM_TEST_AUDIO, else shared/audio beside the models."""
    if os.environ.get("VERBATIM_TEST_AUDIO"):
        return Path(os.environ["VERBATIM_TEST_AUDIO"])
    candidates = [REPO.parent / "shared" / "audio", REPO.parents[1] / "shared" / "audio"]
    if os.environ.get("VERBATIM_TEST_MODELS"):
        candidates.insert(0, Path(os.environ["VERBATIM_TEST_MODELS"]).parent / "audio")
    return next((c for c in candidates if c.is_dir()), candidates[-1])


def _assert_no_leaks(world: World, *jobs: str) -> None:
    leaks = [f"{job}: {leak}" for job in jobs for leak in world.ledger[job].leaks]
    assert not leaks, "traffic off the machine:\n" + "\n".join(leaks)


def test_study_set_up_sends_nothing(world: World) -> None:
    world.run("study init", "study", "init", str(world.study), "--name", "privacy")
    world.env["VERBATIM_STUDY"] = str(world.study)
    world.run("participant add", "participant", "add", "P1", "--attr",
              "profession=Social Worker")
    world.run("interview add", "interview", "add", "P1", str(world.clip))
    _assert_no_leaks(world, "study init", "participant add", "interview add")


def test_transcribe_with_each_engine_and_diariser_and_from_the_app(world: World) -> None:
    """Four transcription jobs side by side: a batch of a folder, two CLI transcriptions and the
    app, each with its worker processes.

    The app's start-up and its background job (faster-whisper, embeddings) run in
    one traced process; it prints the job's final state.
    """
    jobs: dict[str, tuple[str, ...]] = {
        "batch of a folder, faster-whisper/none": (
            "batch", "--folder", str(world.root / "batch-in"), "--out", str(world.root / "batch"),
            "--local", "1", "--diarize", "none"),
        "transcribe faster-whisper/pyannote": ("transcribe", str(world.clip), "--out",
                                               str(world.root / "pyannote.json"),
                                               "--diarize", "pyannote"),
        "transcribe whisper/channels": ("transcribe", "P1-1", "--engine", "whisper",
                                        "--diarize", "channels"),
    }
    app_job = "app + transcribe faster-whisper/embedding"
    with ThreadPoolExecutor(len(jobs) + 1) as pool:
        app = pool.submit(world.run, app_job, str(world.study), script=APP_SCRIPT)
        for future in [pool.submit(world.run, job, *args) for job, args in jobs.items()]:
            future.result()
        assert app.result().stdout.split()[:2] == ["job", "done"], app.result().stdout
    _assert_no_leaks(world, *jobs, app_job)


def test_lock_cite_export_and_pack(world: World) -> None:
    world.run("lock", "lock", "P1-1")
    world.run("extract add", "extract", "add", "P1-1", "--lines", "1-2")
    world.run("export docx", "export", "P1-1", "--format", "docx", "--out",
              str(world.root / "P1-1.docx"))
    world.run("export qdpx (file)", "export", str(world.root / "pyannote.json"), "--format",
              "qdpx", "--out", str(world.root / "none.qdpx"))
    world.run("pack", "pack", "P1", "--out", str(world.root / "pack"))
    _assert_no_leaks(world, "lock", "extract add", "export docx", "export qdpx (file)", "pack")


def test_record_from_a_real_portaudio_device(world: World) -> None:
    missing = missing_tools()
    if missing:
        pytest.skip("no private PulseAudio: " + ", ".join(missing))
    with PrivatePulse(world.root / "pulse") as pulse:
        world.run("record", "record", str(world.root / "rec.wav"), "--seconds", "1",
                  env=pulse.env(world.env), timeout=60)
    _assert_no_leaks(world, "record")


def test_nothing_written_outside_the_study_data_and_model_store(world: World) -> None:
    """HOME, TMPDIR and the XDG folders stay empty after every job above."""
    assert len(world.ledger) >= 10, "run the whole module: the jobs above fill the ledger"
    stray = [str(p.relative_to(world.root)) for folder in world.outside
             for p in folder.rglob("*")]
    calls = sum(t.calls for t in world.ledger.values())
    leaks = sum(len(t.leaks) for t in world.ledger.values())
    print(f"\nOS-level privacy: {len(world.ledger)} jobs traced, {calls} network system calls "
          f"seen, {leaks} off the machine, {sum(len(t.dns_queries) for t in world.ledger.values())}"
          f" DNS queries, {len(stray)} stray files")
    assert not stray, f"files written outside the study, data folder and model store: {stray}"


def test_the_trace_catches_a_native_dns_lookup(tmp_path: Path) -> None:
    """The watcher itself: a lookup made by libc (as onnxruntime's is) is caught and named."""
    why = netwatch.available()
    if why:
        pytest.skip(why)
    code = ("import socket\ntry:\n    socket.getaddrinfo('telemetry.invalid', 443)\n"
            "except OSError:\n    pass\n")
    result = netwatch.traced([sys.executable, "-c", code], timeout=60)
    resolver = _resolver()
    if resolver is None or netwatch._loopback(resolver):
        pytest.skip("this machine's resolver is on loopback: a lookup never leaves it")
    assert "telemetry.invalid" in result.dns_queries, result.leaks


def _resolver() -> str | None:
    try:
        for line in Path("/etc/resolv.conf").read_text().splitlines():
            if line.startswith("nameserver"):
                return line.split()[1]
    except OSError:
        return None
    return None


def test_parse_reads_strace_lines() -> None:
    trace = (
        '7 connect(3<UDP:[1]>, {sa_family=AF_INET, sin_port=htons(53), '
        'sin_addr=inet_addr("10.0.0.53")}, 16) = 0\n'
        '7 sendto(3<UDP:[10.0.0.2:4->10.0.0.53:53]>, "\\303u\\1\\0\\0\\1\\0\\0\\0\\0\\0\\0'
        '\\6mobile\\6events\\4data\\tmicrosoft\\3com\\0\\0\\34\\0\\1", 50, 0, NULL, 0) = 50\n'
        '8 connect(4<TCP:[2]>, {sa_family=AF_INET6, sin6_port=htons(80), sin6_flowinfo=htonl(0),'
        ' inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0\n'
        '9 connect(5<UNIX-STREAM:[3]>, {sa_family=AF_UNIX, sun_path="/run/x"}, 110) = 0\n')
    leaks, calls = netwatch.parse(trace)
    assert calls == 4
    assert [str(leak) for leak in leaks] == [
        "pid 7 connect to 10.0.0.53:53",
        "pid 7 sendto to 10.0.0.53:53 DNS query for mobile.events.data.microsoft.com"]
