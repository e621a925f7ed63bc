"""Pilot drives each screen's main path on a real study folder."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from transcribe.jobs import JobCancelled
from transcript.model import Source
from verbatim.study import Study
from verbatim.tui.screens.dialogs import (
    ConfirmDialog,
    ExportDialog,
    ExtractDialog,
    FieldsDialog,
    InterviewDialog,
    MarksDialog,
    NoteDialog,
    ParticipantDialog,
    PromptDialog,
    ReplaceDialog,
    TextDialog,
)
from verbatim.tui.screens.editor import EditorScreen
from verbatim.tui.screens.help import HelpScreen
from verbatim.tui.screens.home import HomeScreen
from verbatim.tui.screens.jobs import JobsScreen
from verbatim.tui.screens.lists import ExtractsScreen, NotesScreen
from verbatim.tui.screens.record import RecordScreen
from verbatim.tui.widgets.transcript_view import TranscriptView

from .conftest import make_doc

pytestmark = pytest.mark.ui
SIZE = (80, 24)


async def wait_for(pilot: Any, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until ``condition`` holds (workers and threads finish on their own time)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.05)


async def open_editor(pilot: Any) -> EditorScreen:
    await pilot.press("enter")  # participant P1 -> interviews table
    await pilot.press("enter")  # P1-1 -> editor
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, EditorScreen)
                   and pilot.app.screen.doc is not None)  # loaded in a worker
    return pilot.app.screen


async def press_for(pilot: Any, key: str, screen: type) -> None:
    """Press a key that opens a screen, and wait until it is there (keys typed next go to it)."""
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, screen))


async def type_text(pilot: Any, text: str) -> None:
    await pilot.press(*["space" if c == " " else c for c in text])


def current(study: Study, iid: str = "P1-1") -> Any:
    doc = study.transcript(iid)
    assert doc is not None
    return doc


def first_word(study: Study) -> str:
    return str(current(study).words[0].text)


# ------------------------------------------------------------ home


async def test_home_lists_participants_and_interview_status(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, HomeScreen)
        people = app.screen.query_one("#participants")
        talks = app.screen.query_one("#interviews")
        assert people.row_count == 2
        assert "[withheld]" in app.screen.query_one("#participants").get_row_at(1)[1].plain
        assert [str(talks.get_row_at(i)[3]) for i in range(talks.row_count)] == [
            "transcribed", "recorded"]
        await pilot.press("down")  # P2 has no interviews
        await wait_for(pilot, lambda: talks.row_count == 0)


async def test_add_participant_and_interview_through_dialogs(make_app: Any, study: Study,
                                                             tmp_path: Path) -> None:
    from verbatim.demo import DEMO_AUDIO

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press_for(pilot, "a", ParticipantDialog)
        await type_text(pilot, "P4")
        await pilot.press("tab", "tab")
        await type_text(pilot, "Social Worker")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen))
        await wait_for(pilot, lambda: study.participant("P4").role == "Social Worker")
        await wait_for(pilot, lambda: app.screen.selected_participant() == "P4")
        await press_for(pilot, "i", InterviewDialog)
        await type_text(pilot, str(DEMO_AUDIO))
        await pilot.press("enter", "enter", "enter")
        await wait_for(pilot, lambda: [i.id for i in study.interviews("P4")] == ["P4-1"])


async def test_edit_interview_consent_and_participant(make_app: Any, study: Study) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab")
        await press_for(pilot, "c", FieldsDialog)  # P1-1 details
        app.screen.query_one("#f-consent_form").value = "v2.1"
        app.screen.query_one("#f-consent_date").value = "2024-03-01"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen))
        await wait_for(pilot, lambda: study.interview("P1-1").consent_form == "v2.1")
        talks = app.screen.query_one("#interviews")
        await wait_for(pilot, lambda: str(talks.get_row_at(0)[4]) == "v2.1 2024-03-01")
        await pilot.press("shift+tab")
        await press_for(pilot, "p", FieldsDialog)
        app.screen.query_one("#f-profession").value = "Senior Social Worker"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: study.participant("P1").role == "Senior Social Worker")


# ------------------------------------------------------------ editor


async def test_editor_shows_numbered_lines_with_labels(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot)
        view = editor.query_one(TranscriptView)
        assert [ln.n for ln in view.lines][:3] == [1, 2, 3]
        assert view.lines[0].speaker == "S1"
        assert "line 1 ·" in str(editor.query_one("#editor-detail").render())
        await pilot.press("down", "J")
        await wait_for(pilot, lambda: view.selection == (1, 2))
        await press_for(pilot, "colon", PromptDialog)
        await type_text(pilot, "5-7")  # as a citation gives it
        await pilot.press("enter")
        await wait_for(pilot, lambda: view.cursor == 4)
        await pilot.press("up", "up", "J")
        await wait_for(pilot, lambda: view.selection == (2, 3))
        await pilot.press("escape")  # clears the selection, stays
        await wait_for(pilot, lambda: view.selection == (3, 3))
        assert isinstance(app.screen, EditorScreen)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen))


async def test_edit_words_is_saved_at_once_and_undo_redo(make_app: Any, study: Study) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_editor(pilot)
        versions = len(study.versions("P1-1"))
        await press_for(pilot, "e", PromptDialog)
        await pilot.press("ctrl+a")  # select all
        await pilot.press("ctrl+k")  # delete to end of line
        await type_text(pilot, "Thanks for coming")
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(study.versions("P1-1")) == versions + 1)
        # a second connection sees the edit: nothing lives only in the app's memory
        with Study.open(study.path) as other:
            doc = other.transcript("P1-1")
            assert doc is not None
            assert [w.text for w in doc.words[:3]] == ["Thanks", "for", "coming"]
        await pilot.press("ctrl+z")
        await wait_for(pilot, lambda: first_word(study) == "Thank")
        await pilot.press("ctrl+y")
        await wait_for(pilot, lambda: first_word(study) == "Thanks")


async def test_rename_and_merge_speakers(make_app: Any, study: Study) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot)
        await press_for(pilot, "s", PromptDialog)
        await pilot.press("ctrl+a", "ctrl+k")
        await type_text(pilot, "Interviewer")
        await pilot.press("enter")
        await wait_for(pilot, lambda: current(study).speaker_label("S1") == "Interviewer")
        status = editor.query_one("#editor-status")
        await wait_for(pilot, lambda: "S1=Interviewer" in str(status.render()))
        await press_for(pilot, "S", PromptDialog)
        await type_text(pilot, "S2")
        await pilot.press("enter")
        await wait_for(pilot, lambda: {w.speaker for w in current(study).words} == {"S2"})


async def test_find_and_replace(make_app: Any, study: Study) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot)
        await press_for(pilot, "slash", PromptDialog)
        await type_text(pilot, "dual edge")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "dual edge" in editor.lines[editor.view.cursor].text)
        first = editor.view.cursor
        await pilot.press("n")
        await wait_for(pilot, lambda: editor.view.cursor > first)
        await press_for(pilot, "r", ReplaceDialog)
        await pilot.press("tab")
        await type_text(pilot, "double edge")
        await pilot.press("enter")

        def replaced() -> bool:
            text = " ".join(w.text for w in current(study).words)
            return "dual" not in text and text.count("double edge") == 3

        await wait_for(pilot, replaced)


async def test_marks_confirm_and_add(make_app: Any, study: Study) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_editor(pilot)
        assert study.transcript("P1-1").marks[0].source is Source.AUTO  # type: ignore
        await press_for(pilot, "m", MarksDialog)
        await pilot.press("c")
        await wait_for(pilot, lambda: current(study).marks[0].source is Source.HUMAN)
        before = len(current(study).marks)
        await press_for(pilot, "m", MarksDialog)
        await pilot.press("a")
        await type_text(pilot, "tone laughs")
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(current(study).marks) == before + 1)
        assert any(m.label == "laughs" and m.source is Source.HUMAN
                   for m in current(study).marks)


async def test_note_anchored_to_selected_lines(make_app: Any, study: Study) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot)
        await pilot.press("down", "J", "J")
        first, last = editor.lines[1], editor.lines[3]
        await press_for(pilot, "a", NoteDialog)
        await type_text(pilot, "He sounded tired")
        await pilot.press("tab")
        await type_text(pilot, "I felt protective")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, EditorScreen))
        await wait_for(pilot, lambda: len(study.notes("P1-1")) == 1)
        notes = study.notes("P1-1")
        note = notes[0]
        assert (note.start, note.end) == (first.start, last.end)
        assert note.moment == "He sounded tired" and note.response == "I felt protective"
        assert note.phase == "analysis"
        await press_for(pilot, "o", NotesScreen)  # enter there jumps back to the anchor
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, EditorScreen))
        await pilot.press("G")
        await press_for(pilot, "o", NotesScreen)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, EditorScreen))
        await wait_for(pilot, lambda: editor.view.cursor == 1)


async def test_note_draft_survives_escape_and_is_removed_once_saved(make_app: Any,
                                                                    study: Study) -> None:
    app = make_app()
    draft = Path(study.path) / "drafts" / "note-P1-1.json"
    async with app.run_test(size=SIZE) as pilot:
        await open_editor(pilot)
        await press_for(pilot, "a", NoteDialog)
        await type_text(pilot, "Half a thought")
        await wait_for(pilot, draft.exists)  # written while typing, before any save
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, EditorScreen))
        assert study.notes("P1-1") == []
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, NoteDialog))
        await wait_for(pilot, lambda: app.screen.restored is not None)  # read in the background
        assert app.screen.query_one("#moment").text == "Half a thought"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: len(study.notes("P1-1")) == 1)
        assert not draft.exists()


async def test_extract_locks_then_cites(make_app: Any, study: Study) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot)
        await pilot.press("down", "down", "J")  # lines 3-4
        await press_for(pilot, "x", ConfirmDialog)
        await pilot.press("enter")  # yes, lock
        await wait_for(pilot, lambda: isinstance(app.screen, ExtractDialog))
        assert app.screen.citation == "(Extract 1. P1, Social Worker. 3-4)"
        await wait_for(pilot, lambda: study.interview("P1-1").locked)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, EditorScreen))
        assert editor.doc is not None and editor.doc.locked
        # locked: a correction is a new version with the same line numbers (issue 18)
        numbers = [ln.number for ln in editor.lines]
        await press_for(pilot, "e", PromptDialog)
        await pilot.press("ctrl+a", "ctrl+k")
        await type_text(pilot, "corrected words")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "corrected words" in editor.lines[editor.view.cursor].text)
        assert [ln.number for ln in editor.lines] == numbers
        assert study.extract(1).citation == "(Extract 1. P1, Social Worker. 3-4)"
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen))
        await press_for(pilot, "x", ExtractsScreen)
        await wait_for(pilot, lambda: app.screen.loaded)
        assert app.screen.query_one("#extracts").row_count == 1
        await press_for(pilot, "a", TextDialog)  # analysis, Willig's stages as the template
        assert "1." in app.screen.query_one("#text").text
        app.screen.query_one("#text").text = "Caring and power in tension."
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: study.extract(1).analysis == "Caring and power in tension.")
        await pilot.press("k")  # the member-check pack of P1
        await wait_for(pilot, lambda: any((Path(study.path) / "packs" / "P1").glob("*.docx")))


async def test_export_dialog_writes_word(make_app: Any, study: Study, tmp_path: Path) -> None:
    app = make_app()
    out = tmp_path / "out" / "P1-1.docx"
    async with app.run_test(size=SIZE) as pilot:
        await open_editor(pilot)
        await press_for(pilot, "E", ExportDialog)
        field = app.screen.query_one("#out")
        field.value = str(out)
        await pilot.click("#ok")
        await wait_for(pilot, out.exists)
    assert out.read_bytes()[:2] == b"PK"  # a Word (zip) file


async def test_playback_follows_the_text_and_pauses(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot)
        await pilot.press("right_square_bracket", "right_square_bracket")
        await wait_for(pilot, lambda: editor.speed == 1.2)
        await pilot.press("p")
        await wait_for(pilot, lambda: editor.view.playing is not None)
        await wait_for(pilot, lambda: editor.view.cursor >= 1)  # moved on with the voice
        await pilot.press("p")
        await wait_for(pilot, lambda: not editor.player.playing)
        paused = editor.player.position()
        assert paused > editor.lines[0].start
        await press_for(pilot, "A", NoteDialog)  # a note on the moment just heard
        await type_text(pilot, "here")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: len(app.study.notes("P1-1")) == 1)
        note = app.study.notes("P1-1")[0]
        assert note.start == note.end == pytest.approx(paused)


# ------------------------------------------------------------ record


async def test_record_start_mark_stop_adds_an_interview(make_app: Any, study: Study) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press_for(pilot, "r", RecordScreen)
        await pilot.press("space")
        await wait_for(pilot, lambda: app.recorder is not None
                       and app.recorder.status().elapsed > 0.3)
        await pilot.press("m")
        await press_for(pilot, "M", PromptDialog)  # typing "s" or space must not stop it
        await type_text(pilot, "this moved me so")
        await pilot.press("enter")
        assert app.recorder.status().state == "recording"
        await pilot.press("escape")  # leaving the screen keeps recording
        assert app.recorder is not None and app.recorder.status().state == "recording"
        await press_for(pilot, "r", RecordScreen)
        await pilot.press("s")
        await wait_for(pilot, lambda: len(study.interviews("P1")) == 3)
        await wait_for(pilot, lambda: app.recorder is None)
        new = study.interviews("P1")[-1]
        assert new.audio_duration and new.audio_duration > 0.3
        live = [n for n in study.notes(new.id) if n.to_complete]  # the live marks
        assert len(live) == 2 and any("this moved me so" in n.moment for n in live)


# ------------------------------------------------------------ jobs


def gated_runner(gate: threading.Event) -> Callable[..., Any]:
    def run(path: Path, options: Any, out: Path, *, progress: Any = None,
            cancel: threading.Event | None = None) -> Any:
        progress("asr", 0.4)
        while not gate.is_set():
            if cancel is not None and cancel.is_set():
                raise JobCancelled("cancelled")
            time.sleep(0.01)
        return make_doc(2)

    return run


async def test_transcription_job_runs_in_background_and_saves(make_app: Any,
                                                              study: Study) -> None:
    gate = threading.Event()
    app = make_app(job_runner=gated_runner(gate))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab", "down", "t")  # P1-2 is recorded, not transcribed
        await wait_for(pilot, lambda: 1 in app.jobs and app.jobs[1].stage == "asr")
        assert str(app.screen.query_one("#interviews").get_row_at(1)[3]) == "transcribing"
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen))
        gate.set()
        await wait_for(pilot, lambda: app.jobs[1].state == "done")
        assert study.transcript("P1-2") is not None


async def test_transcription_job_can_be_cancelled_and_failures_shown(make_app: Any,
                                                                     study: Study) -> None:
    app = make_app(job_runner=gated_runner(threading.Event()))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab", "down", "t", "ctrl+o")
        await wait_for(pilot, lambda: app.jobs[1].stage == "asr")
        await pilot.press("c")
        await wait_for(pilot, lambda: app.jobs[1].state == "cancelled")
        assert study.transcript("P1-2") is None

    def broken(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("model tiny.en not found in the store")

    app = make_app(job_runner=broken)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab", "down", "t", "ctrl+o")
        await wait_for(pilot, lambda: app.jobs[1].state == "failed")
        assert "model tiny.en not found" in app.jobs[1].error


# ------------------------------------------------------------ help, palette, lists


async def test_help_and_command_palette(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press("escape")
        from textual.command import CommandPalette

        await press_for(pilot, "ctrl+p", CommandPalette)
        await type_text(pilot, "Jobs")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen))


async def test_a_ui_crash_finishes_the_recording_file(make_app: Any) -> None:
    import soundfile as sf

    app = make_app()

    def crash() -> None:
        raise RuntimeError("a bug in the UI")

    with pytest.raises(RuntimeError, match="a bug in the UI"):
        async with app.run_test(size=SIZE) as pilot:
            await press_for(pilot, "r", RecordScreen)
            await pilot.press("space")
            await wait_for(pilot, lambda: app.recorder is not None
                           and app.recorder.status().elapsed > 0.3)
            recorder = app.recorder
            app.call_later(crash)
            await pilot.pause(0.5)
    assert recorder.status().state == "stopped"
    info = sf.info(str(recorder.path))
    assert info.frames > 0.3 * info.samplerate  # a finished, readable WAV


async def test_quit_while_recording_asks_and_finishes_the_file(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press_for(pilot, "r", RecordScreen)
        await pilot.press("space")
        await wait_for(pilot, lambda: app.recorder is not None)
        recorder = app.recorder
        await press_for(pilot, "ctrl+q", ConfirmDialog)
        assert app.is_running
        await pilot.press("enter")  # yes
        await wait_for(pilot, lambda: not app.is_running)
    assert recorder.status().state == "stopped"
    assert recorder.path.exists()
