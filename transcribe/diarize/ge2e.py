"""The GE2E speaker encoder (Wan et al. 2018) in a few lines of our own code.

The pretrained weights are the ones the ``resemblyzer`` wheel ships (Apache-2.0):
a 3-layer LSTM over 40 mel bands whose last hidden state, through a linear layer
and a ReLU, is L2-normalised into a 256-d voice print. That package's own
dependency chain (librosa, webrtcvad) is unmaintained, so the mel front end is
written here to match what the weights were trained on: 25 ms Hann windows every
10 ms (n_fft 400 at 16 kHz), centred frames with reflect padding, power spectrum,
Slaney-style mel filters, *no* logarithm, utterances normalised to -30 dBFS
(raised only, never lowered).

torch is imported lazily: importing ``transcribe`` must stay cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:  # pragma: no cover
    import torch

SAMPLE_RATE = 16_000
N_FFT = 400  # 25 ms at 16 kHz
HOP = 160  # 10 ms: one mel frame per 10 ms
N_MELS = 40
HIDDEN = 256
LAYERS = 3
PARTIAL_FRAMES = 160  # the encoder was trained on 1.6 s partial utterances
TARGET_DBFS = -30.0

# A block of frames per FFT batch keeps memory flat on a two-hour file
# (a whole hour of 400-point frames would be ~0.6 GB at once).
_FRAMES_PER_BLOCK = 20_000


def _hz_to_mel(hz: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Slaney's mel scale: linear below 1 kHz, logarithmic above."""
    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    mel = hz / f_sp
    above = hz >= min_log_hz
    mel[above] = min_log_mel + np.log(hz[above] / min_log_hz) / logstep
    return mel


