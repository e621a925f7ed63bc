"""Speech packed into Whisper's 30 s windows, and word times mapped back to the file.

Whisper's encoder always hears a full 30 s window: a chunk of 12 s of speech costs
as much as one of 28 s. Decoding the VAD's chunks with their pauses inside spent
encoder windows on silence (69 s of speech took 5 windows). Here the speech
regions become *pieces* (each region with ``gap / 2`` of its own surrounding
audio on either side, so a pause longer than ``gap`` is heard shortened to
``gap`` and a shorter one whole), and consecutive pieces are laid end to end
into windows of at most ``max_seconds``. The pause Whisper hears between two
pieces is real audio from the recording (the edges of the pause), never
inserted silence.

Every sample of a laid-out engine call comes from exactly one piece, so a word
maps back to the file exactly: by the piece its middle falls in, its start and
end clamped to that piece (a word Whisper stretches over a shortened pause ends
where its piece does).

All functions here are pure: the pipeline reads the audio (``decode_chunks``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Span = tuple[float, float]  # (start, end) seconds

# Whisper hears 30 s at a time; windows stop a little short so padding never spills over.
WINDOW_SECONDS = 28.0
# The longest pause heard whole; a longer one is heard as this much (half from each side).
GAP_SECONDS = 0.4


def plan_pieces(speech: Sequence[Span], duration: float, *,
                max_seconds: float = WINDOW_SECONDS, gap: float = GAP_SECONDS,
                ) -> list[Span]:
    """The VAD's speech regions as pieces to decode, in order, none overlapping.

    Each region is widened by ``gap / 2`` on both sides (within the file). Two
    regions whose pause is at most ``gap`` get touching pieces, cut in the
    pause's middle: laid out side by side (``lay_out``) they are the recording
    as it was, and a window may still end between them. A region longer than
    ``max_seconds`` is cut at fixed steps (rare: 28 s without a 0.1 s breath).
    """
    pad = gap / 2
    pieces: list[list[float]] = []
    previous_end = 0.0
    for start, end in speech:
        a, b = round(max(0.0, start - pad), 3), round(min(duration, end + pad), 3)
        if pieces and a < pieces[-1][1]:  # a short pause: cut in its middle
            middle = max(pieces[-1][0], round((previous_end + start) / 2, 3))
            pieces[-1][1] = a = middle
            if pieces[-1][1] <= pieces[-1][0]:
                pieces.pop()
        previous_end = end
        if b <= a:
            continue
        while b - a > max_seconds:
            pieces.append([a, round(a + max_seconds, 3)])
            a = pieces[-1][1]
        pieces.append([a, b])
    rounded = [(round(a, 3), round(b, 3)) for a, b in pieces]
    return [(a, b) for a, b in rounded if b > a]


def pack_windows(pieces: Sequence[Span], *, max_seconds: float = WINDOW_SECONDS,
                 ) -> list[list[Span]]:
    """Consecutive pieces filled in order into windows of at most ``max_seconds``
    of audio (a piece longer than that, which ``plan_pieces`` never makes, gets a
    window of its own)."""
    windows: list[list[Span]] = []
    used = 0.0
    for a, b in pieces:
        if windows and used + (b - a) <= max_seconds + 1e-6:
            windows[-1].append((a, b))
            used += b - a
        else:
            windows.append([(a, b)])
            used = b - a
    return windows


@dataclass(frozen=True)
class Layout:
    """One engine call: windows of pieces read from the file and laid end to end.

    ``reads`` are the pieces' sample ranges in the file, in order; ``offsets`` where
    each one starts in the laid-out audio (one more: its length); ``clips`` each
    window's span there, in seconds, as the engine's chunks.
    """

    reads: tuple[tuple[int, int], ...]
    offsets: npt.NDArray[np.int64]
    clips: tuple[Span, ...]
    rate: int

    @property
    def samples(self) -> int:
        return int(self.offsets[-1])

    def to_file(self, start: float, end: float) -> Span:
        """A word's (start, end) in the laid-out audio as seconds in the file."""
        middle = (start + end) / 2 * self.rate
        i = int(np.clip(np.searchsorted(self.offsets, middle, "right") - 1,
                        0, len(self.reads) - 1))
        first, last = self.reads[i]
        shift = (first - int(self.offsets[i])) / self.rate
        low, high = first / self.rate, last / self.rate
        return (round(min(max(start + shift, low), high), 3),
                round(min(max(end + shift, low), high), 3))


def lay_out(windows: Sequence[Sequence[Span]], rate: int) -> Layout:
    """The layout of ``windows`` (pieces in file seconds) at ``rate`` samples a second.

    A piece's first sample is ``int(start * rate)``, as faster-whisper cuts clips;
    pieces that touch in the file and sit side by side in a window are one read
    (the recording as it was: a word over their seam keeps its times). The clips'
    ends are half a sample in, so the engine cuts exactly each window's samples.
    """
    reads: list[tuple[int, int]] = []
    ends: list[int] = []  # each window's read count so far
    for window in windows:
        joinable = False
        for a, b in window:
            first, last = int(a * rate), int(b * rate)
            if last <= first:
                continue
            if joinable and reads[-1][1] == first:
                reads[-1] = (reads[-1][0], last)
            else:
                reads.append((first, last))
            joinable = True
        ends.append(len(reads))
    offsets = np.cumsum([0] + [b - a for a, b in reads], dtype=np.int64)
    clips = [((int(offsets[a]) + 0.5) / rate, (int(offsets[b]) + 0.5) / rate)
             for a, b in zip([0, *ends[:-1]], ends, strict=True) if b > a]
    return Layout(reads=tuple(reads), offsets=offsets, clips=tuple(clips), rate=rate)
