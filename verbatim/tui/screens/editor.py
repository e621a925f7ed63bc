"""The transcript editor: numbered lines, playback, edits saved as they are made.

Every edit is a pure function of ``transcript.edits`` applied to the current
document and saved at once as a new version in the study (origin "edit"), so
killing the app loses nothing and undo/redo are the store's versions.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Static

from transcript import edits
from transcript.model import Line, Mark, Source, Transcript
from verbatim.tui.layout import (
    format_time,
    layout_key,
    line_at_time,
    marks_starting,
    marks_touching,
    numbered_lines,
    renumber_splice,
    turn_labels,
)
from verbatim.tui.messages import StudyChanged
from verbatim.tui.screens.desk import DeskMixin
from verbatim.tui.screens.dialogs import (
    ConfirmDialog,
    ExtractDialog,
    MarksDialog,
    NoteDialog,
    NoteForm,
    PromptDialog,
    ReplaceDialog,
)
from verbatim.tui.screens.export import open_export
from verbatim.tui.widgets.transcript_view import TranscriptView
from verbatim.usecases.editing import SaveQueue, redo, retype_words, save_version, undo
from verbatim.usecases.notes import add_extract, add_note, lock, note_draft_path

SPEED_STEP = 0.1


def line_flags(lines: tuple[Any, ...], doc: Transcript,
               notes: list[Any]) -> list[tuple[bool, bool]]:
    """Per line: (a note is anchored here, an auto mark awaits confirmation). O(m log n)."""
    starts = [ln.start for ln in lines]
    has_note = [False] * len(lines)
    has_auto = [False] * len(lines)

    def spread(start: float, end: float, into: list[bool]) -> None:
        i = max(bisect_right(starts, start) - 1, 0)
        while i < len(lines) and lines[i].start <= end:
            if lines[i].end >= start:
                into[i] = True
            i += 1

    for note in notes:
        spread(note.start, note.end, has_note)
    for mark in doc.marks:
        if mark.source is Source.AUTO:
            i = max(bisect_right(starts, mark.start) - 1, 0)
            if i < len(lines):
                has_auto[i] = True
    return list(zip(has_note, has_auto, strict=True))


class EditorScreen(DeskMixin, Screen[None]):
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
        self.doc: Transcript | None = None
        """The document shown; None while it loads (the lines may already be on screen)."""
        self.lines: tuple[Line, ...] = ()
        self.notes: list[Any] = []
        self._saves = SaveQueue()
        self._numbered: dict[int, tuple[Transcript, tuple[Line, ...]]] = {}
        """Lines already numbered for a document object (undo and redo reuse them)."""
        self._saved_state = ""
        """"saving ..." while edits wait for the save worker, "saved" once on disk."""
        self.player: Any = None
        self.speed = 1.0
        self._paused_at: tuple[int, float] | None = None  # (line, position) of the last pause
        self._query = ""
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

    @property
    def view(self) -> TranscriptView:
        return self.query_one(TranscriptView)

    def on_mount(self) -> None:
        self.bind_desk_keys()
        self.query_one("#editor-status", Static).update(f"{self.interview} · opening ...")
        self.view.focus()
        self.set_interval(0.2, self._follow_playback)
        self.run_worker(self._load, thread=True, group="editor-load", exit_on_error=False)
        self.run_worker(self._save_loop, thread=True, group="editor-save", exit_on_error=False)

    def on_unmount(self) -> None:
        self._saves.put(self._keep_lines)
        self._saves.close()
        if self.player is not None:
            self.player.close()

    # ------------------------------------------------------------ loading and saving (threads)

    def _layout(self) -> tuple[str, int, dict[str, float] | None, str]:
        config = self.app_.config
        overrides = config.notation_thresholds.get(config.notation)
        return (config.notation, config.width, overrides,
                layout_key(config.notation, config.width, overrides))

    def _number(self, doc: Transcript) -> tuple[Line, ...]:
        profile, width, overrides, _ = self._layout()
        return numbered_lines(doc, profile=profile, width=width, overrides=overrides)

    def _load(self) -> None:
        """Worker: the lines kept for the current version first, then the document."""
        study, iid = self.study, self.interview
        key = self._layout()[3]
        notes = study.notes(iid)
        kept = study.rendered_lines(iid, key)
        if kept is not None:
            self.app.call_from_thread(self._show_lines, kept[1], notes)
        doc = study.transcript(iid) or _empty(iid)
        lines = kept[1] if kept is not None and not doc.locked else self._number(doc)
        self.app.call_from_thread(self.show, doc, lines=lines, notes=notes)
        version = study.current_version(iid)
        if kept is None and version is not None and not doc.locked:
            study.keep_rendered_lines(iid, version, key, lines)

    def _save_loop(self) -> None:
        """Worker: saves, undo and redo, one at a time and in order."""
        while True:
            task = self._saves.next()
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
            study.keep_rendered_lines(iid, version, self._layout()[3], lines)

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
        self.doc = doc
        if lines is None:
            known = self._numbered.get(id(doc))
            lines = known[1] if known is not None and known[0] is doc else self._number(doc)
        self.lines = lines
        self._remember(doc, lines)
        if notes is not None:
            self.notes = notes
        notes = self.notes
        view = self.view
        cursor = view.cursor if keep_cursor else 0
        anchor = view.select_from if keep_cursor else None
        view.set_lines(self.lines, turn_labels(self.lines, doc), line_flags(self.lines, doc, notes))
        view.go_to(cursor, select=anchor is not None and anchor < len(self.lines))
        self.refresh_doubt()
        self._update_status()
        self._update_detail()
        self.draw_strip()

    def _update_status(self) -> None:
        doc = self.doc
        if doc is None:  # the kept lines are shown; the document is still loading
            return
        state = "locked" if doc.locked else "unlocked"
        play = "▶" if self.player is not None and self.player.playing else "■"
        speakers = ", ".join(f"{s.id}={s.label}" for s in doc.speakers if s.label != s.id)
        text = (f"{self.interview} · {len(self.lines)} lines · {self.app_.config.notation} · "
                f"{state} · {play} {round(self.speed * 100)}%" + self.desk_status())
        if self._saved_state:
            text += f" · {self._saved_state}"
        if speakers:
            text += f" · {speakers}"
        self.query_one("#editor-status", Static).update(text)

    def _update_detail(self) -> None:
        if not self.lines:
            self.query_one("#editor-detail", Static).update("(empty transcript)")
            return
        first, last = self.view.selection
        a, b = self.lines[first], self.lines[last]
        if self.doc is None:
            self.query_one("#editor-detail", Static).update(
                f"line {a.n} · {format_time(a.start)} · loading the transcript ...")
            return
        marks = marks_touching(self.doc.marks, a.start, b.end)
        auto = sum(1 for i in marks if self.doc.marks[i].source is Source.AUTO)
        where = f"line {a.n}" if first == last else f"lines {a.n}-{b.n}"
        text = (f"{where} · {format_time(a.start)}–{format_time(b.end)} · "
                f"{self.doc.speaker_label(a.speaker)} · marks {len(marks)}"
                + (f" ({auto} auto)" if auto else ""))
        self.query_one("#editor-detail", Static).update(text)

    def on_transcript_view_cursor_moved(self, _message: TranscriptView.CursorMoved) -> None:
        self._update_detail()
        self.draw_strip()

    def on_app_event(self, message: Any) -> None:
        if isinstance(message, StudyChanged) and message.interview == self.interview:
            self._saves.put(self._load)  # after any save of ours still queued

    def palette_commands(self) -> list[SystemCommand]:
        return [SystemCommand("Lock line numbers", "Freeze numbering for citation",
                              self.action_lock),
                SystemCommand("Export this interview", "Word, text, QDA ...", self.action_export),
                SystemCommand("Replace all", "Find and replace words", self.action_replace),
                SystemCommand("Notes of this interview", "List and jump", self.action_notes),
                SystemCommand("Undo", "Previous version", self.action_undo),
                SystemCommand("Redo", "Next version", self.action_redo)]

    # ------------------------------------------------------------ saving

    def apply(self, change: Callable[[Transcript], Transcript], description: str, *,
              window: tuple[float, float] | None = None) -> bool:
        """Apply a pure edit, show it at once and save it in the background.

        ``window`` (seconds) is where the edit happened: only the turns there are
        numbered again. Without one (a merge, a replace-all) the whole document is.
        False (and a message) if the edit is refused.
        """
        if self.doc is None:
            self.notify("the transcript is still loading", severity="warning")
            return False
        old = self.doc
        try:
            new = change(old)
        except ValueError as exc:
            self.notify(str(exc), severity="error")
            return False
        if new is old:
            return False
        if new.locked:  # corrected after the lock: same line numbers, new lines 505a
            from transcript.correction import reline

            new = reline(new)
        if window is not None and not new.locked and self.lines:
            profile, width, overrides, _ = self._layout()
            spliced, first, removed, added = renumber_splice(
                self.lines, new, window, profile=profile, width=width, overrides=overrides)
            self._saved_state = "saving ..."
            self._show_splice(new, spliced, first, removed, added)
            self._save(new, description)
            return True
        same = new.words is old.words and new.marks is old.marks  # labels only
        lines: tuple[Line, ...] | None = self.lines if same else None
        self._saved_state = "saving ..."
        self.show(new, lines=lines)
        self._save(new, description)
        return True

    def _show_splice(self, doc: Transcript, lines: tuple[Line, ...], first: int,
                     removed: int, added: int) -> None:
        """An edit's lines on screen: labels and flags of the changed lines only."""
        old_flags = self.view._flags
        old_labels = self.view._labels
        self.doc, self.lines = doc, lines
        self._remember(doc, lines)
        fresh = lines[first:first + added]
        labels = turn_labels(lines[max(first - 1, 0):first + added], doc)[1 if first else 0:]
        if fresh:
            begin, end = fresh[0].start, fresh[-1].end
            part = Transcript(audio=doc.audio,
                              marks=tuple(marks_starting(doc.marks, begin - 1e-6, end + 1e-6)))
            notes = [n for n in self.notes if n.end >= begin and n.start <= end]
            flags = line_flags(fresh, part, notes)
        else:
            flags = []
        view = self.view
        view.splice_lines(lines, [*old_labels[:first], *labels, *old_labels[first + removed:]],
                          [*old_flags[:first], *flags, *old_flags[first + removed:]],
                          first, removed, added)
        self.refresh_doubt()
        self._update_status()
        self._update_detail()

    def _save(self, new: Transcript, description: str) -> None:
        study, iid = self.study, self.interview

        def save() -> None:
            save_version(study, iid, new, description)
            if self._saves.pending() == 1:  # this was the last one queued
                self.app.call_from_thread(self._mark_saved)

        self._saves.put(save)

    def _mark_saved(self) -> None:
        self._saved_state = "saved"
        if self.doc is not None:
            self._update_status()

    def _editable(self) -> bool:
        if self.doc is None:
            self.notify("the transcript is still loading", severity="warning")
            return False
        # a locked transcript is corrected too: apply() keeps every cited line number
        return bool(self.lines)

    def _remember(self, doc: Transcript, lines: tuple[Line, ...]) -> None:
        self._numbered[id(doc)] = (doc, lines)
        while len(self._numbered) > 16:
            self._numbered.pop(next(iter(self._numbered)))

    def _current_line(self) -> Any:
        return self.lines[self.view.cursor] if self.lines else None

    def action_undo(self) -> None:
        self._step(undo, "nothing to undo")

    def action_redo(self) -> None:
        self._step(redo, "nothing to redo")

    def _step(self, move: Callable[[Any, str], Transcript | None], nothing: str) -> None:
        """Undo or redo in the save worker (after any save still queued)."""
        study, iid = self.study, self.interview

        def task() -> None:
            doc = move(study, iid)
            if doc is None:
                self.app.call_from_thread(self.notify, nothing)
                return
            known = self._numbered.get(id(doc))
            lines = known[1] if known is not None and known[0] is doc else self._number(doc)
            self.app.call_from_thread(self.show, doc, lines=lines)

        self._saves.put(task)

    # ------------------------------------------------------------ editing

    def action_edit_line(self) -> None:
        if not self._editable():
            return
        line = self._current_line()
        assert self.doc is not None
        span = edits.words_between(self.doc, line.start, line.end, line.speaker)
        if span is None:
            self.notify("this line has no words to edit", severity="warning")
            return
        first, last = span
        current = " ".join(w.text for w in self.doc.words[first:last + 1])

        def done(text: str | None) -> None:
            if text is not None:
                self.apply(retype_words(first, last, text), f"edit line {line.n}",
                           window=(line.start, line.end))

        self.app.push_screen(PromptDialog(f"Words of line {line.n}", current), done)

    def action_rename_speaker(self) -> None:
        line = self._current_line()
        if line is None or self.doc is None:
            return
        sid = line.speaker

        def done(label: str | None) -> None:
            if label and self.apply(lambda d: edits.rename_speaker(d, sid, label),
                                    f"rename {sid}"):
                from verbatim.tui.screens.interviewer import after_rename

                after_rename(self, sid, label)  # remember the interviewer's voice? asked once

        self.app.push_screen(PromptDialog(f"Label for speaker {sid} (e.g. Interviewer, P4)",
                                          self.doc.speaker_label(sid)), done)

    def action_merge_speaker(self) -> None:
        if not self._editable():
            return
        line = self._current_line()
        assert self.doc is not None
        sid = line.speaker
        others = ", ".join(f"{s.id} ({s.label})" for s in self.doc.speakers if s.id != sid)

        def done(target: str | None) -> None:
            if target:
                self.apply(lambda d: edits.merge_speakers(d, sid, target.strip()),
                           f"merge {sid} into {target.strip()}")

        self.app.push_screen(PromptDialog(f"Merge {sid} into which speaker? {others}"), done)

    def action_marks(self) -> None:
        if not self._editable():
            return
        line = self._current_line()
        doc = self.doc
        assert doc is not None
        indices = edits.marks_between(doc, line.start, line.end)
        items = [(i, _describe_mark(doc.marks[i])) for i in indices]

        def done(result: tuple[Any, ...] | None) -> None:
            if result is None:
                return
            window = (line.start, line.end)
            if result[0] == "confirm":
                self.apply(lambda d: edits.confirm_mark(d, result[1]), "confirm mark",
                           window=window)
            elif result[0] == "remove":
                self.apply(lambda d: edits.remove_mark(d, result[1]), "remove mark",
                           window=window)
            elif result[0] == "add":
                try:
                    kind = edits.parse_mark_kind(result[1])
                except ValueError as exc:
                    self.notify(str(exc), severity="error")
                    return
                at = line.end
                mark = Mark(kind=kind, start=at, end=at + (0.5 if kind == "pause" else 0.0),
                            speaker=line.speaker, label=result[2], source=Source.HUMAN)
                self.apply(lambda d: edits.add_mark(d, mark), f"add {kind} mark",
                           window=(line.start, mark.end))

        self.app.push_screen(MarksDialog(f"line {line.n}", items), done)

    # ------------------------------------------------------------ find / replace

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
                self._query = query
                self._match_word = self._cursor_word() - 1
                self.action_find_next()

        self.app.push_screen(PromptDialog("Find (whole words)", self._query), done)

    def _cursor_word(self) -> int:
        line = self._current_line()
        if line is None or self.doc is None:
            return 0
        span = edits.words_between(self.doc, line.start, line.end, line.speaker)
        return span[0] if span else 0

    def action_find_next(self) -> None:
        if not self._query or self.doc is None:
            self.action_find()
            return
        match = edits.find_next(self.doc, self._query, self._match_word)
        if match is None:
            self.notify(f"{self._query!r} not found", severity="warning")
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

    def action_replace(self) -> None:
        if not self._editable():
            return

        def done(pair: tuple[str, str] | None) -> None:
            if pair is None or self.doc is None:
                return
            old, new = pair
            count = edits.count_matches(self.doc, old)
            if count == 0:
                self.notify(f"{old!r} not found", severity="warning")
                return
            if self.apply(lambda d: edits.replace_text(d, old, new), f"replace {count}"):
                self.notify(f"replaced {count} × {old!r}")

        self.app.push_screen(ReplaceDialog(self._query), done)

    # ------------------------------------------------------------ notes, extracts, lock

    def action_note_at_playback(self) -> None:
        """A note on the moment just heard: the playback position, not whole lines."""
        player = self.player
        if player is None or (not player.playing and self._paused_at is None):
            self.notify("play the recording first (p), then A notes that moment",
                        severity="warning")
            return
        at = player.position()
        self.action_note(at=at)

    def action_note(self, at: float | None = None) -> None:
        if not self.lines:
            return
        first, last = self.view.selection
        a, b = self.lines[first], self.lines[last]
        where = f"lines {a.n}-{b.n}" if first != last else f"line {a.n}"
        anchor = f"{where}, {format_time(a.start)}–{format_time(b.end)}"
        start, end = a.start, b.end
        locked = self.doc is not None and self.doc.locked
        if at is not None:  # a moment of the recording rather than lines
            start = end = at
            anchor = f"at {format_time(at)}"
            locked = False
        draft = note_draft_path(Path(self.study.path), self.interview)

        def done(form: NoteForm | None) -> None:
            if form is None:
                return
            study, iid = self.study, self.interview

            def save() -> None:
                try:
                    add_note(study, iid, phase=form.phase, moment=form.moment,
                             response=form.response, understanding=form.understanding,
                             lines=(a.n, b.n) if locked else None,
                             at=None if locked else (start, end))
                except Exception as exc:
                    self.app.call_from_thread(self.notify, f"note kept as a draft: {exc}",
                                              severity="error")
                    return
                draft.unlink(missing_ok=True)
                notes = study.notes(iid)
                self.app.call_from_thread(self._notes_changed, notes, f"note saved ({anchor})")

            self._saves.put(save)

        self.app.push_screen(NoteDialog(anchor, draft=draft), done)

    def action_lock(self, then: Callable[[], None] | None = None) -> None:
        if self.doc is not None and self.doc.locked:
            self.notify("line numbers are already locked")
            return
        config = self.app_.config

        study, iid = self.study, self.interview

        def locked(doc: Transcript) -> None:
            self.show(doc, lines=doc.lines)
            self.notify(f"{iid}: line numbers locked")
            if then is not None:
                then()

        def task() -> None:  # after every save still queued: the lock freezes the last one
            try:
                result = lock(study, iid, profile=config.notation, width=config.width)
            except Exception as exc:
                self.app.call_from_thread(self.notify, str(exc), severity="error")
                return
            self.app.call_from_thread(locked, result.document)

        def answer(yes: bool | None) -> None:
            if yes:
                self._saves.put(task)

        self.app.push_screen(ConfirmDialog(
            f"Lock {self.interview}'s line numbers ({config.notation}, width {config.width})? "
            "Citations refer to them; later edits cannot renumber them."), answer)

    def action_extract(self) -> None:
        if not self.lines:
            return
        if self.doc is not None and not self.doc.locked:
            self.action_lock(then=self.action_extract)
            return
        first, last = self.view.selection
        a, b = self.lines[first], self.lines[last]
        study, iid = self.study, self.interview

        def made(extract: Any) -> None:
            self.view.select_from = None
            self.app.push_screen(ExtractDialog(extract.citation, extract.text))

        def task() -> None:
            try:
                extract = add_extract(study, iid, a.n, b.n)
            except Exception as exc:
                self.app.call_from_thread(self.notify, str(exc), severity="error")
                return
            self.app.call_from_thread(made, extract)

        self._saves.put(task)

    def _notes_changed(self, notes: list[Any], message: str) -> None:
        self.notes = notes
        self.notify(message)
        if self.doc is not None:
            self.show(self.doc, lines=self.lines)

    def action_notes(self) -> None:
        def jump(at: float | None) -> None:
            if at is not None:
                index = line_at_time(self.lines, at)
                if index is not None:
                    self.view.go_to(index)

        self.app.push_screen(self.app_.notes_screen(self.interview), jump)

    def action_export(self) -> None:
        open_export(self, self.interview)

    def action_back(self) -> None:
        self.dismiss(None)

    # ------------------------------------------------------------ playback

    def _ensure_player(self) -> Any:
        if self.player is None:
            path = Path(self.study.audio_path(self.interview))
            factory = self.app_.player_factory
            if factory is None:
                from verbatim.tui.playback import Player

                self.player = Player(path, mode=self.app_.config.playback)
            else:
                self.player = factory(path)
        return self.player

    def action_play(self) -> None:
        line = self._current_line()
        if line is None:
            return
        try:
            player = self._ensure_player()
        except Exception as exc:
            self.notify(f"cannot play: {exc}", severity="error")
            return
        if player.playing:
            self._paused_at = (self.view.cursor, player.pause())
        else:
            from verbatim.tui.playback import RESUME_BACK_SECONDS

            start = line.start
            if self._paused_at is not None and self._paused_at[0] == self.view.cursor:
                start = max(self._paused_at[1] - RESUME_BACK_SECONDS, 0.0)
            player.play(start, speed=self.speed)
        self._update_status()

    def action_speed(self, direction: int) -> None:
        from verbatim.tui.playback import MAX_SPEED, MIN_SPEED

        self.speed = round(min(max(self.speed + direction * SPEED_STEP, MIN_SPEED), MAX_SPEED), 2)
        if self.player is not None and self.player.playing:
            self.player.play(self.player.position(), speed=self.speed)
        self._update_status()

    def _follow_playback(self) -> None:
        player = self.player
        if player is None:
            return
        if self.desk_tick():  # a doubtful word's lead-in, or a looped line: cursor stays
            return
        if player.error:
            self.notify(f"playback: {player.error}", severity="error")
            player.error = None
        if not player.playing:
            if self.view.playing is not None:
                self.view.playing = None
                self._update_status()
            return
        index = line_at_time(self.lines, player.position())
        if index is not None and index != self.view.playing:
            self.view.playing = index
            self.follow_to(index)
            self._update_status()


def _describe_mark(mark: Mark) -> Any:
    """Auto suggestions in italic warning colour, the author's own marks in bold."""
    from rich.text import Text

    auto = mark.source is Source.AUTO
    label = f" {mark.label}" if mark.label else ""
    text = (f"{'auto ' if auto else 'human'} · {mark.kind}{label} at "
            f"{format_time(mark.start)} ({mark.duration:.1f} s)")
    return Text(text, style="italic yellow" if auto else "bold")


def _empty(interview: str) -> Transcript:
    from transcript.model import AudioRef

    return Transcript(audio=AudioRef(path=interview))
