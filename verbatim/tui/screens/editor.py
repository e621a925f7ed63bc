"""The transcript editor: numbered lines, playback, edits saved as they are made.

Every edit is a pure function of ``transcript.edits`` applied to the current
document and saved at once as a new version in the study (origin "edit"), so
killing the app loses nothing and undo/redo are the store's versions.

This module is the screen itself: loading, showing, the status and detail
bars, moving and finding. Its actions live in mixins, one module each:
``editor_edits`` (edits, undo, redo), ``editor_notes`` (notes, extracts, the
lock), ``editor_playback`` (play, speed, following the voice) and ``desk``
(the transcriber's pedal keys, doubtful words, speaker boundaries); what is
drawn beside the text is computed in ``verbatim.tui.decorations``.
"""

from __future__ import annotations

import gc
from typing import Any, ClassVar

from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Static

from transcript import edits
from transcript.model import AudioRef, Line, Source, Transcript
from verbatim.tui.decorations import line_flags
from verbatim.tui.layout import (
    format_time,
    layout_key,
    line_at_time,
    marks_touching,
    numbered_lines,
    turn_labels,
)
from verbatim.tui.messages import StudyChanged
from verbatim.tui.screens.desk import DeskMixin
from verbatim.tui.screens.dialogs import PromptDialog
from verbatim.tui.screens.editor_edits import EditActions
from verbatim.tui.screens.editor_notes import NoteActions
from verbatim.tui.screens.editor_playback import PlaybackActions
from verbatim.tui.screens.export import open_export
from verbatim.tui.widgets.transcript_view import TranscriptView
from verbatim.usecases.editing import SaveQueue


