"""The ``?`` screen: every key, by screen, and the few ideas behind them."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Markdown

HELP = """\
# Verbatim

Everything stays on this machine. Edits are saved as you make them; `ctrl+z`
undoes, `ctrl+y` redoes. `ctrl+p` opens the command palette, `ctrl+q` quits.

## Study home
| key | |
|---|---|
| `enter` | open the selected interview's transcript |
| `a` / `i` | add a participant / an interview (a recording) |
| `r` | record a new interview |
| `t` | transcribe the selected interview in the background |
| `ctrl+o` | jobs: progress, estimates, cancel |
| `n` / `x` | notes / extracts of the study |
| `e` | export the selected interview |

## Record
`space` start/pause · `s` stop and save · `m` mark this moment · `M` mark with a
note. The schedule on the right is a checklist: `enter` ticks a question.
The recorder runs in its own threads: leaving this screen keeps recording.

## Transcript editor
| key | |
|---|---|
| `↑ ↓ pgup pgdn g G` | move; `shift+↑↓` or `J K` select lines |
| `p` | play / pause the current line (playback follows the text) |
| `[` `]` | slower / faster (50–200 %); resuming jumps back 2 s |
| `e` | edit the words of the line |
| `s` / `S` | rename / merge the line's speaker (S1 → Interviewer) |
| `m` | marks on the line: `c` confirm, `d` remove, `a` add |
| `/` `n` `r` | find, next, replace all |
| `a` | write a reflexive note on the selected lines |
| `x` | make an extract of the selected lines (locks numbering first) |
| `L` | lock (freeze) line numbers |
| `E` | export |

In the gutter `✎` marks a line with a note and `?` a line with automatic
marks still to confirm.
"""


class HelpScreen(ModalScreen[None]):
    """Keys and ideas; escape or ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,question_mark,q", "close", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Markdown(HELP)
        yield Footer()

    def action_close(self) -> None:
        self.dismiss(None)
