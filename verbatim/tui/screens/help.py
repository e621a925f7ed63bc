"""The ``?`` screen: every key, by screen, and the few ideas behind them."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

HELP = """\
Verbatim · everything stays on this machine

Edits are saved as you make them (ctrl+z undo, ctrl+y redo).
ctrl+p command palette · ctrl+o jobs · ctrl+q quit · ? this help

STUDY HOME
  enter / o   open the selected interview's transcript
  a  i        add a participant / an interview (a recording)
  p  c        edit the participant / the interview (details, consent)
  r           record a new interview
  t           transcribe the selected interview in the background
  n  x  e     notes / extracts (a analysis, c copy, k member pack) / export

RECORD
  space       start, pause, resume      s  stop and save
  m  M        mark this moment / mark it with a few words
  enter       tick a schedule question (schedule.txt in the study folder)
  The recorder runs in its own threads: leaving here keeps recording.

TRANSCRIPT EDITOR
  ↑ ↓ pgup pgdn g G   move            shift+↑↓ or J K   select lines
  p           play / pause from the current line; playback follows the text
  [  ]        slower / faster (50-200 %, pitch kept); resuming jumps back 2 s
  e           edit the words of the line
  s  S        rename the line's speaker (S1 -> Interviewer) / merge it
  m           marks on the line: c confirm, d remove, a add ("tone laughs")
  /  n  r     find, next match, replace all (whole words)   :  go to line number
  a  A        reflexive note on the selected lines / at the playback moment
  o           this interview's notes (enter jumps to the anchor)
  x           extract of the selected lines, with its citation
  L  E        lock (freeze) line numbers / export; after the lock, corrections keep
              every cited number (new lines are numbered 505a, 505b)

Gutter: ✎ a note is anchored here · ? automatic marks still to confirm.
In the text, marks in italics (warning colour) are suggestions to confirm;
underlined words are doubtful (the engine was unsure): n goes to the next.
Under the text, the level strip of the passage: ▁▃▇ loudness, gaps are
silence; 1 2 who speaks, × where two speak at once.
"""


class HelpScreen(ModalScreen[None]):
    """Keys and ideas; escape or ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,question_mark,q", "close", "Close")]

    def compose(self) -> ComposeResult:
        from verbatim.keys import desk_help

        keys = getattr(getattr(self.app, "config", None), "keys", None)
        with VerticalScroll(id="help"):
            yield Static(HELP + "\n" + desk_help(keys), markup=False)
        yield Footer(compact=True)

    def action_close(self) -> None:
        self.dismiss(None)
