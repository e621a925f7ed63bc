"""Doubtful words and speaker boundary tools: pure functions (issue 18)."""

from __future__ import annotations

import pytest

from tests.golden.fixture import fixture_document
from transcript.document import dumps, loads
from transcript.doubt import (
    confirm_word,
    count_doubtful,
    doubtful,
    next_doubtful,
    play_from,
    previous_doubtful,
    word_at,
)
from transcript.edits import edit_word
from transcript.model import AudioRef, MarkKind, Transcript, Word
from transcript.render import render_turns
from transcript.turns import (
    TurnError,
    merge_turns,
    move_first_words,
    move_last_words,
    split_turn,
)


def doc_with(probabilities: list[float]) -> Transcript:
    words = tuple(Word(f"w{i}", i * 1.0, i * 1.0 + 0.5, "S1", p)
                  for i, p in enumerate(probabilities))
    return Transcript(audio=AudioRef(path="a.wav"), words=words)


def test_doubtful_words_are_those_under_the_threshold() -> None:
    doc = doc_with([0.9, 0.3, 0.95, 0.49, 0.5, 0.1])
    assert doubtful(doc) == (1, 3, 5)
    assert doubtful(doc, 0.2) == (5,)
    assert count_doubtful(doc) == 3


def test_next_and_previous_wrap_round() -> None:
    doc = doc_with([0.9, 0.3, 0.95, 0.4, 0.9])
    assert next_doubtful(doc, -1) == 1
    assert next_doubtful(doc, 1) == 3
    assert next_doubtful(doc, 3) == 1
    assert next_doubtful(doc, 3, wrap=False) is None
    assert previous_doubtful(doc, 3) == 1
    assert previous_doubtful(doc, 1) == 3
    assert next_doubtful(doc_with([0.9]), 0) is None


def test_confirmed_and_corrected_words_stop_being_doubtful_and_it_is_stored() -> None:
    doc = doc_with([0.9, 0.3, 0.4])
    confirmed = confirm_word(doc, 1)
    assert doubtful(confirmed) == (2,)
    assert confirm_word(confirmed, 1) is confirmed
    corrected = edit_word(confirmed, 2, "right")
    assert count_doubtful(corrected) == 0
    again = loads(dumps(confirmed))
    assert again.words[1].confirmed and doubtful(again) == (2,)
    with pytest.raises(ValueError, match="no word 7"):
        confirm_word(doc, 7)


def test_playing_a_doubtful_word_starts_just_before_it() -> None:
    doc = doc_with([0.9, 0.9, 0.9, 0.3])
    assert play_from(doc.words[3]) == pytest.approx(1.5)
    assert play_from(doc.words[0]) == 0.0
    assert word_at(doc, 2.2) == 2


def speakers_of_turns(doc: Transcript) -> list[tuple[str, str]]:
    return [(t.speaker, t.text) for t in render_turns(doc) if t.speaker]


def test_move_the_first_and_last_word_to_the_neighbouring_speaker() -> None:
    doc = fixture_document()
    p4_first = 7  # 'for', the first word of P4's first turn
    moved = move_first_words(doc, p4_first + 3)
    assert moved.words[p4_first].speaker == "S1"
    assert speakers_of_turns(moved)[0][1].endswith("for you? for")
    back = move_last_words(moved, 0)
    assert [w.speaker for w in back.words] == [w.speaker for w in doc.words]
    two = move_first_words(doc, p4_first, count=2)
    assert [w.speaker for w in two.words[7:10]] == ["S1", "S1", "S2"]
    with pytest.raises(TurnError, match="first turn"):
        move_first_words(doc, 0)


def test_a_cutoff_moves_with_its_word() -> None:
    doc = fixture_document()
    moved = move_first_words(doc, 8, count=4)  # 'for me, it's th-'
    cutoff = next(m for m in moved.marks if m.kind is MarkKind.CUTOFF)
    assert cutoff.speaker == "S1"
    assert "th-" in speakers_of_turns(moved)[0][1]


def test_split_a_turn_and_merge_it_back() -> None:
    doc = fixture_document()
    split = split_turn(doc, 15)  # 'thing': the rest of P4's first turn goes to the interviewer
    assert split.words[15].speaker == "S1" and split.words[14].speaker == "S2"
    new = split_turn(doc, 15, speaker="S3")
    assert any(s.id == "S3" for s in new.speakers)
    merged = merge_turns(new, 14)
    assert [w.speaker for w in merged.words] == [w.speaker for w in doc.words]
    with pytest.raises(TurnError, match="first word"):
        split_turn(doc, 7)
    with pytest.raises(TurnError, match="last turn"):
        merge_turns(doc, len(doc.words) - 1)
