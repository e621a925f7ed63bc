"""The transcript document: words, marks, notes, notation, line numbers, citations, exports.

Pure Python by rule: this package never imports torch, whisper, pyannote,
sounddevice or textual (tests/unit/test_import_hygiene.py proves it).
"""

from transcript.model import (
    FORMAT,
    AudioRef,
    Extract,
    Line,
    Mark,
    MarkKind,
    Note,
    Phase,
    Source,
    Speaker,
    Transcript,
    Word,
)

__all__ = [
    "FORMAT",
    "AudioRef",
    "Extract",
    "Line",
    "Mark",
    "MarkKind",
    "Note",
    "Phase",
    "Source",
    "Speaker",
    "Transcript",
    "Word",
]
