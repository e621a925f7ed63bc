"""``--diarize MODE`` -> the backend that answers it, behind one function.

``channels`` and ``none`` live beside this file; ``pyannote`` and ``embedding``
are imported only when asked for, because they pull in torch.
"""

from __future__ import annotations

import importlib
import importlib.util
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from transcribe.audio import Audio
from transcribe.diarize import DIARISERS, Diarisation, Progress, SpeakerTurn
from transcribe.errors import TranscribeError

_LAZY_BACKENDS = {"pyannote": "transcribe.diarize.pyannote_backend",
                  "embedding": "transcribe.diarize.embedding"}


class DiarisationError(TranscribeError):
    """An unknown mode, or a mode this recording or installation cannot serve."""


def check_mode(mode: str, *, channels: int | None = None) -> None:
    """Fail fast, before any model loads, on a mode that cannot work here."""
    if mode not in DIARISERS:
        raise DiarisationError(f"unknown diarisation mode {mode!r} "
                               f"(choose from {', '.join(DIARISERS)})")
    if mode == "channels" and channels is not None and channels < 2:
        raise DiarisationError(
            "--diarize channels needs one microphone per speaker, but this recording has "
            f"{channels} channel; use --diarize embedding or none")
    if mode in _LAZY_BACKENDS and importlib.util.find_spec(_LAZY_BACKENDS[mode]) is None:
        raise DiarisationError(f"the {mode!r} diariser is not available in this installation")


def diarise(audio: Audio, *, mode: str, num_speakers: int | None = None,
            settings: Mapping[str, Any] | None = None, models_dir: Path,
            progress: Progress | None = None,
            speech: Sequence[tuple[float, float]] | None = None) -> Diarisation:
    """Who spoke when, by the chosen backend.

    ``speech``: the pipeline's VAD regions (seconds), so a backend that needs
    speech regions does not run a VAD of its own (one VAD per job).
    """
    check_mode(mode, channels=audio.channels)
    settings = dict(settings or {})
    if mode == "none":
        return single_speaker(audio)
    if mode == "channels":
        from transcribe.diarize.channels import diarise_channels

        return diarise_channels(audio, settings=settings, progress=progress)
    backend = importlib.import_module(_LAZY_BACKENDS[mode])
    extra = {"speech": speech} if speech is not None and mode == "embedding" else {}
    try:
        return backend.diarise(audio, num_speakers=num_speakers, settings=settings,
                               models_dir=models_dir, progress=progress, **extra)
    except (FileNotFoundError, ValueError) as exc:  # the backend's own one-line complaints
        if isinstance(exc, TranscribeError):
            raise
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DiarisationError(f"{mode} diarisation: {message}") from exc


def speaker_settings(diarization: Mapping[str, Any], *, speakers: int | None = None,
                     min_speakers: int | None = None, max_speakers: int | None = None,
                     voice_model: str | None = None) -> dict[str, Any]:
    """The ``[diarization]`` settings with the command line's speaker flags laid over them
    (``--min-speakers``, ``--max-speakers``, ``--voice-model``); one clear line on a
    contradiction. Both doors (CLI, app) build their settings through here."""
    merged = dict(diarization)
    if min_speakers is not None:
        merged["min_speakers"] = min_speakers
    if max_speakers is not None:
        merged["max_speakers"] = max_speakers
    if voice_model is not None:
        merged["voice_model"] = voice_model
    low, high = merged.get("min_speakers"), merged.get("max_speakers")
    if isinstance(low, int) and isinstance(high, int) and low > high:
        raise DiarisationError(f"--min-speakers {low} is more than --max-speakers {high}")
    if speakers is not None and ((isinstance(low, int) and speakers < low)
                                 or (isinstance(high, int) and speakers > high)):
        raise DiarisationError(f"--speakers {speakers} is outside --min-speakers/--max-speakers")
    if voice_model is not None:
        from transcribe.diarize.voices import VOICE_MODELS

        if voice_model not in (*VOICE_MODELS, "auto"):
            raise DiarisationError(f"unknown voice model {voice_model!r} "
                                   f"(choose from auto, {', '.join(VOICE_MODELS)})")
    return merged


def single_speaker(audio: Audio) -> Diarisation:
    """``--diarize none``: everything is S1."""
    started = time.perf_counter()
    turns = (SpeakerTurn(0.0, round(audio.duration, 3), "S1"),) if audio.duration > 0 else ()
    return Diarisation(turns=turns, backend="none",
                       timings={"diarise": time.perf_counter() - started})
