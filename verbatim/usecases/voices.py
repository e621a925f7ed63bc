"""Use case: keep the voice of one speaker of a transcribed interview as a voiceprint.

The app's "this is the interviewer" and ``verbatim voice enrol NAME --from-interview
ID --speaker S1`` both call ``enrol_speaker``. The voiceprint store itself (where a
study keeps its voices, which voices a job uses) is ``verbatim.voices``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from verbatim.config import Config
from verbatim.errors import UserError
from verbatim.voices import INTERVIEWER, study_config, voice_folder

if TYPE_CHECKING:
    from transcript.model import Transcript
    from verbatim.study import Study

MAX_SPEECH = 90.0  # s of a speaker's turns a voiceprint is made from (the first ones)


@dataclass(frozen=True)
class Enrolled:
    """A voiceprint kept from one speaker of a transcribed interview."""

    name: str
    path: Path
    seconds: float
    sealed: bool


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


