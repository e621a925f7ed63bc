"""Pseudonymisation: consistent, visible, and never touching the original."""

from __future__ import annotations

import pytest

from tests.golden.fixture import fixture_document
from transcript.lines import lock, number_lines
from transcript.model import AudioRef, Line, Note, Speaker, Transcript, Word
from transcript.pseudonymise import Replacements, pseudonymise

LIST = """
# names and places, kept apart from the exports
Sarah = [colleague]
St Mary's Hospital = hospital
Mary = [nurse]
"""


def doc() -> Transcript:
    words = [("I", "S2"), ("told", "S2"), ("Sarah's", "S2"), ("manager", "S2"), ("at", "S2"),
             ("St", "S2"), ("Mary's", "S2"), ("Hospital,", "S2"), ("and", "S2"),
             ("mary", "S2"), ("agreed", "S2")]
    return Transcript(
        audio=AudioRef("a.wav"),
        speakers=(Speaker("S1", "Sarah"), Speaker("S2", "P4")),
        words=tuple(Word(t, i, i + 0.5, who, 0.9) for i, (t, who) in enumerate(words)),
        notes=(Note(0, 2, "after", "Sarah came up again", "", ""),),
    )


def test_parse_brackets_and_orders_longest_first() -> None:
    reps = Replacements.parse(LIST)
    assert reps.pairs[0] == ("St Mary's Hospital", "[hospital]")
    assert ("Sarah", "[colleague]") in reps.pairs
    assert not Replacements.parse("# only a comment\n")


@pytest.mark.parametrize("bad", ["Sarah", "= [x]", "Sarah ="])
def test_bad_lines_are_named(bad: str) -> None:
    with pytest.raises(ValueError, match="line 1"):
        Replacements.parse(bad)


def test_words_labels_and_notes_are_replaced_consistently() -> None:
    original = doc()
    out = pseudonymise(original, Replacements.parse(LIST))
    texts = [w.text for w in out.words]
    assert texts == ["I", "told", "[colleague]'s", "manager", "at", "[hospital],", "and",
                     "[nurse]", "agreed"]
    merged = out.words[5]
    assert (merged.start, merged.end) == (5, 7.5)
    assert out.speaker_label("S1") == "[colleague]"
    assert out.notes[0].moment == "[colleague] came up again"
    assert original == doc()  # the stored original is untouched


def test_locked_lines_keep_their_numbers() -> None:
    locked = lock(doc(), width=30)
    out = pseudonymise(locked, Replacements.from_pairs([("Sarah", "colleague")]))
    assert [ln.n for ln in out.lines] == [ln.n for ln in locked.lines]
    assert "Sarah" not in " ".join(ln.text for ln in out.lines)
    assert "[colleague]'s" in out.lines[0].text


def test_text_replacement_is_whole_word_and_case_insensitive() -> None:
    reps = Replacements.from_pairs([("Ann", "[colleague]")])
    assert reps.apply_text("ANN and Anna met ann.") == "[colleague] and Anna met [colleague]."
    line = Line(1, "S1", "ann", 0, 1)
    assert reps.apply_text(line.text) == "[colleague]"


def test_no_replacements_is_the_same_document() -> None:
    d = fixture_document()
    assert pseudonymise(d, Replacements()) is d
    assert number_lines(pseudonymise(d, Replacements.parse("Zed = [x]"))) == number_lines(d)
