"""Correcting a locked transcript: the words change, the cited line numbers do not.

Once the line numbers are frozen and extracts cite them ('505-7'), a
corrected word must not move any line. ``reline`` rewrites the frozen lines
from the corrected words:

* every rendered token goes back onto the frozen line of its speaker that
  covers its time (``transcript.lines._Homes``: the same rule that writes a
  locked transcript in another notation), so a corrected word changes the
  text *within* its line, however long the line becomes;
* a token that has no line of its speaker nearby (another speaker's line lies
  between; a word moved to a speaker who had not spoken there) opens a new
  line after the line before it, numbered with a suffix: 505a, 505b ...;
* a line left with no words keeps its number (and times) with empty text,
  so no number that was cited disappears.

The result is a new version of the document with the same numbers; an extract
made from the locked version therefore still finds its words under the same
numbers (``cited_words``). Pure functions: the store saves the result.
"""

from __future__ import annotations

import bisect
import string
from collections.abc import Sequence
from dataclasses import replace

from transcript.lines import _Homes, locked_profile
from transcript.model import Line, Transcript, Word
from transcript.notation import Profile, get_profile, resolve_profile
from transcript.render import GAP_SPEAKER, Token, render_turns

__all__ = ["cited_words", "reline"]


def _orphan(lines: Sequence[Line], home: int, before: int, token: Token, speaker: str) -> bool:
    """True when another speaker's line lies wholly between a token and its speaker's line.

    Lines are in time order, so only those between the home line and ``before``
    (the last line starting before the token) need looking at.
    """
    line = lines[home]
    if line.speaker != speaker:
        return True
    if token.start >= line.end:
        lo, hi = line.end, token.start
    elif token.end <= line.start:
        lo, hi = token.end, line.start
    else:
        return False
    near = lines[max(0, min(home, before) - 1):max(home, before) + 2]
    return any(ln.speaker not in (speaker, GAP_SPEAKER) and ln.start >= lo - 1e-6
               and ln.end <= hi + 1e-6 for ln in near)


_SUFFIXES = list(string.ascii_lowercase) + [a + b for a in string.ascii_lowercase
                                             for b in string.ascii_lowercase]


def reline(doc: Transcript, profile: str | Profile | None = None,
           width: int | None = None) -> Transcript:
    """The locked document with its lines rewritten from its words; numbers kept.

    ``profile``: the notation the lines are written in (default: the one the
    numbering was locked in). ``width`` wraps the new suffixed lines (default:
    the locked width). An unlocked document is returned unchanged.
    """
    if not doc.locked:
        return doc
    numbering = doc.extra.get("numbering")
    if width is None:
        width = numbering.get("width", 80) if isinstance(numbering, dict) else 80
    prof = resolve_profile(profile) if profile is not None else get_profile(
        locked_profile(doc) or "paper")
    frozen = doc.lines
    gap_lines = any(not ln.speaker for ln in frozen)
    render_prof = replace(prof, gaps_on_own_line=gap_lines or prof.gaps_on_own_line)
    homes = _Homes(frozen)
    starts = [ln.start for ln in frozen]
    buckets: list[list[Token]] = [[] for _ in frozen]
    # orphans: (index of the frozen line they follow, speaker) -> tokens
    orphans: dict[tuple[int, str], list[Token]] = {}
    for turn in render_turns(replace(doc, lines=()), render_prof):
        for token in turn.tokens:
            home = homes.find(turn.speaker, token)
            before = bisect.bisect_right(starts, token.start + 1e-9) - 1
            if _orphan(frozen, home, before, token, turn.speaker):
                orphans.setdefault((before, turn.speaker), []).append(token)
            else:
                buckets[home].append(token)
    following: dict[int, list[tuple[str, list[Token]]]] = {}
    for (after, speaker), extra in orphans.items():
        following.setdefault(after, []).append((speaker, sorted(extra, key=lambda t: t.start)))
    used: dict[int, set[str]] = {}
    for ln in frozen:
        used.setdefault(ln.n, set()).add(ln.suffix)
    out: list[Line] = []
    for i, (line, tokens) in enumerate(zip(frozen, buckets, strict=True)):
        tokens.sort(key=lambda t: t.start)
        text = " ".join(t.text for t in tokens)
        if tokens:
            line = replace(line, text=text, start=min(line.start, tokens[0].start),
                           end=max(line.end, max(t.end for t in tokens)))
        else:
            line = replace(line, text="")
        out.append(line)
        for speaker, extra in sorted(following.get(i, []), key=lambda se: se[1][0].start):
            out.extend(_suffixed(used, line, speaker, extra, width))
    leading = [(k, v) for k, v in orphans.items() if k[0] < 0]
    if leading and frozen:
        first = replace(frozen[0], n=frozen[0].n - 1, suffix="")
        added: list[Line] = []
        for (_, speaker), extra in sorted(leading, key=lambda kv: min(t.start for t in kv[1])):
            added.extend(_suffixed(used, first, speaker, extra, width))
        out = added + out
    return replace(doc, lines=tuple(out))


def _suffixed(used: dict[int, set[str]], after: Line, speaker: str, tokens: list[Token],
              width: int) -> list[Line]:
    """New lines for tokens with no line of their own, numbered after ``after``: 505a ..."""
    from transcript.lines import _lines_of_turn

    taken = used.setdefault(after.n, {""})
    free = (s for s in _SUFFIXES if s not in taken and (not after.suffix or s > after.suffix))
    made = []
    for text, start, end in _lines_of_turn(sorted(tokens, key=lambda t: t.start), width):
        suffix = next(free)
        taken.add(suffix)
        made.append(Line(n=after.n, speaker=speaker, text=text, start=start, end=end,
                         suffix=suffix))
    return made


def cited_words(doc: Transcript, first: int, last: int) -> tuple[Word, ...]:
    """The words that lines ``first``..``last`` (with their suffixed lines) hold, by time.

    A citation made on one version and resolved on a corrected one finds the
    same words (corrected) under the same numbers.
    """
    picked = [ln for ln in doc.lines if first <= ln.n <= last]
    if not picked:
        raise ValueError(f"no lines {first}-{last} in this transcript")
    out = []
    for w in doc.words:
        middle = (w.start + w.end) / 2
        if any(ln.speaker == w.speaker and ln.start - 1e-6 <= middle <= ln.end + 1e-6
               for ln in picked):
            out.append(w)
    return tuple(out)
