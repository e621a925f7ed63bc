"""Words the engine split off the word before them: '-hearted', '-line', '.e.', "'s".

Whisper gives the second half of 'cold-hearted' as a word of its own,
'-hearted', with no space before it; the engines strip the space, so the
word's own text is all that says it continues the previous one. A word
continues the one before it (same speaker) when it starts with

- a hyphen followed by a letter or digit: '-hearted', '-line', '-19';
- a full stop followed by a letter or digit: '.e.' (i.e.), '.5' (2.5), '.com';
- an apostrophe followed by a contraction's ending: "'s", "'t", "'re", "'ve",
  "'ll", "'d", "'m" (but not "'cause" or "'em", which are words of their own).

Rendering joins such words with no space, and search, wrapping and citations
see the joined word, because they all work on the rendered text or on
``word_groups``.
"""

from __future__ import annotations

from collections.abc import Sequence

from transcript.model import Word

_APOSTROPHES = ("'", "’")
_CONTRACTIONS = frozenset({"s", "t", "re", "ve", "ll", "d", "m"})


def continues(text: str) -> bool:
    """True when a word's text carries on the previous word ('-hearted', '.e.', "'s")."""
    if len(text) < 2:
        return False
    first, rest = text[0], text[1:]
    if first in "-‐" or first == ".":
        return rest[0].isalnum()
    if first in _APOSTROPHES:
        ending = rest.rstrip(".,;:!?\"'’”)]").lower()
        return ending in _CONTRACTIONS
    return False


def joins(previous: Word, word: Word) -> bool:
    """True when ``word`` is written onto ``previous`` with no space between them."""
    return previous.speaker == word.speaker and continues(word.text.strip())


def word_groups(words: Sequence[Word]) -> list[tuple[int, int]]:
    """(first, last) word indices of each written word: 'cold' + '-hearted' is one group.

    ``words`` in document order (as ``Transcript.words`` keeps them).
    """
    groups: list[tuple[int, int]] = []
    for i, word in enumerate(words):
        if groups and joins(words[i - 1], word):
            groups[-1] = (groups[-1][0], i)
        else:
            groups.append((i, i))
    return groups


def joined_text(words: Sequence[Word], first: int, last: int) -> str:
    """The written form of words ``first..last`` of one group: 'cold-hearted'."""
    return "".join(w.text.strip() for w in words[first:last + 1])
