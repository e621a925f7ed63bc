"""The editor's edits: apply a pure change, show it at once, save it in the worker.

Every edit is a pure function of ``transcript.edits`` (or ``transcript.doubt``,
``transcript.turns``) applied to the document shown. An edit made inside a
known stretch of time (a line's words, a mark) is shown by numbering again
only the turn it touched and redrawing only those rows, gutter flags and
doubtful words (``layout.renumber_splice``, ``decorations``); the save
(a small delta in the study, ``verbatim.study.versions``) follows in the save
worker. Undo and redo move between the study's versions in that worker too.
A mixin of ``EditorScreen``.
"""

from __future__ import annotations

from typing import Any

from transcript import edits
from transcript.model import Line, Mark, Source, Transcript
from verbatim.tui.decorations import describe_mark, flags_spliced
from verbatim.tui.layout import renumber_splice, spliced_span, turn_labels
from verbatim.tui.screens.dialogs import MarksDialog, PromptDialog, ReplaceDialog
from verbatim.tui.screens.editor_state import Change, EditorState
from verbatim.usecases.editing import redo, retype_words, save_version, undo

REMEMBERED = 16
"""Numbered documents kept for undo and redo (each shares most lines with the next)."""


class EditActions(EditorState):
    """Edits, undo and redo of ``EditorScreen``."""

    def apply(self, change: Change, description: str, *,
              window: tuple[float, float] | None = None) -> bool:
        """Apply a pure edit, show it at once and save it in the background.

        ``window`` (seconds) is where the edit happened: only the turns there are
        numbered again and redrawn. Without one (a merge, a replace-all) the whole
        document is. False (and a message) if the edit is refused.
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
        self.saved_state = "saving ..."
        if window is not None and not new.locked and self.lines:
            profile, width, overrides, _ = self.numbering()
            lines, first, removed, added = renumber_splice(
                self.lines, new, window, profile=profile, width=width, overrides=overrides)
            self._show_splice(old, new, lines, (first, removed, added))
        else:
            same = new.words is old.words and new.marks is old.marks  # labels only
            self.show(new, lines=self.lines if same else None)
        self._save(new, description)
        return True

    def _show_splice(self, old: Transcript, doc: Transcript, lines: tuple[Line, ...],
                     where: tuple[int, int, int]) -> None:
        """An edit's lines on screen: what changed in lines ``first..first+removed``
        (now ``added`` lines) is worked out again, the rest is kept or shifted."""
        first, removed, added = where
        span = spliced_span(self.lines, first, removed)
        view = self.view
        self.doc, self.lines = doc, lines
        self.remember_lines(doc, lines)
        labels = turn_labels(lines[max(first - 1, 0):first + added], doc)[1 if first else 0:]
        old_labels = view.labels
        flags = flags_spliced(view.flags, lines, doc, self.notes, first, removed, added)
        self.splice_doubt(old, where, span)
        view.splice_lines(lines, [*old_labels[:first], *labels, *old_labels[first + removed:]],
                          flags, first, removed, added)
        self.update_status()
        self.update_detail()
        self.draw_strip()

    def _save(self, new: Transcript, description: str) -> None:
        study, iid, app = self.study, self.interview, self.app_

        def save() -> None:
            save_version(study, iid, new, description)
            if self.saves.pending() == 1:  # this was the last one queued
                app.call_from_thread(self._mark_saved)

        self.saves.put(save)

    def _mark_saved(self) -> None:
        self.saved_state = "saved"
        if self.doc is not None:
            self.update_status()

    def _editable(self) -> bool:
        if self.doc is None:
            self.notify("the transcript is still loading", severity="warning")
            return False
        # a locked transcript is corrected too: apply() keeps every cited line number
        return bool(self.lines)

    def remember_lines(self, doc: Transcript, lines: tuple[Line, ...]) -> None:
        """Keep a document's numbered lines (undo and redo find them again)."""
        self.numbered[id(doc)] = (doc, lines)
        while len(self.numbered) > REMEMBERED:
            self.numbered.pop(next(iter(self.numbered)))

    def lines_of(self, doc: Transcript) -> tuple[Line, ...]:
        """The numbered lines of ``doc``: remembered ones, else numbered now."""
        known = self.numbered.get(id(doc))
        return known[1] if known is not None and known[0] is doc else self.number(doc)

    def action_undo(self) -> None:
        self._step(undo, "nothing to undo")

    def action_redo(self) -> None:
        self._step(redo, "nothing to redo")

    def _step(self, move: Any, nothing: str) -> None:
        """Undo or redo in the save worker (after any save still queued)."""
        study, iid, app = self.study, self.interview, self.app_

        def task() -> None:
            doc = move(study, iid)
            if doc is None:
                app.call_from_thread(self.notify, nothing)
                return
            app.call_from_thread(self.show, doc, lines=self.lines_of(doc))

        self.saves.put(task)

    # ------------------------------------------------------------ words and speakers

    def action_edit_line(self) -> None:
        if not self._editable():
            return
        line = self.current_line()
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

        self.app_.push_screen(PromptDialog(f"Words of line {line.n}", current), done)

    def action_rename_speaker(self) -> None:
        line = self.current_line()
        if line is None or self.doc is None:
            return
        sid = line.speaker

        def done(label: str | None) -> None:
            if label and self.apply(lambda d: edits.rename_speaker(d, sid, label),
                                    f"rename {sid}"):
                from verbatim.tui.screens.interviewer import after_rename

                after_rename(self, sid, label)  # remember the interviewer's voice? asked once

        self.app_.push_screen(PromptDialog(f"Label for speaker {sid} (e.g. Interviewer, P4)",
                                           self.doc.speaker_label(sid)), done)

    def action_merge_speaker(self) -> None:
        if not self._editable():
            return
        line = self.current_line()
        assert self.doc is not None
        sid = line.speaker
        others = ", ".join(f"{s.id} ({s.label})" for s in self.doc.speakers if s.id != sid)

        def done(target: str | None) -> None:
            if target:
                self.apply(lambda d: edits.merge_speakers(d, sid, target.strip()),
                           f"merge {sid} into {target.strip()}")

        self.app_.push_screen(PromptDialog(f"Merge {sid} into which speaker? {others}"), done)

    def action_marks(self) -> None:
        if not self._editable():
            return
        line = self.current_line()
        doc = self.doc
        assert doc is not None
        indices = edits.marks_between(doc, line.start, line.end)
        items = [(i, describe_mark(doc.marks[i])) for i in indices]

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

        self.app_.push_screen(MarksDialog(f"line {line.n}", items), done)

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

        self.app_.push_screen(ReplaceDialog(self.find_query), done)
