"""Decoding loops: finding a phrase Whisper repeats, and what is kept if it keeps repeating.

Whisper, stuck, writes one phrase again and again ("I don't think that's -" 15
times over 10 s of NASA radio, faster-whisper base). Pure functions over word
texts, so both engines share them and tests need no model:

- ``find_loops``: runs of one phrase (1 to ``MAX_PHRASE_WORDS`` words) repeated
  at least ``SUSPECT_REPEATS`` times in a row. Punctuation and dashes are not
  words (the old check counted "-" as one and missed that 5-token phrase).
- ``compression_ratio``: Whisper's own measure of repetitive text (2.4 is its
  threshold for a window to be decoded again).
- ``is_suspect_text``: either of those: the reading is decoded again with
  stricter settings.
- ``collapse_loops``: for a loop that survived the second reading, one copy is
  kept, marked doubtful (its probabilities capped under the doubt threshold, so
  the editor's next-doubtful key lands on it), and the copies are dropped.

A verbatim transcript keeps real repetitions ("no, no, no", "I- I- I"), so a
loop is collapsed only when it is long: ``COLLAPSE_REPEATS`` copies or more and
at least ``COLLAPSE_WORDS`` words in all, more than people say in a row.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol, TypeVar

SUSPECT_REPEATS = 3  # a phrase three times in a row: decode the window again
MAX_PHRASE_WORDS = 10
COLLAPSE_REPEATS = 4  # ...and still looping with this many copies: keep one
COLLAPSE_WORDS = 8  # ...and this many words in the run (so "no, no, no, no" stays)
# Whisper's compression_ratio_threshold: gzip shrinks repetitive text this much or more.
COMPRESSION_RATIO_LIMIT = 2.4
MIN_COMPRESSION_CHARS = 60  # shorter texts compress too little to say anything
DOUBT_PROBABILITY = 0.2  # a kept copy is at most this sure (doubtful is < 0.5)

_STRIP = ".,!?;:\"'()[]…-–—"


@dataclass(frozen=True, slots=True)
class Loop:
    """Words ``start`` to ``end`` (exclusive indices into the reading) are ``copies``
    copies of the phrase in words ``start`` to ``first_end``."""

    start: int
    first_end: int
    end: int
    copies: int
    phrase: str

    @property
    def collapsible(self) -> bool:
        words = len(self.phrase.split()) * self.copies
        return self.copies >= COLLAPSE_REPEATS and words >= COLLAPSE_WORDS


def _normalise(word: str) -> str:
    return word.lower().strip(_STRIP + " ")


def find_loops(words: Sequence[str], *, repeats: int = SUSPECT_REPEATS,
               max_words: int = MAX_PHRASE_WORDS) -> list[Loop]:
    """Runs of a phrase repeated at least ``repeats`` times in a row, left to right.

    Words that are only punctuation ("-", "...") are skipped, so "that's - I" and
    "that's, I" are the same phrase. Of the phrases starting at a word, the one
    covering the most words wins (the shortest on a tie: "a a a a" is "a" x4).
    """
    kept = [(i, t) for i, w in enumerate(words) if (t := _normalise(w))]
    tokens = [t for _, t in kept]
    loops: list[Loop] = []
    i = 0
    while i < len(tokens):
        best_n, best_k = 0, 0
        for n in range(1, max_words + 1):
            if i + n * repeats > len(tokens):
                break
            phrase = tokens[i:i + n]
            k = 1
            while tokens[i + k * n:i + (k + 1) * n] == phrase:
                k += 1
            if k >= repeats and n * k > best_n * best_k:
                best_n, best_k = n, k
        if not best_k:
            i += 1
            continue
        last = i + best_n * best_k  # one past the run, in tokens
        end = kept[last][0] if last < len(kept) else len(words)
        loops.append(Loop(start=kept[i][0], first_end=kept[i + best_n][0], end=end,
                          copies=best_k, phrase=" ".join(tokens[i:i + best_n])))
        i = last
    return loops


def compression_ratio(text: str) -> float:
    """Bytes of ``text`` over bytes of it zlib-compressed (as Whisper computes it)."""
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def is_suspect_text(words: Sequence[str]) -> bool:
    """A reading that looks like a decoding loop: a repeated phrase, or text that
    compresses like one (Whisper's own test, on readings long enough to tell)."""
    if find_loops(words):
        return True
    text = " ".join(words)
    return len(text) >= MIN_COMPRESSION_CHARS and compression_ratio(text) > COMPRESSION_RATIO_LIMIT


def looped_words(words: Sequence[str]) -> int:
    """How many words are copies beyond the first in the reading's loops (0: none)."""
    return sum(loop.end - loop.first_end for loop in find_loops(words))


class _Word(Protocol):
    @property
    def text(self) -> str: ...
    @property
    def probability(self) -> float: ...


W = TypeVar("W", bound=_Word)


def collapse_loops(words: Sequence[W]) -> tuple[list[W], list[Loop]]:
    """One copy of each long loop, marked doubtful; the other copies dropped.

    ``words`` are dataclass words with ``text`` and ``probability`` (the engines'
    ``AsrWord``). Returns the words kept and the loops collapsed.
    """
    loops = [loop for loop in find_loops([w.text for w in words]) if loop.collapsible]
    if not loops:
        return list(words), []
    kept: list[W] = []
    at = 0
    for loop in loops:
        kept.extend(words[at:loop.start])
        kept.extend(replace(w, probability=min(w.probability, DOUBT_PROBABILITY))  # type: ignore[type-var]
                    for w in words[loop.start:loop.first_end])
        at = loop.end
    kept.extend(words[at:])
    return kept, loops


# A prompted chunk that came back with fewer words than this per second, or stuck in a
# loop, is decoded again without the prompt and the better reading kept. Measured: with
# Whisper base on German read speech, every German verbatim prompt tried made the model
# echo the prompt or loop ("was wir, was wir, ...": 8 words for 24 s); unprompted it
# read all 60 words. Normal speech runs at 2-3 words a second, pauses included ~1.
MIN_WORDS_PER_SECOND = 0.6
MIN_SUSPECT_SECONDS = 6.0


def suspect(words: Sequence[W], seconds: float) -> bool:
    """A prompted reading that looks like the prompt misled the model, or a loop."""
    if seconds >= MIN_SUSPECT_SECONDS and len(words) < MIN_WORDS_PER_SECOND * seconds:
        return True
    return is_suspect_text([w.text for w in words])


def better(prompted: list[W], plain: list[W]) -> list[W]:
    """The reading with fewer looped words wins; on a tie, the one with more words (the
    prompted one if equal). A loop's copies are not counted as words read."""
    def score(words: list[W]) -> tuple[int, int]:
        looped = looped_words([w.text for w in words])
        return -looped, len(words) - looped

    return plain if plain and score(plain) > score(prompted) else prompted


def without_loops(words: Sequence[W]) -> list[W]:
    """A loop no reading got rid of: one copy kept (doubtful), the copies dropped."""
    kept, _loops = collapse_loops(words)
    return kept
