"""Where blocks come from: a PortAudio input stream, or a fake in tests.

A source calls ``deliver(block, arrival, overflow)`` for each block, from its
own thread (PortAudio's callback thread for a real device). ``block`` is a
(frames, channels) float32 array the recorder may keep; ``arrival`` is the
clock reading when it arrived; ``overflow`` is PortAudio's input overflow flag.
The callback does nothing else: no file I/O, no computing, no waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from capture.devices import DeviceInfo, sounddevice_module
from capture.errors import CaptureError

Deliver = Callable[[np.ndarray, float, bool], None]


def _boottime() -> float:
    return time.clock_gettime(time.CLOCK_BOOTTIME)


def default_clock() -> Callable[[], float]:
    """A monotonic clock that keeps counting while the machine sleeps (Linux BOOTTIME).

    CLOCK_MONOTONIC stops during suspend, which would hide the biggest gap of all.
    """
    if hasattr(time, "CLOCK_BOOTTIME"):
        try:
            _boottime()
            return _boottime
        except OSError:
            pass
    return time.monotonic


class AudioSource(Protocol):
    """What the recorder needs from a source of audio blocks."""

    name: str
    rate: int
    channels: int

    def start(self, deliver: Deliver) -> None: ...

    def stop(self) -> None: ...


class SoundDeviceSource:
    """A PortAudio input stream (via sounddevice) on one device."""

    def __init__(self, device: DeviceInfo, *, rate: int, channels: int,
                 block_seconds: float = 0.02, latency: str | float = "high",
                 clock: Callable[[], float] | None = None) -> None:
        self.device = device
        self.name = device.name
        self.rate = rate
        self.channels = channels
        self.blocksize = max(64, int(rate * block_seconds))
        self.latency = latency
        self._clock = clock or default_clock()
        self._stream: Any = None

    def start(self, deliver: Deliver) -> None:
        sd = sounddevice_module()
        clock = self._clock

        def callback(indata: np.ndarray, frames: int, _time: Any, status: Any) -> None:
            deliver(indata.copy(), clock(), bool(status.input_overflow))

        try:
            self._stream = sd.InputStream(device=self.device.index, channels=self.channels,
                                          samplerate=self.rate, dtype="float32",
                                          blocksize=self.blocksize, latency=self.latency,
                                          callback=callback)
            self._stream.start()
        except Exception as err:
            self.stop()
            text = " ".join(str(err).split())
            raise CaptureError(f"cannot open input device {self.name!r} at {self.rate} Hz, "
                               f"{self.channels} channel(s): {text}") from None

    @property
    def latency_seconds(self) -> float | None:
        return float(self._stream.latency) if self._stream is not None else None

    def stop(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        try:
            stream.stop()
        finally:
            stream.close()
