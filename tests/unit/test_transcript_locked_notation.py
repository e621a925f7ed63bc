"""A locked transcript keeps its lines and numbers, and writes each in the notation asked for."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.golden.fixture import fixture_document, synthetic_document
from transcript.document import loads
from transcript.export import FORMATS, render
from transcript.lines import lines_in_notation, lock, number_lines
from transcript.model import AudioRef, Transcript
from transcript.notation import PROFILES


def _body(fmt: str, data: bytes) -> bytes:
    if fmt == "docx":
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return zf.read("word/document.xml")
    if fmt == "qdpx":
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return b"".join(zf.read(n) for n in sorted(zf.namelist()) if n.endswith(".txt"))
    return data


def test_locked_txt_is_written_in_the_notation_its_header_names() -> None:
    locked = lock(fixture_document(), width=40)  # locked in paper
    text = render(locked, "txt", profile="jefferson").decode()
    assert "Notation: jefferson; width 40; line numbers locked" in text
    assert "it's th- (0.6) it's that dual edge" in text  # jefferson, not paper's '..'
    assert "°but sometimes you're so° [busy]" in text
    assert ".." not in text.split("Reflexive notes")[0] and "…" not in text


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "json"])
def test_every_format_of_a_locked_transcript_follows_the_notation(fmt: str) -> None:
    locked = lock(fixture_document(), width=40)
    paper = _body(fmt, render(locked, fmt, profile="paper"))
    jefferson = _body(fmt, render(locked, fmt, profile="jefferson"))
    assert paper != jefferson, f"{fmt}: the notation was ignored"
    assert b"(0.6)" in jefferson and b"(0.6)" not in paper


def test_lines_keep_their_numbers_times_and_speakers_in_every_notation() -> None:
    for locked_in in PROFILES:
        locked = lock(fixture_document(), width=40, profile=locked_in)
        for profile in PROFILES:
            lines = lines_in_notation(locked, profile)
            assert [(ln.n, ln.speaker, ln.start, ln.end) for ln in lines] == \
                [(ln.n, ln.speaker, ln.start, ln.end) for ln in locked.lines]
            assert all(ln.text for ln in lines)
            if profile == locked_in:
                assert lines == locked.lines  # its own notation: the frozen text itself
            else:
                # the same lines an unlocked export in that notation numbers, as far as
                # both put a line break at the same word
                assert lines != locked.lines


def test_a_gap_line_locked_in_jefferson_stays_a_line_in_paper() -> None:
    locked = lock(fixture_document(), width=40, profile="jefferson")
    lines = lines_in_notation(locked, "paper")
    assert len(lines) == len(locked.lines)
    gap = next(ln for ln in lines if not ln.speaker)
    assert gap.text == "…"  # the 1.2 s gap in paper's own sign


def test_locked_in_paper_the_jefferson_gap_joins_the_line_before_it() -> None:
    locked = lock(fixture_document(), width=40)
    lines = lines_in_notation(locked, "jefferson")
    assert lines[0].text == "so what was that like for you? (1.2)"


def test_json_export_says_which_notation_its_lines_are_in() -> None:
    locked = lock(fixture_document(), width=40)
    again = loads(render(locked, "json", profile="dresing-pehl").decode())
    assert again.extra["numbering"] == {"profile": "dresing-pehl", "width": 40, "locked": True}
    assert [ln.n for ln in again.lines] == [ln.n for ln in locked.lines]
    assert "th/ (.) it's" in again.lines[1].text


def test_no_words_to_render_from_is_refused_in_one_line() -> None:
    locked = lock(fixture_document(), width=40)
    bare = Transcript(audio=AudioRef("a.wav"), lines=locked.lines, extra=dict(locked.extra))
    assert render(bare, "txt", profile="paper")  # its own notation needs no words
    with pytest.raises(ValueError, match=r"written in paper.*export them in paper") as err:
        render(bare, "txt", profile="jefferson")
    assert "\n" not in str(err.value)


def test_edits_after_the_lock_still_render_on_the_locked_lines() -> None:
    locked = lock(fixture_document(), width=40)
    words = list(locked.words)
    words[1] = replace(words[1], text="how")  # 'what' -> 'how' after the lock
    edited = replace(locked, words=tuple(words))
    lines = lines_in_notation(edited, "jefferson")
    assert lines[0].text.startswith("so how was that")
    assert len(lines) == len(locked.lines)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(PROFILES), st.sampled_from(PROFILES))
def test_every_token_lands_on_one_line_in_order(seed: int, locked_in: str, asked: str) -> None:
    doc = synthetic_document(400, seed=seed)
    locked = lock(doc, width=60, profile=locked_in)
    lines = lines_in_notation(locked, asked)
    assert [ln.n for ln in lines] == [ln.n for ln in locked.lines]
    # the words appear in the same order as in an unlocked rendering in that notation
    fresh = " ".join(ln.text for ln in number_lines(doc, profile=asked, width=60) if ln.speaker)

    def words_of(text: str) -> list[str]:
        return re.findall(r"[a-z']+", text)

    relocated = " ".join(ln.text for ln in lines if ln.speaker)
    assert sorted(words_of(relocated)) == sorted(words_of(fresh))
