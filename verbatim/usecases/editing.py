"""Saving edits to a transcript: one pure change applied to the current version.

Every edit in either door is a pure function of ``transcript.edits`` (or any
``Transcript -> Transcript``) handed to ``save_edit``; it refuses a locked
numbering, saves a new version and returns the result. Undo and redo move
between the store's versions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from transcript.model import Transcript
from verbatim.study import Study, StudyError

Change = Callable[[Transcript], Transcript]


@dataclass(frozen=True)
class EditResult:
    """What an edit did: the new version (None when nothing changed) and the document."""

    interview: str
    version: int | None
    document: Transcript
    description: str

    @property
    def changed(self) -> bool:
        return self.version is not None


def current(study: Study, iid: str) -> Transcript:
    """The interview's current transcript; StudyError before transcription."""
    doc = study.transcript(iid)
    if doc is None:
        raise StudyError(f"{iid} has no transcript yet; run 'verbatim transcribe {iid}'")
    return doc


def save_edit(study: Study, iid: str, change: Change, description: str, *,
              base: Transcript | None = None, allow_locked: bool = False) -> EditResult:
    """Apply ``change`` to ``base`` (default: the current version) and save it.

    A locked document's numbering never changes: only changes that leave the
    words alone (``allow_locked``, e.g. a speaker's label) are accepted on it.
    A change that raises ``ValueError`` is refused with its message.
    """
    doc = base if base is not None else current(study, iid)
    if doc.locked and not allow_locked:
        raise StudyError(f"{iid}'s line numbers are locked: cited lines cannot change")
    try:
        new = change(doc)
    except ValueError as exc:
        raise StudyError(str(exc)) from None
    if new is doc or new == doc:
        return EditResult(iid, None, doc, description)
    version = study.save_transcript(iid, new, origin="edit", description=description)
    return EditResult(iid, version, new, description)


def undo(study: Study, iid: str) -> Transcript | None:
    """Step back one version; None when there is nothing to undo."""
    return study.undo(iid)


def redo(study: Study, iid: str) -> Transcript | None:
    """Step forward to the version last undone; None when there is none."""
    return study.redo(iid)


PAUSE_NOTATION = re.compile(r"^(\.{2,}|…|\((\.+|\d+(\.\d+)?)\))$")
"""A pause as a profile writes it: "..", "...", "…", "(.)", "(..)", "(0.5)"."""


def retype_words(first: int, last: int, text: str) -> Change:
    """The change for retyping words ``first..last`` as ``text`` (the editor's ``e``).

    A pause is a mark, drawn between the words: typing its notation back into
    the line ("it's .. that") would add it a second time as a word, so pause
    notation is dropped from the text when the span already holds a pause.
    """
    def change(doc: Transcript) -> Transcript:
        from transcript import edits
        from transcript.model import MarkKind

        words = doc.words[first:last + 1]
        tokens = text.split()
        if words and any(doc.marks[i].kind is MarkKind.PAUSE for i in edits.marks_between(
                doc, words[0].start, words[-1].end)):
            tokens = [t for t in tokens if not PAUSE_NOTATION.match(t)]
        return edits.replace_words(doc, first, last, " ".join(tokens))

    return change
