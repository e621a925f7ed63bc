"""A real transcription from the app: B's worker-process job on the demo recording."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from verbatim.config import Config
from verbatim.demo import DEMO_AUDIO
from verbatim.study import Study

from .test_screens import wait_for

pytestmark = [pytest.mark.ui, pytest.mark.integration]


async def test_transcribe_demo_recording_in_the_background(tmp_path: Path, models_dir: Path,
                                                           faster_whisper_tiny: Path,
                                                           ge2e_encoder: Any) -> None:
    from verbatim.tui.app import VerbatimApp
    from verbatim.tui.screens.jobs import JobsScreen

    study = Study.init(tmp_path / "study")
    study.add_participant("P1", attributes={"profession": "Social Worker"})
    study.add_interview("P1", DEMO_AUDIO)
    # the demo's two espeak-ng voices come from one formant synthesiser: CAM++, trained on
    # real voices, hears them as one man (cosine distance 0.56, under its 0.6 cut); GE2E
    # tells them apart, so this test of the app's job pins it
    config = Config(data_dir=tmp_path / "data", models_dir=models_dir,
                    diarization={"voice_model": "ge2e"})
    app = VerbatimApp(config, study=study)  # the real job runner and pipeline
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("tab", "t", "ctrl+o")
        assert isinstance(app.screen, JobsScreen)
        await wait_for(pilot, lambda: app.jobs[1].state != "running", timeout=300)
        assert app.jobs[1].state == "done", app.jobs[1].error
    doc = study.transcript("P1-1")
    assert doc is not None
    text = " ".join(w.text for w in doc.words).lower()
    assert "social worker" in text and "community team" in text
    assert len({w.speaker for w in doc.words}) >= 2
    study.close()
