"""What the editor draws beside and under each line's text, computed without a terminal.

Two decorations of the numbered lines besides the text itself: the gutter
flags (a note is anchored here, an auto mark awaits confirmation) and the
doubtful words underlined, with their count for the status line. Each is
computed for every line when a version is shown, and after an edit for the
lines the edit numbered again only (``flags_spliced``, ``doubt_spliced``):
an edit in a 4-hour transcript then costs what it costs in a 5-minute one.
Kept apart from the screen so the fast path can be checked against the full
computation in plain tests.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from transcript.doubt import is_doubtful
from transcript.model import Line, Mark, Source, Transcript, Word
from verbatim.tui.layout import format_time, starting_in

Spans = dict[int, list[tuple[int, int]]]
"""Line index -> character spans of its doubtful words (underlined)."""


def line_flags(lines: Sequence[Line], doc: Transcript, notes: Sequence[Any], first: int = 0,
               stop: int | None = None) -> list[tuple[bool, bool]]:
    """Per line of ``first..stop-1`` (default: all): (a note is anchored here, an auto
    mark awaits confirmation). O((notes + marks there) log n).

    A note flags the lines it overlaps from the last one started by its start; an
    auto mark flags the last line started by its own start.
    """
    stop = len(lines) if stop is None else stop
    starts = [ln.start for ln in lines[first:stop]]  # bisected in C, no key function
    has_note = [False] * (stop - first)
    has_auto = [False] * (stop - first)
    beyond = lines[stop].start if stop < len(lines) else float("inf")
    for note in notes:
        if note.start >= beyond:  # it starts flagging after these lines
            continue
        i = first + max(bisect_right(starts, note.start) - 1, 0)
        while i < stop and lines[i].start <= note.end:
            if lines[i].end >= note.start:
                has_note[i - first] = True
            i += 1
    begin = lines[first].start if 0 < first < len(lines) else float("-inf")
    for mark in starting_in(doc.marks, begin, beyond):
        if mark.source is Source.AUTO:
            has_auto[max(bisect_right(starts, mark.start) - 1, 0)] = True
    return list(zip(has_note, has_auto, strict=True))


def flags_spliced(old: Sequence[tuple[bool, bool]], lines: Sequence[Line], doc: Transcript,
                  notes: Sequence[Any], first: int, removed: int,
                  added: int) -> list[tuple[bool, bool]]:
    """``line_flags`` after lines ``first..first+removed`` became ``added`` new lines.

    The new lines and one neighbour either side are worked out again (a new line's
    start decides which of them a mark or note next to it belongs to).
    """
    lo = max(first - 1, 0)
    stop = min(first + added + 1, len(lines))
    old_stop = min(first + removed + 1, len(old))
    return [*old[:lo], *line_flags(lines, doc, notes, lo, stop), *old[old_stop:]]


def line_of_word(lines: Sequence[Line], word: Word, first: int = 0, stop: int | None = None,
                 starts: Sequence[float] | None = None) -> int:
    """Index of the line that shows ``word``, among lines ``first..stop-1``.

    The line whose time holds the word's middle, of the word's speaker (lines
    of two speakers overlap in time when they talk over each other). ``starts``:
    those lines' start times, when asking for many words.
    """
    stop = len(lines) if stop is None else stop
    middle = (word.start + word.end) / 2
    if starts is None:
        k = bisect_right(lines, middle + 1e-6, first, stop, key=_start) - 1
    else:
        k = first + bisect_right(starts, middle + 1e-6) - 1
    for j in (k, k - 1, k + 1, k - 2, k + 2):
        if first <= j < stop:
            ln = lines[j]
            if ln.speaker == word.speaker and ln.start - 1e-6 <= middle <= ln.end + 1e-6:
                return j
    return max(first, min(k, stop - 1))


@dataclass(frozen=True)
class Doubt:
    """The doubtful words as the editor shows them."""

    count: int = 0
    """How many words of the document are doubtful (the status line)."""
    spans: Spans = field(default_factory=dict)


def _spans(words: Sequence[Word], lines: Sequence[Line], first: int, stop: int,
           threshold: float) -> tuple[int, Spans]:
    """How many of ``words`` are doubtful, and where they are drawn on lines first..stop-1."""
    spans: Spans = {}
    searched_from: dict[int, int] = {}
    count = 0
    starts = [ln.start for ln in lines[first:stop]]
    for word in words:
        if not is_doubtful(word, threshold):
            continue
        count += 1
        if first >= stop:
            continue
        li = line_of_word(lines, word, first, stop, starts)
        text = lines[li].text
        bare = word.text.strip(".,;:!?\"'")
        at = text.find(bare, searched_from.get(li, 0)) if bare else -1
        if at < 0:
            continue
        spans.setdefault(li, []).append((at, at + len(bare)))
        searched_from[li] = at + len(bare)
    return count, spans


def doubt_of(doc: Transcript, lines: Sequence[Line], threshold: float) -> Doubt:
    """The doubtful words of the whole document, on ``lines``."""
    count, spans = _spans(doc.words, lines, 0, len(lines), threshold)
    return Doubt(count, spans)


def doubt_spliced(old: Doubt, old_doc: Transcript, doc: Transcript, lines: Sequence[Line],
                  first: int, removed: int, added: int, span: tuple[float, float],
                  threshold: float) -> Doubt:
    """``doubt_of`` after an edit that numbered lines ``first..first+removed`` again.

    ``span`` is the stretch of time those lines show (``layout.spliced_span``):
    only the words starting in it, before and after the edit, are looked at.
    Lines before keep their spans; lines after keep theirs, shifted.
    """
    begin, end = span
    before = sum(1 for w in starting_in(old_doc.words, begin, end) if is_doubtful(w, threshold))
    count, fresh = _spans(starting_in(doc.words, begin, end), lines, first, first + added,
                          threshold)
    shift = added - removed
    spans: Spans = {}
    for li, found in old.spans.items():
        if li < first:
            spans[li] = found
        elif li >= first + removed:
            spans[li + shift] = found
    spans.update(fresh)
    return Doubt(old.count - before + count, spans)


def describe_mark(mark: Mark) -> Any:
    """A mark in the marks dialog: auto suggestions in italic warning colour, the
    author's own marks in bold."""
    from rich.text import Text

    auto = mark.source is Source.AUTO
    label = f" {mark.label}" if mark.label else ""
    text = (f"{'auto ' if auto else 'human'} · {mark.kind}{label} at "
            f"{format_time(mark.start)} ({mark.duration:.1f} s)")
    return Text(text, style="italic yellow" if auto else "bold")


def _start(item: Any) -> float:
    return float(item.start)
