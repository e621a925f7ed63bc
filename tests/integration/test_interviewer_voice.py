"""'This is the interviewer': keep a speaker's voice from a transcribed interview (the CLI's
``voice enrol NAME --from-interview ID --speaker S1``; the app's offer is in
tests/ui/test_interviewer_offer.py), then see the next transcription name them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.voice_study import (
    FIRST,
    SECOND,
    add_recorded,
    interview,
    needs_real_voices,
)
from verbatim.cli import main
from verbatim.config import Config
from verbatim.study import Study

pytestmark = [pytest.mark.integration, needs_real_voices]


def test_cli_keeps_the_speakers_voice_and_labels_them(voice_study: Study, campplus_model: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("VERBATIM_MODELS", str(campplus_model.parent.parent))
    monkeypatch.setenv("VERBATIM_DATA", str(voice_study.path.parent / "data"))
    argv = ["--study", str(voice_study.path), "voice", "enrol", "Interviewer"]
    assert main([*argv, "--from-interview", "P1-1", "--speaker", "S1"]) == 0
    assert "from S1 in P1-1" in capsys.readouterr().err
    assert [p.name for p in (voice_study.path / "voices").iterdir()] == ["Interviewer.json"]
    doc = voice_study.transcript("P1-1")
    assert doc is not None and doc.speaker_label("S1") == "Interviewer"
    assert doc.speaker_label("S2") == "S2"
    # clear one-line refusals
    assert main([*argv, "--from-interview", "P1-1", "--speaker", "S9"]) == 1
    assert "no speaker 'S9'" in capsys.readouterr().err
    assert main([*argv, "--from-interview", "P1-1"]) == 1
    assert "needs --speaker" in capsys.readouterr().err


def test_the_next_transcription_names_the_interviewer(voice_study: Study, tmp_path: Path,
                                                      campplus_model: Path,
                                                      faster_whisper_tiny: Path) -> None:
    from verbatim.usecases.options import pipeline_options
    from verbatim.usecases.transcription import transcribe_interview
    from verbatim.usecases.voices import enrol_speaker
    from verbatim.voices import study_config

    models = faster_whisper_tiny.parent
    config = Config(data_dir=tmp_path / "data", models_dir=models, model="tiny.en")
    kept = enrol_speaker(voice_study, config, "P1-1", "S1")  # the app's and the CLI's function
    assert kept.name == "Interviewer" and kept.seconds >= 4 and not kept.sealed

    iid = add_recorded(voice_study, tmp_path, SECOND, transcribed=False)  # a new recording
    options = pipeline_options(study_config(config, voice_study))
    doc = transcribe_interview(voice_study, iid, options).document
    labels = {s.id: s.label for s in doc.speakers}
    assert list(labels.values()).count("Interviewer") == 1
    assert all(label in ("Interviewer", sid) for sid, label in labels.items())  # others: S2
    truth = interview(SECOND)
    interviewer = next(k for k, v in labels.items() if v == "Interviewer")
    said = [w for w in doc.words if w.speaker == interviewer]
    jfk = [(s, e) for s, e, who in truth.turns if who == "jfk"]
    assert said and all(any(s - 0.5 <= w.start <= e + 0.5 for s, e in jfk) for w in said)


def test_in_an_encrypted_study_the_voiceprint_is_sealed(tmp_path: Path, vault_runtime: Path,
                                                        campplus_model: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from verbatim.config import load_config
    from verbatim.voices import enrolled

    key, path = tmp_path / "team.key", tmp_path / "sealed-study"
    monkeypatch.setenv("VERBATIM_KEY_FILE", str(key))
    monkeypatch.setenv("VERBATIM_MODELS", str(campplus_model.parent.parent))
    monkeypatch.setenv("VERBATIM_DATA", str(tmp_path / "data"))
    assert main(["study", "init", str(path), "--encrypt", "--key-file", str(key)]) == 0
    with Study.open(path) as study:
        study.add_participant("P1")
        add_recorded(study, tmp_path, FIRST, transcribed=True)
    assert main(["--study", str(path), "voice", "enrol", "Interviewer",
                 "--from-interview", "P1-1", "--speaker", "S1"]) == 0
    (kept,) = (path / "voices").iterdir()
    assert kept.name == "Interviewer.json.age" and b"vector" not in kept.read_bytes()
    monkeypatch.setenv("VERBATIM_STUDY", str(path))
    assert [r["name"] for r in enrolled(load_config())] == ["Interviewer"]  # unlocked: used
