"""The transcriber's desk keys: defaults, the ``[keys]`` table of the config, help text.

Foot pedals and programmable keypads send ordinary keys, so every desk action
can be given other keys in the config file, by action name::

    [keys]
    back_5 = "f9"            # left pedal
    play = "f10"             # middle pedal
    forward_5 = "f11,ctrl+l" # right pedal, and a second key

Key names are Textual's ("comma", "f9", "ctrl+l", "N"). Pure data, no
textual import: the config validates against it and the editor binds it.
"""

from __future__ import annotations

from collections.abc import Mapping

# action -> (default keys, editor action to run, what it does)
DESK: dict[str, tuple[str, str, str]] = {
    "play": ("p", "play", "play / pause from the current line (resume jumps back 2 s)"),
    "play_cursor": ("P", "play_cursor", "play from the cursor word (or the line start)"),
    "slower": ("left_square_bracket", "speed(-1)", "slower (down to 50 %)"),
    "faster": ("right_square_bracket", "speed(1)", "faster (up to 200 %)"),
    "back_5": ("comma", "seek(-5)", "back 5 s"),
    "forward_5": ("full_stop", "seek(5)", "forward 5 s"),
    "back_10": ("less_than_sign", "seek(-10)", "back 10 s"),
    "forward_10": ("greater_than_sign", "seek(10)", "forward 10 s"),
    "loop_line": ("l", "loop_line", "loop the current line (again: stop looping)"),
    "next_doubtful": ("n", "next_doubtful", "next doubtful word, played from just before "
                                            "(after a / search: next match)"),
    "previous_doubtful": ("N", "previous_doubtful", "previous doubtful word"),
    "confirm_word": ("c", "confirm_word", "confirm the doubtful word as right"),
    "move_first_word": ("left_curly_bracket", "move_first_word",
                        "first word of the turn to the speaker before"),
    "move_last_word": ("right_curly_bracket", "move_last_word",
                       "last word of the turn to the speaker after"),
    "split_turn": ("vertical_line", "split_turn", "split the turn at the cursor word"),
    "merge_turns": ("plus", "merge_turns", "merge the turn with the next one"),
}

_SHOWN = {"comma": ",", "full_stop": ".", "less_than_sign": "<", "greater_than_sign": ">",
          "left_square_bracket": "[", "right_square_bracket": "]", "left_curly_bracket": "{",
          "right_curly_bracket": "}", "vertical_line": "|", "plus": "+", "slash": "/"}


def check_keys(table: Mapping[str, object]) -> dict[str, str]:
    """The ``[keys]`` table validated: ValueError naming an unknown action or a bad value."""
    out: dict[str, str] = {}
    for action, keys in table.items():
        if action not in DESK:
            raise ValueError(f"unknown key action {action!r} (known: {', '.join(DESK)})")
        if not isinstance(keys, str) or not keys.strip():
            raise ValueError(f"keys.{action} must be a key name such as \"f9\" or \"f9,comma\"")
        out[action] = ",".join(k.strip() for k in keys.split(",") if k.strip())
    return out


def desk_bindings(table: Mapping[str, str] | None = None) -> list[tuple[str, str, str]]:
    """(keys, editor action, description) for every desk action, the config winning."""
    chosen = dict(table or {})
    return [(chosen.get(name, keys), action, text) for name, (keys, action, text) in DESK.items()]


def shown(keys: str) -> str:
    """'comma,f9' -> ', f9' for help and the README."""
    return " ".join(_SHOWN.get(k, k) for k in keys.split(","))


def desk_help(table: Mapping[str, str] | None = None) -> str:
    """The help screen's section for the desk keys, as configured."""
    rows = [f"  {shown(keys):<11} {text}" for keys, _, text in desk_bindings(table)]
    return ("TRANSCRIBER'S DESK (change any key in the config file's [keys] table, by name:\n"
            + "  " + ", ".join(DESK) + ")\n" + "\n".join(rows) + "\n")
