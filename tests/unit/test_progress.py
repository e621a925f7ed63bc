"""One progress model: the pipeline's real order of stages, a diariser's nested sub-stages."""

from __future__ import annotations

import itertools

import pytest

from transcribe.progress import CEILING, Tick, Tracker, plan

# What the pipeline and the embedding diariser really report, in order (finding 4 of
# issue 13): vad, then diarise with the diariser's own vad/embeddings/clustering, then asr,
# then the re-decoding of skipped speech and the boundary re-check (issue 16: at one hour
# they took as long as the ASR, with the bar standing still at 95 %), then marks.
REAL_ORDER = ([("load", 0.0), ("load", 1.0), ("vad", 0.0), ("vad", 1.0), ("diarise", 0.0),
               ("vad", 0.0), ("vad", 1.0), ("embeddings", 0.0), ("embeddings", 1.0),
               ("clustering", 0.0), ("clustering", 1.0), ("diarise", 1.0), ("asr", 0.0)]
              + [("asr", i / 20) for i in range(1, 21)]
              + [("recover", i / 4) for i in range(4)]
              + [("boundaries", i / 10) for i in range(11)] + [("marks", 0.0), ("marks", 1.0)])


def run(events: list[tuple[str, float]], diarize: str = "embedding") -> list[Tick]:
    ticks: list[Tick] = []
    now = [0.0]
    tracker = Tracker(ticks.append, diarize=diarize, clock=lambda: now[0], min_interval=0.0)
    for stage, fraction in events:
        now[0] += 1.0
        tracker(stage, fraction)
    tracker.finish()
    return ticks


def test_bar_moves_forwards_and_reaches_100_only_when_finished() -> None:
    ticks = run(REAL_ORDER)
    fractions = [t.fraction for t in ticks]
    assert fractions == sorted(fractions)
    assert all(f <= CEILING for f in fractions[:-1]) and fractions[-1] == 1.0
    assert ticks[-1].done and not any(t.done for t in ticks[:-1])
    # the bar is far from full when the long ASR stage starts (the old weights said 100 %),
    # and far from full when it ends: the re-decoding and the re-check lie ahead
    asr_start = next(t for t in ticks if t.stage == "asr")
    assert 0.2 < asr_start.fraction < 0.35
    asr_end = [t for t in ticks if t.stage == "asr"][-1]
    assert 0.55 < asr_end.fraction < 0.7
    boundaries = [t.fraction for t in ticks if t.stage == "boundaries"]
    assert boundaries[-1] - boundaries[0] > 0.15  # the re-check moves the bar as it goes


def test_diariser_sub_stages_move_the_bar_inside_diarise() -> None:
    ticks = run(REAL_ORDER)
    inside = [t for t in ticks if t.stage.startswith("diarise · ")]
    assert [t.stage for t in inside][:2] == ["diarise · vad", "diarise · vad"]
    assert inside[-1].fraction > inside[0].fraction
    weights = {name: weight for name, weight, _ in plan("embedding")}
    before = weights["load"] + weights["vad"]
    assert all(before <= t.fraction <= before + weights["diarise"] + 1e-9 for t in inside)


def test_pyannote_steps_and_no_diarisation_are_planned() -> None:
    ticks = run([("diarise", 0.0), ("segmentation", 0.5), ("embeddings", 0.5),
                 ("discrete_diarization", 1.0), ("asr", 0.5)], diarize="pyannote")
    assert [t.stage for t in ticks[1:4]] == ["diarise · segmentation", "diarise · embeddings",
                                             "diarise · discrete_diarization"]
    weights = {name: weight for name, weight, _ in plan("none")}
    assert weights["diarise"] == 0.0 and sum(weights.values()) == pytest.approx(1.0)


def test_time_left_counts_down_smoothly_at_a_steady_rate() -> None:
    events = [("load", 1.0), ("vad", 1.0), ("diarise", 1.0)] + [
        ("asr", i / 40) for i in range(1, 41)]
    lefts = [t.seconds_left for t in run(events) if t.seconds_left is not None and not t.done]
    assert lefts, "a time left once there is a rate"
    asr = lefts[10:-1]
    # one second per tick: the estimate falls by about a second a tick, never jumps a minute
    steps = [a - b for a, b in itertools.pairwise(asr)]
    assert all(-2.0 < step < 4.0 for step in steps), steps
    assert asr[-1] < asr[0]


def test_tick_label() -> None:
    assert Tick("asr", 0.42, 65).label() == "asr  42 % · about 1:05 left"
    assert Tick("done", 1.0, 0.0, done=True).label() == "done 100 %"
