"""Pure logic of the pipeline, with hand-built inputs: VAD edges, alignment, marks."""

from __future__ import annotations

import numpy as np
import pytest

from transcribe.align import assign_speakers, smooth_speakers
from transcribe.diarize import SpeakerTurn
from transcribe.engines import AsrWord
from transcribe.marks import (
    GAP_LABEL,
    MarkSettings,
    Utterance,
    disfluency_marks,
    inaudible_marks,
    pause_marks,
    tone_marks,
)
from transcribe.vad import (
    VadSettings,
    _runs,
    refine_silence,
    silences_between,
    speech_regions,
)
from transcript.model import MarkKind, Word


def words_of(spec: list[tuple[str, float, float, str]]) -> list[Word]:
    return [Word(t, a, b, s, 0.9) for t, a, b, s in spec]


# --- VAD -------------------------------------------------------------------------------

def test_speech_regions_use_hysteresis_and_minimum_lengths() -> None:
    frame = 0.1
    probs = np.array([0.1, 0.9, 0.6, 0.4, 0.2, 0.2, 0.9, 0.9, 0.1, 0.8, 0.1], dtype=np.float32)
    regions = speech_regions(probs, settings=VadSettings(min_speech=0.15, min_silence=0.1),
                             frame_seconds=frame)
    # 0.4 is above the release level, so the first region runs on through frame 3;
    # the lone frame 9 is shorter than min_speech and dropped.
    assert regions == [(0.1, 0.4), (0.6, 0.8)]
    assert silences_between(regions, 1.1) == [(0.4, 0.6)]


def test_refine_silence_moves_edges_to_the_quiet_frames() -> None:
    quiet = np.zeros(300, dtype=bool)
    quiet[112:231] = True  # really quiet 1.12 - 2.31 s
    quiet[170] = False  # a click inside the silence is bridged
    assert refine_silence((1.20, 2.20), quiet) == (1.12, 2.31)


def test_refine_silence_keeps_vad_edges_in_a_noisy_room() -> None:
    quiet = np.zeros(300, dtype=bool)  # never quiet
    assert refine_silence((1.0, 2.0), quiet) == (1.0, 2.0)


def test_runs_finds_true_stretches() -> None:
    assert _runs(np.array([0, 1, 1, 0, 1], dtype=bool)) == [(1, 3), (4, 5)]


# --- words to speakers ---------------------------------------------------------------

def test_assign_speakers_by_overlap_then_nearest_turn() -> None:
    words = [AsrWord("a", 0.0, 0.5, 1), AsrWord("b", 0.9, 1.3, 1), AsrWord("c", 5.0, 5.2, 1)]
    turns = [SpeakerTurn(0.0, 1.0, "S1"), SpeakerTurn(1.0, 3.0, "S2")]
    # "b" overlaps S1 by 0.1 and S2 by 0.3; "c" overlaps nothing: nearest is S2
    assert assign_speakers(words, turns) == ["S1", "S2", "S2"]


def test_smoothing_gives_a_turns_first_word_back_to_its_speaker() -> None:
    words = [AsrWord("Yes.", 0.0, 0.4, 1), AsrWord("So", 1.0, 1.2, 1),
             AsrWord("what", 1.2, 1.4, 1), AsrWord("happened", 1.4, 1.9, 1),
             AsrWord("next?", 1.9, 2.3, 1)]
    raw = ["S1", "S1", "S2", "S2", "S2"]  # the diariser switched a word late
    assert smooth_speakers(words, raw) == ["S1", "S2", "S2", "S2", "S2"]


def test_smoothing_keeps_a_flip_set_apart_by_a_pause() -> None:
    words = [AsrWord("right", 0.0, 0.3, 1), AsrWord("so", 1.5, 1.7, 1),
             AsrWord("we", 1.7, 1.9, 1), AsrWord("went", 1.9, 2.2, 1),
             AsrWord("home.", 2.2, 2.6, 1)]
    raw = ["S1", "S2", "S2", "S2", "S2"]
    assert smooth_speakers(words, raw) == raw


def test_smoothing_leaves_long_runs_alone() -> None:
    words = [AsrWord(t, i * 0.3, i * 0.3 + 0.25, 1) for i, t in enumerate(
        ["one", "two", "three", "four", "five", "six."])]
    raw = ["S1", "S1", "S1", "S2", "S2", "S2"]
    assert smooth_speakers(words, raw) == raw


