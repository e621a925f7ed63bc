"""Both doors, one house: the same flow through the app and through the CLI, compared.

Two identical studies; one is worked through the Textual app (Pilot), the other
through ``verbatim`` commands; the transcripts, citations and export bytes must
be the same, because both doors call ``verbatim.usecases``.
"""

from __future__ import annotations

import threading
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from transcript.model import Transcript
from verbatim.cli import main
from verbatim.config import Config
from verbatim.demo import DEMO_AUDIO
from verbatim.study import Study
from verbatim.tui.screens.dialogs import ConfirmDialog, ExportDialog, ExtractDialog, PromptDialog
from verbatim.tui.screens.editor import EditorScreen
from verbatim.tui.screens.home import HomeScreen
from verbatim.usecases import transcription

from .conftest import make_doc, starts_loaded
from .test_screens import SIZE, press_for, type_text, wait_for

pytestmark = pytest.mark.ui


def fake_runner(path: Path, options: Any, out: Path, *, progress: Any = None,
                cancel: threading.Event | None = None) -> Transcript:
    """The worker's contract without the model: progress through real stage names."""
    for stage in ("load", "vad", "diarise", "asr", "marks"):
        progress(stage, 1.0)
    return make_doc(4, audio=str(path))  # an absolute path, as the worker returns it


@pytest.fixture
def twins(tmp_path: Path) -> Iterator[tuple[Study, Study]]:
    """Two identical studies: P1 with one recorded, untranscribed interview."""
    made = []
    for name in ("app", "cli"):
        study = Study.init(tmp_path / name, name="Twin study")
        study.add_participant("P1", attributes={"profession": "Nurse"})
        study.add_interview("P1", DEMO_AUDIO, date="2024-03-14")
        made.append(study)
    yield made[0], made[1]
    for study in made:
        study.close()


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., int]:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setattr(transcription, "_in_memory", fake_runner)  # the worker process

    def run(study: Study, *args: str) -> int:
        return main(["--study", str(study.path), *args])

    return run


def _app(study: Study, tmp_path: Path) -> Any:
    from verbatim.tui.app import VerbatimApp

    return starts_loaded(VerbatimApp(
        Config(data_dir=tmp_path / "data", models_dir=tmp_path / "models"),
        study=study, job_runner=fake_runner))


def _docx_text(path: Path) -> bytes:
    with zipfile.ZipFile(path) as z:
        return z.read("word/document.xml")


async def test_transcribe_edit_lock_extract_export_match(twins: tuple[Study, Study],
                                                         cli: Callable[..., int],
                                                         tmp_path: Path) -> None:
    in_app, in_cli = twins
    app = _app(in_app, tmp_path)
    app_out = tmp_path / "out-app" / "P1-1.docx"
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter", "t")  # P1 -> its interviews -> transcribe P1-1
        await wait_for(pilot, lambda: in_app.transcript("P1-1") is not None)
        await wait_for(pilot, lambda: app.jobs[1].state == "done")
        await pilot.press("enter")  # P1-1 -> the editor
        await wait_for(pilot, lambda: isinstance(app.screen, EditorScreen))
        await press_for(pilot, "s", PromptDialog)  # S1's label
        await type_text(pilot, "Interviewer")
        await pilot.press("enter")
        await wait_for(pilot, lambda: in_app.transcript("P1-1").speaker_label("S1")
                       == "Interviewer")
        await press_for(pilot, "L", ConfirmDialog)
        await pilot.press("enter")  # yes, lock
        await wait_for(pilot, lambda: in_app.interview("P1-1").locked)
        await pilot.press("down")
        await press_for(pilot, "x", ExtractDialog)
        app_citation = in_app.extract(1).citation
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, EditorScreen))
        await press_for(pilot, "E", ExportDialog)
        app.screen.query_one("#out").value = str(app_out)
        await pilot.click("#ok")
        await wait_for(pilot, app_out.exists)

    assert cli(in_cli, "transcribe", "P1-1") == 0
    if _has_speaker_cli():
        assert cli(in_cli, "speaker", "rename", "P1-1", "S1", "Interviewer") == 0
    else:
        assert _rename_through_usecase(in_cli)
    assert cli(in_cli, "lock", "P1-1") == 0
    assert cli(in_cli, "extract", "add", "P1-1", "--lines", "2") == 0
    cli_out = tmp_path / "out-cli" / "P1-1.docx"
    cli_out.parent.mkdir()
    assert cli(in_cli, "export", "P1-1", "--format", "docx", "--out", str(cli_out)) == 0

    a, b = in_app.transcript("P1-1"), in_cli.transcript("P1-1")
    assert a is not None and b is not None
    assert a.audio == b.audio and a.audio.path == f"audio/{in_app.interview('P1-1').audio_file}"
    assert a.words == b.words and a.lines == b.lines and a.speakers == b.speakers
    assert app_citation == in_cli.extract(1).citation
    assert _docx_text(app_out) == _docx_text(cli_out)
    # no job hand-over file was left in either study
    for study in twins:
        assert not (study.path / "jobs").exists()
        assert not list(study.path.glob(".work/*"))


def _has_speaker_cli() -> bool:
    from verbatim.cli import HANDLERS

    return "speaker" in HANDLERS


def _rename_through_usecase(study: Study) -> bool:
    from verbatim.usecases.speakers import rename_speaker

    return rename_speaker(study, "P1-1", "S1", "Interviewer").changed


async def test_a_locked_interview_is_refused_by_both_doors(twins: tuple[Study, Study],
                                                           cli: Callable[..., int],
                                                           tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str],
                                                           ) -> None:
    for study in twins:
        study.save_transcript("P1-1", make_doc(2), origin="pipeline")
        study.lock("P1-1")
    in_app, in_cli = twins
    versions = len(in_app.versions("P1-1"))
    app = _app(in_app, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter", "t")
        await pilot.pause(0.2)
        assert isinstance(app.screen, HomeScreen) and not app.jobs
        shown = [n.message for n in app._notifications]
    assert any("P1-1 is locked" in m for m in shown)
    assert len(in_app.versions("P1-1")) == versions
    assert cli(in_cli, "transcribe", "P1-1") == 1
    assert "P1-1 is locked" in capsys.readouterr().err


async def test_home_says_whose_interviews_and_the_palette_has_the_main_actions(
        twins: tuple[Study, Study], tmp_path: Path) -> None:
    from verbatim.tui.screens.record import RecordScreen

    in_app, _ = twins
    app = _app(in_app, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        title = app.screen.query_one("#interviews-title")
        assert "Interviews of P1" in str(title.render())
        names = [c.title for c in app.get_system_commands(app.screen)]
        assert {"Open interview", "Transcribe interview", "Export interview"} <= set(names)
        await press_for(pilot, "r", RecordScreen)
        shown = " ".join(str(w.render()) for w in app.screen.query("Label"))
        assert "No interview schedule" in shown  # none was written: none is invented
