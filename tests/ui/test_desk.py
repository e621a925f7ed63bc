"""The transcriber's desk in the editor: doubtful words, boundaries, pedal keys (issue 18)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from transcript.doubt import count_doubtful
from verbatim.config import Config
from verbatim.study import Study

from .conftest import make_doc
from .test_screens import SIZE, open_editor, press_for, wait_for

pytestmark = pytest.mark.ui

DOUBTFUL = (3, 40, 41)  # 'coming', and two words of the participant's first turn


@pytest.fixture
def doubtful_study(study: Study) -> Study:
    doc = make_doc()
    words = tuple(replace(w, probability=0.2) if i in DOUBTFUL else w
                  for i, w in enumerate(doc.words))
    study.save_transcript("P1-1", replace(doc, words=words), origin="pipeline")
    return study


def status(editor: Any) -> str:
    return str(editor.query_one("#editor-status").render())


async def test_n_jumps_to_each_doubtful_word_plays_and_c_confirms(make_app: Any,
                                                                  doubtful_study: Study) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot)
        assert "doubtful 3" in status(editor)
        await pilot.press("n")
        await wait_for(pilot, lambda: editor.player is not None and editor.player.playing)
        assert editor.word_here() == 3
        await pilot.press("n")
        await wait_for(pilot, lambda: editor._desk_word == 40)
        line = editor.lines[editor.view.cursor]
        assert line.speaker == "S2" and editor.doc.words[40].text in line.text
        await pilot.press("N")
        await wait_for(pilot, lambda: editor._desk_word == 3)
        await pilot.press("c")  # 'coming' was right
        await wait_for(pilot, lambda: count_doubtful(doubtful_study.transcript("P1-1")) == 2)
        assert "doubtful 2" in status(editor)
        assert doubtful_study.transcript("P1-1").words[3].confirmed


async def test_retyping_a_line_redraws_its_doubt_and_flags_as_a_full_redraw_would(
        make_app: Any, doubtful_study: Study) -> None:
    """Issue 13: an edit works out only its own lines; what is shown must equal the whole."""
    from verbatim.tui.decorations import doubt_of, line_flags
    from verbatim.tui.layout import first_rows, layout_rows, turn_labels
    from verbatim.tui.screens.dialogs import PromptDialog

    from .test_screens import type_text

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot)
        assert "doubtful 3" in status(editor)
        editor.view.go_to(editor.line_of_word(40))  # the participant's doubtful words
        await pilot.pause()
        versions = len(doubtful_study.versions("P1-1"))
        await press_for(pilot, "e", PromptDialog)
        await pilot.press("ctrl+a", "ctrl+k")
        await type_text(pilot, "a much longer answer than the participant gave here")
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(doubtful_study.versions("P1-1")) == versions + 1)
        doc, lines, view = editor.doc, editor.lines, editor.view
        assert editor.doubt == doubt_of(doc, lines, editor.threshold)
        assert "doubtful 1" in status(editor)  # 40 and 41 were retyped by the author
        assert view.flags == line_flags(lines, doc, editor.notes)
        assert view.labels == turn_labels(lines, doc)
        rows = layout_rows(lines, view.labels, view._laid_out_for)
        assert view._rows == rows and view._line_row == first_rows(rows)
        await pilot.press("ctrl+z")
        await wait_for(pilot, lambda: "doubtful 3" in status(editor))


async def test_boundary_keys_move_split_and_merge(make_app: Any, study: Study) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot)
        first_s2 = next(i for i, w in enumerate(editor.doc.words) if w.speaker == "S2")
        await pilot.press("right_curly_bracket")  # the interviewer's last word -> S2
        await wait_for(pilot, lambda: study.transcript("P1-1").words[first_s2 - 1].speaker
                       == "S2")
        await wait_for(pilot, lambda: editor.doc.words[first_s2 - 1].speaker == "S2")
        editor.view.go_to(next(i for i, ln in enumerate(editor.lines) if ln.speaker == "S2"))
        await pilot.press("left_curly_bracket")  # S2's turn: its first word back to S1
        await wait_for(pilot, lambda: study.transcript("P1-1").words[first_s2 - 1].speaker
                       == "S1")
        turns_before = sum(1 for a, b in zip(editor.doc.words, editor.doc.words[1:],
                                             strict=False) if a.speaker != b.speaker)
        await pilot.press("plus")  # merge with the next turn (and so with the one after)
        await wait_for(pilot, lambda: sum(
            1 for a, b in zip(editor.doc.words, editor.doc.words[1:], strict=False)
            if a.speaker != b.speaker) == turns_before - 2)


async def test_configured_pedal_keys_seek_and_loop(study: Study, config: Config,
                                                   make_app: Any) -> None:
    app = make_app()
    app.config = replace(config, keys={"forward_10": "f9", "loop_line": "f8"})
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot)
        await pilot.press("f9")  # forward 10 s from the line
        await wait_for(pilot, lambda: editor.player is not None and editor.player.playing)
        assert editor.player.position() >= 10.0
        editor.player.pause()
        await pilot.press("f8")
        await wait_for(pilot, lambda: editor._loop is not None)
        assert "loop" in status(editor)
        end = editor._loop[1]
        await wait_for(pilot, lambda: editor.player.playing)
        editor.player.play(end + 0.05)  # past the line's end: the poll starts it again
        await wait_for(pilot, lambda: editor.player.position() < end)
        await pilot.press("f8")
        assert editor._loop is None


async def test_export_dialog_takes_timestamps_like_the_cli(make_app: Any, study: Study,
                                                           tmp_path: Any) -> None:
    from verbatim.tui.screens.dialogs import ExportDialog

    app = make_app()
    out = tmp_path / "out" / "P1-1.txt"
    async with app.run_test(size=SIZE) as pilot:
        await open_editor(pilot)
        await press_for(pilot, "E", ExportDialog)
        app.screen.query_one("#format").value = "txt"
        app.screen.query_one("#timestamps").value = "sometimes"
        app.screen.query_one("#out").value = str(out)
        app.screen.query_one("#ok").press()  # refused in one line, the dialog stays
        await wait_for(pilot, lambda: any("neither 'turn'" in str(n.message)
                                          for n in app._notifications))
        assert isinstance(app.screen, ExportDialog)
        app.screen.query_one("#timestamps").value = "turn"
        app.screen.query_one("#ok").press()
        await wait_for(pilot, out.exists)
    import re

    stamps = re.findall(r"^ +\[\d\d:\d\d:\d\d\]$", out.read_text(), re.MULTILINE)
    assert len(stamps) == 6  # one per turn of the six

