"""``--diarize embedding``: diarisation that needs no account, token or gated model.

Speech found by silero-vad is cut into short overlapping windows; a voice model
(CAM++ by default, GE2E as a choice: ``transcribe.diarize.voices``) turns each
into a voice print; the prints are clustered to ``--speakers`` or an estimated
count (bounded by ``--min-speakers``/``--max-speakers``); then every 50 ms frame
of speech goes to the speaker whose centroid its covering windows resemble most,
and runs too short to be a turn are smoothed away. Windows never straddle a
silence, so a speaker change at a pause (the usual case in an interview) is
exact to the VAD edge; changes inside continuous speech land within a window hop.

Settings (``[diarization]`` in the config; defaults in ``DEFAULTS``):
voice_model ("auto", "campplus" or "ge2e"), window (s), hop (s) (0: the voice model's
own), resolution (s), min_turn (s), merge_gap (s), min_speakers, max_speakers,
threshold (CAM++), min_silhouette and min_cluster_share (GE2E), vad_threshold, threads,
embedding_model (path to the voice model's weights file).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from transcribe.audio import Audio
from transcribe.diarize import Diarisation, Progress, clustering, voices

DEFAULTS: dict[str, Any] = {
    "voice_model": voices.DEFAULT_VOICE_MODEL,
    "window": 0.0,  # s, 0: the voice model's own (CAM++ 1.5, GE2E 1.6: one partial)
    "hop": 0.0,  # s between windows, 0: the model's own (CAM++ 1.0, GE2E 0.4)
    "resolution": 0.05,  # s, the frame grid of the output turns
    "min_turn": 0.6,  # s, shorter speaker runs inside speech are smoothed away
    "merge_gap": 2.0,  # s, same-speaker turns closer than this become one turn
    "min_window": 0.4,  # s, speech stretches shorter than this give no voice print
    "min_speakers": 1,
    "max_speakers": 8,
    "threshold": 0.6,  # CAM++: cosine distance at which two groups of prints are two people
    "min_silhouette": 0.12,  # GE2E: below this, no split is convincing: one speaker
    "min_cluster_share": 0.02,  # smaller clusters fold into their nearest neighbour
    "vad_threshold": 0.5,
    "threads": 0,  # torch threads while embedding; 0: one (see voices.torch_threads)
}



def resolve_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults overlaid with the user's values, type-checked (unknown keys are ignored:
    the same table also holds the other diarisers' settings)."""
    merged = dict(DEFAULTS)
    for key, default in DEFAULTS.items():
        if key in settings and settings[key] is not None:
            value = settings[key]
            if isinstance(default, str):
                merged[key] = str(value)
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"diarization setting {key} must be a number, got {value!r}")
            merged[key] = type(default)(value)
    voices.check_name(merged["voice_model"])
    if merged["min_speakers"] < 1 or merged["max_speakers"] < merged["min_speakers"]:
        raise ValueError("diarization settings need 1 <= min_speakers <= max_speakers")
    return merged


def speech_regions(samples: npt.NDArray[np.float32], *, sample_rate: int,
                   threshold: float = 0.5) -> list[tuple[float, float]]:
    """Speech stretches (start, end) in seconds, from silero-vad (the pipeline's sequence
    model: one ONNX call per block), gaps under 150 ms bridged."""
    from transcribe.vad import VadSettings, speech_probabilities
    from transcribe.vad import speech_regions as regions_of

    probabilities = speech_probabilities(samples, sample_rate)
    return regions_of(probabilities, settings=VadSettings(threshold=threshold,
                                                          release=max(0.0, threshold - 0.15),
                                                          min_silence=0.15))


def plan_windows(regions: list[tuple[float, float]], *, window: float, hop: float,
                 min_window: float) -> list[tuple[float, float]]:
    """Windows of ``window`` s every ``hop`` s inside each speech region, never crossing
    a silence; a region shorter than a window is one (shorter) window, one shorter
    than ``min_window`` gets a ``min_window`` window centred on it; the last
    window of a region is aligned to its end so no speech is left uncovered."""
    windows: list[tuple[float, float]] = []
    for start, end in regions:
        length = end - start
        if length < min_window:  # a word or two: one minimal window centred on it
            centre = (start + end) / 2
            windows.append((max(0.0, centre - min_window / 2), centre + min_window / 2))
            continue
        if length <= window:
            windows.append((start, end))
            continue
        position = start
        while position + window < end:
            windows.append((position, position + window))
            position += hop
        windows.append((end - window, end))
    return windows


