"""Line numbering: the citable form of a transcript.

Each turn starts a new line; a turn's tokens wrap at ``width`` characters on
token boundaries (a token is a word with its marks, or a mark on its own, so
'[' and 'laughs]' never part). ``width`` counts the transcript text only: the
line number and the speaker label are printed in margins beside it, so a line
has the same number and the same text in every export.

Locking stores the lines in the document; from then on ``number_lines``
returns the stored lines unchanged, whatever later edits do to the words, so
every citation made against a locked transcript stays resolvable.
``lines_in_notation`` writes those same lines (same numbers, same times) in
another notation: each token of the new rendering goes to the locked line of
its speaker that holds its time.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

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


def locked_profile(doc: Transcript) -> str | None:
    """The notation a locked numbering was made in (None: not recorded)."""
    numbering: Any = doc.extra.get("numbering")
    name = numbering.get("profile") if isinstance(numbering, dict) else None
    return name if isinstance(name, str) else None


def lines_in_notation(doc: Transcript, profile: str | Profile) -> tuple[Line, ...]:
    """A locked document's lines, each written in ``profile``: same numbers, times, speakers.

    Unlocked: simply the numbering under ``profile``. Locked in the same
    notation: the frozen lines, byte for byte. Otherwise the words are
    rendered in ``profile`` and every token is put on the locked line of its
    speaker that covers its time (a token the locked notation did not write,
    such as a shorter pause, joins the nearest of that speaker's lines). A
    line the new notation leaves empty (a between-speaker gap the profile does
    not write) keeps the profile's shortest pause sign, so no number is lost.
    Raises ValueError (one line) when there are no words to render from.
    """
    prof = resolve_profile(profile)
    if not doc.locked:
        return number_lines(doc, profile=prof)
    frozen = doc.lines
    if locked_profile(doc) == prof.name:
        return frozen
    if not doc.words:
        locked = locked_profile(doc) or "an unrecorded notation"
        raise ValueError(f"the locked lines are written in {locked} and the transcript holds "
                         f"no words to write them in {prof.name}; export them in {locked}")
    gap_lines = any(not ln.speaker for ln in frozen)
    render_prof = replace(prof, gaps_on_own_line=gap_lines or prof.gaps_on_own_line)
    homes = _Homes(frozen)
    buckets: list[list[Token]] = [[] for _ in frozen]
    for turn in render_turns(replace(doc, lines=()), render_prof):
        for token in turn.tokens:
            buckets[homes.find(turn.speaker, token)].append(token)
    out: list[Line] = []
    for line, tokens in zip(frozen, buckets, strict=True):
        tokens.sort(key=lambda t: t.start)  # stable: equal times keep the rendering's order
        text = " ".join(t.text for t in tokens)
        if not text:
            shortest = render_prof.threshold("short_pause")
            text = render_prof.pause(max(line.end - line.start, shortest))
        out.append(replace(line, text=text))
    return tuple(out)


class _Homes:
    """Which locked line a rendered token belongs on: its speaker's line at its time."""

    def __init__(self, lines: Sequence[Line]) -> None:
        self.lines = lines
        self.by_speaker: dict[str, list[int]] = {}
        for i, line in enumerate(lines):
            self.by_speaker.setdefault(line.speaker, []).append(i)
        self.everyone = list(range(len(lines)))
        self.starts = {who: [lines[i].start for i in own] for who, own in self.by_speaker.items()}
        self.all_starts = [line.start for line in lines]

    def find(self, speaker: str, token: Token) -> int:
        own = self.by_speaker.get(speaker) or self.everyone
        starts = self.starts[speaker] if speaker in self.by_speaker else self.all_starts
        k = bisect.bisect_right(starts, token.start + 1e-9) - 1
        if k < 0:
            return own[0]
        if k + 1 < len(own):  # between two lines: the nearer one (a tie stays on the earlier)
            before, after = self.lines[own[k]], self.lines[own[k + 1]]
            if token.start > before.end and after.start - token.end < token.start - before.end:
                return own[k + 1]
        return own[k]


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
