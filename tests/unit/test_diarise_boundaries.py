"""The boundary re-check's pure steps: which words get a second look, and where the
edge of a moved word goes when two people's words share time (an overlap)."""

from __future__ import annotations

from transcribe.diarize import Diarisation, SpeakerTurn, boundaries

TURNS = (SpeakerTurn(0.0, 4.0, "S1"), SpeakerTurn(4.0, 8.0, "S2"))


def test_the_first_word_after_a_pause_is_a_candidate_far_from_any_change() -> None:
    diarisation = Diarisation(turns=(SpeakerTurn(0.0, 20.0, "S1"),
                                     SpeakerTurn(20.0, 30.0, "S2")), backend="embedding")
    # no change near 5-9 s; the word at 6.5 follows a 0.5 s pause, the one at 7.25 0.05 s
    words = [(5.0, 5.6), (5.65, 6.0), (6.5, 7.2), (7.25, 7.6)]
    assert boundaries.candidates(words, diarisation) == [2]
    assert boundaries.candidates(words, diarisation, pause=0.6) == []
    assert boundaries.candidates(words, diarisation, pause=0) == []


def test_a_moved_word_sharing_time_with_a_staying_word_splits_the_shared_time() -> None:
    # "country." (14.82-15.18) stays on S1; "Ask" (14.97-15.43) moves to S2
    words = [(14.5, 14.82), (14.82, 15.18), (14.97, 15.43), (15.43, 15.7)]
    turns = (SpeakerTurn(10.0, 15.45, "S1"), SpeakerTurn(15.45, 18.0, "S2"))
    left, right = boundaries.shared_edges(words, 2, {2: "S2"}, turns)
    assert (left, right) == ((14.97 + 15.18) / 2, 15.43)
    moved = boundaries.apply(Diarisation(turns=turns, backend="embedding"), words, {2: "S2"})
    speakers = [max(moved.turns, key=lambda t: min(e, t.end) - max(s, t.start)).speaker
                for s, e in (words[1], words[2])]
    assert speakers == ["S1", "S2"]  # each word keeps most of its time on its own speaker


def test_the_edge_is_pulled_on_the_right_too_and_not_for_the_same_speaker() -> None:
    words = [(1.0, 1.6), (1.4, 2.0)]
    # word 0 moves to S2 and word 1 (starting inside it) stays on S1: edge at 1.5
    assert boundaries.shared_edges(words, 0, {0: "S2"}, TURNS) == (1.0, 1.5)
    # both move to S2: no edge between them
    assert boundaries.shared_edges(words, 0, {0: "S2", 1: "S2"}, TURNS) == (1.0, 1.6)
    # a word holding the moved word's whole span leaves it alone
    assert boundaries.shared_edges([(1.0, 1.6), (0.9, 1.8)], 0, {0: "S2"}, TURNS) == (1.0, 1.6)


def test_moving_a_word_without_overlapping_neighbours_carves_its_whole_span() -> None:
    words = [(3.2, 3.6), (3.7, 3.9), (4.6, 5.2)]
    moved = boundaries.apply(Diarisation(turns=TURNS, backend="embedding"), words, {1: "S2"})
    assert moved.turns == (SpeakerTurn(0.0, 3.7, "S1"), SpeakerTurn(3.7, 3.9, "S2"),
                           SpeakerTurn(3.9, 4.0, "S1"), SpeakerTurn(4.0, 8.0, "S2"))