def diarise(audio: Audio, *, num_speakers: int | None = None,
            settings: Mapping[str, Any] = {},
            models_dir: Path, progress: Progress | None = None,
            speech: Sequence[tuple[float, float]] | None = None) -> Diarisation:
    """Who spoke when, from voice prints over VAD speech (see the module docstring).

    ``speech``: speech regions already found by the pipeline's VAD; without them
    silero-vad runs here.
    """
    options = resolve_settings(settings)
    report = progress or (lambda stage, fraction: None)
    timings: dict[str, float] = {}
    samples = audio.mono
    rate = audio.sample_rate
    if rate != voices.SAMPLE_RATE:
        raise ValueError(f"embedding diarisation needs {voices.SAMPLE_RATE} Hz audio, got {rate}")
    lowest, highest = options["min_speakers"], options["max_speakers"]

    clock = time.perf_counter()
    report("vad", 0.0)
    regions = [(float(a), float(b)) for a, b in speech] if speech is not None else \
        speech_regions(samples, sample_rate=rate, threshold=options["vad_threshold"])
    timings["vad"] = time.perf_counter() - clock
    report("vad", 1.0)

    clock = time.perf_counter()
    report("embeddings", 0.0)
    name = voices.choose(options["voice_model"], models_dir, settings.get("embedding_model"))
    window, hop = voices.WINDOWS[name]
    windows = plan_windows(regions, window=options["window"] or window,
                           hop=options["hop"] or hop, min_window=options["min_window"])
    if not windows:
        return Diarisation(turns=(), backend="embedding", timings=timings)
    model = voices.load_voice_model(name, models_dir, settings.get("embedding_model") or None)
    model.threads = options["threads"] or 1
    embeddings = model.embed_windows(samples, windows)
    timings["embeddings"] = time.perf_counter() - clock
    report("embeddings", 1.0)

    clock = time.perf_counter()
    report("clustering", 0.0)
    if model.name == "campplus":
        centroids = clustering.cluster_by_threshold(
            embeddings, num_speakers=num_speakers, min_speakers=lowest, max_speakers=highest,
            threshold=options["threshold"], seconds=[e - s for s, e in windows])
    else:  # GE2E prints of one voice spread too widely for one threshold
        centroids = clustering.cluster_embeddings(
            embeddings, num_speakers=num_speakers, min_speakers=lowest, max_speakers=highest,
            min_silhouette=options["min_silhouette"],
            min_cluster_share=options["min_cluster_share"])
    turns = resegment(regions, windows, embeddings @ centroids.T, duration=audio.duration,
                      options=options)
    timings["clustering"] = time.perf_counter() - clock
    report("clustering", 1.0)
    return Diarisation(turns=turns, backend="embedding", timings=timings)


def resegment(regions: list[tuple[float, float]], windows: list[tuple[float, float]],
              window_scores: npt.ArrayLike, *, duration: float,
              options: Mapping[str, Any]) -> tuple:
    """Exclusive turns from per-window speaker scores on a fine frame grid."""
    step = float(options["resolution"])
    grid = clustering.FrameGrid(step=step, count=int(np.ceil(duration / step)))
    scores = clustering.frame_scores(grid, windows, window_scores)
    active = np.zeros(grid.count, dtype=bool)
    for start, end in regions:
        active[grid.index(start):grid.index(end)] = True
    covered = np.abs(scores).sum(axis=1) > 0
    labels = np.argmax(scores, axis=1)
    labels = clustering.smooth_labels(labels, scores, active & covered,
                                      min_frames=max(1, round(options["min_turn"] / step)))
    return clustering.labels_to_turns(labels, step=step, merge_gap=options["merge_gap"])
