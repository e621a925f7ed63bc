"""The editor's shared state, as the action mixins of ``EditorScreen`` see it.

``EditorScreen`` (``editor``) is assembled from one mixin per kind of action:
edits (``editor_edits``), notes, extracts and the lock (``editor_notes``),
playback (``editor_playback``) and the transcriber's desk (``desk``). Each
mixin derives from this class instead of importing the screen, so the screen
imports the mixins and nothing imports the screen back (no import circle).
Declarations for the type checker (the screen provides them), and the view.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from transcript.model import Line, Transcript
from verbatim.tui.widgets.transcript_view import TranscriptView
from verbatim.usecases.editing import SaveQueue

Change = Callable[[Transcript], Transcript]


class EditorState:
    """What every part of the editor reads and writes (set up by ``EditorScreen``)."""

    interview: str
    doc: Transcript | None
    """The document shown; None while it loads (the lines may already be on screen)."""
    lines: tuple[Line, ...]
    notes: list[Any]
    saves: SaveQueue
    """Saves, undo/redo, notes and the lock, run in order by the editor's save worker."""
    saved_state: str
    """"saving ..." while edits wait for the save worker, "saved" once on disk."""
    numbered: dict[int, tuple[Transcript, tuple[Line, ...]]]
    """Lines already numbered for a document object (undo and redo reuse them)."""
    player: Any
    speed: float
    paused_at: tuple[int, float] | None
    """(line index, position) where playback was last paused."""
    find_query: str

    # the screen provides these (Textual's Screen, or EditorScreen itself)
    app_: Any
    study: Any
    notify: Callable[..., Any]
    query_one: Callable[..., Any]
    show: Callable[..., None]
    number: Callable[[Transcript], tuple[Line, ...]]
    numbering: Callable[[], tuple[str, int, dict[str, float] | None, str]]
    update_status: Callable[[], None]
    update_detail: Callable[[], None]
    current_line: Callable[[], Any]
    cursor_word: Callable[[], int]
    apply: Callable[..., bool]
    splice_doubt: Callable[..., None]
    draw_strip: Callable[[], None]
    """The desk's: the doubtful words after an edit (``DeskMixin.splice_doubt``)."""

    @property
    def view(self) -> TranscriptView:
        """The numbered lines on screen."""
        return self.query_one(TranscriptView)
