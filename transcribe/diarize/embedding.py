"""``--diarize embedding``: diarisation that needs no account, token or gated model.

Speech found by silero-vad is cut into short overlapping windows; the GE2E voice
encoder (weights from the Apache-2.0 ``resemblyzer`` wheel, loaded by
``transcribe.diarize.ge2e``) turns each into a voice print; the prints are
clustered to ``--speakers`` or an estimated count; then every 50 ms frame of
speech goes to the speaker whose centroid its covering windows resemble most,
and runs too short to be a turn are smoothed away. Windows never straddle a
silence, so a speaker change at a pause (the usual case in an interview) is
exact to the VAD edge; changes inside continuous speech land within a window hop.

Settings (``[diarization]`` in the config; defaults in ``DEFAULTS``):
window (s), hop (s), resolution (s), min_turn (s), merge_gap (s),
max_speakers, min_silhouette, min_cluster_share, vad_threshold, threads,
embedding_model (path to a GE2E ``pretrained.pt``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from transcribe.audio import Audio
from transcribe.diarize import Diarisation, Progress, clustering, ge2e

DEFAULTS: dict[str, Any] = {
    "window": 1.6,  # s, one GE2E partial: long enough for a voice print
    "hop": 0.4,  # s between windows: the resolution of a change inside speech
    "resolution": 0.05,  # s, the frame grid of the output turns
    "min_turn": 0.6,  # s, shorter speaker runs inside speech are smoothed away
    "merge_gap": 2.0,  # s, same-speaker turns closer than this become one turn
    "min_window": 0.4,  # s, speech stretches shorter than this give no voice print
    "max_speakers": 6,
    "min_silhouette": 0.12,  # below this, no split is convincing: one speaker
    "min_cluster_share": 0.02,  # smaller clusters fold into their nearest neighbour
    "vad_threshold": 0.5,
    "threads": 0,  # torch threads; 0 leaves torch's default
}

EMBEDDING_MODEL = "ge2e-voice-encoder/pretrained.pt"


def resolve_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults overlaid with the user's values, type-checked (unknown keys are ignored:
    the same table also holds the other diarisers' settings)."""
    merged = dict(DEFAULTS)
    for key, default in DEFAULTS.items():
        if key in settings and settings[key] is not None:
            value = settings[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"diarization setting {key} must be a number, got {value!r}")
            merged[key] = type(default)(value)
    return merged


def speech_regions(samples: npt.NDArray[np.float32], *, sample_rate: int,
                   threshold: float = 0.5) -> list[tuple[float, float]]:
    """Speech stretches (start, end) in seconds, from silero-vad."""
    import torch
    from silero_vad import get_speech_timestamps, load_silero_vad

    model = _silero(load_silero_vad)
    stamps = get_speech_timestamps(torch.from_numpy(np.ascontiguousarray(samples)), model,
                                   threshold=threshold, sampling_rate=sample_rate,
                                   min_silence_duration_ms=150, speech_pad_ms=30)
    return [(s["start"] / sample_rate, s["end"] / sample_rate) for s in stamps]


_SILERO: list[Any] = []


def _silero(loader: Any) -> Any:
    if not _SILERO:
        _SILERO.append(loader(onnx=True))  # onnxruntime: no deprecated torch.jit
    return _SILERO[0]


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


def _load_encoder(settings: Mapping[str, Any], models_dir: Path) -> Any:
    configured = settings.get("embedding_model")
    path = Path(configured).expanduser() if configured else models_dir / EMBEDDING_MODEL
    if not path.is_file():
        raise FileNotFoundError(
            f"speaker-embedding model not found at {path}; import it with "
            "`verbatim models import PATH/ge2e-voice-encoder`")
    return ge2e.load_encoder(path)


def diarise(audio: Audio, *, num_speakers: int | None = None,
            settings: Mapping[str, Any] = {},
            models_dir: Path, progress: Progress | None = None,
            speech: Sequence[tuple[float, float]] | None = None) -> Diarisation:
    """Who spoke when, from voice prints over VAD speech (see the module docstring).

    ``speech``: speech regions already found by the pipeline's VAD; without them
    silero-vad runs here.
    """
    import torch

    options = resolve_settings(settings)
    if options["threads"] > 0:
        torch.set_num_threads(int(options["threads"]))
    report = progress or (lambda stage, fraction: None)
    timings: dict[str, float] = {}
    samples = audio.mono
    rate = audio.sample_rate
    if rate != ge2e.SAMPLE_RATE:
        raise ValueError(f"embedding diarisation needs {ge2e.SAMPLE_RATE} Hz audio, got {rate}")

    clock = time.perf_counter()
    report("vad", 0.0)
    regions = [(float(a), float(b)) for a, b in speech] if speech is not None else \
        speech_regions(samples, sample_rate=rate, threshold=options["vad_threshold"])
    timings["vad"] = time.perf_counter() - clock
    report("vad", 1.0)

    clock = time.perf_counter()
    report("embeddings", 0.0)
    windows = plan_windows(regions, window=options["window"], hop=options["hop"],
                           min_window=options["min_window"])
    if not windows:
        return Diarisation(turns=(), backend="embedding", timings=timings)
    encoder = _load_encoder(settings, models_dir)
    mel = ge2e.mel_spectrogram(samples)
    frame_rate = rate / ge2e.HOP
    frame_windows = [(round(s * frame_rate), round(e * frame_rate)) for s, e in windows]
    gains = [ge2e.volume_gain(samples[int(s * rate):int(e * rate)]) for s, e in windows]
    embeddings = ge2e.embed_windows(encoder, mel, frame_windows, gains=gains)
    timings["embeddings"] = time.perf_counter() - clock
    report("embeddings", 1.0)

    clock = time.perf_counter()
    report("clustering", 0.0)
    centroids = clustering.cluster_embeddings(
        embeddings, num_speakers=num_speakers, max_speakers=options["max_speakers"],
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
