"""The app records into an encrypted study and the interview reaches it (issue 13: 1, 2, 9).

The record screen uses the same use case as ``verbatim interview add``: the
sealed segments are joined in RAM and added; mark text typed while recording is
sealed as it is written; afterwards ``recordings/`` keeps no second copy.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from verbatim.config import Config
from verbatim.study import Study
from verbatim.tui.screens.dialogs import PromptDialog
from verbatim.tui.screens.record import RecordScreen
from verbatim.usecases.recording import recorder_class
from verbatim.vault import ops

from .conftest import FakeSource, fake_devices, fake_recorder_factory, starts_loaded
from .test_screens import SIZE, press_for, type_text, wait_for

pytestmark = [pytest.mark.usefixtures("vault_runtime"), pytest.mark.ui]

SECRET = "zebra carpet remark"


def test_plain_study_and_no_study_use_the_plain_recorder(tmp_path: Path) -> None:
    from capture.recorder import Recorder

    assert recorder_class(None) is Recorder
    with Study.init(tmp_path / "plain") as study:
        assert recorder_class(study.path) is Recorder


@pytest.fixture
def sealed_study(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Study]:
    folder = tmp_path / "sealed"
    key_file = tmp_path / "team.key"
    ops.prepare_new_study(folder, passphrase=None, key_file=key_file)
    Study.init(folder).close()
    monkeypatch.setenv("VERBATIM_KEY_FILE", str(key_file))
    study = Study.open(folder)
    study.add_participant("P3")
    yield study
    study.close()


def _plaintext_hits(folder: Path, needle: bytes) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]


async def test_app_recording_into_an_encrypted_study_is_added_sealed_and_once(
        sealed_study: Study, tmp_path: Path) -> None:
    from verbatim.tui.app import VerbatimApp

    sealing = recorder_class(sealed_study.path)
    assert sealing is not recorder_class(None)

    def factory(path: Path, *, device: Any = None, channels: int = 1) -> Any:
        return sealing(path, channels=channels, rate=16000, source=FakeSource(16000, channels),
                       clock=time.monotonic)

    app = starts_loaded(VerbatimApp(
        Config(data_dir=tmp_path / "data", models_dir=tmp_path / "models"),
        study=sealed_study, recorder_factory=factory, device_lister=fake_devices))
    recordings = sealed_study.path / "recordings"
    async with app.run_test(size=SIZE) as pilot:
        await press_for(pilot, "r", RecordScreen)
        await pilot.press("space")
        await wait_for(pilot, lambda: app.recorder is not None
                       and app.recorder.status().elapsed > 0.3)
        await press_for(pilot, "M", PromptDialog)
        await type_text(pilot, SECRET)
        await pilot.press("enter")
        await wait_for(pilot, lambda: any(recordings.glob("*.capture.json.age")))
        # the typed mark text is on disk only sealed, while the recording runs
        assert not _plaintext_hits(sealed_study.path, SECRET.encode())
        assert not list(recordings.glob("*.capture.json"))
        await pilot.press("s")
        await wait_for(pilot, lambda: len(sealed_study.interviews("P3")) == 1, timeout=20)
        await wait_for(pilot, lambda: not any(recordings.iterdir()))
    interview = sealed_study.interviews("P3")[0]
    assert interview.audio_duration and interview.audio_duration > 0.3
    notes = sealed_study.notes(interview.id)
    assert [n.moment for n in notes] == [SECRET] and notes[0].to_complete
    assert not _plaintext_hits(sealed_study.path, SECRET.encode())


async def test_app_recording_into_a_plain_study_leaves_one_copy(study: Study,
                                                                make_app: Any) -> None:
    app = make_app(recorder_factory=fake_recorder_factory)
    recordings = study.path / "recordings"
    async with app.run_test(size=SIZE) as pilot:
        await press_for(pilot, "r", RecordScreen)
        await pilot.press("space")
        await wait_for(pilot, lambda: app.recorder is not None  # 0.5 s is the shortest kept
                       and app.recorder.status().elapsed > 0.8)
        await pilot.press("s")
        await wait_for(pilot, lambda: len(study.interviews("P1")) == 3, timeout=20)
        await wait_for(pilot, lambda: not any(recordings.iterdir()))
    stored = study.audio_path(study.interviews("P1")[-1].id)
    assert sf.info(str(stored)).duration > 0.8
    assert np.abs(sf.read(str(stored))[0]).max() > 0.01
