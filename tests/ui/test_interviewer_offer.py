"""The app's "this is the interviewer": labelling a speaker Interviewer in the editor offers,
once per study, to remember that voice; yes keeps the voiceprint (the same function as
``verbatim voice enrol NAME --from-interview``), no is remembered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.voice_study import needs_real_voices
from verbatim.config import Config
from verbatim.study import Study
from verbatim.tui.screens.dialogs import ConfirmDialog, PromptDialog
from verbatim.voices import DECLINED, offer_interviewer

from .conftest import starts_loaded
from .test_screens import open_editor, press_for, type_text, wait_for

pytestmark = [pytest.mark.ui, needs_real_voices]


async def rename_first_speaker(pilot: Any, label: str) -> None:
    await press_for(pilot, "s", PromptDialog)
    await pilot.press("ctrl+a", "ctrl+k")
    await type_text(pilot, label)
    await pilot.press("enter")


async def test_yes_keeps_the_interviewers_voice_for_the_study(voice_study: Study, tmp_path: Path,
                                                             campplus_model: Path) -> None:
    from verbatim.tui.app import VerbatimApp

    config = Config(data_dir=tmp_path / "data", models_dir=campplus_model.parent.parent)
    app = starts_loaded(VerbatimApp(config, study=voice_study))
    async with app.run_test(size=(100, 30)) as pilot:
        editor = await open_editor(pilot)
        await rename_first_speaker(pilot, "Interviewer")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), timeout=30)
        await pilot.press("enter")  # Yes
        voiceprint = voice_study.path / "voices" / "Interviewer.json"
        await wait_for(pilot, voiceprint.is_file, timeout=60)
        assert editor.doc is not None and editor.doc.speaker_label("S1") == "Interviewer"
    assert not offer_interviewer(voice_study, config)  # asked once: the study now knows the voice


async def test_no_is_remembered(voice_study: Study, tmp_path: Path, campplus_model: Path) -> None:
    from verbatim.tui.app import VerbatimApp

    config = Config(data_dir=tmp_path / "data", models_dir=campplus_model.parent.parent)
    app = starts_loaded(VerbatimApp(config, study=voice_study))
    async with app.run_test(size=(100, 30)) as pilot:
        await open_editor(pilot)
        await rename_first_speaker(pilot, "Interviewer")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), timeout=30)
        await pilot.press("escape")  # no
        await wait_for(pilot, (voice_study.path / "voices" / DECLINED).exists)
        await rename_first_speaker(pilot, "Interviewer (Ana)")
        await wait_for(pilot, lambda: voice_study.transcript("P1-1").speaker_label("S1")  # type: ignore[union-attr]
                       == "Interviewer (Ana)")
        await pilot.pause(0.3)
        assert not isinstance(app.screen, ConfirmDialog)  # not asked again
    assert not (voice_study.path / "voices" / "Interviewer.json").exists()
