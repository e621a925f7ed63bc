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
        db = 20 * np.log10(rms) if rms > 0 else -np.inf
        if db < FLOOR_DB:
            out.append(" ")
            continue
        step = int((db - FLOOR_DB) / -FLOOR_DB * (len(BLOCKS) - 1))
        out.append(BLOCKS[min(max(step, 1), len(BLOCKS) - 1)])
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


def read_passage(path: Path, start: float, end: float) -> tuple[np.ndarray, int]:
    """The mono samples of [start, end] seconds of a sound file, and its rate."""
    import soundfile as sf

    with sf.SoundFile(str(path)) as fh:
        rate = fh.samplerate
        first = max(0, int(start * rate))
        fh.seek(min(first, fh.frames))
        data = fh.read(max(0, int((end - start) * rate)), dtype="float32", always_2d=True)
    return data.mean(axis=1), rate


def passage_strip(path: Path, words: Sequence[Word], start: float, end: float,
                  columns: int, order: Sequence[str] = ()) -> tuple[str, str]:
    """(level row, speaker row) for a passage of a recording."""
    samples, _ = read_passage(path, start, end)
    return level_row(samples, columns), speaker_row(words, start, end, columns, order)