class EditorScreen(EditActions, NoteActions, PlaybackActions, DeskMixin, Screen[None]):
    """One interview's transcript, with its audio (desk keys: ``verbatim.tui.screens.desk``)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False),
        Binding("e", "edit_line", "Edit"),
        Binding("s", "rename_speaker", "Speaker"),
        Binding("S", "merge_speaker", "Merge", show=False),
        Binding("m", "marks", "Marks"),
        Binding("slash", "find", "Find"),
        Binding("colon", "go_to_line", "Go to line", show=False),
        Binding("r", "replace", "Replace", show=False),
        Binding("a", "note", "Note"),
        Binding("A", "note_at_playback", "Note at playback time", show=False),
        Binding("x", "extract", "Extract"),
        Binding("o", "notes", "Notes", show=False),
        Binding("L", "lock", "Lock", show=False),
        Binding("E", "export", "Export", show=False),
        Binding("ctrl+z", "undo", "Undo", show=False),
        Binding("ctrl+y", "redo", "Redo", show=False),
    ]

    def __init__(self, interview: str) -> None:
        super().__init__()
        self.interview = interview
        self.doc = None
        self.lines = ()
        self.notes = []
        self.saves = SaveQueue()
        self.numbered = {}
        self.saved_state = ""
        self.player = None
        self.speed = 1.0
        self.paused_at = None
        self.find_query = ""
        self._match_word = -1

    def compose(self) -> ComposeResult:
        yield Static(id="editor-status", markup=False)
        yield TranscriptView(id="transcript")
        yield Static(id="editor-strip", markup=False)
        yield Static(id="editor-detail", markup=False)
        yield Footer(compact=True)

    @property
    def app_(self) -> Any:
        return self.app

    @property
    def study(self) -> Any:
        return self.app_.study

    def on_mount(self) -> None:
        self.bind_desk_keys()
        self.query_one("#editor-status", Static).update(f"{self.interview} · opening ...")
        self.view.focus()
        self.set_interval(0.2, self.follow_playback)
        self.run_worker(self._load, thread=True, group="editor-load", exit_on_error=False)
        self.run_worker(self._save_loop, thread=True, group="editor-save", exit_on_error=False)

    def on_unmount(self) -> None:
        # While the editor is open, what existed once the document was loaded (a 4-hour
        # transcript is ~1M objects with the app's) is kept out of the cyclic garbage
        # collector's full passes, each of which stalled the screen 0.1-0.4 s every
        # few dozen edits; words and lines hold no cycles (reference counting frees
        # them). Leaving hands them back, so a closed screen's cycles are collected.
        gc.unfreeze()
        self.saves.put(self._keep_lines)
        self.saves.close()
        if self.player is not None:
            self.player.close()

    # ------------------------------------------------------------ loading and saving (threads)

    def numbering(self) -> tuple[str, int, dict[str, float] | None, str]:
        """The numbering's settings: (profile, width, overrides, their key)."""
        config = self.app_.config
        overrides = config.notation_thresholds.get(config.notation)
        return (config.notation, config.width, overrides,
                layout_key(config.notation, config.width, overrides))

    def number(self, doc: Transcript) -> tuple[Line, ...]:
        """All of ``doc``'s lines numbered (its frozen lines when locked)."""
        profile, width, overrides, _ = self.numbering()
        return numbered_lines(doc, profile=profile, width=width, overrides=overrides)

    def _load(self) -> None:
        """Worker: the lines kept for the current version first, then the document."""
        study, iid = self.study, self.interview
        key = self.numbering()[3]
        notes = study.notes(iid)
        kept = study.rendered_lines(iid, key)
        if kept is not None:
            self.app.call_from_thread(self._show_lines, kept[1], notes)
        doc = study.transcript(iid) or Transcript(audio=AudioRef(path=iid))
        lines = kept[1] if kept is not None and not doc.locked else self.number(doc)
        self.app.call_from_thread(self.show, doc, lines=lines, notes=notes)
        gc.freeze()  # see on_unmount
        version = study.current_version(iid)
        if kept is None and version is not None and not doc.locked:
            study.keep_rendered_lines(iid, version, key, lines)

    def _save_loop(self) -> None:
        """Worker: saves, undo and redo, one at a time and in order."""
        while True:
            task = self.saves.next()
            if task is None:
                return
            try:
                task()
            except Exception as exc:  # the shown document was not saved: say so, reload
                self.app.call_from_thread(self.notify, f"not saved: {exc}", severity="error",
                                          timeout=15)
                self.app.call_from_thread(self._reload)

    def _keep_lines(self) -> None:
        """Worker, on leaving: the shown lines kept for the next open of this version.

        Kept only if the shown document is the study's current version (an edit
        saved by another program since then makes the next open number afresh).
        """
        doc, lines, study, iid = self.doc, self.lines, self.study, self.interview
        if doc is None or doc.locked or not lines:
            return
        version = study.current_version(iid)
        if version is not None and study.transcript_version(iid, version) == doc:
            study.keep_rendered_lines(iid, version, self.numbering()[3], lines)

    def _reload(self) -> None:
        self.run_worker(self._load, thread=True, group="editor-load", exit_on_error=False)

    def _show_lines(self, lines: tuple[Line, ...], notes: list[Any]) -> None:
        """The kept lines, before the document itself is loaded (a long transcript)."""
        if self.doc is not None:
            return
        self.lines, self.notes = lines, notes
        view = self.view
        view.set_lines(lines, [""] * len(lines), None)
        self.query_one("#editor-status", Static).update(
            f"{self.interview} · {len(lines)} lines · loading the transcript ...")

    # ------------------------------------------------------------ showing

    def show(self, doc: Transcript, *, keep_cursor: bool = True,
             lines: tuple[Line, ...] | None = None, notes: list[Any] | None = None) -> None:
        """Show a whole document (opening, undo, redo, an edit without a window)."""
        self.doc = doc
        self.lines = lines if lines is not None else self.lines_of(doc)
        self.remember_lines(doc, self.lines)
        if notes is not None:
            self.notes = notes
        view = self.view
        cursor = view.cursor if keep_cursor else 0
        anchor = view.select_from if keep_cursor else None
        view.set_lines(self.lines, turn_labels(self.lines, doc),
                       line_flags(self.lines, doc, self.notes))
        view.go_to(cursor, select=anchor is not None and anchor < len(self.lines))
        self.refresh_doubt()
        self.update_status()
        self.update_detail()
        self.draw_strip()

    def update_status(self) -> None:
        """The top bar: lines, notation, lock, playback, doubt, saving, speakers."""
        doc = self.doc
        if doc is None:  # the kept lines are shown; the document is still loading
            return
        state = "locked" if doc.locked else "unlocked"
        play = "▶" if self.player is not None and self.player.playing else "■"
        speakers = ", ".join(f"{s.id}={s.label}" for s in doc.speakers if s.label != s.id)
        text = (f"{self.interview} · {len(self.lines)} lines · {self.app_.config.notation} · "
                f"{state} · {play} {round(self.speed * 100)}%" + self.desk_status())
        if self.saved_state:
            text += f" · {self.saved_state}"
        if speakers:
            text += f" · {speakers}"
        self.query_one("#editor-status", Static).update(text, layout=False)  # one row, fixed

    def update_detail(self) -> None:
        """The bottom bar: the selected lines' times, speaker and marks."""
        if not self.lines:
            self.query_one("#editor-detail", Static).update("(empty transcript)", layout=False)
            return
        first, last = self.view.selection
        a, b = self.lines[first], self.lines[last]
        if self.doc is None:
            self.query_one("#editor-detail", Static).update(
                f"line {a.n} · {format_time(a.start)} · loading the transcript ...", layout=False)
            return
        marks = marks_touching(self.doc.marks, a.start, b.end)
        auto = sum(1 for i in marks if self.doc.marks[i].source is Source.AUTO)
        where = f"line {a.n}" if first == last else f"lines {a.n}-{b.n}"
        text = (f"{where} · {format_time(a.start)}–{format_time(b.end)} · "
                f"{self.doc.speaker_label(a.speaker)} · marks {len(marks)}"
                + (f" ({auto} auto)" if auto else ""))
        self.query_one("#editor-detail", Static).update(text, layout=False)

    def on_transcript_view_cursor_moved(self, _message: TranscriptView.CursorMoved) -> None:
        self.update_detail()
        self.draw_strip()

    def on_app_event(self, message: Any) -> None:
        if isinstance(message, StudyChanged) and message.interview == self.interview:
            self.saves.put(self._load)  # after any save of ours still queued

    def palette_commands(self) -> list[SystemCommand]:
        return [SystemCommand("Lock line numbers", "Freeze numbering for citation",
                              self.action_lock),
                SystemCommand("Export this interview", "Word, text, QDA ...", self.action_export),
                SystemCommand("Replace all", "Find and replace words", self.action_replace),
                SystemCommand("Notes of this interview", "List and jump", self.action_notes),
                SystemCommand("Undo", "Previous version", self.action_undo),
                SystemCommand("Redo", "Next version", self.action_redo)]

    def current_line(self) -> Any:
        """The line under the cursor (None in an empty transcript)."""
        return self.lines[self.view.cursor] if self.lines else None

    def cursor_word(self) -> int:
        """Index of the first word of the cursor's line (0 when there is none)."""
        line = self.current_line()
        if line is None or self.doc is None:
            return 0
        span = edits.words_between(self.doc, line.start, line.end, line.speaker)
        return span[0] if span else 0

    # ------------------------------------------------------------ find, go to, leave

    def action_go_to_line(self) -> None:
        """Jump to a numbered line (a citation's "978-81" starts at 978)."""

        def done(text: str | None) -> None:
            if not text:
                return
            wanted = text.strip().split("-")[0]
            if not wanted.isdigit():
                self.notify(f"not a line number: {text!r}", severity="error")
                return
            for index, line in enumerate(self.lines):
                if line.n == int(wanted):
                    self.view.go_to(index)
                    return
            self.notify(f"no line {wanted} (lines 1-{len(self.lines)})", severity="warning")

        self.app.push_screen(PromptDialog("Go to line"), done)

    def action_find(self) -> None:
        def done(query: str | None) -> None:
            if query and query.strip():
                self.find_query = query
                self._match_word = self.cursor_word() - 1
                self.action_find_next()

        self.app.push_screen(PromptDialog("Find (whole words)", self.find_query), done)

    def action_find_next(self) -> None:
        if not self.find_query or self.doc is None:
            self.action_find()
            return
        match = edits.find_next(self.doc, self.find_query, self._match_word)
        if match is None:
            self.notify(f"{self.find_query!r} not found", severity="warning")
            self.view.highlight(None)
            return
        self._match_word = match.first
        word = self.doc.words[match.first]
        index = line_at_time(self.lines, word.start)
        if index is None:
            return
        self.view.go_to(index)
        text = self.lines[index].text
        at = text.casefold().find(word.text.casefold())
        end_word = self.doc.words[match.last].text
        end = text.casefold().find(end_word.casefold(), max(at, 0)) + len(end_word)
        self.view.highlight(index, max(at, 0), max(end, at + len(word.text)))

    def action_export(self) -> None:
        open_export(self, self.interview)

    def action_back(self) -> None:
        self.dismiss(None)
