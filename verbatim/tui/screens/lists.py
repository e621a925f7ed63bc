"""Lists of the study's reflexive notes and extracts, with their anchors and citations."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Static

from verbatim.tui.layout import format_time


def _one_line(text: str, width: int = 48) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[:width - 1] + "…"


class NotesScreen(Screen[float | None]):
    """Reflexive notes (of one interview or the whole study); enter jumps to the anchor."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"), Binding("enter", "jump", "Jump to anchor")]

    def __init__(self, interview: str | None = None) -> None:
        super().__init__()
        self.interview = interview

    def compose(self) -> ComposeResult:
        where = self.interview or "the study"
        yield Label(f"Reflexive notes · {where}", classes="section", markup=False)
        yield DataTable(id="notes", cursor_type="row", zebra_stripes=True)
        yield Static(id="note-detail", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#notes", DataTable)
        table.add_columns("Interview", "Anchor", "Phase", "Moment")
        self.notes = list(self.app.study.notes(self.interview))  # type: ignore[attr-defined]
        for note in self.notes:
            anchor = (f"l.{note.first_line}-{note.last_line}" if note.first_line is not None
                      else f"{format_time(note.start)}")
            flag = " (to complete)" if getattr(note, "to_complete", False) else ""
            table.add_row(Text(note.interview), anchor, note.phase,
                          Text(_one_line(note.moment) + flag), key=str(note.id))
        table.focus()
        self._detail(0)

    def _detail(self, row: int) -> None:
        detail = self.query_one("#note-detail", Static)
        if not self.notes:
            detail.update("No notes yet: in the editor, select lines and press a.")
            return
        note = self.notes[row]
        detail.update(f"Moment: {note.moment}\nResponse: {note.response}\n"
                      f"Understanding: {note.understanding}\nWritten {note.written_at}")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
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

    def compose(self) -> ComposeResult:
        yield Label(f"Extracts · {self.participant or 'the study'}", classes="section",
                    markup=False)
        yield DataTable(id="extracts", cursor_type="row", zebra_stripes=True)
        yield Static(id="extract-detail", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#extracts", DataTable)
        table.add_columns("No.", "Citation")
        self.extracts = list(self.app.study.extracts(self.participant))  # type: ignore[attr-defined]
        for extract in self.extracts:
            table.add_row(str(extract.number), Text(extract.citation), key=str(extract.number))
        table.focus()
        self._detail(0)

    def _detail(self, row: int) -> None:
        detail = self.query_one("#extract-detail", Static)
        if not self.extracts:
            detail.update("No extracts yet: in the editor, select lines and press x.")
            return
        extract = self.extracts[row]
        analysis = f"\nAnalysis: {_one_line(extract.analysis, 200)}" if extract.analysis else ""
        detail.update(f"{extract.text}\n{extract.citation}{analysis}")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
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

        def done(text: str | None) -> None:
            if text is None:
                return
            study: Any = self.app.study  # type: ignore[attr-defined]
            try:
                self.extracts[row] = study.set_extract_analysis(extract.number, text.strip())
            except Exception as exc:
                self.notify(str(exc), severity="error")
                return
            self._detail(row)
            self.notify(f"analysis of extract {extract.number} saved")

        self.app.push_screen(TextDialog(f"Analysis · {extract.citation}",
                                        extract.analysis or willig_template()), done)

    def action_pack(self) -> None:
        if self.participant is None:
            self.notify("open extracts from a participant's row to build their pack",
                        severity="warning")
            return
        study: Any = self.app.study  # type: ignore[attr-defined]
        out = Path(study.path) / "packs" / self.participant
        try:
            written = study.write_pack(self.participant, out)
        except Exception as exc:
            self.notify(str(exc), severity="error")
            return
        self.notify(f"member-check pack: {len(written)} files in {out}")

    def action_back(self) -> None:
        self.dismiss(None)
