"""A real transcription from the app: B's worker-process job on the demo recording."""

from __future__ import annotations

from pathlib import Path

import pytest

from verbatim.config import Config
from verbatim.demo import DEMO_AUDIO
from verbatim.study import Study

from .conftest import starts_loaded
from .test_screens import wait_for

pytestmark = [pytest.mark.ui, pytest.mark.integration]


async def test_transcribe_demo_recording_in_the_background(tmp_path: Path, models_dir: Path,
                                                           faster_whisper_tiny: Path,
                                                           campplus_model: Path) -> None:
    from verbatim.tui.app import VerbatimApp
    from verbatim.tui.screens.jobs import JobsScreen

    study = Study.init(tmp_path / "study")
    study.add_participant("P1", attributes={"profession": "Social Worker"})
    study.add_interview("P1", DEMO_AUDIO)
    # the default diariser (CAM++) must part the demo's two voices: a user's first run
    config = Config(data_dir=tmp_path / "data", models_dir=models_dir)
    app = starts_loaded(VerbatimApp(config, study=study))  # the real job runner, pipeline
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("tab", "t", "ctrl+o")
        assert isinstance(app.screen, JobsScreen)
        await wait_for(pilot, lambda: app.jobs[1].state != "running", timeout=300)
        assert app.jobs[1].state == "done", app.jobs[1].error
    doc = study.transcript("P1-1")
    assert doc is not None
    text = " ".join(w.text for w in doc.words).lower()
    assert "social worker" in text and "community team" in text
    assert len({w.speaker for w in doc.words}) == 2
    first = next(w for w in doc.words if w.text.lower().startswith("social"))
    assert first.speaker != doc.words[0].speaker  # the participant, not the interviewer
    study.close()
