"""Pseudonymisation with the study's replacement list ("Sarah = [colleague]").

The transcript room owns the rules (``transcript.pseudonymise``); this module
hands it the study's pairs. Until that module is present, a small fallback
applies the same idea: whole-word, case-insensitive, longest original first,
so "Sarah Jones" is replaced before "Sarah".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from transcript.model import Transcript

Pairs = Sequence[tuple[str, str]]


def _replacements(pairs: Pairs) -> object | None:
    try:
        from transcript.pseudonymise import Replacements
    except ImportError:
        return None
    return Replacements.from_pairs(list(pairs))


def pseudonymise_doc(doc: Transcript, pairs: Pairs) -> Transcript:
    """A pseudonymised copy of ``doc`` (words and locked lines); ``doc`` is untouched."""
    if not pairs:
        return doc
    replacements = _replacements(pairs)
    if replacements is not None:
        from transcript.pseudonymise import pseudonymise

        return pseudonymise(doc, replacements)
    words = tuple(replace(w, text=replace_text(w.text, pairs)) for w in doc.words)
    lines = tuple(replace(ln, text=replace_text(ln.text, pairs)) for ln in doc.lines)
    return replace(doc, words=words, lines=lines)


def replace_text(text: str, pairs: Pairs) -> str:
    """Apply the replacement list to free text (an analysis note, a title)."""
    if not pairs or not text:
        return text
    replacements = _replacements(pairs)
    for method in ("apply", "apply_text", "replace"):
        apply = getattr(replacements, method, None)
        if callable(apply):
            result = apply(text)
            if isinstance(result, str):
                return result
    for original, substitute in sorted(pairs, key=lambda p: -len(p[0])):
        pattern = re.compile(rf"(?<!\w){re.escape(original)}(?!\w)", re.IGNORECASE)
        text = pattern.sub(lambda _m, s=substitute: s, text)
    return text
