"""The author's edits to a transcript, as pure functions: a document in, a new document out.

Every change the editor makes goes through here, so the store can save each
result as a new version (undo is then just "the previous version") and the
logic is tested without a terminal. Nothing here touches ``doc.lines``: a
locked numbering stays exactly as it was cited.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from transcript.joining import joined_text, word_groups
from transcript.model import Mark, MarkKind, Source, Speaker, Transcript, Word


class EditError(ValueError):
    """An edit that cannot apply (unknown speaker, index out of range): one line."""


# ---------------------------------------------------------------- words


def replace_words(doc: Transcript, first: int, last: int, text: str) -> Transcript:
    """Replace words ``first..last`` (inclusive) with the words of ``text``.

    The new words share the old span's time evenly (the author fixed what was
    said, not when), keep the first old word's speaker, and get probability 1.0
    because a person has now checked them. An empty ``text`` deletes the span.
    """
    if not 0 <= first <= last < len(doc.words):
        raise EditError(f"no words {first}-{last} in a transcript of {len(doc.words)} words")
    old = doc.words[first:last + 1]
    tokens = text.split()
    start, end, speaker = old[0].start, old[-1].end, old[0].speaker
    step = (end - start) / len(tokens) if tokens else 0.0
    new = tuple(
        Word(text=tok, start=round(start + i * step, 3),
             end=round(end if i == len(tokens) - 1 else start + (i + 1) * step, 3),
             speaker=speaker, probability=1.0)
        for i, tok in enumerate(tokens))
    if len(tokens) == len(old) and all(o.text == t for o, t in zip(old, tokens, strict=True)):
        return doc  # nothing changed: no new version for a no-op
    return replace(doc, words=doc.words[:first] + new + doc.words[last + 1:])


def edit_word(doc: Transcript, index: int, text: str) -> Transcript:
    """Correct one word (several words if ``text`` has spaces; none if it is empty)."""
    return replace_words(doc, index, index, text)


def words_between(doc: Transcript, start: float, end: float,
                  speaker: str | None = None) -> tuple[int, int] | None:
    """Indices (first, last) of the words whose middle lies in [start, end], or None.

    This maps a rendered line (which carries times and a speaker) back to the
    words it was made from.
    """
    found = [i for i, w in enumerate(doc.words)
             if start - 1e-6 <= (w.start + w.end) / 2 <= end + 1e-6
             and (speaker is None or w.speaker == speaker)]
    return (found[0], found[-1]) if found else None


# ---------------------------------------------------------------- speakers


def _require_speaker(doc: Transcript, speaker_id: str) -> None:
    known = {s.id for s in doc.speakers} | {w.speaker for w in doc.words}
    if speaker_id not in known:
        raise EditError(f"no speaker {speaker_id!r} in this transcript")


def rename_speaker(doc: Transcript, speaker_id: str, label: str) -> Transcript:
    """Give a diarised speaker the author's label (S1 -> "Interviewer", S2 -> "P4")."""
    label = label.strip()
    if not label:
        raise EditError("a speaker label cannot be empty")
    _require_speaker(doc, speaker_id)
    if any(s.id == speaker_id for s in doc.speakers):
        speakers = tuple(replace(s, label=label) if s.id == speaker_id else s
                         for s in doc.speakers)
    else:
        speakers = (*doc.speakers, Speaker(id=speaker_id, label=label))
    return replace(doc, speakers=speakers)


def merge_speakers(doc: Transcript, source_id: str, target_id: str) -> Transcript:
    """Fold one diarised speaker into another (the diariser split one voice in two)."""
    if source_id == target_id:
        raise EditError("cannot merge a speaker into itself")
    _require_speaker(doc, source_id)
    _require_speaker(doc, target_id)
    words = tuple(replace(w, speaker=target_id) if w.speaker == source_id else w
                  for w in doc.words)
    marks = tuple(replace(m, speaker=target_id) if m.speaker == source_id else m
                  for m in doc.marks)
    speakers = tuple(s for s in doc.speakers if s.id != source_id)
    return replace(doc, words=words, marks=marks, speakers=speakers)


# ---------------------------------------------------------------- marks


def add_mark(doc: Transcript, mark: Mark) -> Transcript:
    """Insert a mark the author placed (always ``human``), keeping marks in time order."""
    if mark.end < mark.start:
        raise EditError("a mark cannot end before it starts")
    human = replace(mark, source=Source.HUMAN)
    marks = sorted((*doc.marks, human), key=lambda m: (m.start, m.end))
    return replace(doc, marks=tuple(marks))


