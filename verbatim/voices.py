"""Speakers for every door: the diarisation settings of a run (speaker-count flags over
the config, enrolled voiceprints), where voiceprints live, and whether the app offers
"this is the interviewer" (the enrolment itself is the use case
``verbatim.usecases.voices.enrol_speaker``).

The CLI (``transcribe``, ``voice``, ``batch``) and the app build their settings here,
so a voice enrolled once is recognised whichever door runs the transcription.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from verbatim.config import Config
from verbatim.errors import UserError

if TYPE_CHECKING:  # pragma: no cover
    from verbatim.study import Study


def voice_folder(config: Config) -> tuple[Path, str | None]:
    """Where voiceprints are kept (the study, else the data folder) and the study's age
    recipient when it is encrypted (voiceprints are then sealed)."""
    if config.study is None:
        return config.data_dir, None
    from verbatim.study import files

    return config.study, files.sealing_recipient(config.study)


def enrolled(config: Config) -> list[dict[str, Any]]:
    """Every voiceprint this run may use: the data folder's and the study's (sealed
    ones only while the study is unlocked)."""
    from transcribe.diarize import voiceprints

    prints = voiceprints.load(config.data_dir)
    if config.study is None or not (config.study / "voices").is_dir():
        return prints
    from verbatim.study import files

    sealed = files.sealing_recipient(config.study) is not None
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


# ------------------------------------------------------------ "this is the interviewer"

INTERVIEWER = "Interviewer"
DECLINED = ".interviewer-offer-declined"  # in voices/: the app asked once and was told no


def study_config(config: Config, study: Study) -> Config:
    """``config`` with ``study`` as its study (the app may hold a study the config does not
    name, e.g. the demo study): its voiceprints are then the ones found and kept."""
    return config if config.study == study.path else replace(config, study=study.path)


def is_interviewer(label: str) -> bool:
    """Whether a speaker label names the interviewer (Interviewer, Interviewer 2, I, Int)."""
    text = label.strip().casefold()
    return text.startswith("interviewer") or text in ("i", "int", "int.")


def offer_interviewer(study: Study, config: Config) -> bool:
    """Whether the app should offer to remember the interviewer's voice: the study keeps
    no voiceprint yet, was never told no, and a voice model is at hand."""
    from transcribe.diarize.voices import model_path

    voices = study.path / "voices"
    if (voices / DECLINED).exists() or any(
            p.name.endswith((".json", ".json.age")) and not p.name.startswith(".")
            for p in (voices.iterdir() if voices.is_dir() else ())):
        return False
    return model_path("auto", config.models_dir).is_file()


def decline_interviewer(study: Study) -> None:
    """Remember that the study's user said no to the offer (it is not made again)."""
    voices = study.path / "voices"
    voices.mkdir(parents=True, exist_ok=True, mode=0o700)
    (voices / DECLINED).touch(mode=0o600)
