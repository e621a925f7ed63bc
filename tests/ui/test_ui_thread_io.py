"""The screens other than the editor read and write the study off the UI thread.

Every study method these screens call is wrapped to note the thread it runs
on; driving the home, notes, extracts and record screens (and a note draft)
through Pilot must leave that list non-empty and free of the main thread.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from transcript.model import Note
from verbatim.study import Study
from verbatim.tui.screens.dialogs import FieldsDialog, NoteDialog, ParticipantDialog
from verbatim.tui.screens.lists import ExtractsScreen, NotesScreen
from verbatim.tui.screens.record import RecordScreen

from .test_screens import SIZE, open_editor, press_for, type_text, wait_for

pytestmark = pytest.mark.ui

WATCHED = ("participants", "participant", "interviews", "interview", "notes", "note",
           "extracts", "extract", "add_participant", "update_participant", "update_interview",
           "set_extract_analysis", "transcript_version", "audit_log", "info")


def watch(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Wrap the study's reads and writes (and the schedule and draft readers): (name, thread)."""
    calls: list[tuple[str, str]] = []

    def wrapped(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            if sys._getframe(1).f_code.co_filename != __file__:  # not this test's own checks
                calls.append((name, threading.current_thread().name))
            return fn(*args, **kwargs)
        return run

    for name in WATCHED:
        monkeypatch.setattr(Study, name, wrapped(name, getattr(Study, name)))
    name_prop = Study.name

    def name_read(self: Study) -> str:
        calls.append(("name", threading.current_thread().name))
        assert name_prop.fget is not None
        return str(name_prop.fget(self))

    monkeypatch.setattr(Study, "name", property(name_read))
    from verbatim.tui.screens import dialogs, record

    monkeypatch.setattr(record, "read_schedule", wrapped("read_schedule", record.read_schedule))
    monkeypatch.setattr(dialogs, "read_draft", wrapped("read_draft", dialogs.read_draft))
    return calls


def on_ui_thread(calls: list[tuple[str, str]]) -> list[str]:
    main = threading.main_thread().name
    return [name for name, thread in calls if thread == main]


async def test_home_lists_and_record_do_no_study_io_on_the_ui_thread(
        make_app: Any, study: Study, monkeypatch: pytest.MonkeyPatch) -> None:
    study.lock("P1-1")
    study.add_note("P1-1", Note(start=9.0, end=14.0, phase="after", moment="tired"))
    study.add_extract("P1-1", 3, 4)
    (Path(study.path) / "schedule.txt").write_text("How did you start?\n", encoding="utf-8")
    calls = watch(monkeypatch)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        # home: the first load, a new participant, consent details
        await press_for(pilot, "a", ParticipantDialog)
        await type_text(pilot, "P9")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen.selected_participant() == "P9")
        await pilot.press("up", "up", "tab")  # back to P1, into the interviews
        await wait_for(pilot, lambda: app.screen.selected_interview() == "P1-1")
        await press_for(pilot, "c", FieldsDialog)
        app.screen.query_one("#f-place").value = "Ward 3"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: study.interview("P1-1").place == "Ward 3")
        await pilot.press("shift+tab")
        # notes and extracts of the study
        await press_for(pilot, "n", NotesScreen)
        await wait_for(pilot, lambda: app.screen.loaded)
        assert app.screen.query_one("#notes").row_count == 1
        await pilot.press("escape")
        await press_for(pilot, "x", ExtractsScreen)
        await wait_for(pilot, lambda: app.screen.loaded)
        assert "P1, Social Worker" in app.screen.extracts[0].citation
        await pilot.press("escape")
        # the record screen's schedule
        await press_for(pilot, "r", RecordScreen)
        await wait_for(pilot, lambda: app.screen.schedule == ["How did you start?"])
    names = {name for name, _ in calls}
    assert {"participants", "interviews", "notes", "extracts", "add_participant",
            "update_interview", "read_schedule", "name"} <= names
    assert on_ui_thread(calls) == []


async def test_a_note_draft_is_read_off_the_ui_thread(
        make_app: Any, study: Study, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = watch(monkeypatch)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_editor(pilot)
        await press_for(pilot, "a", NoteDialog)
        await wait_for(pilot, lambda: app.screen.restored is not None)
    assert "read_draft" in {name for name, _ in calls}
    assert "read_draft" not in on_ui_thread(calls)


def test_the_check_sees_the_ui_thread(monkeypatch: pytest.MonkeyPatch, study: Study) -> None:
    calls = watch(monkeypatch)
    from verbatim.tui.screens.home import load_home

    load_home(study)  # the test runs on the main thread: this must be caught
    assert "participants" in on_ui_thread(calls)
