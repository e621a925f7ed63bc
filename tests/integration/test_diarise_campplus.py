"""CAM++, the default voice model: our module with the real 3D-Speaker weights, on real voices."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tests.fixtures import real_voices
from tests.fixtures.diarise_scoring import der, read_rttm, word_speaker_accuracy
from transcribe.audio import load_audio
from transcribe.diarize import campplus, embedding, voices

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not real_voices.available(),
                                 reason="real speech not found in ../shared/audio")]


@pytest.fixture(scope="module")
def store(campplus_model: Path) -> Path:
    return campplus_model.parent.parent


@pytest.fixture(scope="module")
def model(store: Path) -> voices.VoiceModel:
    return voices.load_voice_model("campplus", store)


def test_weights_load_strictly_into_our_network(campplus_model: Path, tmp_path: Path) -> None:
    encoder = campplus.load_encoder(campplus_model)
    state = torch.load(campplus_model, map_location="cpu", weights_only=True)
    assert set(encoder.state_dict()) == set(state)  # every tensor has its place, none left over
    features = campplus.fbank(real_voices.piece_audio("jfk", 0))
    assert features.shape[1] == 80
    vector = campplus.embed_windows(encoder, features, [(0, len(features))])[0]
    assert vector.shape == (192,) and abs(float(np.linalg.norm(vector)) - 1) < 1e-5

    broken = tmp_path / "broken.pt"
    torch.save({"head.conv1.weight": state["head.conv1.weight"]}, broken)
    with pytest.raises(ValueError, match="does not fit the CAM\\+\\+ network"):
        campplus.load_encoder(broken)
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a CAM\\+\\+ state dict"):
        campplus.load_encoder(tmp_path / "junk.pt")


def test_one_real_voice_is_closer_to_itself_than_to_others(model: voices.VoiceModel) -> None:
    speakers = ("jfk", "reader", "caller_a", "caller_b")
    prints = {s: [model.embed(real_voices.piece_audio(s, i)) for i in (0, 2)] for s in speakers}
    for speaker in speakers:
        same = float(prints[speaker][0] @ prints[speaker][1])
        others = [float(prints[speaker][i] @ prints[other][j])
                  for other in speakers if other != speaker for i in (0, 1) for j in (0, 1)]
        assert same > max(others) + 0.2, (speaker, same, max(others))


@pytest.mark.parametrize(("speakers", "overlaps", "least"), [(2, 0, 0.98), (4, 3, 0.9),
                                                            (6, 3, 0.9)])
def test_meetings_of_real_voices(store: Path, speakers: int, overlaps: int,
                                 least: float) -> None:
    mixture = real_voices.make_mixture(speakers, seed=0, overlap_every=overlaps or 10**6)
    result = embedding.diarise(mixture.audio(), models_dir=store)
    assert len(result.speakers) == speakers
    assert word_speaker_accuracy(mixture.words, mixture.turns, result.turns) >= least


def test_one_voice_stays_one_speaker(store: Path) -> None:
    for name in ("jfk.flac", "2412-153948-0000.flac"):
        result = embedding.diarise(load_audio(real_voices.AUDIO / name), models_dir=store)
        assert result.speakers == ("S1",), name


def test_speaker_bounds(store: Path) -> None:
    audio = real_voices.make_mixture(3, seed=1).audio()
    assert len(embedding.diarise(audio, models_dir=store,
                                 settings={"max_speakers": 2}).speakers) == 2
    solo = load_audio(real_voices.AUDIO / "jfk.flac")
    assert len(embedding.diarise(solo, models_dir=store,
                                 settings={"min_speakers": 2}).speakers) == 2


def test_pyannote_sample(store: Path) -> None:
    sample = real_voices.sample_dir()
    result = embedding.diarise(load_audio(sample / "sample.wav"), models_dir=store)
    assert len(result.speakers) == 2
    assert der(read_rttm(sample / "sample.rttm"), result.turns) <= 0.2
