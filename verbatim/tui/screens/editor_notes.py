"""The editor's analysis keys: notes, extracts, locking the numbering.

These write to the study through the use cases (``verbatim.usecases.notes``),
in the editor's save worker after any edit still being saved, so a note or an
extract always refers to the version on screen. A mixin of ``EditorScreen``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from transcript.model import Transcript
from verbatim.tui.layout import format_time, line_at_time
from verbatim.tui.screens.dialogs import ConfirmDialog, ExtractDialog, NoteDialog, NoteForm
from verbatim.tui.screens.editor_state import EditorState
from verbatim.usecases.notes import add_extract, add_note, lock, note_draft_path


class NoteActions(EditorState):
    """Notes, extracts and the lock of ``EditorScreen``."""

    def action_note_at_playback(self) -> None:
        """A note on the moment just heard: the playback position, not whole lines."""
        player = self.player
        if player is None or (not player.playing and self.paused_at is None):
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
        app = self.app_

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
                    app.call_from_thread(self.notify, f"note kept as a draft: {exc}",
                                         severity="error")
                    return
                draft.unlink(missing_ok=True)
                notes = study.notes(iid)
                app.call_from_thread(self._notes_changed, notes, f"note saved ({anchor})")

            self.saves.put(save)

        app.push_screen(NoteDialog(anchor, draft=draft), done)

    def action_lock(self, then: Callable[[], None] | None = None) -> None:
        if self.doc is not None and self.doc.locked:
            self.notify("line numbers are already locked")
            return
        config = self.app_.config
        study, iid, app = self.study, self.interview, self.app_

        def locked(doc: Transcript) -> None:
            self.show(doc, lines=doc.lines)
            self.notify(f"{iid}: line numbers locked")
            if then is not None:
                then()

        def task() -> None:  # after every save still queued: the lock freezes the last one
            try:
                result = lock(study, iid, profile=config.notation, width=config.width)
            except Exception as exc:
                app.call_from_thread(self.notify, str(exc), severity="error")
                return
            app.call_from_thread(locked, result.document)

        def answer(yes: bool | None) -> None:
            if yes:
                self.saves.put(task)

        app.push_screen(ConfirmDialog(
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
        study, iid, app = self.study, self.interview, self.app_

        def made(extract: Any) -> None:
            self.view.select_from = None
            app.push_screen(ExtractDialog(extract.citation, extract.text))

        def task() -> None:
            try:
                extract = add_extract(study, iid, a.n, b.n)
            except Exception as exc:
                app.call_from_thread(self.notify, str(exc), severity="error")
                return
            app.call_from_thread(made, extract)

        self.saves.put(task)

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

        self.app_.push_screen(self.app_.notes_screen(self.interview), jump)
