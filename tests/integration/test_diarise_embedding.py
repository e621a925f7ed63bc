"""The ``embedding`` diariser on real audio with the real GE2E weights (``voice_model =
"ge2e"``; the CAM++ default is tested in test_diarise_campplus.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.fixtures.diarise_scoring import boundary_errors, der, read_rttm, word_speaker_accuracy
from tests.fixtures.synth import make_interview
from transcribe.audio import Audio
from transcribe.diarize import embedding

pytestmark = pytest.mark.integration

SAMPLE = Path(__import__("pyannote.audio").audio.__file__).parent / "sample"
GE2E = {"voice_model": "ge2e"}


def _load(path: Path) -> Audio:
    samples, rate = sf.read(path, dtype="float32", always_2d=True)
    return Audio(samples.T.copy(), rate, str(path))


@pytest.fixture(scope="module")
def interview():
    return make_interview(channels=1, seed=0)


@pytest.mark.parametrize("speakers", [None, 2])
def test_synthetic_interview_speakers_words_and_turns(ge2e_encoder: Path, interview,
                                                      speakers: int | None) -> None:
    result = embedding.diarise(_load(interview.path), num_speakers=speakers, settings=GE2E,
                               models_dir=ge2e_encoder.parent.parent)
    assert result.backend == "embedding"
    assert len(result.speakers) == 2
    assert word_speaker_accuracy(interview.words, interview.turns, result.turns) >= 0.95
    assert der(interview.turns, result.turns) <= 0.10
    errors = boundary_errors(interview.turns, result.turns)
    assert max(errors) <= 0.5, errors
    for a, b in zip(result.turns, result.turns[1:], strict=False):
        assert a.end <= b.start  # exclusive
    assert {"vad", "embeddings", "clustering"} <= set(result.timings)


def test_pyannote_sample_with_two_speakers(ge2e_encoder: Path) -> None:
    result = embedding.diarise(_load(SAMPLE / "sample.wav"), num_speakers=2, settings=GE2E,
                               models_dir=ge2e_encoder.parent.parent)
    assert len(result.speakers) == 2
    assert der(read_rttm(SAMPLE / "sample.rttm"), result.turns) <= 0.25


def test_one_speaker_hint_and_silence(ge2e_encoder: Path, interview) -> None:
    models = ge2e_encoder.parent.parent
    one = embedding.diarise(_load(interview.path), num_speakers=1, settings=GE2E,
                            models_dir=models)
    assert one.speakers == ("S1",)
    silent = embedding.diarise(Audio(np.zeros((1, 16_000 * 5), dtype=np.float32)),
                               settings=GE2E, models_dir=models)
    assert silent.turns == ()


def test_missing_model_is_a_clear_error(tmp_path: Path, interview) -> None:
    with pytest.raises(FileNotFoundError, match=r"speaker-embedding model \(ge2e\) not found"):
        embedding.diarise(_load(interview.path), settings=GE2E, models_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match=r"\(campplus\) not found.*make setup"):
        embedding.diarise(_load(interview.path), models_dir=tmp_path)
