"""Pseudonymisation at export: names and places replaced by visible brackets.

A replacement list is plain text, one ``original = [replacement]`` per line
('#' starts a comment). Replacements are whole-word and case-insensitive,
keep the punctuation around the word ("Sarah's," -> "[colleague]'s,"), and
always show their brackets so a reader knows something was changed. Longer
originals win over shorter ones ("St Mary's Hospital" before "Mary").

The stored original is never touched: ``pseudonymise`` returns a new document.
Locked lines are rewritten text-for-text without renumbering, so a citation
means the same line in a pseudonymised export; a name split across two lines
by wrapping is matched on each line alone (a known limit: lock after
choosing a width wide enough, or check the export).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cached_property

from transcript.joining import joined_text, word_groups
from transcript.model import Line, Note, Speaker, Transcript, Word

_EDGE = re.compile(r"^(\W*)(.*?)(\W*)$", re.DOTALL)


def _bracketed(text: str) -> str:
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        return text
    return f"[{text.strip('[]')}]"


def _norm(token: str) -> str:
    return _EDGE.match(token).group(2).casefold()  # type: ignore[union-attr]


@dataclass(frozen=True)
class Replacements:
    """An ordered replacement list: (original, bracketed replacement) pairs."""

    pairs: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, text: str) -> Replacements:
        """Read 'original = [replacement]' lines; ValueError names the bad line."""
        pairs: list[tuple[str, str]] = []
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            original, sep, replacement = line.partition("=")
            if not sep or not original.strip() or not replacement.strip():
                raise ValueError(f"replacement list line {number}: expected "
                                 f"'original = [replacement]', got {raw.strip()!r}")
            pairs.append((original.strip(), replacement.strip()))
        return cls.from_pairs(pairs)

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> Replacements:
        cleaned = [(" ".join(o.split()), _bracketed(r)) for o, r in pairs if o.strip()]
        # longest original first, so "St Mary's Hospital" is replaced before "Mary"
        cleaned.sort(key=lambda p: -len(p[0].split()))
        return cls(tuple(cleaned))

    def __bool__(self) -> bool:
        return bool(self.pairs)

    @cached_property
    def _pattern(self) -> re.Pattern[str] | None:
        if not self.pairs:
            return None
        alternatives = sorted((o for o, _ in self.pairs), key=len, reverse=True)
        body = "|".join(r"\s+".join(re.escape(part) for part in o.split())
                        for o in alternatives)
        return re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.IGNORECASE)

    @cached_property
    def _lookup(self) -> dict[str, str]:
        return {" ".join(o.casefold().split()): r for o, r in self.pairs}

    def apply_text(self, text: str) -> str:
        """Replace every original in free text (notes, labels, line text)."""
        pattern = self._pattern
        if pattern is None or not text:
            return text
        return pattern.sub(lambda m: self._lookup[" ".join(m.group(0).casefold().split())],
                           text)

    def apply_words(self, words: tuple[Word, ...]) -> tuple[Word, ...]:
        """Replace originals in the word list; a multi-word name becomes one word."""
        if not self.pairs:
            return words
        words = self._join_split_names(words)
        by_first: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for original, replacement in self.pairs:  # already longest first
            seq = tuple(_norm(part) for part in original.split())
            by_first.setdefault(seq[0], []).append((seq, replacement))
        out: list[Word] = []
        i = 0
        normed = [_norm(w.text) for w in words]
        while i < len(words):
            for seq, replacement in by_first.get(normed[i], ()):
                n = len(seq)
                if (tuple(normed[i:i + n]) == seq
                        and all(w.speaker == words[i].speaker for w in words[i:i + n])):
                    first, last = words[i], words[i + n - 1]
                    lead = _EDGE.match(first.text).group(1)  # type: ignore[union-attr]
                    trail = _EDGE.match(last.text).group(3)  # type: ignore[union-attr]
                    out.append(Word(f"{lead}{replacement}{trail}", first.start, last.end,
                                    first.speaker, min(w.probability for w in words[i:i + n])))
                    i += n
                    break
            else:
                word = words[i]
                text = self.apply_text(word.text)  # catches "Sarah's" inside one word
                out.append(word if text == word.text else replace(word, text=text))
                i += 1
        return tuple(out)

    def _join_split_names(self, words: tuple[Word, ...]) -> tuple[Word, ...]:
        """'Jean' + '-Paul' becomes one word 'Jean-Paul' when the list names it."""
        out: list[Word] = []
        for first, last in word_groups(words):
            if first == last:
                out.append(words[first])
                continue
            text = joined_text(words, first, last)
            if self.apply_text(text) == text:
                out.extend(words[first:last + 1])
                continue
            group = words[first:last + 1]
            out.append(Word(text, group[0].start, group[-1].end, group[0].speaker,
                            min(w.probability for w in group)))
        return tuple(out)


def pseudonymise(doc: Transcript, replacements: Replacements) -> Transcript:
    """A new document with every original replaced; ``doc`` itself is unchanged."""
    if not replacements:
        return doc
    text = replacements.apply_text
    return replace(
        doc,
        speakers=tuple(Speaker(s.id, text(s.label)) for s in doc.speakers),
        words=replacements.apply_words(doc.words),
        marks=tuple(replace(m, label=text(m.label)) if m.label else m for m in doc.marks),
        notes=tuple(_note(n, replacements) for n in doc.notes),
        lines=pseudonymise_lines(doc.lines, replacements),
        extra=dict(doc.extra),
    )


def pseudonymise_lines(lines: tuple[Line, ...], replacements: Replacements) -> tuple[Line, ...]:
    """Lines with their text pseudonymised and their numbers and times kept."""
    return tuple(replace(ln, text=replacements.apply_text(ln.text)) for ln in lines)


def _note(note: Note, replacements: Replacements) -> Note:
    text = replacements.apply_text
    return replace(note, moment=text(note.moment), response=text(note.response),
                   understanding=text(note.understanding))

