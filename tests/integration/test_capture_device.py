"""The recorder on a real PortAudio device: a private PulseAudio null sink's monitor.

Each recording runs in a child process (``python -m verbatim record`` or a
short script) whose environment points ALSA's default device at the private
server; the tests start and stop that server themselves. Skipped, with the
reason, where pulseaudio or ALSA's pulse plugin is not installed.
"""

from __future__ import annotations

import json
import os
import random
import resource
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from capture.recover import recover
from capture.sidecar import read_sidecar
from tests.integration.pulse import PrivatePulse, dominant_frequency, running_or_skip, sine

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


@pytest.fixture(scope="module")
def pulse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivatePulse]:
    with running_or_skip(tmp_path_factory.mktemp("pulse")) as server:
        yield server


def verbatim(pulse: PrivatePulse, *args: str, timeout: float = 60,
             **popen: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PYTHON, "-m", "verbatim", *args], env=pulse.env(), cwd=REPO,
                          capture_output=True, text=True, timeout=timeout,
                          **popen)  # type: ignore[call-overload]


def test_list_devices_shows_the_pulse_input(pulse: PrivatePulse) -> None:
    out = verbatim(pulse, "record", "--list-devices")
    assert out.returncode == 0, out.stderr
    assert "default" in out.stdout and "(* = default input" in out.stdout
    script = ("from capture.devices import list_input_devices, resolve_device\n"
              "before = list_input_devices()\n"
              "after = list_input_devices(rescan=True)\n"
              "print(len(before), len(after), resolve_device(None).name)")
    rescan = subprocess.run([PYTHON, "-c", script], env=pulse.env(), cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert rescan.returncode == 0, rescan.stderr
    n_before, n_after, default = rescan.stdout.split()
    assert n_before == n_after != "0" and default == "default"


def test_records_a_tone_played_into_the_null_sink(pulse: PrivatePulse, tmp_path: Path) -> None:
    player = pulse.play(sine(20.0, 1000.0, amplitude=0.5, channels=2))
    try:
        out = verbatim(pulse, "record", str(tmp_path / "tone.wav"), "--seconds", "2",
                       "--channels", "2")
    finally:
        player.kill()
        player.wait()
    assert out.returncode == 0, out.stderr
    assert "recorded 2.0 s" in out.stdout
    info = sf.info(tmp_path / "tone.wav")
    assert (info.samplerate, info.channels, info.subtype, info.frames) == (48000, 2, "PCM_24",
                                                                           96000)
    data, rate = sf.read(tmp_path / "tone.wav", always_2d=True)
    loud = np.abs(data[:, 0]) > 0.1
    assert loud.mean() > 0.5, "the tone should fill most of the recording"
    # the loudest half second (a dropout on a busy machine may put silence elsewhere)
    starts = range(0, len(data) - rate // 2 + 1, rate // 8)
    best = max(starts, key=lambda i: float(np.mean(data[i:i + rate // 2, 0] ** 2)))
    for channel in (0, 1):
        window = data[best:best + rate // 2, channel]
        assert dominant_frequency(window, rate) == pytest.approx(1000.0, abs=5)
        rms_dbfs = 20 * np.log10(np.sqrt(np.mean(window**2)))
        assert rms_dbfs == pytest.approx(-9.03, abs=1.0)  # a 0.5 sine at unity volume
    side = read_sidecar(tmp_path / "tone.wav")
    assert side.complete and side.rate == 48000 and side.channels == 2
    assert side.frames == 96000 and side.device == "default"
    assert oct(os.stat(tmp_path / "tone.wav").st_mode & 0o777) == "0o600"


def test_recorder_api_pause_marks_and_levels_on_a_real_device(pulse: PrivatePulse,
                                                               tmp_path: Path) -> None:
    script = textwrap.dedent("""
        import json, sys, time
        from pathlib import Path
        from capture.recorder import Recorder
        rec = Recorder(Path(sys.argv[1]), channels=1)
        rec.start()
        time.sleep(0.8)
        first = rec.mark("this moved me")
        rec.pause(); time.sleep(0.6); paused = rec.status().state; rec.resume()
        time.sleep(0.8)
        level = rec.latest_level()
        summary = rec.stop()
        print(json.dumps({"first": first, "paused": paused, "frames": summary.frames,
                          "peak": level.peak_dbfs[0] if level else None,
                          "pauses": len(summary.pauses), "dropouts": summary.dropouts}))
    """)
    player = pulse.play(sine(20.0, 440.0, amplitude=0.25))
    try:
        out = subprocess.run([PYTHON, "-c", script, str(tmp_path / "api.wav")],
                             env=pulse.env(), cwd=REPO, capture_output=True, text=True,
                             timeout=60)
    finally:
        player.kill()
        player.wait()
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["paused"] == "paused" and result["pauses"] == 1
    assert result["peak"] == pytest.approx(-12.04, abs=1.5)  # 0.25 peak
    side = read_sidecar(tmp_path / "api.wav")
    [pause] = side.pauses
    assert pause.duration == pytest.approx(0.6, abs=0.4)
    [mark] = side.marks
    assert mark.text == "this moved me" and mark.time == pytest.approx(result["first"], abs=1e-3)
    assert pause.at >= mark.time
    # the pause is not in the file: about 1.6 s of the ~2.2 s wall time was recorded
    assert 0.8 < side.duration < 2.4
    assert sf.info(tmp_path / "api.wav").frames == side.frames == result["frames"]


@pytest.mark.parametrize("args, message", [
    (["--device", "99"], "no input device with index 99"),
    (["--device", "no such microphone"], "no input device named 'no such microphone'"),
    (["--rate", "1000000"], "unsupported sample rate 1000000"),
    (["--channels", "3"], "unsupported channel count 3"),
])
def test_bad_device_settings_give_one_line_and_no_file(pulse: PrivatePulse, tmp_path: Path,
                                                       args: list[str], message: str) -> None:
    out = verbatim(pulse, "record", str(tmp_path / "x.wav"), "--seconds", "1", *args)
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [out.stderr.strip()]  # exactly one line
    assert message in out.stderr and out.stderr.startswith("verbatim: ")
    assert list(tmp_path.iterdir()) == []


def test_missing_folder_gives_one_line(pulse: PrivatePulse, tmp_path: Path) -> None:
    out = verbatim(pulse, "record", str(tmp_path / "nowhere" / "x.wav"), "--seconds", "1")
    assert out.returncode == 1
    assert out.stderr.strip() == f"verbatim: folder {tmp_path / 'nowhere'} does not exist"


def _limit_file_size(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_disk_full_stops_cleanly_with_a_valid_file(pulse: PrivatePulse, tmp_path: Path) -> None:
    """RLIMIT_FSIZE in the child: the file cannot grow past 120 kB (~5 s at 8 kHz mono)."""
    limit = 120_000
    out = verbatim(pulse, "record", str(tmp_path / "full.wav"), "--rate", "8000",
                   "--seconds", "60", preexec_fn=lambda: _limit_file_size(limit))
    assert out.returncode == 1, out.stderr
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("verbatim: disk full") and "kept in full.wav" in last
    assert "warning: only 0 minutes of recording fit" in out.stderr  # said before starting
    info = sf.info(tmp_path / "full.wav")
    size = (tmp_path / "full.wav").stat().st_size
    assert size <= limit
    assert info.frames == (size - 44) // 3  # every whole frame on disk is in the header
    assert 4.0 < info.frames / 8000 < 5.1
    data, _ = sf.read(tmp_path / "full.wav")
    assert len(data) == info.frames
    assert not recover(tmp_path / "full.wav").repaired  # already valid, nothing to repair
    side = read_sidecar(tmp_path / "full.wav")
    assert side.stop_reason == "disk full" and side.frames == info.frames


def _wait_for_audio(path: Path, process: subprocess.Popen[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"recorder exited early: {process.stderr.read()}")  # type: ignore[union-attr]
        if path.exists() and path.stat().st_size > 44 + 48000 * 3 // 10:
            return
        time.sleep(0.02)
    raise AssertionError("recorder never started writing audio")


def test_kill_minus_9_loses_at_most_a_second(pulse: PrivatePulse, tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("VERBATIM_KILL_SEED", "5")))
    losses: list[float] = []
    behind: list[float] = []  # audio the header did not cover yet at the kill (before recovery)
    for trial in range(5):
        path = tmp_path / f"kill{trial}.wav"
        process = subprocess.Popen([PYTHON, "-m", "verbatim", "record", str(path)],
                                   env=pulse.env(), cwd=REPO, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        try:
            _wait_for_audio(path, process)
            time.sleep(rng.uniform(0.3, 2.0))
        finally:
            process.send_signal(signal.SIGKILL)
            killed_at = datetime.now().astimezone()
            process.communicate(timeout=30)
        report = recover(path)
        started = datetime.fromisoformat(read_sidecar(path).started_at)
        lost = (killed_at - started).total_seconds() - report.duration
        losses.append(lost)
        behind.append(report.duration - report.header_frames / report.rate)
        assert sf.info(path).frames == report.frames
        assert report.duration > 0.1
    print(f"kill -9: audio lost before the kill (s): {[round(x, 3) for x in losses]}; "
          f"header behind the data (s): {[round(x, 3) for x in behind]}")
    assert max(behind) <= 1.0, f"header older than a second: {behind}"
    assert max(losses) <= 1.0, f"audio lost before the kill (s): {losses}"
    assert min(losses) > -1.0, f"more audio than time passed?: {losses}"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_and_sigterm_stop_cleanly(pulse: PrivatePulse, tmp_path: Path,
                                         signum: int) -> None:
    path = tmp_path / "stop.wav"
    process = subprocess.Popen([PYTHON, "-m", "verbatim", "record", str(path), "--channels", "2"],
                               env=pulse.env(), cwd=REPO, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_audio(path, process)
        time.sleep(0.5)
    finally:
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert stdout.startswith("recorded ") and "stop.wav" in stdout
    assert not recover(path).repaired  # the header was finalised: nothing to repair
    side = read_sidecar(path)
    assert side.complete and side.stop_reason == "stopped"
    assert side.frames == sf.info(path).frames > 0


def _record_around(pulse: PrivatePulse, path: Path, disturb: object) -> tuple[dict, float]:
    """Record with the CLI, call ``disturb(process)`` mid-way, stop with Ctrl-C.

    Returns the sidecar and the wall-clock seconds from its first frame to the stop.
    """
    process = subprocess.Popen([PYTHON, "-m", "verbatim", "record", str(path)],
                               env=pulse.env(), cwd=REPO, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_audio(path, process)
        time.sleep(0.8)
        disturb(process)  # type: ignore[operator]
        time.sleep(1.0)
    finally:
        process.send_signal(signal.SIGINT)
        stopped = datetime.now().astimezone()
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    side = json.loads(path.with_name(path.stem + ".capture.json").read_text())
    wall = (stopped - datetime.fromisoformat(side["started_at"])).total_seconds()
    return side, wall


def test_a_device_that_stops_delivering_becomes_a_gap_and_the_timeline_stays_true(
        pulse: PrivatePulse, tmp_path: Path) -> None:
    """Suspending the null sink starves its monitor: 1.5 s that the device never delivers."""
    player = pulse.play(sine(30.0, 1000.0, amplitude=0.5, channels=2))
    suspended: list[float] = []

    def suspend(_process: object) -> None:
        t0 = time.monotonic()
        assert pulse._pactl("suspend-sink", "verbatim_null", "1").returncode == 0
        time.sleep(1.5)
        assert pulse._pactl("suspend-sink", "verbatim_null", "0").returncode == 0
        suspended.append(time.monotonic() - t0)

    try:
        side, wall = _record_around(pulse, tmp_path / "stall.wav", suspend)
    finally:
        player.kill()
        player.wait()
    [gap] = side["gaps"]
    assert gap["reason"] == "stall"
    assert gap["duration"] == pytest.approx(suspended[0], abs=0.25)
    assert side["duration"] == pytest.approx(wall, abs=0.5)  # silence filled the hole
    data, rate = sf.read(tmp_path / "stall.wav")
    start = round(gap["start"] * rate)
    hole = data[start + rate // 20:start + round(gap["duration"] * rate) - rate // 20]
    assert len(hole) > rate // 2 and np.all(hole == 0)


def test_a_frozen_recorder_process_loses_nothing_and_invents_no_gap(pulse: PrivatePulse,
                                                                      tmp_path: Path) -> None:
    """SIGSTOP for 2 s: the server buffers, the blocks arrive late in a burst, none is lost."""
    def freeze(process: subprocess.Popen[str]) -> None:
        process.send_signal(signal.SIGSTOP)
        time.sleep(2.0)
        process.send_signal(signal.SIGCONT)

    side, wall = _record_around(pulse, tmp_path / "frozen.wav", freeze)
    assert side["gaps"] == []
    assert side["duration"] == pytest.approx(wall, abs=0.5)
