"""Render a word-level transcript into turns of text with the marks in place.

This is the one rendering every line numbering and every exporter shares, so a
line cited in the Word export is the same line in the plain text and in QDA
tools. The steps are pure functions over ``transcript.model`` values:

1. marks that change words (cut-off, stutter, overlap, manner of speaking) are
   attached to the words they cover;
2. marks that stand between words (pauses, inaudible stretches, non-verbal
   sounds) become tokens of their own, placed by time;
3. a word that continues the one before it ('-hearted' after 'cold', see
   ``transcript.joining``) is written onto that word's token with no space,
   so wrapping, citations and search see one word: 'cold-hearted';
4. the time-ordered tokens are grouped into turns: a new turn whenever the
   speaker changes.

A between-speaker gap (a pause mark with ``speaker=None``) becomes a turn with
speaker ``""`` when the profile writes gaps on their own line, else nothing.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from types import MappingProxyType
from typing import Any

from transcript.joining import joins
from transcript.model import Mark, MarkKind, Transcript, Word
from transcript.notation import Profile, is_manner, resolve_profile

GAP_SPEAKER = ""
"""Speaker id of a between-speaker gap turn (jefferson writes gaps on their own line)."""


@dataclass(frozen=True, slots=True)
class Token:
    """One unbreakable piece of rendered text with the time it covers."""

    text: str
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class Turn:
    """Consecutive talk of one speaker, rendered as tokens."""

    speaker: str
    tokens: tuple[Token, ...]

    @property
    def start(self) -> float:
        return self.tokens[0].start

    @property
    def end(self) -> float:
        return max(t.end for t in self.tokens)

    @property
    def text(self) -> str:
        return " ".join(t.text for t in self.tokens)


@dataclass(slots=True)
class _Decor:
    """What marks do to one word while it is being rendered (mutable scratch)."""

    body: str
    before: list[str]
    prefix: str = ""
    suffix: str = ""
    upper: bool = False


def _covered(words: Sequence[Word], starts: Sequence[float], mark: Mark) -> list[int]:
    """Indices of the words a mark covers: same speaker (or any, if the mark has none)."""
    # words are sorted by start; only words starting before the mark ends can overlap it
    hi = bisect.bisect_right(starts, mark.end)
    lo = bisect.bisect_left(starts, mark.start - 30.0)  # no word is 30 s long
    found: list[int] = []
    for i in range(lo, hi):
        w = words[i]
        if mark.speaker is not None and w.speaker != mark.speaker:
            continue
        if mark.end > mark.start:
            if w.start < mark.end and w.end > mark.start:
                found.append(i)
        elif w.start <= mark.start <= w.end:
            found.append(i)
    return found


def _best(words: Sequence[Word], indices: list[int], mark: Mark) -> int | None:
    """The covered word that overlaps the mark most (cut-offs and stutters hit one word)."""
    if not indices:
        return None

    def overlap(i: int) -> float:
        w = words[i]
        return min(w.end, mark.end) - max(w.start, mark.start)

    return max(indices, key=lambda i: (overlap(i), -i))


def stutter_form(word: str) -> str:
    """'it' -> 'i-i-it': the first letter repeated, as the paper writes a stutter."""
    first = word[:1]
    return f"{first}-{first}-{word}" if first else word


def render_turns(doc: Transcript, profile: str | Profile = "paper") -> tuple[Turn, ...]:
    """The transcript as turns of text under a notation profile.

    Cached for the last few documents: numbering the lines and an exporter that
    works by turns (ELAN) share one rendering. Safe because documents and
    profiles are frozen values; the key is the whole document.
    """
    prof = resolve_profile(profile)
    # every field of the profile, its thresholds as a tuple: the profile as a hashable key
    key = tuple((f.name, tuple(sorted(prof.thresholds.items())) if f.name == "thresholds"
                 else getattr(prof, f.name)) for f in fields(Profile))
    try:
        hash(doc)
        hash(key)
    except TypeError:  # a hand-built document holding a list somewhere: just compute
        return _render(doc, prof)
    return _cached(doc, key)


@functools.lru_cache(maxsize=8)
def _cached(doc: Transcript, key: tuple[tuple[str, Any], ...]) -> tuple[Turn, ...]:
    values = dict(key)
    values["thresholds"] = MappingProxyType(dict(values["thresholds"]))
    return _render(doc, Profile(**values))


def _render(doc: Transcript, prof: Profile) -> tuple[Turn, ...]:
    words = sorted(doc.words, key=lambda w: (w.start, w.end))
    starts = [w.start for w in words]
    decor = [_Decor(body=w.text.strip(), before=[]) for w in words]
    # (time, order, speaker or None, token): order keeps words after marks at equal times
    inserted: list[tuple[float, int, str | None, Token]] = []

    for mark in sorted(doc.marks, key=lambda m: (m.start, m.end)):
        _apply_mark(mark, prof, words, starts, decor, inserted)

    for d in decor:
        if d.body.endswith(("-", "/")) and len(d.body) > 1 and not d.body.endswith("--"):
            d.body = prof.cutoff(d.body)  # a verbatim ASR cut-off, written per profile

    # (time, order, speaker or None, token, index of the word it writes or -1)
    events: list[tuple[float, int, str | None, Token, int]] = [(*e, -1) for e in inserted]
    for i, w in enumerate(words):
        d = decor[i]
        body = d.body.upper() if d.upper else d.body
        if not body and not d.before and not d.prefix and not d.suffix:
            continue
        for j, text in enumerate(d.before):
            events.append((w.start, 1 + j, w.speaker, Token(text, w.start, w.start), -1))
        text = f"{d.prefix}{body}{d.suffix}"
        if text:
            events.append((w.start, 1 + len(d.before), w.speaker, Token(text, w.start, w.end),
                           i))
    events.sort(key=lambda e: (e[0], e[1]))
    return _group(_join_continuations(events, words))


def _join_continuations(events: Sequence[tuple[float, int, str | None, Token, int]],
                        words: Sequence[Word]) -> list[tuple[float, int, str | None, Token]]:
    """Write '-hearted' onto 'cold' when nothing of that speaker came between them."""
    out: list[tuple[float, int, str | None, Token]] = []
    last: dict[str | None, tuple[int, int]] = {}  # speaker -> (position in out, word index)
    for time, order, who, token, index in events:
        if index > 0 and who is not None:
            position, previous = last.get(who, (-1, -1))
            if previous == index - 1 and joins(words[previous], words[index]):
                t0, o0, w0, joined = out[position]
                out[position] = (t0, o0, w0, Token(joined.text + token.text, joined.start,
                                                   max(joined.end, token.end)))
                last[who] = (position, index)
                continue
        last[who] = (len(out), index)
        out.append((time, order, who, token))
    return out


def _apply_mark(mark: Mark, prof: Profile, words: Sequence[Word], starts: Sequence[float],
                decor: list[_Decor], inserted: list[tuple[float, int, str | None, Token]]) -> None:
    kind = mark.kind
    label = mark.label.strip()
    if kind is MarkKind.PAUSE:
        text = prof.pause(mark.duration)
        if not text:
            return
        if mark.speaker is None:
            if prof.gaps_on_own_line:
                inserted.append((mark.start, 0, GAP_SPEAKER, Token(text, mark.start, mark.end)))
            return
        inserted.append((mark.start, 0, mark.speaker, Token(text, mark.start, mark.end)))
        return
    covered = _covered(words, starts, mark)
    if kind is MarkKind.INAUDIBLE:
        if not covered:  # nothing was recognised: the profile's omission sign
            inserted.append((mark.start, 0, mark.speaker, Token(prof.inaudible, mark.start,
                                                                mark.end)))
            return
        # words the engine was unsure of stay visible, written as a guess
        for run in _runs_by_speaker(words, covered):
            opening, closing = prof.uncertain
            decor[run[0]].prefix = opening + decor[run[0]].prefix
            decor[run[-1]].suffix += closing
        return
    if kind in (MarkKind.CUTOFF, MarkKind.STUTTER):
        best = _best(words, covered, mark)
        if kind is MarkKind.CUTOFF:
            if best is None:
                if label:
                    inserted.append((mark.start, 0, mark.speaker,
                                     Token(prof.cutoff(label), mark.start, mark.end)))
                return
            decor[best].body = prof.cutoff(label or decor[best].body)
            return
        if best is None:
            if label:
                inserted.append((mark.start, 0, mark.speaker, Token(label, mark.start, mark.end)))
            return
        if label and len(covered) > 1:
            # a repeated word ("I I") recognised as separate words: one stuttered form
            decor[covered[0]].body = label
            for i in covered[1:]:
                decor[i].body = ""
            return
        decor[best].body = label or stutter_form(decor[best].body)
        return
    if kind is MarkKind.OVERLAP:
        if not covered:
            return
        for run in _runs_by_speaker(words, covered):
            decor[run[0]].prefix = prof.overlap_open + decor[run[0]].prefix
            decor[run[-1]].suffix += prof.overlap_close
        return
    # tone: a manner of speaking colours the words it covers; an event stands alone
    if not label:
        return
    if is_manner(label) and covered:
        wrap = prof.manner_wrap(label)
        if wrap is not None:
            decor[covered[0]].prefix = wrap[0] + decor[covered[0]].prefix
            decor[covered[-1]].suffix += wrap[1]
        elif prof.manner_upper(label):
            for i in covered:
                decor[i].upper = True
        else:
            decor[covered[0]].before.append(prof.tone_manner(label))
        return
    text = prof.tone_manner(label) if is_manner(label) else prof.tone_event(label)
    inserted.append((mark.start, 0, mark.speaker, Token(text, mark.start, mark.end)))


def _runs_by_speaker(words: Sequence[Word], indices: Iterable[int]) -> list[list[int]]:
    """Split covered word indices into one run per speaker (each side of an overlap)."""
    runs: dict[str, list[int]] = {}
    for i in indices:
        runs.setdefault(words[i].speaker, []).append(i)
    return list(runs.values())


def _group(events: Sequence[tuple[float, int, str | None, Token]]) -> tuple[Turn, ...]:
    """Group time-ordered tokens into turns; a speakerless token joins the turn it falls in."""
    turns: list[Turn] = []
    speaker: str | None = None
    tokens: list[Token] = []
    pending: list[Token] = []  # speakerless tokens before anyone has spoken
    for _, _, who, token in events:
        if who is None:
            if speaker is None:
                pending.append(token)
            else:
                tokens.append(token)
            continue
        if who != speaker:
            if tokens and speaker is not None:
                turns.append(Turn(speaker, tuple(tokens)))
            speaker, tokens = who, [*pending, token]
            pending = []
        else:
            tokens.append(token)
    if speaker is not None and tokens:
        turns.append(Turn(speaker, tuple(tokens)))
    elif pending:
        turns.append(Turn(GAP_SPEAKER, tuple(pending)))
    return tuple(turns)
