"""Peak and RMS levels per channel, for the TUI's meter and the CLI's one-line display."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Below this a level shows as silence; -120 dBFS is under a 24-bit file's noise floor.
FLOOR_DBFS = -120.0


def to_dbfs(amplitude: float) -> float:
    """Full-scale decibels of a linear amplitude (1.0 = 0 dBFS), floored at FLOOR_DBFS."""
    if amplitude <= 10 ** (FLOOR_DBFS / 20):
        return FLOOR_DBFS
    return 20.0 * math.log10(amplitude)


@dataclass(frozen=True)
class Level:
    """Levels of the last ~50-100 ms of audio: linear peak and RMS, one value per channel."""

    peak: tuple[float, ...]
    rms: tuple[float, ...]

    @property
    def peak_dbfs(self) -> tuple[float, ...]:
        return tuple(to_dbfs(p) for p in self.peak)

    @property
    def rms_dbfs(self) -> tuple[float, ...]:
        return tuple(to_dbfs(r) for r in self.rms)

    @property
    def clipping(self) -> bool:
        """True when any channel touched full scale (the input gain is too high)."""
        return any(p >= 0.999 for p in self.peak)


class LevelMeter:
    """Accumulates blocks and emits one Level per interval of audio (10-20 Hz)."""

    def __init__(self, *, rate: int, channels: int, interval: float = 0.066) -> None:
        self._frames_per_level = max(1, int(rate * interval))
        self._channels = channels
        self._reset()

    def _reset(self) -> None:
        self._peak = np.zeros(self._channels, dtype=np.float64)
        self._sumsq = np.zeros(self._channels, dtype=np.float64)
        self._frames = 0

    def add(self, block: np.ndarray) -> Level | None:
        """Feed a (frames, channels) block; returns a Level when an interval is complete."""
        if block.size == 0:
            return None
        data = block.astype(np.float64, copy=False)
        self._peak = np.maximum(self._peak, np.abs(data).max(axis=0))
        self._sumsq += np.einsum("ij,ij->j", data, data)
        self._frames += block.shape[0]
        if self._frames < self._frames_per_level:
            return None
        level = Level(peak=tuple(float(p) for p in self._peak),
                      rms=tuple(float(math.sqrt(s / self._frames)) for s in self._sumsq))
        self._reset()
        return level


def level_of(block: np.ndarray) -> Level:
    """The level of one (frames, channels) block, all at once."""
    data = block.astype(np.float64, copy=False)
    return Level(peak=tuple(float(p) for p in np.abs(data).max(axis=0)),
                 rms=tuple(float(r) for r in np.sqrt((data * data).mean(axis=0))))
