"""The boundary re-check's pure steps: which words get a second look, and where the
edge of a moved word goes when two people's words share time (an overlap)."""

from __future__ import annotations

from transcribe.diarize import Diarisation, SpeakerTurn, boundaries, speaker_at

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


def test_words_inside_any_overlap_are_candidates_even_under_a_long_earlier_one() -> None:
    # a long overlap (1-6 s) starts before a short one (2-2.5 s) and covers words past it
    diarisation = Diarisation(turns=(SpeakerTurn(0.0, 30.0, "S1"),), backend="pyannote",
                              overlaps=(SpeakerTurn(1.0, 6.0, "S2"), SpeakerTurn(2.0, 2.5, "S2"),
                                        SpeakerTurn(20.0, 20.2, "S2")))
    words = [(0.2, 0.9), (0.9, 1.1), (5.5, 5.9), (6.0, 6.4), (19.8, 20.0), (20.1, 20.3),
             (20.2, 20.6)]
    assert boundaries.candidates(words, diarisation, pause=0) == [1, 2, 5]


def test_the_turn_lookup_names_the_same_speaker_as_scanning_every_turn() -> None:
    turns = (SpeakerTurn(0.0, 1.0, "S1"), SpeakerTurn(1.0, 1.5, "S2"),
             SpeakerTurn(1.5, 4.0, "S1"), SpeakerTurn(6.0, 7.0, "S3"))
    words = [(0.5, 1.2), (0.9, 1.6), (1.2, 1.4), (4.5, 5.0), (3.9, 6.2), (7.0, 7.5), (1.0, 1.0)]
    for order in (turns, turns[::-1]):  # in order: bisection; shuffled: every turn
        lookup = boundaries.TurnLookup(order)
        assert [lookup.speaker_at(*w) for w in words] == \
            [speaker_at(order, *w) for w in words]
    assert [boundaries.TurnLookup(turns).speaker_at(*w) for w in words] == \
        ["S1", "S2", "S2", None, "S3", None, None]


class _RecordingModel:
    """A voice model that answers "S1" for every window and remembers the windows."""

    def __init__(self) -> None:
        self.windows: list[tuple[float, float]] = []

    def embed_windows(self, samples: object, windows: list[tuple[float, float]], *,
                      progress: object = None) -> object:
        import numpy as np

        self.windows += list(windows)
        return np.tile(np.array([[1.0, 0.0]], dtype=np.float32), (len(windows), 1))


def test_a_stretched_word_is_embedded_over_its_middle_three_seconds_only() -> None:
    import numpy as np

    diarisation = Diarisation(turns=(SpeakerTurn(0.0, 30.0, "S1"),
                                     SpeakerTurn(30.0, 60.0, "S2")), backend="embedding")
    model = _RecordingModel()
    # a 17 s "word" after a pause (so it gets a second look), and one just after the change
    words = [(5.0, 5.5), (6.0, 23.0), (30.2, 30.7)]
    boundaries.reassign(words, diarisation, np.zeros(60 * 16_000, np.float32), model)  # type: ignore[arg-type]
    word_windows = model.windows[-2:]  # after the speakers' centroid windows
    assert word_windows[0] == (13.0, 16.0)
    assert word_windows[1] == (30.2, 30.7)
    assert max(b - a for a, b in model.windows) <= boundaries.MAX_SPAN
