"""Speech packed into Whisper windows (transcribe/packing.py) and mapped back to the file."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from transcribe.audio import Audio
from transcribe.engines import AsrResult, AsrSettings, AsrWord, Chunks
from transcribe.packing import lay_out, pack_windows, plan_pieces
from transcribe.resume import Checkpoint

RATE = 16_000


def random_speech(rng: np.random.Generator) -> tuple[list[tuple[float, float]], float]:
    """VAD-like regions: 0.1-40 s of speech, pauses of 0.1-20 s (some long)."""
    regions, t = [], float(rng.uniform(0.0, 2.0))
    for _ in range(int(rng.integers(0, 40))):
        length = float(rng.choice([rng.uniform(0.1, 6.0), rng.uniform(6.0, 40.0)], p=[0.9, 0.1]))
        regions.append((round(t, 3), round(t + length, 3)))
        t += length + float(rng.choice([rng.uniform(0.1, 0.5), rng.uniform(0.5, 20.0)]))
    return regions, round(t + float(rng.uniform(0.0, 1.0)), 3)


def test_long_pauses_are_shortened_to_the_gap_and_short_ones_kept() -> None:
    speech = [(1.0, 5.0), (5.3, 9.0), (20.0, 27.0), (40.0, 41.0), (50.0, 120.0)]
    pieces = plan_pieces(speech, 121.0, max_seconds=28.0, gap=0.4)
    # a 0.3 s pause: touching pieces cut in its middle; an 11 s pause: 0.2 s of each edge
    assert pieces[:4] == [(0.8, 5.15), (5.15, 9.2), (19.8, 27.2), (39.8, 41.2)]
    assert pieces[4:] == [(49.8, 77.8), (77.8, 105.8), (105.8, 120.2)]  # 70 s cut in 28 s steps
    windows = pack_windows(pieces, max_seconds=28.0)
    # 8.4 + 7.4 + 1.4 s of speech in one window where the pauses took three before
    assert windows[0] == pieces[:4]
    assert [len(w) for w in windows] == [4, 1, 1, 1]
    # laid out: the touching pieces are one read, the pause between them heard whole
    layout = lay_out(windows[:1], RATE)
    assert layout.reads == ((12_800, 147_200), (316_800, 435_200), (636_800, 659_200))
    assert layout.to_file(4.3, 4.5) == (5.1, 5.3)  # a word over the seam keeps its times
    assert plan_pieces([], 10.0) == [] and pack_windows([]) == []


def test_pieces_stop_at_the_file_and_a_window_may_end_between_touching_pieces() -> None:
    speech = [(0.05, 14.0), (14.1, 27.0), (27.2, 29.99)]
    pieces = plan_pieces(speech, 30.0, max_seconds=28.0, gap=0.4)
    assert pieces == [(0.0, 14.05), (14.05, 27.1), (27.1, 30.0)]
    assert pack_windows(pieces, max_seconds=28.0) == [pieces[:2], pieces[2:]]


@pytest.mark.parametrize("seed", range(40))
def test_plan_and_pack_keep_all_speech_within_the_limit(seed: int) -> None:
    rng = np.random.default_rng(seed)
    speech, duration = random_speech(rng)
    gap = float(rng.choice([0.2, 0.4, 1.0]))
    pieces = plan_pieces(speech, duration, max_seconds=28.0, gap=gap)
    # in order, never overlapping, never beyond the file, each at most the limit
    assert all(0.0 <= a < b <= duration for a, b in pieces)
    assert all(b - a <= 28.0 + 1e-9 for a, b in pieces)
    assert all(p[1] <= q[0] for p, q in itertools.pairwise(pieces))
    # every moment of speech is in a piece, with gap / 2 of context where the file has it
    for start, end in speech:
        for t in np.linspace(max(0.0, start - gap / 2 + 1e-3),
                             min(duration, end + gap / 2 - 1e-3), 7):
            assert any(a <= t <= b for a, b in pieces), (t, start, end)
    # what is left out between two pieces is the middle of a pause longer than the gap
    for p, q in itertools.pairwise(pieces):
        if q[0] > p[1]:
            assert not any(a < q[0] and b > p[1] for a, b in speech)
            assert any(abs(b + gap / 2 - p[1]) < 2e-3 for _, b in speech)
    windows = pack_windows(pieces, max_seconds=28.0)
    assert [p for w in windows for p in w] == pieces  # nothing lost, order kept
    assert all(sum(b - a for a, b in w) <= 28.0 + 1e-6 for w in windows)
    # greedy: the next window's first piece would not have fitted
    for w, nxt in itertools.pairwise(windows):
        assert sum(b - a for a, b in w) + nxt[0][1] - nxt[0][0] > 28.0


@pytest.mark.parametrize("seed", range(20))
def test_every_laid_out_moment_maps_back_to_its_file_time(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    speech, duration = random_speech(rng)
    windows = pack_windows(plan_pieces(speech, duration))
    if not windows:
        return
    layout = lay_out(windows, RATE)
    assert layout.samples == sum(b - a for a, b in layout.reads)
    # the engine cuts clip i as samples[int(start * rate):int(end * rate)]: whole windows
    cut = [(int(a * RATE), int(b * RATE)) for a, b in layout.clips]
    assert cut[0][0] == 0 and cut[-1][1] == layout.samples
    assert all(p[1] == q[0] for p, q in itertools.pairwise(cut))
    assert len(cut) == len(windows)
    for (first, last), at in zip(layout.reads, layout.offsets, strict=False):
        if last - first <= 160:
            continue
        for k in rng.integers(80, last - first - 80, 5):
            t = (int(at) + int(k)) / RATE  # a word of 10 ms centred there, inside its piece
            start, end = layout.to_file(t - 0.005, t + 0.005)
            assert (start + end) / 2 == pytest.approx((first + int(k)) / RATE, abs=1e-3)
            assert first / RATE - 1e-3 <= start <= end <= last / RATE + 1e-3


def test_a_word_over_a_shortened_pause_is_clamped_to_its_piece() -> None:
    layout = lay_out([[(10.0, 12.0), (30.0, 31.0)]], RATE)
    assert layout.clips == ((0.5 / RATE, (3 * RATE + 0.5) / RATE),)
    assert layout.to_file(0.5, 1.0) == (10.5, 11.0)
    assert layout.to_file(2.2, 2.6) == (30.2, 30.6)
    # mostly before the cut (middle 1.95 s): in the first piece, ends where it ends
    assert layout.to_file(1.7, 2.2) == (11.7, 12.0)
    # mostly after it (middle 2.05 s): in the second piece, starts where it starts
    assert layout.to_file(1.9, 2.2) == (30.0, 30.2)


class RampEngine:
    """A fake engine that 'hears' a ramp (each sample is its file time in seconds) and
    says, for every chunk, one word 0.1 s in whose text is the file time heard there."""

    name = "fake"
    model_path = Path("fake")
    device = "cpu"

    def __init__(self) -> None:
        self.calls: list[int] = []

    def detect_language(self, samples: np.ndarray) -> tuple[str, float]:
        return "en", 1.0

    def transcribe(self, samples: np.ndarray, *, settings: AsrSettings,
                   progress: object = None, chunks: Chunks | None = None) -> AsrResult:
        assert chunks is not None
        self.calls.append(len(chunks))
        words = []
        for a, b in chunks:
            assert b - a <= 28.0 + 1e-3  # a window fits Whisper's 30 s
            at = a + 0.1
            words.append(AsrWord(f"{samples[int(at * RATE)]:.4f}", at - 0.01, at + 0.01, 1.0))
        return AsrResult(words=tuple(words), engine=self.name, model="fake")


def test_decode_chunks_reads_pieces_and_maps_words_to_the_file() -> None:
    from transcribe.engines import plan_chunks
    from transcribe.pipeline import decode_chunks

    duration = 300.0
    ramp = (np.arange(int(duration * RATE)) / RATE).astype(np.float64)
    audio = Audio(samples=ramp.astype(np.float32)[None, :], path="ramp.wav")
    speech, _ = random_speech(np.random.default_rng(7))
    speech = [(a, min(b, duration - 1)) for a, b in speech if a < duration - 2]
    chunks = plan_chunks(speech, audio.duration)
    engine = RampEngine()
    checkpoint = Checkpoint(path=None)
    result = decode_chunks(engine, audio, chunks, AsrSettings(), checkpoint=checkpoint,
                           group=2)  # type: ignore[arg-type]
    windows = pack_windows(chunks)
    assert sum(engine.calls) == len(windows) and max(engine.calls) <= 2
    assert len(checkpoint.groups) == len(engine.calls)
    assert len(result.words) == len(windows)
    for word, window in zip(result.words, windows, strict=True):
        heard = float(word.text)  # the file time the engine heard, float32-rounded
        assert (word.start + word.end) / 2 == pytest.approx(heard, abs=2e-3)
        assert (word.start + word.end) / 2 == pytest.approx(window[0][0] + 0.1, abs=2e-3)
