"""CAM++ features computed only for the stretches a batch of windows needs."""

from __future__ import annotations

import numpy as np
import pytest

from transcribe.diarize import campplus


class CountingReads:
    """An array-like recording that remembers the longest stretch read from it."""

    def __init__(self, samples: np.ndarray) -> None:
        self.samples = samples
        self.longest = 0

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, key: slice) -> np.ndarray:
        piece = self.samples[key]
        self.longest = max(self.longest, len(piece))
        return piece


@pytest.fixture(scope="module")
def samples() -> np.ndarray:
    rng = np.random.default_rng(3)
    t = np.arange(16_000 * 8) / 16_000
    tone = 0.3 * np.sin(2 * np.pi * (180 + 40 * np.sin(t)) * t)
    return (tone + 0.05 * rng.standard_normal(len(t))).astype(np.float32)


def test_stretches_equal_the_whole_recordings_fbank_bit_for_bit(samples: np.ndarray) -> None:
    whole = campplus.fbank(samples)
    spans = campplus.SpanFeatures(samples)
    assert len(spans) == len(whole) == campplus.frame_count(len(samples))
    for start, stop in [(0, 150), (37, 38), (500, 513), (1_000, 1_400), (len(whole) - 5,
                                                                          len(whole))]:
        assert np.array_equal(spans[start:stop], whole[start:stop]), (start, stop)


def test_only_the_windows_stretches_are_read(samples: np.ndarray) -> None:
    recording = CountingReads(samples)
    features = campplus.SpanFeatures(recording)  # type: ignore[arg-type]
    piece = features[100:250]
    assert piece.shape == (150, campplus.N_MELS)
    assert recording.longest < 16_000 * 2  # 1.5 s of frames, never the 8 s recording


def test_a_clip_shorter_than_one_frame_gives_one_frame() -> None:
    spans = campplus.SpanFeatures(np.zeros(100, np.float32))
    assert len(spans) == 1 and spans[0:1].shape == (1, campplus.N_MELS)
