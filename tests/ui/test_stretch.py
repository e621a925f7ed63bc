"""Speed without pitch change: a tone keeps its frequency while its duration scales."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from verbatim.tui.playback import Player
from verbatim.tui.stretch import Stretch, speeder

RATE = 16000
FREQ = 440.0


def tone(seconds: float) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    return (0.5 * np.sin(2 * np.pi * FREQ * t)).astype(np.float32)


def peak_frequency(samples: np.ndarray) -> float:
    middle = samples[len(samples) // 4: 3 * len(samples) // 4]
    spectrum = np.abs(np.fft.rfft(middle * np.hanning(len(middle)), 8 * len(middle)))
    return float(np.argmax(spectrum) * RATE / (8 * len(middle)))


def stream(conv: object, samples: np.ndarray, block: int = RATE // 2) -> np.ndarray:
    out = []
    for i in range(0, len(samples), block):
        piece = samples[i:i + block]
        out.append(conv.feed(piece, last=i + block >= len(samples)))  # type: ignore[attr-defined]
    return np.concatenate(out)


@pytest.mark.parametrize("speed", [0.5, 1.5])
def test_stretch_keeps_the_pitch_and_scales_the_duration(speed: float) -> None:
    played = stream(Stretch(RATE, speed), tone(6.0))
    assert len(played) / RATE == pytest.approx(6.0 / speed, rel=0.02)
    assert peak_frequency(played) == pytest.approx(FREQ, rel=0.02)


def test_stretch_starts_with_a_short_first_block() -> None:
    conv = Stretch(RATE, 0.5)
    first = conv.feed(tone(0.5))
    assert len(first) == 0  # waits for the context after the first half second
    second = conv.feed(tone(0.5))
    assert len(second) / RATE == pytest.approx(1.0, abs=0.05)  # 0.5 s of input at 0.5x


def test_tape_mode_moves_the_pitch_with_the_speed() -> None:
    played = stream(speeder(RATE, 0.5, "tape"), tone(4.0))
    assert len(played) / RATE == pytest.approx(8.0, rel=0.02)
    assert peak_frequency(played) == pytest.approx(FREQ * 0.5, rel=0.02)


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="stretch, tape"):
        speeder(RATE, 0.8, "vinyl")


class Recording:
    chunks: list[np.ndarray]

    def __init__(self, rate: int) -> None:
        Recording.chunks = []

    def write(self, block: np.ndarray) -> None:
        Recording.chunks.append(np.array(block))
        assert len(block) <= RATE // 4 + 1  # small pieces: pause is immediate

    def close(self) -> None:
        pass


@pytest.mark.parametrize("speed", [0.5, 1.5])
def test_the_streaming_player_plays_a_tone_at_its_pitch(tmp_path: Path, speed: float) -> None:
    path = tmp_path / "tone.wav"
    sf.write(path, tone(4.0), RATE)
    player = Player(path, output=Recording)
    player.play(0.0, speed=speed)
    deadline = time.monotonic() + 20
    while player.playing and time.monotonic() < deadline:
        time.sleep(0.01)
    played = np.concatenate(Recording.chunks)
    assert len(played) / RATE == pytest.approx(4.0 / speed, rel=0.02)
    assert peak_frequency(played) == pytest.approx(FREQ, rel=0.02)
    assert player.position() == pytest.approx(4.0, abs=0.01)
