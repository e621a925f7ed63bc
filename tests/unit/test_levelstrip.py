"""The level strip: silences are gaps, loud passages tall blocks, overlaps '×' (issue 18)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from transcript.model import Word
from verbatim.levelstrip import level_row, passage_strip, speaker_row

RATE = 8000


def test_silence_is_a_gap_and_loudness_grows_the_block() -> None:
    t = np.arange(RATE) / RATE
    quiet = 0.01 * np.sin(2 * np.pi * 200 * t)
    loud = 0.8 * np.sin(2 * np.pi * 200 * t)
    row = level_row(np.concatenate([np.zeros(RATE), quiet, loud]), 3)
    assert row[0] == " "
    assert row[1] != " " and row[2] != " "
    assert " ▁▂▃▄▅▆▇█".index(row[2]) > " ▁▂▃▄▅▆▇█".index(row[1])


def test_speaker_row_shows_turns_gaps_and_overlaps() -> None:
    words = [Word("a", 0.0, 2.0, "S1"), Word("b", 3.0, 5.0, "S2"), Word("c", 4.0, 6.0, "S1")]
    assert speaker_row(words, 0.0, 8.0, 8, order=("S1", "S2")) == "11 2×1  "


def test_passage_strip_reads_only_the_passage(tmp_path: Path) -> None:
    path = tmp_path / "a.wav"
    signal = np.zeros(RATE * 10, dtype=np.float32)
    signal[RATE * 6:RATE * 7] = 0.5
    sf.write(path, signal, RATE)
    levels, speakers = passage_strip(path, [Word("x", 6.0, 7.0, "S2")], 5.0, 8.0, 3)
    assert levels[0] == " " and levels[1] != " " and levels[2] == " "
    assert speakers == " 1 "


def test_the_cached_envelope_draws_the_same_gaps(tmp_path: Path) -> None:
    from verbatim.levelstrip import Envelope

    path = tmp_path / "a.wav"
    signal = np.zeros(RATE * 25, dtype=np.float32)
    signal[RATE * 9:RATE * 11] = 0.5  # across the first 10 s chunk's edge
    sf.write(path, signal, RATE)
    env = Envelope(path)
    assert env.row(8.0, 12.0, 4) == " " + env.row(9.0, 11.0, 2) + " "
    assert env.row(8.0, 12.0, 4)[1:3].strip() and env.row(20.0, 30.0, 5) == "     "
