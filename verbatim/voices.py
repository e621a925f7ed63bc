"""Speakers for every door: the diarisation settings of a run (speaker-count flags over
the config, enrolled voiceprints), where voiceprints live, and "this is the
interviewer": keeping a speaker's voiceprint from a transcribed interview
(``enrol_speaker``, which the app's offer and ``verbatim voice enrol NAME
--from-interview IID --speaker S1`` both call).

The CLI (``transcribe``, ``voice``, ``batch``) and the app build their settings here,
so a voice enrolled once is recognised whichever door runs the transcription.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from verbatim.config import Config
from verbatim.errors import UserError

if TYPE_CHECKING:  # pragma: no cover
    from transcript.model import Transcript
    from verbatim.study import Study


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


# ------------------------------------------------------------ "this is the interviewer"

INTERVIEWER = "Interviewer"
DECLINED = ".interviewer-offer-declined"  # in voices/: the app asked once and was told no
MAX_SPEECH = 90.0  # s of a speaker's turns a voiceprint is made from (the first ones)


@dataclass(frozen=True)
class Enrolled:
    """A voiceprint kept from one speaker of a transcribed interview."""

    name: str
    path: Path
    seconds: float
    sealed: bool


def study_config(config: Config, study: Study) -> Config:
    """``config`` with ``study`` as its study (the app may hold a study the config does not
    name, e.g. the demo study): its voiceprints are then the ones found and kept."""
    return config if config.study == study.path else replace(config, study=study.path)


def speaker_regions(doc: Transcript, speaker: str, *, join: float = 0.5,
                    budget: float = MAX_SPEECH) -> list[tuple[float, float]]:
    """The stretches (s) where ``speaker`` talks in ``doc``: their words, joined across
    gaps under ``join`` s, the first ones up to ``budget`` s of speech."""
    regions: list[tuple[float, float]] = []
    total, previous = 0.0, None
    for word in doc.words:
        if word.speaker == speaker:
            if regions and previous == speaker and word.start - regions[-1][1] < join:
                total += word.end - regions[-1][1]
                regions[-1] = (regions[-1][0], word.end)
            elif total >= budget:
                break
            else:
                regions.append((word.start, word.end))
                total += word.end - word.start
        previous = word.speaker
    return [(start, end) for start, end in regions if end > start]


def _find_speaker(doc: Transcript, speaker: str) -> str:
    """The id of ``speaker`` given as an id (S1) or a label (Interviewer)."""
    for s in doc.speakers:
        if speaker in (s.id, s.label):
            return s.id
    known = ", ".join(s.id if s.label == s.id else f"{s.id} ({s.label})" for s in doc.speakers)
    raise UserError(f"no speaker {speaker!r} in this transcript (speakers: {known})")


def _decode_until(path: Path, end: float) -> Any:
    """16 kHz mono samples of ``path`` from 0 to ``end`` s (decoded no further)."""
    import numpy as np

    from transcribe.audio import SAMPLE_RATE, decode_blocks

    needed = int(end * SAMPLE_RATE) + SAMPLE_RATE
    blocks, have = [], 0
    for block in decode_blocks(path):
        blocks.append(block.mean(axis=0).astype(np.float32))
        have += block.shape[1]
        if have >= needed:
            break
    return np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)


def enrol_speaker(study: Study, config: Config, iid: str, speaker: str, *,
                  name: str = INTERVIEWER, label: bool = True) -> Enrolled:
    """Keep the voiceprint of ``speaker`` (S1, or its label) in interview ``iid``'s
    recording as ``name``'s, in the study (sealed when the study is encrypted), so the
    study's next transcriptions name that voice; ``label``: also give the speaker the
    label ``name`` in this transcript (a saved rename). The one function behind the
    app's "this is the interviewer" and ``verbatim voice enrol NAME --from-interview``.
    """
    from transcribe.diarize import voiceprints
    from transcribe.diarize.voices import load_voice_model
    from transcribe.errors import TranscribeError
    from verbatim.study import StudyError

    try:
        doc = study.transcript(iid)
        audio = study.audio_path(iid)
    except StudyError as exc:
        raise UserError(str(exc)) from None
    if doc is None:
        raise UserError(f"{iid} has no transcript yet; run 'verbatim transcribe {iid}'")
    sid = _find_speaker(doc, speaker)
    regions = speaker_regions(doc, sid)
    if not regions:
        raise UserError(f"{sid} says nothing in {iid}: no voice to keep")
    folder, recipient = voice_folder(study_config(config, study))
    try:
        model = load_voice_model("auto", config.models_dir)
        samples = _decode_until(audio, regions[-1][1])
        path = voiceprints.enrol(name, samples, model, folder, recipient=recipient,
                                 regions=regions)
    except (TranscribeError, FileNotFoundError, ValueError) as exc:
        raise UserError(f"voice enrol: {str(exc).splitlines()[0]}") from None
    if label and doc.speaker_label(sid) != name.strip():
        from verbatim.usecases.speakers import rename_speaker

        rename_speaker(study, iid, sid, name.strip())
    return Enrolled(name.strip(), path, round(sum(e - s for s, e in regions), 1),
                    recipient is not None)


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
