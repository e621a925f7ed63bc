"""Pseudonymisation with the study's replacement list ("Sarah = [colleague]").

The transcript room owns the rules (``transcript.pseudonymise``: whole-word,
case-insensitive, longest original first, visible brackets); this module only
hands it the study's pairs, for documents and for free text such as an
analysis note.
"""

from __future__ import annotations

from collections.abc import Sequence

from transcript.model import Transcript
from transcript.pseudonymise import Replacements, pseudonymise

Pairs = Sequence[tuple[str, str]]


def pseudonymise_doc(doc: Transcript, pairs: Pairs) -> Transcript:
    """A pseudonymised copy of ``doc`` (words, locked lines, notes); ``doc`` is untouched."""
    if not pairs:
        return doc
    return pseudonymise(doc, Replacements.from_pairs(pairs))


def replace_text(text: str, pairs: Pairs) -> str:
    """Apply the replacement list to free text (an analysis note, a title)."""
    if not pairs or not text:
        return text
    return Replacements.from_pairs(pairs).apply_text(text)
