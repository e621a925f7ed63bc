"""Fixtures for driving the real app: a study on disk, a fake microphone and pipeline.

Everything shown on screen is deterministic (fixed words, fixed dates, no
clocks or temp paths in view), so the snapshots are stable.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from transcript.model import AudioRef, Mark, MarkKind, Source, Speaker, Transcript, Word
from verbatim.config import Config
from verbatim.demo import DEMO_AUDIO
from verbatim.study import Study

INTERVIEWER_TEXT = ("Thank you for coming in today. Could you tell me about your role in the team "
               "and how long you have been there?")
PARTICIPANT_TEXT = ("Yes I'm a social worker. I've been with the community team for about eleven "
               "years now and it's th- it's that dual edge thing about what we do wanting to "
               "understand people and support people and at the same time sometimes having to "
               "do things that you wouldn't want happen to yourself.")
INTERVIEWER = INTERVIEWER_TEXT.split(" ")
PARTICIPANT = PARTICIPANT_TEXT.split(" ")


def make_doc(turns: int = 6, *, audio: str = "demo.ogg") -> Transcript:
    """A deterministic two-speaker transcript with pauses and auto marks."""
    words: list[Word] = []
    marks: list[Mark] = []
    t = 0.5
    for k in range(turns):
        speaker, text = ("S1", INTERVIEWER) if k % 2 == 0 else ("S2", PARTICIPANT)
        for i, token in enumerate(text):
            words.append(Word(token, round(t, 2), round(t + 0.25, 2), speaker, 0.9))
            t += 0.3
            if i == 9:
                marks.append(Mark(MarkKind.PAUSE, round(t - 0.05, 2), round(t + 0.6, 2),
                                  speaker, "", Source.AUTO))
                t += 0.6
        t += 1.0
    return Transcript(audio=AudioRef(audio, "", round(t, 2)),
                      speakers=(Speaker("S1", "S1"), Speaker("S2", "S2")),
                      words=tuple(words), marks=tuple(marks))


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return Config(data_dir=tmp_path / "data", models_dir=tmp_path / "models")


@pytest.fixture
def study(tmp_path: Path) -> Iterator[Study]:
    """A study with P1 (two interviews: one transcribed, one only recorded)."""
    s = Study.init(tmp_path / "study", name="Resistance study")
    s.add_participant("P1", pseudonym="Sam", attributes={"profession": "Social Worker"})
    # brackets as transcripts and pseudonyms use them: must show literally, never as markup
    s.add_participant("P2", pseudonym="[withheld]", attributes={"profession": "Psychologist"})
    iid = s.add_interview("P1", DEMO_AUDIO, date="2024-03-14", place="Clinic")
    s.save_transcript(iid, make_doc(), origin="pipeline")
    s.add_interview("P1", DEMO_AUDIO, date="2024-06-02")
    yield s
    s.close()


class FakeSource:
    """A microphone that hums: delivers 20 ms blocks of a quiet sine from a thread."""

    def __init__(self, rate: int = 16000, channels: int = 1) -> None:
        self.name, self.rate, self.channels = "fake mic", rate, channels
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, deliver: Callable[[np.ndarray, float, bool], None]) -> None:
        def run() -> None:
            block = int(self.rate * 0.02)
            phase = 0
            while not self._stop.is_set():
                t = (np.arange(block) + phase) / self.rate
                data = (0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
                deliver(np.repeat(data[:, None], self.channels, axis=1), time.monotonic(),
                        False)
                phase += block
                time.sleep(0.02)

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)


def fake_recorder_factory(path: Path, *, device: Any = None, channels: int = 1) -> Any:
    from capture.recorder import Recorder

    return Recorder(path, channels=channels, rate=16000,
                    source=FakeSource(16000, channels), clock=time.monotonic)


def fake_devices() -> list[Any]:
    from capture.devices import DeviceInfo

    return [DeviceInfo(index=0, name="Fake USB microphone", max_channels=2,
                       default_rate=48000.0, is_default=True)]


class SilentOutput:
    """A player output that keeps time without a sound card."""

    def __init__(self, rate: int) -> None:
        self.rate = rate

    def write(self, block: np.ndarray) -> None:
        time.sleep(len(block) / self.rate / 4)  # 4x real time keeps tests short

    def close(self) -> None:
        pass


def silent_player(path: Path) -> Any:
    from verbatim.tui.playback import Player

    return Player(path, output=SilentOutput)


async def home_loaded(pilot: Any, timeout: float = 10.0) -> None:
    """Until the home screen has shown its first load (it reads the study in a worker)."""
    deadline = time.monotonic() + timeout
    while getattr(pilot.app.screen, "loads", 1) < 1:
        if time.monotonic() > deadline:
            raise AssertionError("the home screen never loaded the study")
        await pilot.pause(0.02)


def starts_loaded(app: Any) -> Any:
    """``app`` whose ``run_test`` starts once the home screen shows the study, as a user
    sees it before pressing a key (the home reads the study in a worker)."""
    run_test = app.run_test

    @asynccontextmanager
    async def loaded(*args: Any, **kw: Any) -> AsyncIterator[Any]:
        async with run_test(*args, **kw) as pilot:
            await home_loaded(pilot)
            yield pilot

    app.run_test = loaded
    return app


@pytest.fixture
def make_app(config: Config, study: Study) -> Callable[..., Any]:
    from verbatim.tui.app import VerbatimApp

    def build(**kwargs: Any) -> VerbatimApp:
        options: dict[str, Any] = {"study": study, "recorder_factory": fake_recorder_factory,
                                   "device_lister": fake_devices, "player_factory": silent_player}
        options.update(kwargs)
        return starts_loaded(VerbatimApp(config, **options))

    return build
