"""Speaker boundary tools: move a turn's first or last words to the neighbouring
speaker, split a turn at a word, merge two turns. Pure: a document in, a new one out.

A turn is a run of consecutive words (in time order) of one speaker. Marks
tied to a speaker (a cut-off, a stutter, a pause inside the turn) move with
the words they lie on, so 'th-' stays on its word.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from transcript.model import Speaker, Transcript


class TurnError(ValueError):
    """A boundary edit that cannot apply (no neighbouring turn ...): one line."""


def turn_span(doc: Transcript, index: int) -> tuple[int, int]:
    """(first, last) word indices of the turn holding word ``index``."""
    words = doc.words
    if not 0 <= index < len(words):
        raise TurnError(f"no word {index} in a transcript of {len(words)} words")
    who = words[index].speaker
    first = index
    while first > 0 and words[first - 1].speaker == who:
        first -= 1
    last = index
    while last + 1 < len(words) and words[last + 1].speaker == who:
        last += 1
    return first, last


def _reassign(doc: Transcript, indices: Iterable[int], speaker: str) -> Transcript:
    chosen = sorted(set(indices))
    if not chosen:
        return doc
    words = list(doc.words)
    spans = []
    for i in chosen:
        spans.append((words[i].start, words[i].end, words[i].speaker))
        words[i] = replace(words[i], speaker=speaker)

    def moves(m_start: float, m_end: float, who: str | None) -> bool:
        return any(who == old and s - 1e-6 <= m_start and m_end <= e + 1e-6
                   for s, e, old in spans)

    marks = tuple(replace(m, speaker=speaker) if m.speaker is not None
                  and moves(m.start, m.end, m.speaker) else m for m in doc.marks)
    speakers = doc.speakers
    if all(s.id != speaker for s in speakers):
        speakers = (*speakers, Speaker(id=speaker, label=speaker))
    return replace(doc, words=tuple(words), marks=marks, speakers=speakers)


def move_first_words(doc: Transcript, index: int, count: int = 1) -> Transcript:
    """The first ``count`` words of the turn holding ``index`` go to the turn before it."""
    first, last = turn_span(doc, index)
    if first == 0:
        raise TurnError("this is the first turn: there is no speaker before it")
    if count < 1 or count > last - first + 1:
        raise TurnError(f"the turn has {last - first + 1} words; cannot move {count}")
    return _reassign(doc, range(first, first + count), doc.words[first - 1].speaker)


def move_last_words(doc: Transcript, index: int, count: int = 1) -> Transcript:
    """The last ``count`` words of the turn holding ``index`` go to the turn after it."""
    first, last = turn_span(doc, index)
    if last + 1 >= len(doc.words):
        raise TurnError("this is the last turn: there is no speaker after it")
    if count < 1 or count > last - first + 1:
        raise TurnError(f"the turn has {last - first + 1} words; cannot move {count}")
    return _reassign(doc, range(last - count + 1, last + 1), doc.words[last + 1].speaker)


def new_speaker_id(doc: Transcript) -> str:
    """The next free 'S<n>' id."""
    taken = {s.id for s in doc.speakers} | {w.speaker for w in doc.words}
    n = 1
    while f"S{n}" in taken:
        n += 1
    return f"S{n}"


def split_turn(doc: Transcript, index: int, speaker: str | None = None) -> Transcript:
    """Word ``index`` and the rest of its turn become a turn of ``speaker``.

    Default speaker: the one of the turn before (the diariser ran two turns
    together), or a new speaker when there is none to give it to.
    """
    first, last = turn_span(doc, index)
    if index == first:
        raise TurnError("the cursor is on the turn's first word: nothing to split off")
    own = doc.words[index].speaker
    if speaker is None:
        before = doc.words[first - 1].speaker if first > 0 else None
        after = doc.words[last + 1].speaker if last + 1 < len(doc.words) else None
        speaker = next((s for s in (before, after) if s and s != own), None) \
            or new_speaker_id(doc)
    if speaker == own:
        raise TurnError("a turn split off keeps its speaker: choose another speaker")
    return _reassign(doc, range(index, last + 1), speaker)


def merge_turns(doc: Transcript, index: int) -> Transcript:
    """The turn after the one holding ``index`` joins it (takes its speaker)."""
    first, last = turn_span(doc, index)
    if last + 1 >= len(doc.words):
        raise TurnError("this is the last turn: there is no turn after it to merge")
    nfirst, nlast = turn_span(doc, last + 1)
    return _reassign(doc, range(nfirst, nlast + 1), doc.words[first].speaker)
