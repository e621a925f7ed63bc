"""A private PulseAudio server with a null sink: a real PortAudio input without a microphone.

The server runs from a temporary folder with its own socket, state and HOME,
so it never meets the user's sound setup, and it is stopped by the code that
started it. Processes that should record from it get ``env()``: PULSE_SERVER
points at the private socket and ALSA_CONFIG_PATH at a configuration whose
default PCM is PulseAudio, so PortAudio's ALSA "default" device records the
null sink's monitor. Nothing is written outside the temporary folder.

Used by the capture integration tests and by bench/recorder.py.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

SINK = "verbatim_null"
MONITOR = f"{SINK}.monitor"

ASOUND_CONF = """\
</usr/share/alsa/alsa.conf>
pcm.!default { type pulse }
ctl.!default { type pulse }
"""


def missing_tools() -> list[str]:
    """What this machine lacks to run a private PulseAudio (empty when all is there)."""
    missing = [tool for tool in ("pulseaudio", "pactl", "paplay") if shutil.which(tool) is None]
    if not Path("/usr/share/alsa/alsa.conf").exists():
        missing.append("alsa (/usr/share/alsa/alsa.conf)")
    plugin_dirs = [Path(p) for p in ("/usr/lib/x86_64-linux-gnu/alsa-lib",
                                     "/usr/lib/aarch64-linux-gnu/alsa-lib", "/usr/lib/alsa-lib",
                                     "/usr/lib64/alsa-lib")]
    if not any((d / "libasound_module_pcm_pulse.so").exists() for d in plugin_dirs):
        missing.append("libasound2-plugins (ALSA's pulse plugin)")
    return missing


class PrivatePulse:
    """Start with ``start()`` (or as a context manager), stop with ``stop()``."""

    def __init__(self, root: Path, *, rate: int = 48000, channels: int = 2) -> None:
        self.root = Path(root)
        self.rate = rate
        self.channels = channels
        self.runtime = self.root / "runtime"
        self.socket = self.runtime / "native"
        self.asound = self.root / "asound.conf"
        self.log = self.root / "pulseaudio.log"
        self._process: subprocess.Popen[bytes] | None = None

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """Environment for a process that should use this server (and only it)."""
        env = dict(os.environ if base is None else base)
        env.update({
            "PULSE_SERVER": f"unix:{self.socket}",
            "PULSE_RUNTIME_PATH": str(self.runtime),
            "PULSE_STATE_PATH": str(self.root / "state"),
            "XDG_RUNTIME_DIR": str(self.runtime),
            "XDG_CONFIG_HOME": str(self.root / "config"),
            "HOME": str(self.root / "home"),  # no ~/.asoundrc or pulse client.conf of the user
            "ALSA_CONFIG_PATH": str(self.asound),
        })
        env.pop("PULSE_COOKIE", None)
        return env

    def start(self, timeout: float = 20.0) -> PrivatePulse:
        for folder in (self.runtime, self.root / "state", self.root / "home",
                       self.root / "config"):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.asound.write_text(ASOUND_CONF)
        command = [
            "pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no",
            "--disable-shm=yes", "--system=no", "--log-target=stderr", "--log-level=error",
            "-L", f"module-native-protocol-unix socket={self.socket} auth-anonymous=1",
            "-L", f"module-null-sink sink_name={SINK} rate={self.rate} "
                  f"channels={self.channels} format=float32le",
        ]
        with open(self.log, "wb") as log:
            self._process = subprocess.Popen(command, env=self.env(), stdout=log,
                                             stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"pulseaudio exited: {self.log.read_text()[-500:]}")
            if self._pactl("info").returncode == 0:
                self._pactl("set-default-source", MONITOR)
                self._pactl("set-default-sink", SINK)
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("pulseaudio did not start in time")

    def _pactl(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(["pactl", *args], env=self.env(), capture_output=True,
                              timeout=10, check=False)

    def play(self, samples: np.ndarray, *, rate: int | None = None) -> subprocess.Popen[bytes]:
        """Play (frames, channels) float32 into the null sink; returns the paplay process."""
        data = np.ascontiguousarray(samples, dtype="<f4")
        channels = 1 if data.ndim == 1 else data.shape[1]
        path = self.root / f"play-{time.monotonic_ns()}.raw"
        path.write_bytes(data.tobytes())
        return subprocess.Popen(
            ["paplay", "--raw", f"--rate={rate or self.rate}", f"--channels={channels}",
             "--format=float32le", f"--device={SINK}", str(path)],
            env=self.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def __enter__(self) -> PrivatePulse:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def running_or_skip(root: Path) -> Iterator[PrivatePulse]:
    """A started server under ``root`` for a test, stopped after it; the test is skipped,
    with the reason, where this machine cannot run one."""
    import pytest

    missing = missing_tools()
    if missing:
        pytest.skip(f"no private PulseAudio possible, missing: {', '.join(missing)}")
    server = PrivatePulse(root)
    try:
        server.start()
    except RuntimeError as err:
        pytest.skip(f"pulseaudio would not start here: {err}")
    yield server
    server.stop()


def sine(seconds: float, freq: float, *, rate: int = 48000, amplitude: float = 0.5,
         channels: int = 1) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    wave = (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.repeat(wave[:, None], channels, axis=1)


def dominant_frequency(samples: np.ndarray, rate: int) -> float:
    """The strongest frequency of a mono signal (Hann window, FFT peak)."""
    window = np.hanning(len(samples))
    spectrum = np.abs(np.fft.rfft(samples * window))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum[1:])) + 1])
