"""What the transcript editor draws, computed without a terminal.

The editor shows the numbered lines of ``transcript.lines.number_lines``; a
numbered line wider than the window folds onto extra screen rows that carry
no number, so the numbers on screen are always the ones a citation uses.
This module turns lines into those screen rows once per resize, which is what
lets the widget draw only the rows in view (a 2-hour interview is ~2,000
lines; folding them takes milliseconds).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from transcript.lines import number_lines
from transcript.model import Line, Transcript
from transcript.notation import get_profile


def numbered_lines(doc: Transcript, *, profile: str = "paper", width: int = 80,
                   overrides: dict[str, float] | None = None) -> tuple[Line, ...]:
    """The numbered rendering of ``doc`` (its frozen lines when locked)."""
    return number_lines(doc, profile=get_profile(profile, overrides), width=width)


@dataclass(frozen=True, slots=True)
class Row:
    """One screen row: a slice of numbered line ``line`` (index into the lines)."""

    line: int
    start: int
    end: int
    label: str
    """The speaker label drawn before the text ("" on continuation rows and mid-turn lines)."""

    @property
    def first(self) -> bool:
        return self.start == 0


def turn_labels(lines: Sequence[Line], doc: Transcript) -> list[str]:
    """The label beside each line: the speaker's where a turn begins, else ""."""
    out: list[str] = []
    previous: str | None = None
    for line in lines:
        label = doc.speaker_label(line.speaker) if line.speaker else ""
        out.append(label if label and line.speaker != previous else "")
        previous = line.speaker or previous
    return out


def fold(text: str, width: int) -> list[tuple[int, int]]:
    """Character spans of ``text`` wrapped at ``width`` on spaces (a long word is split)."""
    width = max(width, 1)
    spans: list[tuple[int, int]] = []
    start = 0
    n = len(text)
    while n - start > width:
        cut = text.rfind(" ", start, start + width + 1)
        if cut <= start:
            cut = start + width
            spans.append((start, cut))
            start = cut
        else:
            spans.append((start, cut))
            start = cut + 1
    spans.append((start, n))
    return spans


def layout_rows(lines: Sequence[Line], labels: Sequence[str], text_width: int) -> list[Row]:
    """Screen rows for every line, folding each at ``text_width`` columns.

    The label is drawn in its own margin column, so it takes no room from the text.
    """
    rows: list[Row] = []
    room = max(text_width, 8)
    for index, (line, label) in enumerate(zip(lines, labels, strict=True)):
        if len(line.text) <= room:  # the common case: one row, no search for spaces
            rows.append(Row(index, 0, len(line.text), label))
            continue
        for k, (start, end) in enumerate(fold(line.text, room)):
            rows.append(Row(index, start, end, label if k == 0 else ""))
    return rows


def first_rows(rows: Sequence[Row]) -> list[int]:
    """For each line index, the row where it starts (rows are in line order)."""
    out: list[int] = []
    for i, row in enumerate(rows):
        if row.first:
            out.append(i)
    return out


def line_at_time(lines: Sequence[Line], seconds: float) -> int | None:
    """Index of the line being spoken at ``seconds`` (the last line started by then)."""
    if not lines:
        return None
    starts = [ln.start for ln in lines]
    i = bisect_right(starts, seconds) - 1
    return max(i, 0)


def format_time(seconds: float) -> str:
    """12:05.3 style, the way a player shows a position."""
    seconds = max(seconds, 0.0)
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:04.1f}"
    return f"{minutes}:{secs:04.1f}"


def layout_key(profile: str, width: int, overrides: dict[str, float] | None) -> str:
    """The numbering's settings as one string (the key of the study's kept lines)."""
    return f"{profile}|{width}|{sorted((overrides or {}).items())}"


def renumber_edit(old_lines: tuple[Line, ...], doc: Transcript, window: tuple[float, float], *,
                  profile: str = "paper", width: int = 80,
                  overrides: dict[str, float] | None = None) -> tuple[Line, ...]:
    """``renumber_splice`` without the range: just the lines."""
    return renumber_splice(old_lines, doc, window, profile=profile, width=width,
                           overrides=overrides)[0]


