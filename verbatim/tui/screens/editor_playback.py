"""The editor's playback: play and pause the current line, speed, follow the voice.

The player (``verbatim.tui.playback``, or the app's ``player_factory`` in
tests) is made on the first play, so opening a transcript never touches the
sound device. A 0.2 s poll (``follow_playback``) moves the cursor with the
voice. The transcriber's desk keys (seek, loop, doubtful words) are in
``desk``. A mixin of ``EditorScreen``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from verbatim.tui.layout import line_at_time
from verbatim.tui.screens.editor_state import EditorState

SPEED_STEP = 0.1


class PlaybackActions(EditorState):
    """Play, pause, speed and following the playback of ``EditorScreen``."""

    # the desk's (``DeskMixin``)
    desk_tick: Any
    follow_to: Any

    def ensure_player(self) -> Any:
        """The player of this interview's recording (made on first use)."""
        if self.player is None:
            path = Path(self.study.audio_path(self.interview))
            factory = self.app_.player_factory
            if factory is None:
                from verbatim.tui.playback import Player

                self.player = Player(path, mode=self.app_.config.playback)
            else:
                self.player = factory(path)
        return self.player

    def action_play(self) -> None:
        line = self.current_line()
        if line is None:
            return
        try:
            player = self.ensure_player()
        except Exception as exc:
            self.notify(f"cannot play: {exc}", severity="error")
            return
        if player.playing:
            self.paused_at = (self.view.cursor, player.pause())
        else:
            from verbatim.tui.playback import RESUME_BACK_SECONDS

            start = line.start
            if self.paused_at is not None and self.paused_at[0] == self.view.cursor:
                start = max(self.paused_at[1] - RESUME_BACK_SECONDS, 0.0)
            player.play(start, speed=self.speed)
        self.update_status()

    def action_speed(self, direction: int) -> None:
        from verbatim.tui.playback import MAX_SPEED, MIN_SPEED

        self.speed = round(min(max(self.speed + direction * SPEED_STEP, MIN_SPEED), MAX_SPEED), 2)
        if self.player is not None and self.player.playing:
            self.player.play(self.player.position(), speed=self.speed)
        self.update_status()

    def follow_playback(self) -> None:
        """The poll: the cursor follows the line being played; errors are shown once."""
        player = self.player
        if player is None:
            return
        if self.desk_tick():  # a doubtful word's lead-in, or a looped line: cursor stays
            return
        if player.error:
            self.notify(f"playback: {player.error}", severity="error")
            player.error = None
        if not player.playing:
            if self.view.playing is not None:
                self.view.playing = None
                self.update_status()
            return
        index = line_at_time(self.lines, player.position())
        if index is not None and index != self.view.playing:
            self.view.playing = index
            self.follow_to(index)
            self.update_status()