def _mel_to_hz(mel: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    hz = f_sp * mel
    above = mel >= min_log_mel
    hz[above] = min_log_hz * np.exp(logstep * (mel[above] - min_log_mel))
    return hz


def mel_filterbank(*, sample_rate: int = SAMPLE_RATE, n_fft: int = N_FFT,
                   n_mels: int = N_MELS) -> npt.NDArray[np.float32]:
    """Triangular Slaney-normalised mel filters, shape (n_mels, n_fft // 2 + 1)."""
    fft_freqs = np.linspace(0.0, sample_rate / 2, n_fft // 2 + 1)
    mel_points = np.linspace(_hz_to_mel(np.array([0.0]))[0],
                             _hz_to_mel(np.array([sample_rate / 2]))[0], n_mels + 2)
    mel_freqs = _mel_to_hz(mel_points)
    fdiff = np.diff(mel_freqs)
    ramps = mel_freqs[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_freqs[2:n_mels + 2] - mel_freqs[:n_mels]))[:, None]
    return weights.astype(np.float32)


def mel_spectrogram(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Mel power frames (num_frames, 40) of 16 kHz audio; frame i is centred on i * 10 ms.

    ``samples`` is read a block of frames at a time (slices only), so it may be a
    long recording's spool rather than one array in memory.
    """
    if len(samples) < 2:
        samples = np.zeros(N_FFT, dtype=np.float32)
    total = len(samples)
    half = N_FFT // 2
    reflect = total > half
    num_frames = 1 + total // HOP
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)
    filters = mel_filterbank()
    out = np.empty((num_frames, N_MELS), dtype=np.float32)
    for first in range(0, num_frames, _FRAMES_PER_BLOCK):
        count = min(_FRAMES_PER_BLOCK, num_frames - first)
        lo = first * HOP - half  # in the unpadded signal's indices
        segment = _padded(samples, lo, lo + (count - 1) * HOP + N_FFT, reflect=reflect)
        block = np.lib.stride_tricks.sliding_window_view(segment, N_FFT)[::HOP][:count] * window
        power = np.abs(np.fft.rfft(block, axis=1)) ** 2
        out[first:first + count] = power.astype(np.float32) @ filters.T
    return out


def _padded(samples: npt.NDArray[np.float32], lo: int, hi: int, *,
            reflect: bool) -> npt.NDArray[np.float32]:
    """``samples[lo:hi]`` where indices outside the signal are its mirror image (numpy's
    "reflect" padding) or zeros, as ``np.pad(samples, N_FFT // 2)`` would give."""
    total = len(samples)
    inside = np.asarray(samples[max(0, lo):min(total, hi)], dtype=np.float32)
    parts = []
    if lo < 0:
        parts.append(np.asarray(samples[1:1 - lo], dtype=np.float32)[::-1] if reflect
                     else np.zeros(-lo, dtype=np.float32))
    parts.append(inside)
    if hi > total:
        parts.append(np.asarray(samples[2 * total - 1 - hi:total - 1], dtype=np.float32)[::-1]
                     if reflect else np.zeros(hi - total, dtype=np.float32))
    return np.concatenate(parts) if len(parts) > 1 else inside


def volume_gain(samples: npt.NDArray[np.float32], *, target_dbfs: float = TARGET_DBFS) -> float:
    """Amplitude gain that raises ``samples`` to ``target_dbfs`` RMS (never lowers it)."""
    if samples.size == 0:
        return 1.0
    mean_square = float(np.mean(np.square(samples, dtype=np.float64)))
    if mean_square <= 1e-12:
        return 1.0
    change_db = target_dbfs - 10.0 * np.log10(mean_square)
    return float(10.0 ** (change_db / 20.0)) if change_db > 0 else 1.0


def build_encoder() -> Any:
    """An untrained GE2E encoder module with the pretrained file's exact layout."""
    import torch
    from torch import nn

    class VoiceEncoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(N_MELS, HIDDEN, LAYERS, batch_first=True)
            self.linear = nn.Linear(HIDDEN, HIDDEN)
            self.relu = nn.ReLU()
            # training-time similarity scale and bias; kept so the state dict loads strictly
            self.similarity_weight = nn.Parameter(torch.tensor([10.0]))
            self.similarity_bias = nn.Parameter(torch.tensor([-5.0]))

        def forward(self, mels: torch.Tensor) -> torch.Tensor:
            """(batch, frames, 40) mel power -> (batch, 256) unit-norm embeddings."""
            _, (hidden, _) = self.lstm(mels)
            raw = self.relu(self.linear(hidden[-1]))
            return raw / raw.norm(dim=1, keepdim=True).clamp_min(1e-8)

    return VoiceEncoder()


def load_encoder(path: Path) -> Any:
    """The pretrained encoder from ``pretrained.pt`` (a dict with ``model_state``), in eval mode."""
    import torch

    if not path.is_file():
        raise FileNotFoundError(f"GE2E encoder weights not found: {path}")
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    state = checkpoint.get("model_state", checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict):
        raise ValueError(f"{path} is not a GE2E voice-encoder state dict")
    encoder = build_encoder()
    encoder.load_state_dict(state)
    encoder.eval()
    return encoder


def embed_windows(encoder: Any, mel: npt.NDArray[np.float32],
                  windows: Sequence[tuple[int, int]], *, gains: Sequence[float] | None = None,
                  batch_size: int = 64) -> npt.NDArray[np.float32]:
    """One unit-norm embedding per (first_frame, end_frame) window of ``mel``.

    Windows longer than 1.6 s are cut into 1.6 s partials (half-overlapping) whose
    embeddings are averaged and re-normalised, as the encoder was trained.
    ``gains`` (amplitude, per window) apply the -30 dBFS normalisation; mel is
    power, so it scales by gain squared.
    """
    import torch

    if not windows:
        return np.zeros((0, HIDDEN), dtype=np.float32)
    gains = list(gains) if gains is not None else [1.0] * len(windows)
    # every window -> its partials (all the same length, batched) or itself if short
    pieces: list[tuple[int, int, int]] = []  # (window index, start, end)
    for index, (start, end) in enumerate(windows):
        end = max(end, start + 1)
        if end - start <= PARTIAL_FRAMES:
            pieces.append((index, start, end))
            continue
        step = PARTIAL_FRAMES // 2
        starts = list(range(start, end - PARTIAL_FRAMES + 1, step))
        if starts[-1] + PARTIAL_FRAMES < end:
            starts.append(end - PARTIAL_FRAMES)
        pieces.extend((index, s, s + PARTIAL_FRAMES) for s in starts)

    by_length: dict[int, list[int]] = {}
    for p, (_, start, end) in enumerate(pieces):
        by_length.setdefault(end - start, []).append(p)
    piece_embeddings = np.zeros((len(pieces), HIDDEN), dtype=np.float32)
    with torch.inference_mode():
        for length, members in by_length.items():
            for first in range(0, len(members), batch_size):
                batch = members[first:first + batch_size]
                stack = np.stack([
                    mel[pieces[p][1]:pieces[p][1] + length] * (gains[pieces[p][0]] ** 2)
                    for p in batch])
                out = encoder(torch.from_numpy(stack))
                piece_embeddings[batch] = out.numpy()

    sums = np.zeros((len(windows), HIDDEN), dtype=np.float32)
    for p, (index, _, _) in enumerate(pieces):
        sums[index] += piece_embeddings[p]
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return sums / np.maximum(norms, 1e-8)


def embed_utterance(encoder: Any, samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """One voice print for a whole utterance (16 kHz mono), normalised to -30 dBFS."""
    gain = volume_gain(samples)
    mel = mel_spectrogram(samples)
    return embed_windows(encoder, mel, [(0, len(mel))], gains=[gain])[0]
