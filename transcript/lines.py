"""Line numbering: the citable form of a transcript.

Each turn starts a new line; a turn's tokens wrap at ``width`` characters on
token boundaries (a token is a word with its marks, or a mark on its own, so
'[' and 'laughs]' never part). ``width`` counts the transcript text only: the
line number and the speaker label are printed in margins beside it, so a line
has the same number and the same text in every export.

Locking stores the lines in the document; from then on ``number_lines``
returns the stored lines unchanged, whatever later edits do to the words, so
every citation made against a locked transcript stays resolvable.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Iterable, Sequence
from dataclasses import replace

from transcript.model import Line, Transcript
from transcript.notation import Profile, get_profile, resolve_profile
from transcript.render import Token, render_turns

MIN_WIDTH = 10


def wrap_words(words: Sequence[str], width: int) -> list[list[str]]:
    """Greedy wrap: the most words per line without exceeding ``width`` characters.

    A single word longer than ``width`` gets a line to itself and is never split.
    """
    return [[words[i] for i in group] for group in _wrap_indices([len(w) for w in words],
                                                                  width)]


def _wrap_indices(lengths: Sequence[int], width: int) -> list[list[int]]:
    lines: list[list[int]] = []
    current: list[int] = []
    used = 0
    for i, n in enumerate(lengths):
        if current and used + 1 + n > width:
            lines.append(current)
            current, used = [], 0
        used = n if not current else used + 1 + n
        current.append(i)
    if current:
        lines.append(current)
    return lines


def _lines_of_turn(tokens: Sequence[Token], width: int) -> Iterable[tuple[str, float, float]]:
    for group in _wrap_indices([len(t.text) for t in tokens], width):
        chunk = [tokens[i] for i in group]
        yield (" ".join(t.text for t in chunk), chunk[0].start, max(t.end for t in chunk))


def number_lines(doc: Transcript, *, profile: str | Profile = "paper",
                 width: int = 80) -> tuple[Line, ...]:
    """The numbered lines of a transcript (its frozen lines, once it is locked)."""
    if doc.locked:
        return doc.lines
    if width < MIN_WIDTH:
        raise ValueError(f"line width must be at least {MIN_WIDTH} characters, not {width}")
    prof = resolve_profile(profile)
    key = (prof.name, tuple(sorted(prof.thresholds.items())), width)
    try:
        hash(doc)
    except TypeError:  # a hand-built document holding a list somewhere: just compute
        return _numbered.__wrapped__(doc, *key)
    return _numbered(doc, *key)


@functools.lru_cache(maxsize=8)
def _numbered(doc: Transcript, name: str, thresholds: tuple[tuple[str, float], ...],
              width: int) -> tuple[Line, ...]:
    """Cached: exporting one document to every format numbers its lines once.

    Safe because documents are frozen values; the key is the whole document.
    """
    profile = get_profile(name, dict(thresholds))
    out: list[Line] = []
    for turn in render_turns(doc, profile):
        for text, start, end in _lines_of_turn(turn.tokens, width):
            out.append(Line(n=len(out) + 1, speaker=turn.speaker, text=text,
                            start=start, end=end))
    return tuple(out)


def lock(doc: Transcript, *, profile: str | Profile = "paper", width: int = 80) -> Transcript:
    """A copy of the document with its line numbering frozen (already locked: unchanged)."""
    if doc.locked:
        return doc
    lines = number_lines(doc, profile=profile, width=width)
    name = profile if isinstance(profile, str) else profile.name
    extra = dict(doc.extra)
    extra["numbering"] = {"profile": name, "width": width, "locked": True}
    return replace(doc, lines=lines, extra=extra)


def lines_in_range(lines: Sequence[Line], first: int, last: int) -> tuple[Line, ...]:
    """Lines ``first``..``last`` inclusive; ValueError when the range is not in the transcript."""
    if first > last:
        raise ValueError(f"line range {first}-{last} runs backwards")
    if not lines:
        raise ValueError("the transcript has no lines")
    by_number = {ln.n: ln for ln in lines}
    missing = [n for n in (first, last) if n not in by_number]
    if missing:
        raise ValueError(f"line {missing[0]} is outside the transcript "
                         f"(lines {lines[0].n}-{lines[-1].n})")
    return tuple(ln for ln in lines if first <= ln.n <= last)


def line_at(lines: Sequence[Line], seconds: float) -> Line | None:
    """The line being spoken at a moment (in a silence: the line before it).

    None before the first line starts or after the last line ends.
    """
    if not lines or seconds < lines[0].start or seconds > max(ln.end for ln in lines[-3:]):
        return None
    i = bisect.bisect_right(lines, seconds, key=lambda ln: ln.start) - 1
    # overlapping talk: prefer a nearby line that really contains the moment
    for k in range(i, max(-1, i - 4), -1):
        if lines[k].start <= seconds <= lines[k].end:
            return lines[k]
    return lines[i]


def text_of(lines: Sequence[Line]) -> str:
    """The text of some lines joined as prose (for an extract's quotation)."""
    return " ".join(ln.text for ln in lines)
