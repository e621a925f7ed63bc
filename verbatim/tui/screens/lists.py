"""Lists of the study's reflexive notes and extracts, with their anchors and citations.

Both lists are read in a worker when the screen opens (an extract's text is
stored with it, so listing reads no transcript), and every write (an
extract's analysis, the member-check pack) runs in one; the UI thread only
fills the tables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Static

from verbatim.tui.background import fill_table, in_background
from verbatim.tui.layout import format_time


def _one_line(text: str, width: int = 48) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[:width - 1] + "…"


NOTE_COLUMNS = ("Interview", "Anchor", "Phase", "Moment")
EXTRACT_COLUMNS = ("No.", "Citation")


class NotesScreen(Screen[float | None]):
    """Reflexive notes (of one interview or the whole study); enter jumps to the anchor."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"), Binding("enter", "jump", "Jump to anchor")]

    def __init__(self, interview: str | None = None) -> None:
        super().__init__()
        self.interview = interview
        self.notes: list[Any] = []
        self.loaded = False
        """True once the notes are read and shown (tests wait on it)."""

    def compose(self) -> ComposeResult:
        where = self.interview or "the study"
        yield Label(f"Reflexive notes · {where}", classes="section", markup=False)
        yield DataTable(id="notes", cursor_type="row", zebra_stripes=True)
        yield Static(id="note-detail", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#notes", DataTable)
        fill_table(table, NOTE_COLUMNS, [])
        table.focus()
        self.query_one("#note-detail", Static).update("reading the notes …")
        study: Any = self.app.study  # type: ignore[attr-defined]
        interview = self.interview
        in_background(self, lambda: list(study.notes(interview)), self._show,
                      group="notes-load", failed="cannot read the notes: ")

    def _show(self, notes: list[Any]) -> None:
        self.notes = notes
        rows = []
        for note in self.notes:
            anchor = (f"l.{note.first_line}-{note.last_line}" if note.first_line is not None
                      else f"{format_time(note.start)}")
            flag = " (to complete)" if getattr(note, "to_complete", False) else ""
            rows.append((str(note.id), (Text(note.interview), anchor, note.phase,
                                        Text(_one_line(note.moment) + flag))))
        fill_table(self.query_one("#notes", DataTable), NOTE_COLUMNS, rows)
        self._detail(0)
        self.loaded = True

    def _detail(self, row: int) -> None:
        detail = self.query_one("#note-detail", Static)
        if not self.notes:
            detail.update("No notes yet: in the editor, select lines and press a.")
            return
        note = self.notes[row]
        detail.update(f"Moment: {note.moment}\nResponse: {note.response}\n"
                      f"Understanding: {note.understanding}\nWritten {note.written_at}")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.loaded:
            self._detail(event.cursor_row)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_jump()

    def action_jump(self) -> None:
        if not self.notes:
            return
        note = self.notes[self.query_one("#notes", DataTable).cursor_row]
        if self.interview is not None:
            self.dismiss(note.start)
            return
        editor = self.app.editor_screen(note.interview)  # type: ignore[attr-defined]
        self.app.switch_screen(editor)

        def go() -> None:
            from verbatim.tui.layout import line_at_time

            index = line_at_time(editor.lines, note.start)
            if index is not None:
                editor.view.go_to(index)

        editor.call_after_refresh(go)

    def action_back(self) -> None:
        self.dismiss(None)


class ExtractsScreen(Screen[None]):
    """Extracts with their citations; c copies, k builds the member-check pack."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"), Binding("c", "copy", "Copy citation"),
        Binding("a", "analysis", "Analysis"),
                Binding("k", "pack", "Member-check pack")]

    def __init__(self, participant: str | None = None) -> None:
        super().__init__()
        self.participant = participant
        self.extracts: list[Any] = []
        self.loaded = False
        """True once the extracts are read and shown (tests wait on it)."""

    def compose(self) -> ComposeResult:
        yield Label(f"Extracts · {self.participant or 'the study'}", classes="section",
                    markup=False)
        yield DataTable(id="extracts", cursor_type="row", zebra_stripes=True)
        yield Static(id="extract-detail", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#extracts", DataTable)
        fill_table(table, EXTRACT_COLUMNS, [])
        table.focus()
        self.query_one("#extract-detail", Static).update("reading the extracts …")
        study: Any = self.app.study  # type: ignore[attr-defined]
        participant = self.participant
        in_background(self, lambda: list(study.extracts(participant)), self._show,
                      group="extracts-load", failed="cannot read the extracts: ")

    def _show(self, extracts: list[Any]) -> None:
        self.extracts = extracts
        fill_table(self.query_one("#extracts", DataTable), EXTRACT_COLUMNS,
                   [(str(e.number), (str(e.number), Text(e.citation))) for e in extracts])
        self._detail(0)
        self.loaded = True

    def _detail(self, row: int) -> None:
        detail = self.query_one("#extract-detail", Static)
        if not self.extracts:
            detail.update("No extracts yet: in the editor, select lines and press x.")
            return
        extract = self.extracts[row]
        analysis = f"\nAnalysis: {_one_line(extract.analysis, 200)}" if extract.analysis else ""
        detail.update(f"{extract.text}\n{extract.citation}{analysis}")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.loaded:
            self._detail(event.cursor_row)

    def action_copy(self) -> None:
        if self.extracts:
            extract = self.extracts[self.query_one("#extracts", DataTable).cursor_row]
            self.app.copy_to_clipboard(extract.citation)
            self.notify(f"copied {extract.citation}")

    def action_analysis(self) -> None:
        """The extract's analysis note, laid out under Willig's six stages when empty."""
        if not self.extracts:
            return
        from verbatim.study import willig_template
        from verbatim.tui.screens.dialogs import TextDialog

        row = self.query_one("#extracts", DataTable).cursor_row
        extract = self.extracts[row]

        def saved(updated: Any) -> None:
            self.extracts[row] = updated
            self._detail(row)
            self.notify(f"analysis of extract {extract.number} saved")

        def done(text: str | None) -> None:
            if text is None:
                return
            study: Any = self.app.study  # type: ignore[attr-defined]
            in_background(self, lambda: study.set_extract_analysis(extract.number,
                                                                   text.strip()),
                          saved, group="extracts-write")

        self.app.push_screen(TextDialog(f"Analysis · {extract.citation}",
                                        extract.analysis or willig_template()), done)

    def action_pack(self) -> None:
        if self.participant is None:
            self.notify("open extracts from a participant's row to build their pack",
                        severity="warning")
            return
        from verbatim.usecases.exporting import write_pack

        study: Any = self.app.study  # type: ignore[attr-defined]
        pid = self.participant
        out = Path(study.path) / "packs" / pid
        in_background(self, lambda: write_pack(study, pid, out),
                      lambda written: self.notify(
                          f"member-check pack: {len(written)} files in {out}"),
                      group="extracts-write")

    def action_back(self) -> None:
        self.dismiss(None)