def renumber_splice(old_lines: tuple[Line, ...], doc: Transcript, window: tuple[float, float],
                    *, profile: str = "paper", width: int = 80,
                    overrides: dict[str, float] | None = None,
                    ) -> tuple[tuple[Line, ...], int, int, int]:
    """The numbered lines of ``doc`` after an edit inside ``window`` (seconds).

    Only the turn(s) the edit touched are numbered again, from the edited line on;
    lines before keep their numbers and lines after only shift. The caller checks
    the result against a full numbering off the UI thread (``numbered_lines``).
    """
    if doc.locked:
        return doc.lines, 0, len(old_lines), len(doc.lines)
    if not old_lines:
        lines = numbered_lines(doc, profile=profile, width=width, overrides=overrides)
        return lines, 0, 0, len(lines)
    first = max(bisect_right(old_lines, window[0], key=_start) - 1, 0)
    last = max(bisect_right(old_lines, window[1], key=_start) - 1, first)
    while first > 0 and old_lines[first - 1].speaker == old_lines[first].speaker:
        first -= 1
    while last + 1 < len(old_lines) and old_lines[last + 1].speaker == old_lines[last].speaker:
        last += 1
    begin, end = spliced_span(old_lines, first, last - first + 1)
    words = tuple(w for w in starting_in(doc.words, begin, end))
    marks = tuple(m for m in starting_in(doc.marks, begin, end))
    part = Transcript(audio=doc.audio, speakers=doc.speakers, words=words, marks=marks)
    base = old_lines[first].n - 1
    fresh = tuple(Line(n=base + k, speaker=ln.speaker, text=ln.text, start=ln.start,
                       end=ln.end)
                  for k, ln in enumerate(number_lines(part, profile=get_profile(
                      profile, overrides), width=width), start=1))
    shift = len(fresh) - (last - first + 1)
    tail = old_lines[last + 1:]
    if shift:
        # positional: a 4-hour transcript shifts ~3,500 lines, 1.5x faster than by keyword
        tail = tuple([Line(ln.n + shift, ln.speaker, ln.text, ln.start, ln.end) for ln in tail])
    return old_lines[:first] + fresh + tail, first, last - first + 1, len(fresh)


def spliced_span(old_lines: Sequence[Line], first: int, removed: int) -> tuple[float, float]:
    """The stretch of time (seconds, [begin, end)) whose words lines ``first..first+removed``
    show: every word starting in it is numbered again by ``renumber_splice``."""
    begin = old_lines[first].start if 0 < first < len(old_lines) else float("-inf")
    end = old_lines[first + removed].start if first + removed < len(old_lines) else float("inf")
    return begin, end


def _start(item: Any) -> float:
    return float(item.start)


def splice_rows(rows: list[Row], line_row: list[int], first: int, removed: int,
                lines: Sequence[Line], labels: Sequence[str], text_width: int) -> list[Row]:
    """The screen rows after lines ``first..first+removed`` became ``lines`` (and labels).

    Rows before are kept as they are; rows after only shift their line index.
    """
    start = line_row[first] if first < len(line_row) else len(rows)
    end = line_row[first + removed] if first + removed < len(line_row) else len(rows)
    fresh = [Row(r.line + first, r.start, r.end, r.label)
             for r in layout_rows(lines, labels, text_width)]
    shift = len(lines) - removed
    tail = rows[end:] if not shift else [Row(r.line + shift, r.start, r.end, r.label)
                                          for r in rows[end:]]
    return rows[:start] + fresh + tail


LONGEST_MARK = 120.0
"""Seconds: no mark (an overlap, an inaudible stretch) runs longer than this."""


def marks_touching(marks: Sequence[Any], start: float, end: float) -> list[int]:
    """Indices of marks that touch [start, end], as ``transcript.edits.marks_between``
    finds them, by bisection when the marks are in time order (every cursor move asks)."""
    hi = bisect_right(marks, end, key=lambda m: m.start)
    lo = bisect_left(marks, start - LONGEST_MARK, key=lambda m: m.start)
    window = range(lo, hi)
    near = range(max(lo - 1, 0), min(hi, len(marks) - 1))
    if any(marks[i].start > marks[i + 1].start for i in near):
        window = range(len(marks))  # not in time order: look at every one
    return [i for i in window if marks[i].start <= end and marks[i].end >= start]


def marks_starting(marks: Sequence[Any], begin: float, end: float) -> list[Any]:
    """Marks that start in [begin, end] (a bisection when they are in time order)."""
    return starting_in(marks, begin, end + 1e-9)


def starting_in(items: Sequence[Any], begin: float, end: float) -> list[Any]:
    """Items (words or marks, kept in start order) that start in [begin, end).

    A bisection when they are in time order, else a look at every one.
    """
    lo = bisect_left(items, begin, key=lambda x: x.start)
    hi = bisect_left(items, end, key=lambda x: x.start)
    if all(items[i].start <= items[i + 1].start for i in range(max(lo - 1, 0),
                                                               min(hi, len(items) - 1))):
        return list(items[lo:hi])
    return [x for x in items if begin <= x.start < end]  # not in order: look at every one
