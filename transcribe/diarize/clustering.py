"""Pure numpy/scipy pieces of embedding diarisation: cluster voice prints, then
turn per-window speaker scores into exclusive turns.

Kept apart from the model code so each step is a plain function over arrays,
tested on hand-built inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from transcribe.diarize import SpeakerTurn

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]


def normalise(vectors: npt.ArrayLike) -> FloatArray:
    """Rows scaled to unit length (zero rows stay zero)."""
    array = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    return array / np.maximum(norms, 1e-8)


def _ward(embeddings: FloatArray, k: int) -> IntArray:
    from scipy.cluster.hierarchy import fcluster, linkage

    tree = linkage(embeddings.astype(np.float64), method="ward")
    labels = fcluster(tree, t=k, criterion="maxclust") - 1
    return np.asarray(labels, dtype=np.int64)


def _centroids(embeddings: FloatArray, labels: IntArray, k: int) -> FloatArray:
    return normalise(np.stack([
        embeddings[labels == c].mean(axis=0) if np.any(labels == c)
        else np.zeros(embeddings.shape[1], dtype=np.float32)
        for c in range(k)]))


def _spherical_kmeans(embeddings: FloatArray, labels: IntArray, k: int,
                      *, iterations: int = 20) -> IntArray:
    """Refine an initial labelling by nearest-centroid (cosine) reassignment."""
    for _ in range(iterations):
        centroids = _centroids(embeddings, labels, k)
        updated = np.argmax(embeddings @ centroids.T, axis=1).astype(np.int64)
        if np.array_equal(updated, labels):
            break
        labels = updated
    return labels


def _silhouette(embeddings: FloatArray, labels: IntArray) -> float:
    """Mean cosine silhouette; -1 when there is only one cluster."""
    clusters = np.unique(labels)
    if len(clusters) < 2:
        return -1.0
    distance = 1.0 - embeddings @ embeddings.T
    scores = np.zeros(len(labels))
    for i in range(len(labels)):
        own = labels == labels[i]
        if own.sum() <= 1:
            continue
        a = distance[i, own].sum() / (own.sum() - 1)
        b = min(distance[i, labels == c].mean() for c in clusters if c != labels[i])
        scores[i] = (b - a) / max(a, b, 1e-8)
    return float(scores.mean())


def _relabel_compact(labels: IntArray) -> IntArray:
    _, compact = np.unique(labels, return_inverse=True)
    return compact.astype(np.int64)


def _merge_small(embeddings: FloatArray, labels: IntArray, min_share: float) -> IntArray:
    """Fold clusters holding less than ``min_share`` of the windows into their nearest one."""
    labels = labels.copy()
    while True:
        clusters, counts = np.unique(labels, return_counts=True)
        if len(clusters) < 2:
            return _relabel_compact(labels)
        smallest = int(np.argmin(counts))
        if counts[smallest] >= min_share * len(labels):
            return _relabel_compact(labels)
        small = clusters[smallest]
        others = [c for c in clusters if c != small]
        centroids = normalise(np.stack([embeddings[labels == c].mean(axis=0) for c in others]))
        mean = normalise(embeddings[labels == small].mean(axis=0, keepdims=True))
        labels[labels == small] = others[int(np.argmax(centroids @ mean[0]))]


def cluster_embeddings(embeddings: npt.ArrayLike, *, num_speakers: int | None = None,
                       min_speakers: int = 1, max_speakers: int = 6, min_silhouette: float = 0.12,
                       min_cluster_share: float = 0.02, max_points: int = 1500,
                       parsimony: float = 0.05, seed: int = 0) -> FloatArray:
    """Speaker centroids (k, dim) for a set of voice prints.

    With ``num_speakers`` the count is fixed; otherwise each count from 2 to
    ``max_speakers`` is tried (Ward linkage, then spherical k-means) and the one
    with the best cosine silhouette wins, unless no split reaches
    ``min_silhouette``: then everyone is one speaker (never fewer than
    ``min_speakers``, never more than ``max_speakers``). A smaller count within
    ``parsimony`` of the best silhouette is preferred: a spurious extra speaker
    (one voice split by mood or microphone distance) costs a reader more than
    a missed one who speaks a handful of words. At most ``max_points``
    prints (evenly subsampled) are clustered, which bounds memory and time on
    long recordings; every window is assigned afterwards by resegmentation.
    """
    points = normalise(embeddings)
    if len(points) == 0:
        return np.zeros((0, 0), dtype=np.float32)
    if len(points) > max_points:
        rng = np.random.default_rng(seed)
        points = points[np.sort(rng.choice(len(points), max_points, replace=False))]
    if num_speakers is not None:
        k = max(1, min(num_speakers, len(points)))
        if k == 1:
            return _centroids(points, np.zeros(len(points), dtype=np.int64), 1)
        labels = _spherical_kmeans(points, _ward(points, k), k)
        return _centroids(points, _relabel_compact(labels), len(np.unique(labels)))

    lowest = max(2, min_speakers)
    if min_speakers >= 2 and len(points) - 1 < lowest:  # too few prints to ask for more
        lowest = max(2, len(points) - 1)
    candidates: list[tuple[float, IntArray]] = []
    for k in range(lowest, min(max_speakers, len(points) - 1) + 1):
        labels = _spherical_kmeans(points, _ward(points, k), k)
        labels = _merge_small(points, labels, min_cluster_share)
        candidates.append((_silhouette(points, labels), labels))
    best_labels = np.zeros(len(points), dtype=np.int64)
    best = max((score for score, _ in candidates), default=-1.0)
    if candidates and (best >= min_silhouette or min_speakers >= 2):
        # candidates are in increasing count: the first close enough to the best wins
        best_labels = next(labels for score, labels in candidates if score >= best - parsimony)
    return _centroids(points, best_labels, len(np.unique(best_labels)))


def _average_linkage(points: FloatArray, *, threshold: float | None = None,
                     count: int | None = None) -> IntArray:
    """Average-linkage (cosine) clusters cut at a distance or at a count."""
    from scipy.cluster.hierarchy import fcluster, linkage

    tree = linkage(points.astype(np.float64), method="average", metric="cosine")
    if count is not None:
        labels = fcluster(tree, t=count, criterion="maxclust")
    else:
        labels = fcluster(tree, t=threshold, criterion="distance")
    return _relabel_compact(np.asarray(labels, dtype=np.int64) - 1)


def _tidy(points: FloatArray, labels: IntArray, *, seconds: FloatArray,
          merge_similarity: float, keep_unlike: float, min_share: float,
          min_seconds: float, max_clusters: int) -> IntArray:
    """Merge clusters until none is a duplicate or a stray.

    Each pass merges the two clusters whose centroids are most alike if they reach
    ``merge_similarity`` (one voice split by mood or distance), else folds the
    smallest cluster holding under ``min_share`` of the speech (or under
    ``min_seconds`` of it) into its nearest, unless it is unlike every other
    (below ``keep_unlike``): a person
    who spoke a sentence or two is still a speaker, but a window that straddles two
    voices, a laugh or a cough resembles its neighbours. Past ``max_clusters`` the
    most alike pair merges whatever its similarity.
    """
    labels = _relabel_compact(labels)
    while True:
        k = int(labels.max()) + 1 if len(labels) else 0
        if k < 2:
            return labels
        sizes = np.bincount(labels, weights=seconds, minlength=k)
        centroids = _centroids(points, labels, k)
        similarity = centroids @ centroids.T
        np.fill_diagonal(similarity, -np.inf)
        first, second = np.unravel_index(int(np.argmax(similarity)), similarity.shape)
        if similarity[first, second] >= merge_similarity or k > max_clusters:
            labels[labels == second] = first
        else:
            floor = max(min_seconds, min_share * float(seconds.sum()))
            strays = [c for c in np.argsort(sizes, kind="stable")
                      if sizes[c] < floor and similarity[c].max() >= keep_unlike]
            if not strays:
                return labels
            labels[labels == strays[0]] = int(np.argmax(similarity[strays[0]]))
        labels = _relabel_compact(labels)


def cluster_by_threshold(embeddings: npt.ArrayLike, *, num_speakers: int | None = None,
                         min_speakers: int = 1, max_speakers: int = 8,
                         threshold: float = 0.6, merge_similarity: float = 0.6,
                         keep_unlike: float = 0.25, min_cluster_share: float = 0.05,
                         min_seconds: float = 3.0, seconds: npt.ArrayLike | None = None,
                         max_points: int = 1500, seed: int = 0) -> FloatArray:
    """Speaker centroids (k, dim) by average-linkage clustering cut at a cosine distance.

    For voice models whose prints of one person are close and of two people far
    apart whatever the recording (CAM++): the count follows from the distance
    ``threshold`` instead of a silhouette, which is unreliable with the few dozen
    windows of a short recording. Then ``_tidy`` merges duplicates and strays, the
    count is held within ``min_speakers``..``max_speakers`` (``num_speakers`` fixes
    it), and a few rounds of nearest-centroid reassignment settle the borders.
    ``seconds`` is each print's window length (1 s each if not given).
    Measured on real-voice meetings of 2-6 speakers, pyannote's sample, and
    single-speaker clips (bench/diarise.py): threshold 0.6, merge 0.6, keep 0.25.
    """
    points = normalise(embeddings)
    if len(points) == 0:
        return np.zeros((0, 0), dtype=np.float32)
    lengths = (np.ones(len(points), dtype=np.float32) if seconds is None
               else np.asarray(seconds, dtype=np.float32))
    if len(points) > max_points:
        rng = np.random.default_rng(seed)
        keep = np.sort(rng.choice(len(points), max_points, replace=False))
        points, lengths = points[keep], lengths[keep]
    if len(points) == 1:
        return points.copy()
    if num_speakers is not None:
        k = max(1, min(num_speakers, len(points)))
        labels = _average_linkage(points, count=k)
    else:
        labels = _average_linkage(points, threshold=threshold)
        labels = _tidy(points, labels, seconds=lengths, merge_similarity=merge_similarity,
                       keep_unlike=keep_unlike, min_share=min_cluster_share,
                       min_seconds=min_seconds, max_clusters=max_speakers)
        if int(labels.max()) + 1 < min_speakers:
            labels = _average_linkage(points, count=min(min_speakers, len(points)))
    k = int(labels.max()) + 1
    labels = _relabel_compact(_spherical_kmeans(points, labels, k, iterations=5))
    return _centroids(points, labels, int(labels.max()) + 1)


@dataclass(frozen=True)
class FrameGrid:
    """A regular time grid: frame i covers [i * step, (i + 1) * step)."""

    step: float
    count: int

    def index(self, seconds: float) -> int:
        return int(np.clip(round(seconds / self.step), 0, self.count))


def frame_scores(grid: FrameGrid, windows: Sequence[tuple[float, float]],
                 window_scores: npt.ArrayLike) -> FloatArray:
    """Per-frame speaker scores: each window's scores spread over the frames it covers,
    weighted by a triangle peaking at the window centre (a frame trusts the
    window centred on it most). Frames no window covers score zero.
    """
    scores = np.asarray(window_scores, dtype=np.float32)
    k = scores.shape[1] if scores.ndim == 2 else 0
    total = np.zeros((grid.count, k), dtype=np.float32)
    weight = np.zeros(grid.count, dtype=np.float32)
    for (start, end), row in zip(windows, scores, strict=True):
        first, last = grid.index(start), grid.index(end)
        if last <= first:
            last = min(first + 1, grid.count)
        if last <= first:
            continue
        n = last - first
        ramp = 1.0 - np.abs((np.arange(n) + 0.5) / n * 2.0 - 1.0) + 1e-3
        total[first:last] += ramp[:, None] * row[None, :]
        weight[first:last] += ramp
    covered = weight > 0
    total[covered] /= weight[covered, None]
    return total


def smooth_labels(labels: npt.ArrayLike, scores: npt.ArrayLike, active: npt.ArrayLike,
                  *, min_frames: int) -> IntArray:
    """Remove speaker runs shorter than ``min_frames`` inside active stretches.

    A short run is given to whichever neighbouring run's speaker scores better
    over it; runs are handled shortest first so one blip cannot split a turn.
    Inactive frames are -1 in and out.
    """
    result = np.where(np.asarray(active, dtype=bool), np.asarray(labels), -1).astype(np.int64)
    score_array = np.asarray(scores, dtype=np.float32)
    while True:
        runs = _runs(result)
        short = [(end - start, start, end, label) for start, end, label in runs
                 if label >= 0 and end - start < min_frames]
        changed = False
        for _, start, end, label in sorted(short):
            if result[start] != label or (end < len(result) and result[end - 1] != label):
                continue  # an earlier merge in this pass touched it
            left = result[start - 1] if start > 0 else -1
            right = result[end] if end < len(result) else -1
            candidates = [c for c in (left, right) if c >= 0 and c != label]
            if not candidates:
                continue
            best = max(candidates, key=lambda c: float(score_array[start:end, c].sum()))
            result[start:end] = best
            changed = True
        if not changed:
            return result


def _runs(labels: npt.NDArray[np.int64]) -> list[tuple[int, int, int]]:
    """(start, end, label) for each run of equal values."""
    if len(labels) == 0:
        return []
    change = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [len(labels)]])
    return [(int(s), int(e), int(labels[s])) for s, e in zip(starts, ends, strict=True)]


def labels_to_turns(labels: npt.ArrayLike, *, step: float, merge_gap: float = 0.0,
                    names: Sequence[str] | None = None) -> tuple[SpeakerTurn, ...]:
    """Exclusive turns from per-frame labels (-1 = nobody).

    Same-speaker turns separated by less than ``merge_gap`` seconds of nobody
    become one turn. Speakers are named S1, S2 ... in order of first speech
    unless ``names`` maps label -> name.
    """
    label_array = np.asarray(labels, dtype=np.int64)
    raw = [(start * step, end * step, label) for start, end, label in _runs(label_array)
           if label >= 0]
    merged: list[list[float]] = []
    for start, end, label in raw:
        if merged and merged[-1][2] == label and start - merged[-1][1] < merge_gap:
            merged[-1][1] = end
        else:
            merged.append([start, end, label])
    if names is None:
        order: dict[int, str] = {}
        for _, _, turn_label in merged:
            order.setdefault(int(turn_label), f"S{len(order) + 1}")
        names = [order.get(i, f"S{i + 1}") for i in range(int(label_array.max(initial=-1)) + 1)]
    return tuple(SpeakerTurn(round(start, 3), round(end, 3), names[int(label)])
                 for start, end, label in merged)
