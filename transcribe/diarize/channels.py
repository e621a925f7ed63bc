"""``--diarize channels``: one microphone per speaker, so the loudest channel speaks.

Each channel is first levelled against its own speech level (microphones
differ in gain), then every 20 ms frame goes to the channel that is clearly
loudest. When two channels are both active and within a few dB of each other,
both people are talking: an overlap. The other voice's bleed into a
microphone sits well below its own speaker, so it never wins a frame.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from transcribe.audio import Audio
from transcribe.diarize import Diarisation, Progress, SpeakerTurn

DEFAULTS: dict[str, float] = {
    "frame": 0.02,  # seconds per decision
    "overlap_margin_db": 6.0,  # both within this of each other (after levelling): overlap
    "active_db": 12.0,  # a channel is active this far above its own noise floor
    "min_turn": 0.2,  # shorter flips are absorbed by their neighbours
    "merge_gap": 0.6,  # a speaker's stretches closer than this form one turn
}


def channel_levels(samples: npt.NDArray[np.float32], sample_rate: int, frame: float,
                   ) -> npt.NDArray[np.float64]:
    """(channels, frames) RMS in dB."""
    size = max(1, round(frame * sample_rate))
    frames = samples.shape[1] // size
    power = np.empty((samples.shape[0], frames))
    step = 3000  # frames per block: memory stays flat on a 2-hour file
    for first in range(0, frames, step):
        last = min(frames, first + step)
        block = samples[:, first * size:last * size].reshape(samples.shape[0], last - first, size)
        power[:, first:last] = np.mean(block.astype(np.float64) ** 2, axis=2)
    return 10.0 * np.log10(power + 1e-12)


def frame_speakers(levels_db: npt.NDArray[np.float64], *, active_db: float,
                   overlap_margin_db: float) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Per frame: index of the speaking channel (-1 for silence) and whether it is an overlap."""
    floor = np.percentile(levels_db, 10, axis=1, keepdims=True)
    loud = np.percentile(levels_db, 95, axis=1, keepdims=True)
    levelled = levels_db - loud  # 0 dB = this channel's own speech level
    active = levels_db > floor + active_db
    candidates = np.where(active, levelled, -np.inf)
    ranked = np.sort(candidates, axis=0)
    winner = np.where(active.any(axis=0), np.argmax(candidates, axis=0), -1)
    if levels_db.shape[0] >= 2:
        second = np.isfinite(ranked[-2])
        gap = np.where(second, ranked[-1] - np.where(second, ranked[-2], 0.0), np.inf)
        overlap = second & (gap < overlap_margin_db)
    else:
        overlap = np.zeros(levels_db.shape[1], dtype=bool)
    return winner.astype(np.int64), overlap


def _absorb_short(labels: npt.NDArray[np.int64], min_frames: int) -> npt.NDArray[np.int64]:
    """Give runs of a speaker shorter than ``min_frames`` to the speaker before them."""
    out = labels.copy()
    start = 0
    for i in range(1, len(out) + 1):
        if i == len(out) or out[i] != out[start]:
            if out[start] >= 0 and i - start < min_frames and start > 0:
                out[start:i] = out[start - 1]
            start = i
    return out


def labels_to_turns(labels: npt.NDArray[np.int64], frame: float, merge_gap: float,
                    ) -> list[SpeakerTurn]:
    """Runs of one channel -> turns "S<channel+1>", bridging that speaker's short silences."""
    turns: list[SpeakerTurn] = []
    start = 0
    for i in range(1, len(labels) + 1):
        if i == len(labels) or labels[i] != labels[start]:
            if labels[start] >= 0:
                speaker = f"S{int(labels[start]) + 1}"
                a, b = round(start * frame, 3), round(i * frame, 3)
                if turns and turns[-1].speaker == speaker and a - turns[-1].end <= merge_gap:
                    turns[-1] = SpeakerTurn(turns[-1].start, b, speaker)
                else:
                    turns.append(SpeakerTurn(a, b, speaker))
            start = i
    return turns


def overlap_turns(overlap: npt.NDArray[np.bool_], frame: float, min_len: float,
                  ) -> list[SpeakerTurn]:
    """Stretches of simultaneous speech at least ``min_len`` long (speaker "*": both)."""
    out: list[SpeakerTurn] = []
    start = None
    for i, flag in enumerate([*overlap.tolist(), False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            if (i - start) * frame >= min_len:
                out.append(SpeakerTurn(round(start * frame, 3), round(i * frame, 3), "*"))
            start = None
    return out


def diarise_channels(audio: Audio, *, settings: Mapping[str, Any] | None = None,
                     progress: Progress | None = None) -> Diarisation:
    started = time.perf_counter()
    options = {**DEFAULTS, **{k: float(v) for k, v in (settings or {}).items() if k in DEFAULTS}}
    frame = options["frame"]
    levels = channel_levels(audio.samples, audio.sample_rate, frame)
    winner, overlap = frame_speakers(levels, active_db=options["active_db"],
                                     overlap_margin_db=options["overlap_margin_db"])
    winner = _absorb_short(winner, max(1, round(options["min_turn"] / frame)))
    turns = labels_to_turns(winner, frame, options["merge_gap"])
    overlaps = overlap_turns(overlap, frame, options["min_turn"])
    if progress is not None:
        progress("diarise", 1.0)
    return Diarisation(turns=tuple(turns), overlaps=tuple(overlaps), backend="channels",
                       timings={"diarise": time.perf_counter() - started})
