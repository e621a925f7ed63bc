"""Snapshots of every screen at 80×24 (and the editor larger), deterministic by construction.

Nothing on these screens depends on the clock, a temp path or chance: the
study's dates, notes and jobs are fixed here. Regenerate with
``pytest tests/ui/test_snapshots.py --snapshot-update`` and look at the SVGs.
"""

from __future__ import annotations

from typing import Any

import pytest

from transcript.model import Note
from verbatim.study import Study
from verbatim.tui.app import Job
from verbatim.tui.screens.dialogs import ExportDialog, MarksDialog, NoteDialog
from verbatim.tui.screens.editor import EditorScreen
from verbatim.tui.screens.help import HelpScreen
from verbatim.tui.screens.jobs import JobsScreen
from verbatim.tui.screens.lists import ExtractsScreen, NotesScreen
from verbatim.tui.screens.record import RecordScreen

from .conftest import home_loaded
from .test_screens import press_for, wait_for

pytestmark = pytest.mark.ui


async def _open_editor(pilot: Any) -> None:
    await home_loaded(pilot)
    await press_for(pilot, "o", EditorScreen)
    await wait_for(pilot, lambda: pilot.app.screen.doc is not None)  # loaded in a worker
    await pilot.pause()


def opening(key: str, screen: type) -> Any:
    """A run_before that opens a screen by its key and waits for it (no race on a busy box),
    and for what it reads in the background."""

    async def run_before(pilot: Any) -> None:
        await home_loaded(pilot)
        await press_for(pilot, key, screen)
        await wait_for(pilot, lambda: getattr(pilot.app.screen, "loaded", True)
                       and getattr(pilot.app.screen, "schedule", []) is not None)
        await pilot.pause()

    return run_before


def test_home(snap_compare: Any, make_app: Any) -> None:
    assert snap_compare(make_app(), run_before=home_loaded, terminal_size=(80, 24))


def test_editor_with_selection(snap_compare: Any, make_app: Any) -> None:
    async def run_before(pilot: Any) -> None:
        await _open_editor(pilot)
        await pilot.press("down", "down", "J")
        view = pilot.app.screen.view
        await wait_for(pilot, lambda: view.selection == (2, 3))

    assert snap_compare(make_app(), run_before=run_before, terminal_size=(80, 24))


def test_editor_wide_locked_with_note(snap_compare: Any, make_app: Any, study: Study) -> None:
    study.lock("P1-1")
    study.add_note("P1-1", Note(start=9.0, end=14.0, phase="after", moment="tired",
                                written_at="2024-03-14T12:00:00Z"))

    async def run_before(pilot: Any) -> None:
        await _open_editor(pilot)

    assert snap_compare(make_app(), run_before=run_before, terminal_size=(120, 30))


def test_help(snap_compare: Any, make_app: Any) -> None:
    assert snap_compare(make_app(), run_before=opening("question_mark", HelpScreen),
                        terminal_size=(80, 24))


def test_record_idle(snap_compare: Any, make_app: Any) -> None:
    assert snap_compare(make_app(), run_before=opening("r", RecordScreen),
                        terminal_size=(80, 24))


def test_jobs(snap_compare: Any, make_app: Any) -> None:
    app = make_app()

    async def run_before(pilot: Any) -> None:
        app.jobs[1] = Job(id=1, interview="P1-1", stage="done", fraction=1.0, state="done")
        app.jobs[2] = Job(id=2, interview="P1-2", state="failed", fraction=0.3,
                          error="model tiny.en is not in the model store")
        await home_loaded(pilot)
        await press_for(pilot, "ctrl+o", JobsScreen)
        await pilot.pause()

    assert snap_compare(app, run_before=run_before, terminal_size=(80, 24))


def test_note_dialog(snap_compare: Any, make_app: Any) -> None:
    async def run_before(pilot: Any) -> None:
        await _open_editor(pilot)
        await pilot.press("J")
        view = pilot.app.screen.view
        await wait_for(pilot, lambda: view.selection == (0, 1))
        await press_for(pilot, "a", NoteDialog)
        await pilot.pause()

    assert snap_compare(make_app(), run_before=run_before, terminal_size=(80, 24))


def test_marks_dialog(snap_compare: Any, make_app: Any) -> None:
    async def run_before(pilot: Any) -> None:
        await _open_editor(pilot)
        await press_for(pilot, "m", MarksDialog)
        await pilot.pause()

    assert snap_compare(make_app(), run_before=run_before, terminal_size=(80, 24))


def test_export_dialog(snap_compare: Any, make_app: Any) -> None:
    async def run_before(pilot: Any) -> None:
        await _open_editor(pilot)
        await press_for(pilot, "E", ExportDialog)
        await pilot.pause()
        pilot.app.screen.query_one("#out").value = "exports/P1-1.docx"  # not the temp path
        await pilot.pause()

    assert snap_compare(make_app(), run_before=run_before, terminal_size=(80, 24))


def test_notes_and_extracts_lists(snap_compare: Any, make_app: Any, study: Study) -> None:
    study.lock("P1-1")
    study.add_note("P1-1", Note(start=9.0, end=14.0, phase="after",
                                moment="He sounded tired talking about the team",
                                response="I felt protective of him",
                                understanding="My own years on a ward",
                                written_at="2024-03-14T12:00:00Z"))
    study.add_extract("P1-1", 3, 4)
    assert snap_compare(make_app(), run_before=opening("n", NotesScreen), terminal_size=(80, 24))
    assert snap_compare(make_app(), run_before=opening("x", ExtractsScreen),
                        terminal_size=(80, 24))
