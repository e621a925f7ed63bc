"""A level strip of a passage: loudness in Unicode blocks, and who speaks when.

Two rows of equal width, drawn under the editor's current line::

    ▁▃▆▇▅▂    ▂▅▇▆▃▁   ▃▅▆
    11111111  ×××2222  222

The top row is the loudness of each slice of the recording (RMS in dBFS
mapped from -60 dB to 0 dB onto eight blocks; below -60 dB a space, so
silences show as gaps). The bottom row says whose words fall in each slice:
the speaker's number, '×' where two speakers' words overlap, nothing in a
gap. Only the passage is read from the file, so a long recording costs
nothing. Pure functions apart from ``read_passage``; no textual import.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from transcript.model import Word

BLOCKS = " ▁▂▃▄▅▆▇█"
FLOOR_DB = -60.0


def level_row(samples: np.ndarray, columns: int) -> str:
    """Loudness per column as a block character (space: quieter than -60 dBFS)."""
    if columns <= 0:
        return ""
    if len(samples) == 0:
        return " " * columns
    edges = np.linspace(0, len(samples), columns + 1).astype(int)
    out = []
    for a, b in itertools.pairwise(edges):
        piece = samples[a:max(b, a + 1)].astype(np.float64)
        rms = float(np.sqrt(np.mean(piece * piece))) if len(piece) else 0.0
        out.append(_block(20 * np.log10(rms)) if rms > 0 else " ")
    return "".join(out)


def speaker_row(words: Sequence[Word], start: float, end: float, columns: int,
                order: Sequence[str] = ()) -> str:
    """Whose words fall in each column: '1', '2' ... (order of ``order``), '×' for overlap."""
    if columns <= 0 or end <= start:
        return " " * max(columns, 0)
    width = (end - start) / columns
    who: list[set[str]] = [set() for _ in range(columns)]
    for w in words:
        if w.end <= start or w.start >= end:
            continue
        a = max(0, int((w.start - start) / width))
        b = min(columns - 1, int((w.end - start) / width - 1e-9))
        for c in range(a, b + 1):
            who[c].add(w.speaker)
    names = list(order)
    out = []
    for found in who:
        if not found:
            out.append(" ")
        elif len(found) > 1:
            out.append("×")
        else:
            sp = next(iter(found))
            if sp not in names:
                names.append(sp)
            k = names.index(sp) + 1
            out.append(str(k) if k < 10 else "+")
    return "".join(out)


def _block(db: float) -> str:
    if not db >= FLOOR_DB:  # also NaN / -inf
        return " "
    step = int((db - FLOOR_DB) / -FLOOR_DB * (len(BLOCKS) - 1))
    return BLOCKS[min(max(step, 1), len(BLOCKS) - 1)]


class Envelope:
    """A recording's loudness in 50 ms hops, read and kept 10 s at a time.

    Scrolling line by line asks for passages that mostly overlap, so after the
    first read a strip costs a slice of a cached array, not a file read.
    """

    HOP = 0.05
    CHUNK = 10.0

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._chunks: dict[int, np.ndarray] = {}

    def _chunk(self, k: int) -> np.ndarray:
        if k not in self._chunks:
            if len(self._chunks) > 64:  # ~10 minutes of envelope: plenty, and bounded
                self._chunks.clear()
            samples, rate = read_passage(self.path, k * self.CHUNK, (k + 1) * self.CHUNK)
            hop = max(1, int(rate * self.HOP))
            n = len(samples) // hop
            squares = (samples[:n * hop].astype(np.float64) ** 2).reshape(n, hop)
            self._chunks[k] = np.sqrt(squares.mean(axis=1)) if n else np.zeros(0)
        return self._chunks[k]

    def rms(self, start: float, end: float) -> np.ndarray:
        """RMS per 50 ms hop over [start, end] (shorter at the end of the recording)."""
        first, last = int(start // self.CHUNK), int(end // self.CHUNK)
        hops = np.concatenate([self._chunk(k) for k in range(max(first, 0), last + 1)])
        offset = round((start - max(first, 0) * self.CHUNK) / self.HOP)
        return hops[max(offset, 0):max(offset, 0) + round((end - start) / self.HOP)]

    def row(self, start: float, end: float, columns: int) -> str:
        """The level row of a passage, one block per column."""
        if columns <= 0:
            return ""
        rms = self.rms(start, end)
        want = round((end - start) / self.HOP)
        rms = np.concatenate([rms, np.zeros(max(0, want - len(rms)))])
        if len(rms) == 0:
            return " " * columns
        edges = np.linspace(0, len(rms), columns + 1).astype(int)
        out = []
        for a, b in itertools.pairwise(edges):
            piece = rms[a:max(b, a + 1)]
            power = float(np.mean(piece * piece)) if len(piece) else 0.0
            out.append(_block(10 * np.log10(power)) if power > 0 else " ")
        return "".join(out)


def read_passage(path: Path, start: float, end: float) -> tuple[np.ndarray, int]:
    """The mono samples of [start, end] seconds of a sound file, and its rate."""
    import soundfile as sf

    with sf.SoundFile(str(path)) as fh:
        rate = fh.samplerate
        first = max(0, int(start * rate))
        fh.seek(min(first, fh.frames))
        data = fh.read(max(0, int((end - start) * rate)), dtype="float32", always_2d=True)
    return data.mean(axis=1), rate


def passage_strip(source: Path | Envelope, words: Sequence[Word], start: float, end: float,
                  columns: int, order: Sequence[str] = ()) -> tuple[str, str]:
    """(level row, speaker row) for a passage of a recording (a path, or its Envelope)."""
    if isinstance(source, Envelope):
        levels = source.row(start, end, columns)
    else:
        samples, _ = read_passage(source, start, end)
        levels = level_row(samples, columns)
    return levels, speaker_row(words, start, end, columns, order)
