"""The player: reads blocks from the file, plays faster or slower, reports failures in one line."""

from __future__ import annotations

import time

import numpy as np
import pytest

from verbatim.demo import DEMO_AUDIO
from verbatim.tui.playback import MAX_SPEED, MIN_SPEED, Player


class CountingOutput:
    """Keeps time like a sound card and counts what it was given."""

    given: list[int]

    def __init__(self, rate: int) -> None:
        self.rate = rate

    def write(self, block: np.ndarray) -> None:
        CountingOutput.given.append(len(block))
        time.sleep(len(block) / self.rate / 8)

    def close(self) -> None:
        pass


def wait_stopped(player: Player, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while player.playing and time.monotonic() < deadline:
        time.sleep(0.01)


@pytest.mark.parametrize("speed", [0.5, 1.0, 2.0])
def test_speed_changes_how_many_samples_reach_the_output(speed: float) -> None:
    CountingOutput.given = []
    player = Player(DEMO_AUDIO, output=CountingOutput)
    player.play(player.duration - 3.0, speed=speed)  # the last three seconds
    wait_stopped(player)
    played = sum(CountingOutput.given) / player.rate
    assert played == pytest.approx(3.0 / speed, rel=0.05)
    assert player.position() == pytest.approx(player.duration, abs=0.01)


def test_speed_is_clamped_and_pause_reports_the_position() -> None:
    assert (MIN_SPEED, MAX_SPEED) == (0.5, 2.0)
    CountingOutput.given = []
    player = Player(DEMO_AUDIO, output=CountingOutput)
    player.play(5.0, speed=9.0)
    time.sleep(0.2)
    at = player.pause()
    assert not player.playing and 5.0 < at < player.duration


def test_a_missing_sound_card_is_one_line_not_a_crash() -> None:
    def no_device(rate: int) -> CountingOutput:
        raise OSError("no default output device\nsecond line")

    player = Player(DEMO_AUDIO, output=no_device)
    player.play(0.0)
    wait_stopped(player)
    assert player.error == "OSError: no default output device"
