"""Dropout accounting against a clock, with hand-built arrival times (no audio, no threads)."""

from __future__ import annotations

import random

import pytest

from capture.dropouts import DropoutSettings, DropoutTracker, Emission

RATE = 48000
BLOCK = 960  # 20 ms


def stream(seconds: float, *, jitter: float = 0.0, stalls: dict[int, float] | None = None,
           delays: dict[int, float] | None = None, drift_ppm: float = 0.0, seed: int = 0,
           overflow_at: frozenset[int] = frozenset()) -> tuple[list[tuple], int]:
    """Blocks as (index, arrival, overflow); stalls lose audio, delays only postpone it.

    Returns the blocks and the number of frames the device produced (lost ones included).
    """
    rng = random.Random(seed)
    stalls, delays = stalls or {}, delays or {}
    produced = 0
    held_until = 0.0
    blocks = []
    for i in range(round(seconds * RATE / BLOCK)):
        produced += round(stalls.get(i, 0.0) * RATE)
        produced += BLOCK
        due = 100.0 + produced / RATE * (1 + drift_ppm * 1e-6)
        if i in delays:
            held_until = due + delays[i]
        arrival = max(due, held_until) + rng.uniform(0, jitter)
        blocks.append((i, arrival, i in overflow_at))
    return blocks, produced


def run(blocks: list[tuple], settings: DropoutSettings | None = None) -> tuple[list[Emission],
                                                                              DropoutTracker]:
    tracker = DropoutTracker(RATE, settings)
    out: list[Emission] = []
    for i, arrival, overflow in blocks:
        out += tracker.observe(BLOCK, arrival, overflow=overflow, payload=i)
    out += tracker.release()
    return out, tracker


def gaps(out: list[Emission]) -> list[Emission]:
    return [e for e in out if e.kind == "gap"]


def audio_order(out: list[Emission]) -> list[int]:
    return [e.payload for e in out if e.kind == "audio"]


def test_a_steady_jittery_stream_has_no_gaps() -> None:
    blocks, produced = stream(120, jitter=0.03, seed=1)
    out, tracker = run(blocks)
    assert gaps(out) == []
    assert tracker.timeline_frames == produced
    assert audio_order(out) == list(range(len(blocks)))


def test_a_stall_becomes_a_gap_of_its_length_filled_at_the_right_place() -> None:
    blocks, produced = stream(20, jitter=0.005, stalls={500: 0.8}, seed=2)
    out, tracker = run(blocks)
    [gap] = gaps(out)
    assert gap.reason == "stall"
    assert abs(gap.frames - 0.8 * RATE) <= 0.01 * RATE  # within the 5 ms jitter (+ rounding)
    assert gap.at == 500 * BLOCK  # the silence goes before the first block after the stall
    assert abs(tracker.timeline_frames - produced) <= 0.01 * RATE
    assert audio_order(out) == list(range(len(blocks)))
    assert out.index(gap) == 500


def test_a_late_burst_that_catches_up_is_not_a_gap() -> None:
    blocks, produced = stream(20, jitter=0.005, delays={300: 0.4}, seed=3)
    out, tracker = run(blocks)
    assert gaps(out) == []
    assert tracker.timeline_frames == produced
    assert audio_order(out) == list(range(len(blocks)))


def test_a_stall_shorter_than_the_threshold_is_not_reported() -> None:
    blocks, _ = stream(10, stalls={300: 0.05})
    out, _ = run(blocks)
    assert gaps(out) == []


def test_an_overflow_flag_lowers_the_threshold_to_two_blocks() -> None:
    blocks, produced = stream(10, stalls={300: 0.06}, overflow_at=frozenset({300}))
    out, tracker = run(blocks)
    [gap] = gaps(out)
    assert gap.reason == "overflow"
    assert gap.frames == round(0.06 * RATE)
    assert tracker.timeline_frames == produced
    assert tracker.overflow_flags == [300 * BLOCK]


