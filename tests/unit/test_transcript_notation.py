"""Notation profiles turn marks into the text each convention writes."""

from __future__ import annotations

import pytest

from tests.golden.fixture import fixture_document
from transcript.model import AudioRef, Mark, MarkKind, Transcript, Word
from transcript.notation import PROFILES, default_thresholds, get_profile
from transcript.render import render_turns


@pytest.mark.parametrize("seconds, expected", [
    (0.2, ""), (0.3, ".."), (0.99, ".."), (1.0, "…"), (2.9, "…"), (3.0, "…."), (7.0, "…."),
])
def test_paper_pauses_follow_the_seed_extracts(seconds: float, expected: str) -> None:
    assert get_profile("paper").pause(seconds) == expected


@pytest.mark.parametrize("seconds, expected", [
    (0.05, ""), (0.15, "(.)"), (0.5, "(0.5)"), (2.44, "(2.4)"), (2.45, "(2.5)"),
])
def test_jefferson_times_pauses_to_a_tenth(seconds: float, expected: str) -> None:
    assert get_profile("jefferson").pause(seconds) == expected


@pytest.mark.parametrize("seconds, expected", [
    (0.4, ""), (0.8, "(.)"), (1.6, "(..)"), (2.7, "(...)"), (4.2, "(4)"),
])
def test_dresing_pehl_writes_dots_then_seconds(seconds: float, expected: str) -> None:
    assert get_profile("dresing-pehl").pause(seconds) == expected


def test_thresholds_can_be_overridden_from_config() -> None:
    strict = get_profile("paper", {"short_pause": 0.5, "long_pause": 2.0})
    assert strict.pause(0.4) == ""
    assert strict.pause(1.5) == ".."
    assert get_profile("paper").pause(1.5) == "…"  # the default is untouched


@pytest.mark.parametrize("overrides, fragment", [
    ({"shrot_pause": 0.5}, "unknown threshold"),
    ({"short_pause": -1}, "non-negative"),
    ({"short_pause": "x"}, "non-negative"),
])
def test_bad_overrides_are_refused(overrides: dict, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        get_profile("paper", overrides)


def test_unknown_profile_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown notation"):
        get_profile("gat2")
    assert set(PROFILES) == {"paper", "jefferson", "dresing-pehl"}
    assert default_thresholds("paper")["short_pause"] == 0.3


@pytest.mark.parametrize("profile, expected", [
    ("paper", ["so what was that like for you?",
               "for me, it's th- .. it's that dual edge … thing .. about what we do …. and "
               "i-i-it was a bad thing [  ] [laughs] (quietly) but sometimes you're so [busy]",
               "[mm]", "about the [care?] plans"]),
    ("jefferson", ["so what was that like for you?", "(1.2)",
                   "for me, it's th- (0.6) it's that dual edge (1.5) thing (0.5) about what we "
                   "do (3.4) and i-i-it was a bad thing ( ) ((laughs)) °but sometimes you're "
                   "so° [busy]", "[mm]", "about the (care) plans"]),
    ("dresing-pehl", ["so what was that like for you?",
                      "for me, it's th/ (.) it's that dual edge (..) thing (.) about what we do "
                      "(3) and i-i-it was a bad thing (unv.) (laughs) (quietly) but sometimes "
                      "you're so //busy//", "//mm//", "about the (care?) plans"]),
])
def test_every_mark_is_rendered_in_place(profile: str, expected: list[str]) -> None:
    turns = render_turns(fixture_document(), profile)
    assert [t.text for t in turns] == expected


def test_gap_between_speakers_is_its_own_turn_only_in_jefferson() -> None:
    speakers = [t.speaker for t in render_turns(fixture_document(), "jefferson")]
    assert speakers == ["S1", "", "S2", "S1", "S2"]
    assert [t.speaker for t in render_turns(fixture_document(), "paper")] == [
        "S1", "S2", "S1", "S2"]


def doc_of(words: list[tuple[str, float, float]], *marks: Mark) -> Transcript:
    return Transcript(audio=AudioRef("a.wav"),
                      words=tuple(Word(t, s, e, "S1") for t, s, e in words), marks=marks)


def test_asr_cut_off_follows_the_profile_and_labels_override() -> None:
    doc = doc_of([("it", 0.0, 0.2), ("wa-", 0.3, 0.5), ("it", 0.6, 0.8)],
                 Mark(MarkKind.STUTTER, 0.6, 0.8, "S1", "i-i-it"))
    assert render_turns(doc, "dresing-pehl")[0].text == "it wa/ i-i-it"
    assert render_turns(doc, "paper")[0].text == "it wa- i-i-it"


def test_loud_talk_is_capitals_in_jefferson_and_author_brackets_are_kept() -> None:
    doc = doc_of([("no", 0.0, 0.2), ("way", 0.3, 0.5)],
                 Mark(MarkKind.TONE, 0.0, 0.5, "S1", "loudly"),
                 Mark(MarkKind.TONE, 0.6, 0.7, "S1", "(sighs)"))
    assert render_turns(doc, "jefferson")[0].text == "NO WAY (sighs)"
    assert render_turns(doc, "paper")[0].text == "(loudly) no way (sighs)"


def test_fast_and_slow_talk_in_jefferson_and_repeated_word_stutter() -> None:
    doc = doc_of([("I", 0.0, 0.1), ("I", 0.2, 0.3), ("went", 0.4, 0.6), ("home", 0.7, 0.9)],
                 Mark(MarkKind.STUTTER, 0.0, 0.3, "S1", "I-I"),
                 Mark(MarkKind.TONE, 0.4, 0.6, "S1", "quickly"),
                 Mark(MarkKind.TONE, 0.7, 0.9, "S1", "slowly"))
    assert render_turns(doc, "jefferson")[0].text == "I-I >went< <home>"
    assert render_turns(doc, "paper")[0].text == "I-I (quickly) went (slowly) home"


def test_inaudible_over_no_words_is_the_omission_sign() -> None:
    doc = doc_of([("so", 0.0, 0.2), ("then", 2.0, 2.2)],
                 Mark(MarkKind.INAUDIBLE, 0.5, 1.5, "S1"))
    assert [render_turns(doc, p)[0].text for p in PROFILES] == [
        "so [  ] then", "so ( ) then", "so (unv.) then"]


def test_marks_without_words_still_show() -> None:
    doc = doc_of([("so", 0.0, 0.2)],
                 Mark(MarkKind.CUTOFF, 1.0, 1.1, "S1", "wh"),
                 Mark(MarkKind.OVERLAP, 5.0, 6.0, "S1"))
    assert render_turns(doc, "paper")[0].text == "so wh-"


def test_a_varied_profile_never_gets_a_cached_rendering_of_another() -> None:
    from dataclasses import replace

    from transcript.notation import get_profile

    doc = fixture_document()
    plain = render_turns(doc, "paper")
    varied = render_turns(doc, replace(get_profile("paper"), inaudible="(…)"))
    assert "[  ]" in plain[1].text and "(…)" in varied[1].text
    assert render_turns(doc, "paper") is plain  # the same document renders once
