"""Correction guided by doubt: the words the engine was least sure of, in order.

A word is doubtful when its ASR probability is under a threshold (the
``doubt_threshold`` setting, 0.5 by default) and the author has not confirmed
it. The author goes through them with ``n``/``N``: each jump plays from a
little before the word. Correcting a word (``edits.replace_words`` gives it
probability 1.0) or confirming it (``confirm_word``, stored as the word's
``confirmed`` field in the JSON) makes it no longer doubtful. Pure functions.
"""

from __future__ import annotations

import bisect
from dataclasses import replace

from transcript.model import Transcript, Word

DEFAULT_THRESHOLD = 0.5
LEAD_SECONDS = 1.5  # play from this long before a doubtful word, to hear it in context


def is_doubtful(word: Word, threshold: float = DEFAULT_THRESHOLD) -> bool:
    return not word.confirmed and word.probability < threshold


def doubtful(doc: Transcript, threshold: float = DEFAULT_THRESHOLD) -> tuple[int, ...]:
    """Indices of the doubtful words, in order."""
    return tuple(i for i, w in enumerate(doc.words) if is_doubtful(w, threshold))


def count_doubtful(doc: Transcript, threshold: float = DEFAULT_THRESHOLD) -> int:
    return sum(1 for w in doc.words if is_doubtful(w, threshold))


def next_doubtful(doc: Transcript, after: int, threshold: float = DEFAULT_THRESHOLD, *,
                  wrap: bool = True) -> int | None:
    """The first doubtful word after word ``after`` (-1: from the top); wraps round."""
    found = doubtful(doc, threshold)
    if not found:
        return None
    k = bisect.bisect_right(found, after)
    if k < len(found):
        return found[k]
    return found[0] if wrap else None


def previous_doubtful(doc: Transcript, before: int, threshold: float = DEFAULT_THRESHOLD, *,
                      wrap: bool = True) -> int | None:
    """The last doubtful word before word ``before``; wraps round to the end."""
    found = doubtful(doc, threshold)
    if not found:
        return None
    k = bisect.bisect_left(found, before) - 1
    if k >= 0:
        return found[k]
    return found[-1] if wrap else None


def confirm_word(doc: Transcript, index: int) -> Transcript:
    """The author listened: the word is right as it is and stops being doubtful."""
    if not 0 <= index < len(doc.words):
        raise ValueError(f"no word {index} in a transcript of {len(doc.words)} words")
    word = doc.words[index]
    if word.confirmed:
        return doc
    return replace(doc, words=(*doc.words[:index], replace(word, confirmed=True),
                               *doc.words[index + 1:]))


def play_from(word: Word, lead: float = LEAD_SECONDS) -> float:
    """Where playback starts to hear a word in context: a little before it."""
    return max(0.0, word.start - lead)


def word_at(doc: Transcript, seconds: float) -> int | None:
    """Index of the word being spoken at a moment (or the last one before it)."""
    if not doc.words:
        return None
    k = bisect.bisect_right([w.start for w in doc.words], seconds + 1e-9) - 1
    return max(0, k)
