"""The transcript editor's main widget: numbered lines, drawn only where they are visible.

A 2-hour interview has ~2,000 numbered lines; one widget per line would cost
seconds to mount and megabytes of DOM. This is a Line-API ``ScrollView``: it
keeps the folded screen rows (``verbatim.tui.layout``) and renders just the
rows in the viewport, so opening and scrolling cost the same at any length.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from transcript.model import Line
from verbatim.tui.layout import Row, first_rows, layout_rows, splice_rows

GUTTER = 8  # "12345" + note flag + mark flag + space

# The notation a profile writes for marks (pauses, tones, inaudible, overlap), found in a
# rendered line so marks can be coloured: auto suggestions apart from the author's.
NOTATION = re.compile(r"\.\.+|…+\.*|\(\([^)]*\)\)|\([^()]*\)|\[[^\]]*\]|°[^°]*°|//")
MAX_LABEL = 13  # a speaker-label margin wider than this is cut ("Interviewer" fits)


class TranscriptView(ScrollView, can_focus=True):
    """Numbered transcript lines with a cursor, a selection and the line being played."""

    DEFAULT_CSS = """
    TranscriptView {
        background: $surface;
    }
    TranscriptView > .transcript-view--gutter { color: $text-muted; }
    TranscriptView > .transcript-view--label { color: $accent; text-style: bold; }
    TranscriptView > .transcript-view--cursor { background: $primary 40%; }
    TranscriptView > .transcript-view--selected { background: $secondary 30%; }
    TranscriptView > .transcript-view--playing { text-style: underline; }
    TranscriptView > .transcript-view--auto { color: $warning; }
    TranscriptView > .transcript-view--note { color: $success; }
    TranscriptView > .transcript-view--match { background: $warning 40%; }
    TranscriptView > .transcript-view--mark { color: $accent; }
    TranscriptView > .transcript-view--mark-auto { color: $warning; text-style: italic; }
    TranscriptView > .transcript-view--doubt { color: $error; text-style: underline; }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "transcript-view--gutter", "transcript-view--label", "transcript-view--cursor",
        "transcript-view--selected", "transcript-view--playing", "transcript-view--auto",
        "transcript-view--note", "transcript-view--match", "transcript-view--mark",
        "transcript-view--mark-auto", "transcript-view--doubt",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "move(-1)", "Up", show=False),
        Binding("down,j", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,g", "jump_edge(0)", "Top", show=False),
        Binding("end,G", "jump_edge(1)", "End", show=False),
        Binding("shift+up,K", "extend(-1)", "Select up", show=False),
        Binding("shift+down,J", "extend(1)", "Select down", show=False),
        Binding("escape", "clear_selection", "Clear selection", show=False),
    ]

    @dataclass
    class CursorMoved(Message):
        """The cursor is on another line (the editor updates its detail bar)."""

        line: int

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, TranscriptView.CursorMoved)

    cursor: reactive[int] = reactive(0, always_update=True, repaint=False)
    """Index (not number) of the line the cursor is on."""
    select_from: reactive[int | None] = reactive(None, repaint=False)
    """Where a shift-selection started; None when only the cursor line is selected."""
    playing: reactive[int | None] = reactive(None, repaint=False)
    """Index of the line under the playback position, if playing."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._lines: tuple[Line, ...] = ()
        self._labels: list[str] = []
        self._flags: list[tuple[bool, bool]] = []
        self._rows: list[Row] = []
        self._line_row: list[int] = []
        self._laid_out_for = -1
        self._label_width = 0
        self._highlight: tuple[int, int, int] | None = None  # line, start, end
        self._doubt: dict[int, list[tuple[int, int]]] = {}  # line -> doubtful word spans

    # ------------------------------------------------------------ data

    @property
    def lines(self) -> tuple[Line, ...]:
        return self._lines

    @property
    def labels(self) -> list[str]:
        """The speaker label beside each line ("" mid-turn); do not change it in place."""
        return self._labels

    @property
    def flags(self) -> list[tuple[bool, bool]]:
        """Per line (has a note, has auto marks to confirm); do not change it in place."""
        return self._flags

    def set_lines(self, lines: Sequence[Line], labels: Sequence[str],
                  flags: Sequence[tuple[bool, bool]] | None = None) -> None:
        """Show these lines; ``flags`` per line is (has a note, has auto marks to confirm)."""
        self._lines = tuple(lines)
        self._labels = list(labels)
        self._flags = list(flags) if flags is not None else [(False, False)] * len(self._lines)
        longest = max((len(label) for label in self._labels), default=0)
        self._label_width = min(longest, MAX_LABEL - 1) + 1 if longest else 0
        self._laid_out_for = -1
        self._relayout()
        self.cursor = min(self.cursor, max(len(self._lines) - 1, 0))
        self.refresh()

    def set_doubt(self, spans: dict[int, list[tuple[int, int]]], *, repaint: bool = True) -> None:
        """Character spans of doubtful words, per line index (underlined).

        ``repaint=False`` before ``splice_lines``, which repaints the rows it changed.
        """
        self._doubt = spans
        if repaint:
            self.refresh()

    def splice_lines(self, lines: Sequence[Line], labels: Sequence[str],
                     flags: Sequence[tuple[bool, bool]], first: int, removed: int,
                     added: int) -> None:
        """Show ``lines`` where only ``first..first+removed`` changed (now ``added`` lines).

        Only the changed lines are folded again (an edit in a 4-hour transcript);
        a change of the label column's width lays everything out afresh.
        """
        longest = max((len(label) for label in labels[first:first + added]), default=0)
        width = min(longest, MAX_LABEL - 1) + 1 if longest else 0
        if self._laid_out_for < 0 or width > self._label_width:
            self.set_lines(lines, labels, flags)
            return
        old_rows = len(self._rows)
        start = self._line_row[first] if first < len(self._line_row) else old_rows
        old_end = (self._line_row[first + removed] if first + removed < len(self._line_row)
                   else old_rows)
        self._rows = splice_rows(self._rows, self._line_row, first, removed,
                                 lines[first:first + added], labels[first:first + added],
                                 self._laid_out_for)
        # each line's first row: kept before the edit, found in its rows, shifted after
        shift = len(self._rows) - old_rows
        fresh = first_rows(self._rows[start:old_end + shift])
        self._line_row = [*self._line_row[:first], *(start + r for r in fresh),
                          *(r + shift for r in self._line_row[first + removed:])]
        self._lines = tuple(lines)
        self._labels = list(labels)
        self._flags = list(flags)
        self.virtual_size = Size(self._laid_out_for + GUTTER + self._label_width,
                                 len(self._rows))
        cursor = min(self.cursor, max(len(self._lines) - 1, 0))
        if cursor != self.cursor:
            self.cursor = cursor  # (moving the cursor repaints everything)
        # repaint only the rows in view that changed: from the first changed row to
        # the last new one, or to the bottom of the view when the rows below moved
        top = self.scroll_offset.y
        bottom = top + self.scrollable_content_region.height
        last = bottom if shift else start + (old_end - start)
        if start < bottom and last > top:
            self.refresh_lines(max(start, top), min(last, bottom) - max(start, top))

    def highlight(self, line: int | None, start: int = 0, end: int = 0) -> None:
        """Mark a found span of a line's text (find/replace)."""
        self._highlight = None if line is None else (line, start, end)
        self.refresh()

    @property
    def selection(self) -> tuple[int, int]:
        """(first, last) line indices of the selection, inclusive."""
        if self.select_from is None:
            return (self.cursor, self.cursor)
        return (min(self.select_from, self.cursor), max(self.select_from, self.cursor))

    def _text_width(self) -> int:
        return max(self.scrollable_content_region.width - GUTTER - self._label_width, 20)

    def _relayout(self) -> None:
        width = self._text_width()
        if width == self._laid_out_for:
            return
        self._rows = layout_rows(self._lines, self._labels, width)
        self._line_row = first_rows(self._rows)
        self._laid_out_for = width
        self.virtual_size = Size(width + GUTTER + self._label_width, len(self._rows))

    def on_resize(self) -> None:
        self._relayout()
        self.scroll_to_cursor(animate=False)
        self.refresh()

    # ------------------------------------------------------------ movement

    def watch_cursor(self, old: int, new: int) -> None:
        self.scroll_to_cursor(animate=False)
        self.refresh()
        self.post_message(self.CursorMoved(new))

    def watch_select_from(self) -> None:
        self.refresh()

    def watch_playing(self) -> None:
        self.refresh()

    def scroll_to_cursor(self, *, animate: bool = False) -> None:
        if not self._line_row:
            return
        index = min(self.cursor, len(self._line_row) - 1)
        top = self._line_row[index]
        bottom = (self._line_row[index + 1] if index + 1 < len(self._line_row)
                  else len(self._rows)) - 1
        height = self.scrollable_content_region.height
        y = self.scroll_offset.y
        if top < y:
            self.scroll_to(y=top, animate=animate, immediate=True)
        elif bottom >= y + height:
            self.scroll_to(y=max(bottom - height + 1, 0), animate=animate, immediate=True)

    def go_to(self, line: int, *, select: bool = False) -> None:
        """Put the cursor on line index ``line`` (clamped); keep or drop the selection."""
        if not self._lines:
            return
        if not select:
            self.select_from = None
        self.cursor = max(0, min(line, len(self._lines) - 1))

    def action_move(self, delta: int) -> None:
        self.go_to(self.cursor + delta)

    def action_extend(self, delta: int) -> None:
        if self.select_from is None:
            self.select_from = self.cursor
        self.go_to(self.cursor + delta, select=True)

    def action_page(self, direction: int) -> None:
        self.go_to(self.cursor + direction * max(self.scrollable_content_region.height - 1, 1))

    def action_jump_edge(self, end: int) -> None:
        self.go_to(len(self._lines) - 1 if end else 0)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # escape clears a selection when there is one, else falls through to the screen (back)
        if action == "clear_selection":
            return self.select_from is not None
        return True

    def action_clear_selection(self) -> None:
        self.select_from = None

    # ------------------------------------------------------------ drawing

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base = self.rich_style
        index = scroll_y + y
        if index >= len(self._rows):
            return Strip.blank(width, base)
        strip = self._render_row(index, base)
        line = self._rows[index].line
        fill = base
        if line == self.cursor:  # the cursor bar spans the whole width, easy to find
            fill = base + self._style("cursor")
        return strip.crop_extend(scroll_x, scroll_x + width, fill)

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"transcript-view--{name}")

    def _render_row(self, index: int, base: Style) -> Strip:
        row = self._rows[index]
        line = self._lines[row.line]
        gutter = self._style("gutter")
        segments: list[Segment] = []
        has_note, has_auto = self._flags[row.line] if row.line < len(self._flags) else (
            False, False)
        if row.first:
            segments.append(Segment(f"{line.number:>5}", base + gutter))
            segments.append(Segment("✎" if has_note else " ", base + self._style("note")))
            segments.append(Segment("?" if has_auto else " ", base + self._style("auto")))
            segments.append(Segment(" ", base))
        else:
            segments.append(Segment(" " * GUTTER, base))
        first, last = self.selection
        text_style = base
        if first <= row.line <= last:
            text_style = base + self._style("selected" if row.line != self.cursor else "cursor")
        if row.line == self.playing:
            text_style = text_style + self._style("playing")
        if self._label_width:
            label = row.label[:self._label_width - 1].ljust(self._label_width)
            segments.append(Segment(label, base + self._style("label")))
        text = line.text[row.start:row.end]
        hl = self._highlight
        if hl and hl[0] == row.line and hl[1] < row.end and hl[2] > row.start:
            a = max(hl[1], row.start) - row.start
            b = min(hl[2], row.end) - row.start
            segments += [Segment(text[:a], text_style),
                         Segment(text[a:b], text_style + self._style("match")),
                         Segment(text[b:], text_style)]
        else:
            mark_style = text_style + self._style("mark-auto" if has_auto else "mark")
            doubt_style = text_style + self._style("doubt")
            at = 0
            for a, b in self._doubt.get(row.line, ()):
                if b <= row.start or a >= row.end:
                    continue
                a, b = max(a, row.start) - row.start, min(b, row.end) - row.start
                if a > at:
                    segments += notation_segments(text[at:a], text_style, mark_style)
                segments.append(Segment(text[a:b], doubt_style))
                at = b
            if at < len(text) or at == 0:
                segments += notation_segments(text[at:], text_style, mark_style)
        return Strip(segments)


def notation_segments(text: str, plain: Style, mark: Style) -> list[Segment]:
    """The text as segments, with the marks' notation in ``mark`` style."""
    out: list[Segment] = []
    at = 0
    for found in NOTATION.finditer(text):
        if found.start() > at:
            out.append(Segment(text[at:found.start()], plain))
        out.append(Segment(found.group(0), mark))
        at = found.end()
    if at < len(text) or not out:
        out.append(Segment(text[at:], plain))
    return out
