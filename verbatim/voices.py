"""Speakers for every door: the diarisation settings of a run (speaker-count flags over
the config, enrolled voiceprints) and where voiceprints live.

The CLI (``transcribe``, ``voice``, ``batch``) and the app build their settings here,
so a voice enrolled once is recognised whichever door runs the transcription.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from verbatim.config import Config
from verbatim.errors import UserError


def voice_folder(config: Config) -> tuple[Path, str | None]:
    """Where voiceprints are kept (the study, else the data folder) and the study's age
    recipient when it is encrypted (voiceprints are then sealed)."""
    if config.study is None:
        return config.data_dir, None
    from verbatim.study import files

    return config.study, files._recipient(config.study)


def enrolled(config: Config) -> list[dict[str, Any]]:
    """Every voiceprint this run may use: the data folder's and the study's (sealed
    ones only while the study is unlocked)."""
    from transcribe.diarize import voiceprints

    prints = voiceprints.load(config.data_dir)
    if config.study is None or not (config.study / "voices").is_dir():
        return prints
    from verbatim.study import files

    sealed = files._recipient(config.study) is not None
    identities = files._held_identities(config.study) if sealed else []
    return prints + voiceprints.load(config.study, identities=identities)


def diarization_settings(config: Config, *, speakers: int | None = None,
                         min_speakers: int | None = None, max_speakers: int | None = None,
                         voice_model: str | None = None) -> dict[str, Any]:
    """``[diarization]`` with the speaker flags over it and the enrolled voiceprints."""
    from transcribe.diarize.registry import DiarisationError, speaker_settings

    try:
        settings = speaker_settings(config.diarization, speakers=speakers,
                                    min_speakers=min_speakers, max_speakers=max_speakers,
                                    voice_model=voice_model)
    except DiarisationError as exc:
        raise UserError(str(exc)) from None
    prints = enrolled(config)
    if prints:  # enrolled voices: speakers that surely match are named
        settings["voiceprints"] = prints
    return settings
