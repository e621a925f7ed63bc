"""Line numbering: wrapping, per-turn lines with times, locking, lookups."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.golden.fixture import fixture_document
from transcript.lines import line_at, lines_in_range, lock, number_lines, wrap_words
from transcript.model import AudioRef, Mark, MarkKind, Transcript, Word

words_strategy = st.lists(st.text(alphabet="abcdefghij…-.[]", min_size=1, max_size=30),
                          max_size=60)


@given(words_strategy, st.integers(10, 100))
def test_wrapping_keeps_words_in_order_within_width(words: list[str], width: int) -> None:
    lines = wrap_words(words, width)
    assert [w for line in lines for w in line] == words
    for line in lines:
        assert line
        text = " ".join(line)
        assert len(text) <= width or len(line) == 1


@given(words_strategy, st.integers(10, 100))
def test_wrapping_is_greedy(words: list[str], width: int) -> None:
    lines = wrap_words(words, width)
    for line, following in itertools.pairwise(lines):
        assert len(" ".join([*line, following[0]])) > width


def test_each_turn_starts_a_line_and_lines_know_their_times() -> None:
    lines = number_lines(fixture_document(), width=40)
    assert [ln.n for ln in lines] == list(range(1, len(lines) + 1))
    assert [(ln.speaker, ln.text) for ln in lines] == [
        ("S1", "so what was that like for you?"),
        ("S2", "for me, it's th- .. it's that dual edge"),
        ("S2", "… thing .. about what we do …. and"),
        ("S2", "i-i-it was a bad thing [  ] [laughs]"),
        ("S2", "(quietly) but sometimes you're so [busy]"),
        ("S1", "[mm]"),
        ("S2", "about the [care?] plans"),
    ]
    assert (lines[1].start, lines[1].end) == (2.9, 5.8)
    assert (lines[3].start, lines[3].end) == (12.85, 15.5)
    assert all(len(ln.text) <= 40 for ln in lines)


def test_width_below_minimum_is_refused() -> None:
    with pytest.raises(ValueError, match="at least"):
        number_lines(fixture_document(), width=5)


def test_locked_numbering_survives_later_edits() -> None:
    locked = lock(fixture_document(), profile="paper", width=40)
    assert locked.locked and locked.extra["numbering"]["width"] == 40
    edited_words = (Word("well", 0.0, 0.1, "S1"), *locked.words)
    edited = replace(locked, words=edited_words)
    assert number_lines(edited, profile="jefferson", width=20) == locked.lines
    assert lock(edited) is edited


def test_lines_in_range_and_line_at() -> None:
    lines = number_lines(fixture_document(), width=40)
    assert [ln.n for ln in lines_in_range(lines, 2, 4)] == [2, 3, 4]
    with pytest.raises(ValueError, match="outside"):
        lines_in_range(lines, 6, 9)
    with pytest.raises(ValueError, match="backwards"):
        lines_in_range(lines, 4, 2)
    assert line_at(lines, 3.0).n == 2
    assert line_at(lines, 10.0).n == 3
    assert line_at(lines, 16.9).n == 5
    assert line_at(lines, 17.1).n == 6  # overlapping talk: the line that started last
    assert line_at(lines, 17.3).n == 6
    assert line_at(lines, -1.0) is None
    assert line_at(lines, 99.0) is None
    assert line_at((), 1.0) is None


_word_text = st.text(alphabet="abcdefghijklmnopqrstuvwxyz'", min_size=1, max_size=25)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_word_text, st.floats(0.05, 2.0), st.booleans()), min_size=1,
                max_size=80),
       st.integers(10, 90))
def test_numbered_lines_fit_the_width_and_keep_every_word(
        spec: list[tuple[str, float, bool]], width: int) -> None:
    words, marks, t = [], [], 0.0
    for text, gap, switch in spec:
        speaker = "S2" if switch else "S1"
        words.append(Word(text, round(t, 3), round(t + 0.2, 3), speaker))
        if gap >= 0.3:
            marks.append(Mark(MarkKind.PAUSE, round(t + 0.2, 3), round(t + 0.2 + gap, 3),
                              speaker))
        t += 0.2 + gap
    doc = Transcript(audio=AudioRef("a.wav"), words=tuple(words), marks=tuple(marks))
    lines = number_lines(doc, width=width)
    assert [ln.n for ln in lines] == list(range(1, len(lines) + 1))
    for ln in lines:
        assert len(ln.text) <= width or " " not in ln.text
        assert ln.start <= ln.end
    rendered = [tok for ln in lines for tok in ln.text.split(" ")]
    assert [tok for tok in rendered if tok not in ("..", "…", "….")] == [w.text for w in words]
    for ln, following in itertools.pairwise(lines):
        assert ln.start <= following.start
