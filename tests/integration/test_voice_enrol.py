"""Recurring voices: enrol the interviewer once, see them named in a new recording."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.fixtures import real_voices
from transcribe.diarize import embedding, voiceprints
from transcribe.diarize.voices import load_voice_model
from verbatim.cli import build_parser, main
from verbatim.commands.transcribe_cmds import pipeline_options
from verbatim.config import load_config

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not real_voices.available(),
                                 reason="real speech not found in ../shared/audio")]

SILENCE = np.zeros(8_000, dtype=np.float32)


def _interview() -> real_voices.Mixture:
    """A new recording: the interviewer (JFK's other sentences) and a participant."""
    return real_voices.make_mixture(("jfk", "reader"), seed=3, overlap_every=10**6)


def test_enrolled_interviewer_is_named_in_a_new_recording(
        campplus_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    store = campplus_model.parent.parent
    monkeypatch.setenv("VERBATIM_MODELS", str(store))
    monkeypatch.setenv("VERBATIM_DATA", str(tmp_path / "data"))
    # enrolment from a recording of the interviewer alone (two of their sentences)
    alone = np.concatenate([real_voices.piece_audio("jfk", 0), SILENCE,
                            real_voices.piece_audio("jfk", 3)])
    sf.write(tmp_path / "interviewer.wav", alone, real_voices.RATE)
    assert main(["voice", "enrol", "Interviewer", str(tmp_path / "interviewer.wav")]) == 0
    kept = list((tmp_path / "data" / "voices").iterdir())
    assert [p.name for p in kept] == ["Interviewer.json"]
    record = json.loads(kept[0].read_text())
    assert set(record) == {"format", "name", "voice_model", "speech_seconds", "vector"}
    assert record["voice_model"] == "campplus" and len(record["vector"]) == 192
    assert kept[0].stat().st_mode & 0o077 == 0  # owner-only
    assert main(["voice", "list"]) == 0
    assert "Interviewer\tcampplus" in capsys.readouterr().out

    # a new recording: the CLI's settings carry the voiceprint to the naming step
    args = build_parser().parse_args(["transcribe", "new.wav", "--out", "t.json"])
    options = pipeline_options(args, load_config())
    mixture = _interview()
    diarisation = embedding.diarise(mixture.audio(), models_dir=store)
    names = voiceprints.name_speakers(mixture.samples, diarisation, options.diarization, store)
    assert list(names.values()) == ["Interviewer"]  # the participant stays S1/S2
    (named,) = names
    spoken = {who for t in diarisation.turns if t.speaker == named
              for s, e, who in mixture.turns if min(e, t.end) - max(s, t.start) > 0.3}
    assert spoken == {"jfk"}


def test_sealed_voiceprint_needs_the_study_key(campplus_model: Path, tmp_path: Path) -> None:
    from pyrage import x25519

    identity = x25519.Identity.generate()
    model = load_voice_model("campplus", campplus_model.parent.parent)
    path = voiceprints.enrol("Interviewer", real_voices.piece_audio("reader", 2), model,
                             tmp_path, recipient=str(identity.to_public()))
    assert path.name == "Interviewer.json.age"
    assert b"vector" not in path.read_bytes()  # sealed: nothing readable at rest
    assert voiceprints.load(tmp_path) == []  # locked: not used
    (record,) = voiceprints.load(tmp_path, identities=[identity])
    assert record["name"] == "Interviewer"
    with pytest.raises(ValueError, match="needs at least 2 s"):
        voiceprints.enrol("Short", SILENCE, model, tmp_path)
