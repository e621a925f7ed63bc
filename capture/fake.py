"""A fake audio source: replays an array as device blocks, with injectable faults.

For tests and demos (the TUI can record from it without a microphone). In
*virtual* time (default) blocks are delivered as fast as the recorder takes
them and their arrival times are computed, so dropout tests are exact and
fast; with ``realtime=True`` it paces itself like a device.

Faults, keyed by block index:
- ``stalls``: {i: seconds} -- before block i, that much audio is lost (the
  device delivered nothing and the frames are gone), so arrivals jump.
- ``delays``: {i: seconds} -- block i arrives late but nothing is lost; the
  following blocks catch up in a burst (a scheduling hiccup).
- ``overflow_at``: blocks that carry PortAudio's input_overflow flag.
- ``on_block``: called with i before block i is delivered (to pause, mark...).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from capture.source import Deliver, default_clock


def tone(seconds: float, *, rate: int = 48000, channels: int = 1, freq: float = 440.0,
         amplitude: float = 0.5) -> np.ndarray:
    """A sine tone as (frames, channels) float32; channel k is at freq * (k + 1)."""
    t = np.arange(round(seconds * rate)) / rate
    cols = [amplitude * np.sin(2 * np.pi * freq * (k + 1) * t) for k in range(channels)]
    return np.stack(cols, axis=1).astype(np.float32)


class ReplaySource:
    """Replays ``audio`` ((frames, channels) float32) in blocks of ``block`` frames."""

    def __init__(self, audio: np.ndarray, *, rate: int = 48000, block: int = 960,
                 name: str = "replay", stalls: Mapping[int, float] | None = None,
                 delays: Mapping[int, float] | None = None,
                 overflow_at: set[int] | frozenset[int] = frozenset(),
                 on_block: Callable[[int], Any] | None = None, realtime: bool = False,
                 loop: bool = False, start_time: float = 1000.0,
                 clock: Callable[[], float] | None = None) -> None:
        if audio.ndim == 1:
            audio = audio[:, None]
        self.audio = np.ascontiguousarray(audio, dtype=np.float32)
        self.rate = rate
        self.channels = int(self.audio.shape[1])
        self.name = name
        self.block = block
        self.stalls = dict(stalls or {})
        self.delays = dict(delays or {})
        self.overflow_at = set(overflow_at)
        self.on_block = on_block
        self.realtime = realtime
        self.loop = loop
        self.start_time = start_time
        self._clock = clock or default_clock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.finished = threading.Event()
        self.delivered_frames = 0
        self.lost_frames = 0

    def start(self, deliver: Deliver) -> None:
        self._thread = threading.Thread(target=self._run, args=(deliver,), daemon=True,
                                        name="replay-source")
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()

    def _blocks(self) -> Any:
        n = len(self.audio)
        while True:
            for offset in range(0, n - self.block + 1, self.block):
                yield self.audio[offset:offset + self.block]
            if not self.loop:
                return

    def _run(self, deliver: Deliver) -> None:
        t0 = self._clock() if self.realtime else self.start_time
        device_frames = 0  # frames the "device" produced, lost ones included
        held_until = 0.0   # a delayed block holds back the ones behind it (then a burst)
        for i, block in enumerate(self._blocks()):
            if self._stop.is_set():
                break
            lost = round(self.stalls.get(i, 0.0) * self.rate)
            device_frames += lost
            self.lost_frames += lost
            device_frames += len(block)
            due = t0 + device_frames / self.rate
            if i in self.delays:
                held_until = due + self.delays[i]
            due = max(due, held_until)
            if self.on_block is not None:
                self.on_block(i)
                if self._stop.is_set():
                    break
            if self.realtime:
                wait = due - self._clock()
                if wait > 0 and self._stop.wait(wait):
                    break
                arrival = self._clock()
            else:
                arrival = due
            deliver(block.copy(), arrival, i in self.overflow_at)
            self.delivered_frames += len(block)
        self.finished.set()
