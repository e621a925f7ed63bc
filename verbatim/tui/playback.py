"""Play a recording from any moment at 50–200 % speed, in a thread of its own.

The editor asks "play from 63.2 s at 80 %" and polls ``position()`` to move
its cursor with the voice. Audio is read from the file in half-second blocks
(a 2-hour recording is never loaded whole), mixed to mono and, for a speed
other than 100 %, time-stretched (pitch kept, Rubber Band) or, in ``tape``
mode, resampled so slower is lower; see ``verbatim.tui.stretch``. Output goes
to the device in pieces of a quarter second at most, so pause is immediate
even at 50 %.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

BLOCK_SECONDS = 0.5  # small enough that pause and speed changes feel immediate
MIN_SPEED, MAX_SPEED = 0.5, 2.0
WRITE_SECONDS = 0.25  # the longest piece handed to the device between checks for pause
RESUME_BACK_SECONDS = 2.0  # the transcriber's habit: hear the last words again on resume


class Output(Protocol):
    """Where samples go: a sounddevice stream, or a fake in tests."""

    def write(self, block: np.ndarray) -> None: ...
    def close(self) -> None: ...


OutputFactory = Callable[[int], Output]


class NoOutputDevice(Exception):
    """No sound output to play through; ``str()`` says so in plain words."""


def describe_output_error(exc: Exception) -> str:
    """PortAudio's "Error querying device -1" as a user reads it."""
    text = str(exc)
    if "-1" in text or "querying device" in text or "no default" in text.lower():
        return ("no sound output device found (are speakers or headphones connected?); "
                "the transcript can still be edited")
    return f"cannot play through the sound device: {text.splitlines()[0] if text else exc}"


class _SoundDeviceOutput:
    def __init__(self, rate: int) -> None:
        import sounddevice as sd

        try:
            self._stream = sd.OutputStream(samplerate=rate, channels=1, dtype="float32")
            self._stream.start()
        except sd.PortAudioError as exc:
            raise NoOutputDevice(describe_output_error(exc)) from None

    def write(self, block: np.ndarray) -> None:
        self._stream.write(np.ascontiguousarray(block, dtype=np.float32).reshape(-1, 1))

    def close(self) -> None:
        self._stream.stop()
        self._stream.close()


class Player:
    """One recording's player: play(start, speed), pause() -> position, position()."""

    def __init__(self, path: Path, *, output: OutputFactory | None = None,
                 mode: str = "stretch") -> None:
        import soundfile as sf

        from verbatim.tui.stretch import MODES

        if mode not in MODES:
            raise ValueError(f"playback must be one of {', '.join(MODES)}, not {mode!r}")
        self.mode = mode
        self.path = Path(path)
        info = sf.info(str(self.path))
        self.rate = int(info.samplerate)
        self.duration = float(info.frames) / self.rate
        self._output_factory = output or _SoundDeviceOutput
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._position = 0.0
        self._lock = threading.Lock()
        self.error: str | None = None
        """The last playback failure in one line (no output device ...), for the UI."""

    @property
    def playing(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def position(self) -> float:
        with self._lock:
            return self._position

    def play(self, start: float, *, speed: float = 1.0) -> None:
        """Start playing at ``start`` seconds (stops any playback first)."""
        self.pause()
        speed = min(max(speed, MIN_SPEED), MAX_SPEED)
        start = min(max(start, 0.0), self.duration)
        with self._lock:
            self._position = start
        self.error = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(start, speed, self._stop),
                                        name="verbatim-playback", daemon=True)
        self._thread.start()

    def pause(self) -> float:
        """Stop playing; returns where it stopped."""
        thread = self._thread
        if thread is not None:
            self._stop.set()
            thread.join(timeout=2.0)
            self._thread = None
        return self.position()

    def close(self) -> None:
        self.pause()

    def _run(self, start: float, speed: float, stop: threading.Event) -> None:
        import soundfile as sf

        from verbatim.tui.stretch import speeder

        output: Any = None
        try:
            output = self._output_factory(self.rate)
            convert = speeder(self.rate, speed, self.mode)
            block = int(self.rate * BLOCK_SECONDS)
            piece = max(1, int(self.rate * WRITE_SECONDS))
            played = 0  # output samples written; each stands for `speed` input samples
            with sf.SoundFile(str(self.path)) as fh:
                fh.seek(int(start * self.rate))
                while not stop.is_set():
                    data = fh.read(block, dtype="float32", always_2d=True)
                    last = len(data) < block
                    mono = data.mean(axis=1) if len(data) else np.zeros(0, np.float32)
                    out = convert.feed(mono, last=last)
                    for i in range(0, len(out), piece):
                        if stop.is_set():
                            break
                        output.write(out[i:i + piece])
                        played += len(out[i:i + piece])
                        with self._lock:
                            self._position = min(start + played * speed / self.rate,
                                                 self.duration)
                    if last:
                        if not stop.is_set():
                            with self._lock:
                                self._position = self.duration
                        break
        except NoOutputDevice as exc:
            self.error = str(exc)
        except Exception as exc:  # an unreadable file: tell the UI, never crash it
            self.error = f"{type(exc).__name__}: {exc}".splitlines()[0]
        finally:
            if output is not None:
                with contextlib.suppress(Exception):
                    output.close()


class ClockOutput:
    """An output that takes real time but makes no sound (tests, machines with no speaker)."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.samples = 0

    def write(self, block: np.ndarray) -> None:
        self.samples += len(block)
        time.sleep(len(block) / self.rate)

    def close(self) -> None:
        pass
