"""The transcriber's desk in the editor: pedal keys, doubtful words, speaker boundaries.

A mixin of ``EditorScreen`` kept apart from it so the editor's layout can be
reorganised without touching this: every action here is a thin call into a
pure module (``transcript.doubt``, ``transcript.turns``, ``verbatim.keys``,
``verbatim.levelstrip``) plus moving the cursor and the player. Keys come
from the config's ``[keys]`` table (``verbatim.keys.DESK``), bound per screen
when it mounts.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.widgets import Static

from transcript import doubt, turns
from transcript.model import Transcript
from verbatim.keys import DESK, desk_bindings
from verbatim.tui.decorations import Doubt, doubt_of, doubt_spliced, line_of_word
from verbatim.tui.screens.editor_state import EditorState

STRIP_CONTEXT = 2.0  # seconds of recording shown either side of the current line
LOOP_LEAD = 0.3  # a looped line starts this much before its first word


class DeskMixin(EditorState):
    """Actions for EditorScreen; uses its doc, lines, view, player, apply()."""

    doubt: Doubt = Doubt()
    """The doubtful words: how many, and where each line underlines them."""
    _desk_word: int | None = None
    _loop: tuple[float, float] | None = None
    _strip_key: Any = None
    _envelope: Any = None
    _follow_line: int | None = None  # the line playback (not the author) last put the cursor on
    _lead_until: float | None = None  # hold the cursor on the word while the lead-in plays

    # the editor provides these
    ensure_player: Callable[[], Any]
    action_find_next: Callable[[], None]

    def bind_desk_keys(self) -> None:
        """Bind the desk actions to the configured keys (a configured key replaces its default)."""
        bindings: Any = self._bindings  # type: ignore[attr-defined]
        for name, (keys, action, _) in zip(DESK, desk_bindings(self.app_.config.keys),
                                           strict=True):
            for key in keys.split(","):
                bindings.key_to_bindings.pop(key, None)
            bindings.bind(keys, action, name.replace("_", " ").capitalize(),
                          show=action == "play")

    # ------------------------------------------------------------ doubt

    @property
    def threshold(self) -> float:
        return float(self.app_.config.doubt_threshold)

    def desk_status(self) -> str:
        """The status line's part: doubtful words left, and looping."""
        text = f" · doubtful {self.doubt.count}"
        return text + (" · loop" if self._loop else "")

    def refresh_doubt(self) -> None:
        """Count and underline the doubtful words of the whole document."""
        if self.doc is None:
            return
        self.doubt = doubt_of(self.doc, self.lines, self.threshold)
        self.view.set_doubt(self.doubt.spans)

    def splice_doubt(self, old: Transcript, where: tuple[int, int, int],
                     span: tuple[float, float]) -> None:
        """The doubtful words after an edit that numbered lines ``first..first+removed``
        (now ``added`` lines, showing the words in ``span``) again: only those are
        looked at (``decorations.doubt_spliced``). Call before the view's splice."""
        if self.doc is None:
            return
        first, removed, added = where
        self.doubt = doubt_spliced(self.doubt, old, self.doc, self.lines, first, removed, added,
                                   span, self.threshold)
        self.view.set_doubt(self.doubt.spans, repaint=False)  # the splice repaints its rows

    def line_of_word(self, index: int) -> int | None:
        """Index of the line that shows word ``index``."""
        if self.doc is None or not self.lines:
            return None
        return line_of_word(self.lines, self.doc.words[index])

    def word_here(self) -> int:
        """The cursor word: the doubtful word jumped to while the cursor is on its line
        or where playback took it; else the first word of the cursor's line."""
        word = self._desk_word
        if word is not None and self.doc is not None and word < len(self.doc.words):
            cursor = self.view.cursor
            if cursor in (self.line_of_word(word), self._follow_line):
                return word
        return self.cursor_word()

    def follow_to(self, line: int) -> None:
        """Move the cursor with the voice (the cursor word stays what it was)."""
        self._follow_line = line
        self.view.go_to(line)

    def _jump_to_word(self, index: int | None) -> None:
        if index is None or self.doc is None:
            self.notify("no doubtful words left", severity="information")
            return
        self._desk_word = index
        line = self.line_of_word(index)
        if line is not None:
            self.follow_to(line)
            text = self.lines[line].text
            bare = self.doc.words[index].text.strip(".,;:!?\"'")
            at = text.find(bare)
            if at >= 0:
                self.view.highlight(line, at, at + len(bare))
        word = self.doc.words[index]
        self._lead_until = word.start
        self._play_at(doubt.play_from(word))

    def action_next_doubtful(self) -> None:
        if self.find_query:  # right after a / search, n is "next match" as before
            self.action_find_next()
            return
        if self.doc is not None:
            after = self._desk_word if self._desk_word is not None else self.cursor_word() - 1
            self._jump_to_word(doubt.next_doubtful(self.doc, after, self.threshold))

    def action_previous_doubtful(self) -> None:
        if self.doc is not None:
            before = self._desk_word if self._desk_word is not None else self.cursor_word()
            self._jump_to_word(doubt.previous_doubtful(self.doc, before, self.threshold))

    def action_confirm_word(self) -> None:
        if self.doc is None or not self.doc.words:
            return
        index = self.word_here()
        found = self.doc.words[index]
        word = found.text
        if self.apply(lambda d: doubt.confirm_word(d, index), f"confirm '{word}'",
                      window=(found.start, found.end)):
            self.notify(f"'{word}' confirmed")

    # ------------------------------------------------------------ speaker boundaries

    def _boundary(self, change: Callable[[Transcript, int], Transcript], what: str) -> None:
        if self.doc is None or not self.doc.words:
            return
        index = self.word_here()
        self.apply(lambda d: change(d, index), what)

    def action_move_first_word(self) -> None:
        self._boundary(turns.move_first_words, "first word to the speaker before")

    def action_move_last_word(self) -> None:
        self._boundary(turns.move_last_words, "last word to the speaker after")

    def action_split_turn(self) -> None:
        self._boundary(turns.split_turn, "split turn")

    def action_merge_turns(self) -> None:
        self._boundary(turns.merge_turns, "merge turns")

    # ------------------------------------------------------------ playback keys

    def _play_at(self, start: float) -> None:
        try:
            player = self.ensure_player()
        except Exception as exc:
            self.notify(f"cannot play: {exc}", severity="error")
            return
        player.play(max(0.0, start), speed=self.speed)
        self.update_status()

    def action_seek(self, seconds: float) -> None:
        """Back or forward from where playback is (or from the current line)."""
        line = self.current_line()
        player = self.player
        if player is not None and (player.playing or player.position() > 0):
            base = player.position()
        elif line is not None:
            base = line.start
        else:
            return
        self._play_at(base + seconds)

    def action_play_cursor(self) -> None:
        line = self.current_line()
        if line is None:
            return
        start = line.start
        if self.doc is not None and self.doc.words:
            start = max(start, self.doc.words[self.word_here()].start) \
                if self.word_here() == self._desk_word else start
        self._play_at(start)

    def action_loop_line(self) -> None:
        line = self.current_line()
        if self._loop is not None or line is None:
            self._loop = None
            self.update_status()
            return
        self._loop = (max(0.0, line.start - LOOP_LEAD), line.end)
        self._play_at(self._loop[0])

    def desk_tick(self) -> bool:
        """Called with the playback poll: restart a looped line at its end.

        True while the lead-in before a doubtful word plays: the cursor stays
        on the word's line instead of following the voice back to the line before.
        """
        loop, player = self._loop, self.player
        if player is None or not player.playing:
            self._lead_until = None
            return False
        if loop is not None and player.position() >= loop[1]:
            player.play(loop[0], speed=self.speed)
            return True
        if self._lead_until is not None:
            if player.position() < self._lead_until:
                return True
            self._lead_until = None
        return loop is not None

    # ------------------------------------------------------------ level strip

    def draw_strip(self) -> None:
        """Redraw the level strip for the current line (only a few seconds are read)."""
        from verbatim.levelstrip import passage_strip

        strip = self.query_one("#editor-strip", Static)
        line = self.current_line()
        if line is None or self.doc is None:
            strip.update("", layout=False)
            return
        start = max(0.0, line.start - STRIP_CONTEXT)
        end = line.end + STRIP_CONTEXT
        words = self.doc.words
        lo = bisect_right(words, start - 30.0, key=_start)  # no word is 30 s long
        hi = bisect_right(words, end, key=_start)
        passage = words[lo:hi]
        order = [s.id for s in self.doc.speakers]
        # drawn again only when what it shows changed: not after an edit elsewhere, nor
        # after retyping a word (the strip shows times and speakers, not words)
        key = (start, end, strip.size.width, order,
               [(w.start, w.end, w.speaker) for w in passage])
        if key == self._strip_key:
            return
        self._strip_key = key
        width = strip.size.width or self.app_.size.width
        columns = max(10, width - 2)  # the strip has one cell of padding each side
        try:
            if self._envelope is None:
                from verbatim.levelstrip import Envelope

                self._envelope = Envelope(Path(self.study.audio_path(self.interview)))
            levels, who = passage_strip(self._envelope, passage, start, end, columns,
                                        order)
        except Exception:  # no recording here (a demo, a moved file): say so, quietly
            strip.update("(no recording to draw the level strip from)", layout=False)
            return
        strip.update(f"{levels}\n{who}", layout=False)  # fixed height: no relayout


def _start(item: Any) -> float:
    return float(item.start)
