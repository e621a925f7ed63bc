"""The pure steps of embedding diarisation, on hand-built vectors and labels."""

from __future__ import annotations

import numpy as np
import pytest

from transcribe.diarize import SpeakerTurn
from transcribe.diarize.clustering import (
    FrameGrid,
    cluster_by_threshold,
    cluster_embeddings,
    frame_scores,
    labels_to_turns,
    normalise,
    smooth_labels,
)
from transcribe.diarize.embedding import plan_windows, resolve_settings


def _voices(counts: list[int], *, dim: int = 32, spread: float = 0.15,
            seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = normalise(rng.standard_normal((len(counts), dim)))
    points, labels = [], []
    for k, n in enumerate(counts):
        points.append(centres[k] + spread * rng.standard_normal((n, dim)) / np.sqrt(dim))
        labels += [k] * n
    return normalise(np.concatenate(points)), np.array(labels)


@pytest.mark.parametrize("counts", [[40, 25], [30, 30, 20]])
def test_cluster_count_is_estimated_for_distinct_voices(counts: list[int]) -> None:
    points, labels = _voices(counts)
    centroids = cluster_embeddings(points)
    assert len(centroids) == len(counts)
    assigned = np.argmax(points @ centroids.T, axis=1)
    # each true voice maps onto exactly one cluster
    for k in range(len(counts)):
        assert len(np.unique(assigned[labels == k])) == 1


def test_one_voice_stays_one_speaker() -> None:
    points, _ = _voices([50])
    assert len(cluster_embeddings(points)) == 1


def test_fixed_count_is_respected_and_tiny_outliers_do_not_make_a_speaker() -> None:
    points, _ = _voices([60, 40])
    assert len(cluster_embeddings(points, num_speakers=2)) == 2
    assert len(cluster_embeddings(points, num_speakers=1)) == 1
    outlier, _ = _voices([1], seed=7)
    estimated = cluster_embeddings(np.concatenate([points, outlier]))
    assert len(estimated) == 2


def test_frame_scores_favour_the_window_centred_on_a_frame() -> None:
    grid = FrameGrid(step=0.1, count=30)
    windows = [(0.0, 2.0), (1.0, 3.0)]
    scores = frame_scores(grid, windows, [[1.0, 0.0], [0.0, 1.0]])
    assert scores.shape == (30, 2)
    assert np.argmax(scores[5]) == 0 and np.argmax(scores[25]) == 1
    assert np.all(scores[:10, 0] == 1.0)  # only the first window covers 0-1 s


def test_smoothing_removes_short_flips_but_keeps_long_turns() -> None:
    labels = np.array([0] * 20 + [1] * 3 + [0] * 20 + [1] * 20)
    scores = np.zeros((len(labels), 2))
    scores[np.arange(len(labels)), labels] = 1.0
    active = np.ones(len(labels), dtype=bool)
    smoothed = smooth_labels(labels, scores, active, min_frames=5)
    assert list(smoothed) == [0] * 43 + [1] * 20


def test_inactive_frames_stay_unassigned() -> None:
    labels = np.array([0, 0, 0, 1, 1, 1])
    active = np.array([True, True, False, False, True, True])
    smoothed = smooth_labels(labels, np.ones((6, 2)), active, min_frames=1)
    assert list(smoothed) == [0, 0, -1, -1, 1, 1]


def test_labels_to_turns_names_in_order_and_merges_short_same_speaker_gaps() -> None:
    labels = np.array([1, 1, -1, 1, 1, 0, 0, -1, -1, -1, -1, 0])
    turns = labels_to_turns(labels, step=0.5, merge_gap=1.0)
    assert turns == (SpeakerTurn(0.0, 2.5, "S1"), SpeakerTurn(2.5, 3.5, "S2"),
                     SpeakerTurn(5.5, 6.0, "S2"))


def test_windows_never_cross_a_silence_and_cover_each_region() -> None:
    regions = [(0.0, 5.0), (6.0, 6.1), (7.0, 8.0)]
    windows = plan_windows(regions, window=1.6, hop=0.4, min_window=0.4)
    for start, end in windows:
        assert any(s - 0.2 <= start and end <= e + 0.2 for s, e in regions)
    assert windows[0] == (0.0, 1.6)
    assert (5.0 - 1.6, 5.0) in windows
    assert (7.0, 8.0) in windows
    assert any(abs((s + e) / 2 - 6.05) < 1e-9 for s, e in windows)  # the short blip


def test_settings_are_checked() -> None:
    assert resolve_settings({"hop": 0.2})["hop"] == 0.2
    defaults = resolve_settings({"unrelated": "x"})
    assert defaults["window"] == 0.0 and defaults["voice_model"] == "auto"  # the model's own
    with pytest.raises(ValueError, match="hop"):
        resolve_settings({"hop": "fast"})
    with pytest.raises(ValueError, match="unknown voice model 'wespeaker'"):
        resolve_settings({"voice_model": "wespeaker"})
    with pytest.raises(ValueError, match="min_speakers <= max_speakers"):
        resolve_settings({"min_speakers": 4, "max_speakers": 3})


def test_threshold_clustering_counts_keeps_and_folds() -> None:
    rng = np.random.default_rng(0)
    axes = np.eye(6, 16, dtype=np.float32)
    voices = [axes[i] + 0.12 * rng.standard_normal((12, 16)).astype(np.float32)
              for i in range(3)]
    points = np.concatenate(voices)
    assert len(cluster_by_threshold(points)) == 3
    assert len(cluster_by_threshold(points, max_speakers=2)) == 2
    assert len(cluster_by_threshold(points, min_speakers=4)) == 4
    assert len(cluster_by_threshold(points, num_speakers=5)) == 5
    assert len(cluster_by_threshold(voices[0])) == 1  # one voice is one speaker
    # a short stray close to a speaker (a cough, two voices at once) folds into it;
    # a short voice unlike everyone (a sentence from a fourth person) is kept
    stray = (0.6 * axes[0] + 0.8 * axes[4])[None].repeat(2, axis=0)
    newcomer = axes[5][None].repeat(2, axis=0) + 0.05
    assert len(cluster_by_threshold(np.concatenate([points, stray]))) == 3
    assert len(cluster_by_threshold(np.concatenate([points, newcomer]))) == 4
