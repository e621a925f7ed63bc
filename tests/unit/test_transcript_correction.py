"""Correcting after lock: cited line numbers never move (issue 18)."""

from __future__ import annotations

from dataclasses import replace

from tests.golden.fixture import fixture_document
from transcript.correction import cited_words, reline
from transcript.document import dumps, loads
from transcript.edits import edit_word
from transcript.lines import lock
from transcript.model import Transcript, Word


def locked() -> Transcript:
    return lock(fixture_document(), profile="paper", width=40)


def numbers(doc: Transcript) -> list[str]:
    return [ln.number for ln in doc.lines]


def index_of(doc: Transcript, text: str) -> int:
    return next(i for i, w in enumerate(doc.words) if w.text == text)


def test_a_corrected_word_changes_its_line_only() -> None:
    doc = locked()
    fixed = reline(edit_word(doc, index_of(doc, "dual"), "double-edged, you know, really"))
    assert numbers(fixed) == numbers(doc) == [str(n) for n in range(1, 8)]
    changed = [a.n for a, b in zip(doc.lines, fixed.lines, strict=True) if a.text != b.text]
    assert changed == [2]
    assert "double-edged, you know, really" in fixed.lines[1].text
    assert len(fixed.lines[1].text) > 40  # longer than the width, and still line 2


def test_a_word_with_no_line_of_its_speaker_gets_a_suffixed_line() -> None:
    doc = locked()
    added = replace(doc, words=tuple(sorted(
        (*doc.words, Word("sorry", 10.4, 10.8, "S3", 1.0)), key=lambda w: w.start)))
    fixed = reline(added)
    assert numbers(fixed) == ["1", "2", "3", "3a", "4", "5", "6", "7"]
    assert fixed.lines[3].speaker == "S3" and fixed.lines[3].text == "sorry"
    # the next correction puts that speaker's next word on 3a, and nothing else moves
    again = replace(fixed, words=tuple(sorted(
        (*fixed.words, Word("again", 11.0, 11.3, "S3", 1.0)), key=lambda w: w.start)))
    twice = reline(again)
    assert numbers(twice) == numbers(fixed)
    assert twice.lines[3].text == "sorry again"


def test_a_boundary_word_moved_to_the_other_speaker_joins_their_line() -> None:
    doc = locked()
    i = index_of(doc, "plans") - 3  # 'about', first word of P4's last turn (line 7)
    moved = replace(doc, words=tuple(replace(w, speaker="S1") if k == i else w
                                     for k, w in enumerate(doc.words)))
    fixed = reline(moved)
    assert numbers(fixed) == numbers(doc)
    assert fixed.lines[5].text.endswith("about") and fixed.lines[5].speaker == "S1"
    assert not fixed.lines[6].text.startswith("about")


def test_a_line_left_without_words_keeps_its_number() -> None:
    doc = locked()
    fixed = reline(edit_word(doc, index_of(doc, "mm"), ""))
    assert numbers(fixed) == numbers(doc)
    assert fixed.lines[5].text == ""


def test_a_citation_finds_the_same_words_after_correction() -> None:
    doc = locked()
    before = cited_words(doc, 2, 3)
    fixed = reline(edit_word(doc, index_of(doc, "edge"), "edged"))
    after = cited_words(fixed, 2, 3)
    assert [(w.start, w.end) for w in after] == [(w.start, w.end) for w in before]
    assert [w.text for w in after] == [("edged" if w.text == "edge" else w.text)
                                       for w in before]


def test_suffixes_survive_the_json_round_trip() -> None:
    doc = locked()
    fixed = reline(replace(doc, words=tuple(sorted(
        (*doc.words, Word("sorry", 10.4, 10.8, "S3", 1.0)), key=lambda w: w.start))))
    assert '"suffix": "a"' in dumps(fixed) or '"suffix":"a"' in dumps(fixed)
    assert loads(dumps(fixed)).lines == fixed.lines


def test_an_unlocked_document_is_left_alone() -> None:
    doc = fixture_document()
    assert reline(doc) is doc
