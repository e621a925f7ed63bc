"""The GE2E mel front end: shapes, frequency placement and loudness normalisation."""

from __future__ import annotations

import numpy as np

from transcribe.diarize import ge2e


def test_filterbank_has_forty_ordered_triangles() -> None:
    filters = ge2e.mel_filterbank()
    assert filters.shape == (40, 201)
    assert np.all(filters >= 0)
    peaks = np.argmax(filters, axis=1)
    assert np.all(np.diff(peaks) >= 0) and peaks[-1] > peaks[0]
    # Slaney normalisation: wider (higher) bands have lower peaks
    assert filters[0].max() > filters[-1].max()


def test_one_frame_every_ten_milliseconds_centred() -> None:
    samples = np.zeros(16_000, dtype=np.float32)
    assert ge2e.mel_spectrogram(samples).shape == (101, 40)
    assert ge2e.mel_spectrogram(np.zeros(1, dtype=np.float32)).shape[1] == 40


def test_a_tone_lands_in_the_band_of_its_frequency() -> None:
    t = np.arange(16_000) / 16_000
    low = ge2e.mel_spectrogram(np.sin(2 * np.pi * 300 * t).astype(np.float32))
    high = ge2e.mel_spectrogram(np.sin(2 * np.pi * 3000 * t).astype(np.float32))
    assert np.argmax(low[50]) < np.argmax(high[50])
    # power, not log: doubling the amplitude quadruples the frame energy
    louder = ge2e.mel_spectrogram(2 * np.sin(2 * np.pi * 300 * t).astype(np.float32))
    assert np.allclose(louder[50].sum(), 4 * low[50].sum(), rtol=1e-3)


def test_long_input_is_processed_in_blocks_with_the_same_result() -> None:
    rng = np.random.default_rng(0)
    samples = rng.standard_normal(16_000 * 4).astype(np.float32) * 0.1
    whole = ge2e.mel_spectrogram(samples)
    original = ge2e._FRAMES_PER_BLOCK
    try:
        ge2e._FRAMES_PER_BLOCK = 37
        blocked = ge2e.mel_spectrogram(samples)
    finally:
        ge2e._FRAMES_PER_BLOCK = original
    assert np.allclose(whole, blocked, rtol=1e-5, atol=1e-6)


def test_volume_is_raised_to_minus_30_dbfs_never_lowered() -> None:
    quiet = np.full(1000, 0.001, dtype=np.float32)
    gain = ge2e.volume_gain(quiet)
    assert abs(20 * np.log10(0.001 * gain) - (-30.0)) < 1e-6
    assert ge2e.volume_gain(np.full(1000, 0.5, dtype=np.float32)) == 1.0
    assert ge2e.volume_gain(np.zeros(10, dtype=np.float32)) == 1.0
