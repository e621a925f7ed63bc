"""Saving edits to a transcript: one pure change applied to the current version.

Every edit in either door is a pure function of ``transcript.edits`` (or any
``Transcript -> Transcript``) handed to ``save_edit``; it refuses a locked
numbering, saves a new version and returns the result. Undo and redo move
between the store's versions.
"""

from __future__ import annotations

import queue
import re
import threading
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


def save_version(study: Study, iid: str, doc: Transcript, description: str) -> int:
    """Save a document an edit already made (the editor shows it, then saves it here)."""
    return study.save_transcript(iid, doc, origin="edit", description=description)


class SaveQueue:
    """Saves (and undo/redo) of one editor, run one at a time in order by one worker."""

    def __init__(self) -> None:
        self._tasks: queue.Queue[Callable[[], object] | None] = queue.Queue()
        self._pending = 0
        self._lock = threading.Lock()

    def put(self, task: Callable[[], object]) -> None:
        with self._lock:
            self._pending += 1
        self._tasks.put(task)

    def next(self) -> Callable[[], None] | None:
        """The next task, waiting for one; None once closed. Marks the previous one done."""
        task = self._tasks.get()
        return None if task is None else self._counted(task)

    def _counted(self, task: Callable[[], object]) -> Callable[[], None]:
        def run() -> None:
            try:
                task()
            finally:
                with self._lock:
                    self._pending -= 1

        return run

    def pending(self) -> int:
        """Tasks queued or running (the running one counts until it returns)."""
        with self._lock:
            return self._pending

    def idle(self) -> bool:
        with self._lock:
            return self._pending == 0

    def wait(self, timeout: float = 10.0) -> bool:
        """Block until every queued task ran (tests, and leaving the editor)."""
        import time

        deadline = time.monotonic() + timeout
        while not self.idle():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    def close(self) -> None:
        self._tasks.put(None)
