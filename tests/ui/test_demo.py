"""The demo study a newcomer sees on first run: made once, reopened after."""

from __future__ import annotations

from pathlib import Path

import soundfile as sf

from transcript import document
from verbatim.demo import DEMO_AUDIO, DEMO_TRANSCRIPT, demo_study_path, open_demo_study


def test_demo_assets_are_small_and_consistent() -> None:
    assert DEMO_AUDIO.stat().st_size <= 300_000
    info = sf.info(str(DEMO_AUDIO))
    doc = document.read(DEMO_TRANSCRIPT)
    assert abs(doc.audio.duration - info.duration) < 0.1
    assert len({w.speaker for w in doc.words}) == 2  # two voices, diarised by the pipeline
    assert doc.words and doc.words[-1].end <= info.duration + 0.1


def test_first_run_creates_the_demo_study_and_reopens_it(tmp_path: Path) -> None:
    study = open_demo_study(tmp_path)
    try:
        assert study.path == demo_study_path(tmp_path)
        assert [p.id for p in study.participants()] == ["P1"]
        assert study.transcript("P1-1") == document.read(DEMO_TRANSCRIPT)
        study.save_transcript("P1-1", document.read(DEMO_TRANSCRIPT), origin="edit")
    finally:
        study.close()
    again = open_demo_study(tmp_path)  # opened, not rebuilt: the user's edits stay
    try:
        assert len(again.versions("P1-1")) == 2
    finally:
        again.close()