def remove_mark(doc: Transcript, index: int) -> Transcript:
    """Delete a mark (an auto suggestion the author rejects, or a mistake)."""
    if not 0 <= index < len(doc.marks):
        raise EditError(f"no mark {index}")
    return replace(doc, marks=doc.marks[:index] + doc.marks[index + 1:])


def confirm_mark(doc: Transcript, index: int) -> Transcript:
    """Accept an auto-suggested mark: it becomes the author's (``human``)."""
    if not 0 <= index < len(doc.marks):
        raise EditError(f"no mark {index}")
    mark = doc.marks[index]
    if mark.source is Source.HUMAN:
        return doc
    confirmed = replace(mark, source=Source.HUMAN)
    return replace(doc, marks=(*doc.marks[:index], confirmed, *doc.marks[index + 1:]))


def marks_between(doc: Transcript, start: float, end: float) -> tuple[int, ...]:
    """Indices of marks that touch [start, end]: the marks shown beside a line."""
    return tuple(i for i, m in enumerate(doc.marks) if m.start <= end and m.end >= start)


def parse_mark_kind(text: str) -> MarkKind:
    """A mark kind from what the author typed ("pause", "tone" ...); EditError if unknown."""
    try:
        return MarkKind(text.strip().lower())
    except ValueError:
        kinds = ", ".join(k.value for k in MarkKind)
        raise EditError(f"unknown mark kind {text!r} (one of: {kinds})") from None


# ---------------------------------------------------------------- find and replace

_EDGE_PUNCT = re.compile(r"^[^\w]+|[^\w]+$")


def _norm(token: str, *, case_sensitive: bool) -> str:
    bare = _EDGE_PUNCT.sub("", token)
    return bare if case_sensitive else bare.casefold()


@dataclass(frozen=True, slots=True)
class Match:
    """A run of words that matches a search: word indices ``first..last`` inclusive."""

    first: int
    last: int


def find(doc: Transcript, query: str, *, case_sensitive: bool = False) -> tuple[Match, ...]:
    """Every place the words of ``query`` occur in order, ignoring edge punctuation.

    Matching is by whole words so "care" does not hit "caregiver"; a phrase
    matches across word boundaries ("dual edge"); a word the engine split in
    two ('cold' '-hearted') is one word, found as "cold-hearted".
    """
    wanted = [_norm(t, case_sensitive=case_sensitive) for t in query.split()]
    wanted = [t for t in wanted if t]
    if not wanted:
        return ()
    # a word the engine split ('cold' + '-hearted') is searched as it is written
    groups = word_groups(doc.words)
    normed = [_norm(joined_text(doc.words, a, b), case_sensitive=case_sensitive)
              for a, b in groups]
    n = len(wanted)
    return tuple(Match(groups[i][0], groups[i + n - 1][1]) for i in range(len(normed) - n + 1)
                 if normed[i:i + n] == wanted)


def find_next(doc: Transcript, query: str, after_word: int, *,
              case_sensitive: bool = False) -> Match | None:
    """The first match starting after word ``after_word``, wrapping round to the top."""
    matches = find(doc, query, case_sensitive=case_sensitive)
    for match in matches:
        if match.first > after_word:
            return match
    return matches[0] if matches else None


def _keep_edges(old_first: str, old_last: str, new_tokens: Sequence[str]) -> list[str]:
    """Carry the old span's leading and trailing punctuation onto the replacement."""
    if not new_tokens:
        return []
    tokens = list(new_tokens)
    lead = re.match(r"^[^\w]*", old_first)
    trail = re.search(r"[^\w]*$", old_last)
    tokens[0] = (lead.group(0) if lead else "") + tokens[0]
    tokens[-1] = tokens[-1] + (trail.group(0) if trail else "")
    return tokens


def replace_text(doc: Transcript, old: str, new: str, *,
                 case_sensitive: bool = False) -> Transcript:
    """Replace every whole-word occurrence of ``old`` with ``new`` (a name, a misheard term)."""
    matches = find(doc, old, case_sensitive=case_sensitive)
    for match in reversed(matches):  # from the end so earlier indices stay valid
        tokens = _keep_edges(doc.words[match.first].text, doc.words[match.last].text, new.split())
        doc = replace_words(doc, match.first, match.last, " ".join(tokens))
    return doc


def count_matches(doc: Transcript, query: str, *, case_sensitive: bool = False) -> int:
    return len(find(doc, query, case_sensitive=case_sensitive))
