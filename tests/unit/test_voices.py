"""verbatim.voices' pure pieces: where a speaker talks in a transcript, interviewer labels,
when the app's once-per-study offer is due."""

from __future__ import annotations

from pathlib import Path

import pytest

from transcript.model import AudioRef, Speaker, Transcript, Word
from verbatim.config import Config
from verbatim.study import Study
from verbatim.usecases.voices import speaker_regions
from verbatim.voices import (
    DECLINED,
    decline_interviewer,
    is_interviewer,
    offer_interviewer,
)


def doc(*words: tuple[str, float, float]) -> Transcript:
    return Transcript(audio=AudioRef("a.wav", "", 30.0),
                      speakers=(Speaker("S1", "S1"), Speaker("S2", "S2")),
                      words=tuple(Word("w", s, e, who, 0.9) for who, s, e in words))


def test_a_speakers_regions_join_close_words_and_stop_at_another_voice() -> None:
    d = doc(("S1", 0.0, 0.4), ("S1", 0.6, 1.0), ("S1", 2.0, 2.5),  # a 1 s pause: new region
            ("S2", 2.6, 3.0), ("S1", 3.1, 3.5),  # S2 between: S1 starts afresh
            ("S1", 3.6, 4.0))
    assert speaker_regions(d, "S1") == [(0.0, 1.0), (2.0, 2.5), (3.1, 4.0)]
    assert speaker_regions(d, "S2") == [(2.6, 3.0)]
    assert speaker_regions(d, "S1", budget=1.0) == [(0.0, 1.0)]  # enough speech: no more


@pytest.mark.parametrize("label", ["Interviewer", "interviewer 2", " INT ", "I"])
def test_interviewer_labels(label: str) -> None:
    assert is_interviewer(label)


@pytest.mark.parametrize("label", ["P4", "Inès", "Participant", ""])
def test_other_labels(label: str) -> None:
    assert not is_interviewer(label)


def test_the_offer_needs_a_voice_model_and_is_made_once(tmp_path: Path) -> None:
    models = tmp_path / "models"
    (models / "campplus-cn-en").mkdir(parents=True)
    with Study.init(tmp_path / "study") as study:
        assert not offer_interviewer(study, Config(data_dir=tmp_path, models_dir=models))
        (models / "campplus-cn-en" / "campplus_cn_en_common.pt").write_bytes(b"")
        config = Config(data_dir=tmp_path, models_dir=models)  # weights there: not loaded
        assert offer_interviewer(study, config)
        (study.path / "voices").mkdir()
        (study.path / "voices" / "Chair.json.age").write_bytes(b"sealed")
        assert not offer_interviewer(study, config)  # the study knows a voice already
        (study.path / "voices" / "Chair.json.age").unlink()
        decline_interviewer(study)
        assert (study.path / "voices" / DECLINED).exists()
        assert not offer_interviewer(study, config)