def test_an_overflow_flag_without_missing_time_is_only_noted() -> None:
    blocks, produced = stream(10, overflow_at=frozenset({250}))
    out, tracker = run(blocks)
    assert gaps(out) == []
    assert tracker.overflow_flags == [250 * BLOCK]
    assert tracker.timeline_frames == produced


def test_a_flagged_late_burst_is_not_a_gap() -> None:
    """A starved callback: its first block comes late with the flag, the rest catch up."""
    blocks, produced = stream(10, jitter=0.003, delays={300: 1.0},
                              overflow_at=frozenset({300}), seed=6)
    out, tracker = run(blocks)
    assert gaps(out) == []
    assert tracker.timeline_frames == produced


def test_clock_drift_between_sound_card_and_computer_is_not_a_gap() -> None:
    blocks, _ = stream(900, jitter=0.01, drift_ppm=300, seed=4)  # 0.27 s over 15 minutes
    out, _ = run(blocks)
    assert gaps(out) == []


def test_several_stalls_are_each_counted() -> None:
    blocks, produced = stream(30, stalls={200: 0.3, 700: 1.5, 1200: 0.25})
    out, tracker = run(blocks)
    found = gaps(out)
    assert [g.at for g in found] == [200 * BLOCK, 700 * BLOCK + round(0.3 * RATE),
                                     1200 * BLOCK + round(0.3 * RATE) + round(1.5 * RATE)]
    assert [round(g.frames / RATE, 2) for g in found] == [0.3, 1.5, 0.25]
    assert tracker.timeline_frames == produced


def test_a_very_long_gap_is_capped_but_its_length_kept() -> None:
    blocks, produced = stream(10, stalls={300: 30.0})
    out, tracker = run(blocks, DropoutSettings(max_fill=5.0))
    [gap] = gaps(out)
    assert gap.frames == 5 * RATE
    assert gap.missing == 30 * RATE
    assert tracker.timeline_frames == produced - 25 * RATE
    # after the capped fill the stream is on time again: no second gap
    assert len(gaps(out)) == 1


def test_restart_after_a_pause_does_not_count_the_pause_as_a_gap() -> None:
    tracker = DropoutTracker(RATE)
    out: list[Emission] = []
    t = 100.0
    for i in range(200):
        t += BLOCK / RATE
        out += tracker.observe(BLOCK, t, payload=i)
    tracker.restart()
    t += 60.0  # a minute paused: blocks were discarded, not lost
    for i in range(200, 400):
        t += BLOCK / RATE
        out += tracker.observe(BLOCK, t, payload=i)
    assert gaps(out) == []
    assert tracker.timeline_frames == 400 * BLOCK


def test_queue_losses_become_gaps_in_order_even_while_holding() -> None:
    blocks, _ = stream(5, stalls={100: 0.4})
    tracker = DropoutTracker(RATE)
    out: list[Emission] = []
    for i, arrival, overflow in blocks:
        if i == 102:  # while the stall is being confirmed, the writer also lost 2 blocks
            out += tracker.add_loss(2 * BLOCK)
        out += tracker.observe(BLOCK, arrival, overflow=overflow, payload=i)
    out += tracker.release()
    kinds = [(e.kind, e.reason) for e in out if e.kind == "gap"]
    assert kinds == [("gap", "stall"), ("gap", "queue")]
    queue_gap = next(e for e in out if e.reason == "queue")
    assert out.index(queue_gap) == out.index(next(e for e in out if e.payload == 101)) + 1


@pytest.mark.parametrize("seed", range(5))
def test_random_stalls_are_accounted_within_a_block(seed: int) -> None:
    rng = random.Random(seed)
    stalls = {rng.randrange(60, 1400): rng.uniform(0.2, 3.0) for _ in range(3)}
    blocks, produced = stream(30, jitter=0.004, stalls=stalls, seed=seed)
    out, tracker = run(blocks)
    assert len(gaps(out)) == len(stalls)
    assert abs(tracker.timeline_frames - produced) <= len(stalls) * BLOCK
    assert audio_order(out) == list(range(len(blocks)))