# --- marks --------------------------------------------------------------------------

def test_pauses_within_a_turn_and_gaps_between_speakers() -> None:
    words = words_of([("I", 0.0, 0.3, "S2"), ("think", 0.3, 0.8, "S2"),
                      ("so.", 2.0, 2.4, "S2"), ("Okay.", 3.0, 3.5, "S1")])
    silences = [(0.8, 2.0), (2.4, 3.0), (0.31, 0.35), (5.0, 6.0)]
    marks = pause_marks(words, sorted(silences), min_pause=0.2)
    assert [(m.start, m.end, m.speaker, m.label) for m in marks] == [
        (0.8, 2.0, "S2", ""), (2.4, 3.0, None, GAP_LABEL)]  # too short / after the end: none


def test_cutoffs_and_stutters_from_verbatim_text() -> None:
    words = words_of([("th-", 0.0, 0.2, "S1"), ("the", 0.3, 0.5, "S1"),
                      ("i-i-it", 0.6, 1.0, "S1"), ("I", 1.2, 1.3, "S1"), ("I", 1.35, 1.45, "S1"),
                      ("went", 1.5, 1.8, "S1"), ("to", 2.5, 2.6, "S1"), ("to", 3.5, 3.6, "S1")])
    marks = disfluency_marks(words, max_gap=0.3)
    assert [(m.kind, m.label) for m in marks] == [
        (MarkKind.CUTOFF, "th-"), (MarkKind.STUTTER, "i-i-it"), (MarkKind.STUTTER, "I-I")]


def test_inaudible_for_speech_without_words_and_for_unsure_words() -> None:
    words = [Word("hello", 0.0, 0.5, "S1", 0.9), Word("mumble", 4.0, 4.3, "S2", 0.05)]
    turns = [SpeakerTurn(0.0, 1.0, "S1"), SpeakerTurn(2.0, 4.5, "S2")]
    marks = inaudible_marks(words, [(0.0, 0.5), (2.0, 3.0), (3.9, 4.4)], turns,
                            min_length=0.5, low_probability=0.15)
    assert [(m.start, m.end, m.speaker, m.label) for m in marks] == [
        (2.0, 3.0, "S2", ""), (4.0, 4.3, "S2", "mumble")]


def test_tone_is_relative_to_the_speakers_own_baseline() -> None:
    soft = [Utterance("S2", i, i + 1, 5, -40.0, 4.0) for i in range(5)]  # a quiet speaker
    loud = [Utterance("S1", 10 + i, 11 + i, 5, -20.0, 4.0) for i in range(4)]
    odd = [Utterance("S1", 20, 21, 5, -30.0, 4.0), Utterance("S1", 22, 23, 5, -20.0, 6.5)]
    marks = tone_marks([*soft, *loud, *odd], settings=MarkSettings())
    assert [(m.speaker, m.start, m.label) for m in marks] == [
        ("S1", 20, "quietly"), ("S1", 22, "quickly")]


@pytest.mark.parametrize("few", [1, 3])
def test_no_tone_without_enough_utterances_for_a_baseline(few: int) -> None:
    pieces = [Utterance("S1", i, i + 1, 5, -20.0 - 10 * i, 4.0) for i in range(few)]
    assert tone_marks(pieces, settings=MarkSettings()) == []


# --- chunks for the engine ----------------------------------------------------------

def test_chunks_are_speech_with_short_pauses_inside_and_long_ones_cut() -> None:
    from transcribe.engines import plan_chunks

    speech = [(1.0, 5.0), (5.3, 20.0), (21.0, 27.0), (40.0, 41.0), (50.0, 120.0)]
    chunks = plan_chunks(speech, 121.0, max_seconds=28.0, gap=0.4)
    assert chunks[:2] == [(0.8, 5.15), (5.15, 20.2)]  # a 0.3 s pause: cut in its middle
    assert chunks[2] == (20.8, 27.2)  # a 1 s pause heard as 0.4 s (0.2 s of each edge)
    assert chunks[3] == (39.8, 41.2)
    assert all(b - a <= 28.0 + 1e-9 for a, b in chunks)
    assert chunks[-1][1] == 120.2 and sum(b - a for a, b in chunks[4:]) == pytest.approx(70.4)
    assert plan_chunks([], 10.0) == []
