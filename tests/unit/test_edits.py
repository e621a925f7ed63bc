"""The author's edits are pure: a document in, a new one out, the old one untouched."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from transcript.edits import (
    EditError,
    add_mark,
    confirm_mark,
    count_matches,
    edit_word,
    find,
    find_next,
    marks_between,
    merge_speakers,
    parse_mark_kind,
    remove_mark,
    rename_speaker,
    replace_text,
    replace_words,
    words_between,
)
from transcript.model import AudioRef, Line, Mark, MarkKind, Source, Speaker, Transcript, Word


def doc_of(text: str, speaker: str = "S1", *, marks: tuple[Mark, ...] = ()) -> Transcript:
    words = tuple(Word(t, i * 0.5, i * 0.5 + 0.4, speaker, 0.8)
                  for i, t in enumerate(text.split()))
    return Transcript(audio=AudioRef("a.wav"), speakers=(Speaker("S1", "S1"), Speaker("S2", "S2")),
                      words=words, marks=marks)


def texts(doc: Transcript) -> str:
    return " ".join(w.text for w in doc.words)


def test_edit_word_changes_one_word_and_leaves_the_original() -> None:
    doc = doc_of("it's that dual edge thing")
    out = edit_word(doc, 2, "double")
    assert texts(out) == "it's that double edge thing"
    assert texts(doc) == "it's that dual edge thing"
    assert out.words[2].probability == 1.0
    assert (out.words[2].start, out.words[2].end) == (doc.words[2].start, doc.words[2].end)


def test_edit_word_can_split_and_delete() -> None:
    doc = doc_of("gonna get the milk")
    split = edit_word(doc, 0, "going to")
    assert texts(split) == "going to get the milk"
    assert split.words[0].start == 0.0 and split.words[1].end == pytest.approx(0.4)
    assert split.words[0].end == pytest.approx(split.words[1].start)
    deleted = edit_word(doc, 2, "")
    assert texts(deleted) == "gonna get milk"


def test_replace_words_spans_and_rejects_bad_ranges() -> None:
    doc = doc_of("a b c d")
    out = replace_words(doc, 1, 2, "x")
    assert texts(out) == "a x d"
    assert out.words[1].start == doc.words[1].start and out.words[1].end == doc.words[2].end
    assert replace_words(doc, 1, 2, "b c") is doc
    with pytest.raises(EditError):
        replace_words(doc, 3, 4, "z")
    with pytest.raises(EditError):
        replace_words(doc, 2, 1, "z")


def test_edits_keep_locked_lines_as_cited() -> None:
    doc = doc_of("one two three")
    locked = Transcript(audio=doc.audio, words=doc.words,
                        lines=(Line(1, "S1", "one two three", 0.0, 1.4),))
    assert edit_word(locked, 0, "won").lines == locked.lines


def test_rename_speaker_sets_the_label_only() -> None:
    doc = doc_of("hello there")
    out = rename_speaker(doc, "S1", " Interviewer ")
    assert out.speaker_label("S1") == "Interviewer"
    assert out.words == doc.words
    with pytest.raises(EditError):
        rename_speaker(doc, "S9", "x")
    with pytest.raises(EditError):
        rename_speaker(doc, "S1", "  ")


def test_rename_speaker_adds_a_speaker_only_known_from_words() -> None:
    doc = Transcript(audio=AudioRef("a.wav"), words=(Word("hi", 0, 1, "S3"),))
    assert rename_speaker(doc, "S3", "P4").speaker_label("S3") == "P4"


def test_merge_speakers_moves_words_and_marks() -> None:
    mark = Mark(MarkKind.PAUSE, 0.4, 0.5, "S2")
    doc = Transcript(audio=AudioRef("a.wav"), speakers=(Speaker("S1", "I"), Speaker("S2", "P4")),
                     words=(Word("a", 0, 0.4, "S1"), Word("b", 0.5, 1, "S2")), marks=(mark,))
    out = merge_speakers(doc, "S2", "S1")
    assert {w.speaker for w in out.words} == {"S1"}
    assert out.marks[0].speaker == "S1"
    assert [s.id for s in out.speakers] == ["S1"]
    with pytest.raises(EditError):
        merge_speakers(doc, "S1", "S1")
    with pytest.raises(EditError):
        merge_speakers(doc, "S7", "S1")


def test_marks_add_confirm_remove() -> None:
    auto = Mark(MarkKind.PAUSE, 1.0, 2.0, "S1", "", Source.AUTO)
    doc = doc_of("a b c d e", marks=(auto,))
    added = add_mark(doc, Mark(MarkKind.TONE, 0.1, 0.2, "S1", "laughs", Source.AUTO))
    assert [m.kind for m in added.marks] == [MarkKind.TONE, MarkKind.PAUSE]
    assert added.marks[0].source is Source.HUMAN
    confirmed = confirm_mark(added, 1)
    assert confirmed.marks[1].source is Source.HUMAN
    assert confirm_mark(confirmed, 1) is confirmed
    removed = remove_mark(confirmed, 0)
    assert [m.kind for m in removed.marks] == [MarkKind.PAUSE]
    with pytest.raises(EditError):
        remove_mark(doc, 5)
    with pytest.raises(EditError):
        confirm_mark(doc, -1)
    with pytest.raises(EditError):
        add_mark(doc, Mark(MarkKind.PAUSE, 2.0, 1.0))


def test_marks_between_and_kind_parsing() -> None:
    doc = doc_of("a b", marks=(Mark(MarkKind.PAUSE, 1.0, 2.0), Mark(MarkKind.TONE, 5.0, 5.5)))
    assert marks_between(doc, 0.0, 1.5) == (0,)
    assert marks_between(doc, 4.0, 6.0) == (1,)
    assert parse_mark_kind(" Tone ") is MarkKind.TONE
    with pytest.raises(EditError, match="unknown mark kind"):
        parse_mark_kind("sigh")


def test_words_between_maps_a_line_back_to_words() -> None:
    doc = Transcript(audio=AudioRef("a.wav"),
                     words=(Word("a", 0, 1, "S1"), Word("b", 1, 2, "S2"), Word("c", 2, 3, "S1")))
    assert words_between(doc, 0.0, 3.0) == (0, 2)
    assert words_between(doc, 0.0, 3.0, "S2") == (1, 1)
    assert words_between(doc, 5.0, 6.0) is None


def test_find_is_whole_word_case_blind_and_spans_phrases() -> None:
    doc = doc_of("We're all caregivers, we're all here to be Caregivers. care")
    assert [m.first for m in find(doc, "caregivers")] == [2, 8]
    assert [m.first for m in find(doc, "care")] == [9]
    assert [(m.first, m.last) for m in find(doc, "all here")] == [(4, 5)]
    assert find(doc, "Caregivers", case_sensitive=True)[0].first == 8
    assert find(doc, "  ") == ()
    assert find_next(doc, "caregivers", 2) is not None
    assert find_next(doc, "caregivers", 2).first == 8  # type: ignore[union-attr]
    assert find_next(doc, "caregivers", 8).first == 2  # type: ignore[union-attr]  wraps
    assert find_next(doc, "absent", 0) is None


def test_replace_text_keeps_punctuation_and_counts() -> None:
    doc = doc_of("I saw Mary, and mary saw me.")
    assert count_matches(doc, "mary") == 2
    out = replace_text(doc, "Mary", "[colleague]")
    assert texts(out) == "I saw [colleague], and [colleague] saw me."
    assert count_matches(out, "mary") == 0
    phrase = replace_text(doc_of("at the general hospital today"), "general hospital", "[hospital]")
    assert texts(phrase) == "at the [hospital] today"


@given(st.lists(st.sampled_from(["a", "b", "care", "milk"]), min_size=1, max_size=30),
       st.sampled_from(["a", "care", "milk"]))
def test_replace_text_removes_every_match_and_keeps_the_time_span(
        tokens: list[str], target: str) -> None:
    doc = doc_of(" ".join(tokens))
    out = replace_text(doc, target, "zed")
    assert count_matches(out, target) == 0
    assert len(out.words) == len(doc.words)
    assert out.words[0].start == doc.words[0].start and out.words[-1].end == doc.words[-1].end
