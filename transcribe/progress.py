"""The transcription's progress model: which stages run, in what order, with what weight.

The pipeline reports ``progress(stage, fraction_of_stage)`` as it goes (load, vad,
diarise, asr, recover, boundaries, marks) and a diariser reports its own sub-stages inside "diarise"
("vad", "embeddings", "clustering"; pyannote's "segmentation", ...). ``Tracker``
turns that stream into one overall fraction that only moves forwards and never
reads 100 % before ``finish()``, with a time left measured from the rates seen so
far. Every front end (the CLI's bar, the app's jobs screen) shows a ``Tick``.

The weights are shares of a job's wall time measured on a 2-core CPU with
tiny.en and the default diariser on half-hour and one-hour interviews (one hour:
diarisation 79 s, ASR 142 s, re-decoding skipped speech 126 s, the boundary
re-check 96 s); a stage a job does not need (no skipped speech, a diariser that
needs no re-check) is passed over. The time left is corrected by the measured
rate, so rough weights only matter at the start.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

PIPELINE_STAGES: tuple[tuple[str, float], ...] = (
    ("load", 0.05), ("vad", 0.02), ("diarise", 0.18), ("asr", 0.36), ("recover", 0.18),
    ("boundaries", 0.17), ("marks", 0.04))
"""The pipeline's stages in the order it runs them, with their share of the time."""

DIARISER_STAGES: dict[str, tuple[tuple[str, float], ...]] = {
    "embedding": (("vad", 0.10), ("embeddings", 0.80), ("clustering", 0.10)),
    "pyannote": (("segmentation", 0.35), ("speaker_counting", 0.02), ("embeddings", 0.55),
                 ("discrete_diarization", 0.08)),
    "channels": (("diarise", 1.0),),
    "none": (),
}
"""Each diariser's own sub-stages, nested inside the pipeline's "diarise" stage."""

CEILING = 0.99
"""The most the bar shows until the job has really finished (saving included)."""


@dataclass(frozen=True)
class Tick:
    """One progress report for a front end: what runs, how far the job is, time left."""

    stage: str
    fraction: float
    seconds_left: float | None = None
    done: bool = False

    def label(self) -> str:
        """"asr 42 % · about 1:05 left"; the time once there is a rate to go on."""
        text = f"{self.stage} {self.fraction * 100:3.0f} %"
        if self.seconds_left is not None and not self.done:
            text += f" · about {clock(self.seconds_left)} left"
        return text


Report = Callable[[Tick], None]
"""The one progress callback type of every long job (transcription, export, backup)."""


def clock(seconds: float) -> str:
    whole = max(0, round(seconds))
    if whole >= 3600:
        return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
    return f"{whole // 60}:{whole % 60:02d}"


def plan(diarize: str) -> tuple[tuple[str, float, tuple[tuple[str, float], ...]], ...]:
    """The stages of a job with diariser ``diarize``, weights normalised to 1."""
    subs = DIARISER_STAGES.get(diarize, ())
    stages = [(name, 0.0 if name == "diarise" and diarize == "none" else weight,
               subs if name == "diarise" else ())
              for name, weight in PIPELINE_STAGES]
    total = sum(weight for _, weight, _ in stages)
    return tuple((name, weight / total, sub) for name, weight, sub in stages)


class Tracker:
    """A ``progress(stage, fraction)`` callback that reports ``Tick``s to ``report``.

    A stage name that is not a later pipeline stage is read as a sub-stage of the
    stage running now (a diariser's "vad" is not the pipeline's "vad"), so a
    diariser's reports move the bar inside "diarise" and never backwards.
    """

    def __init__(self, report: Report, *, diarize: str = "embedding",
                 clock: Callable[[], float] = time.monotonic, min_interval: float = 0.1) -> None:
        self.report = report
        self.stages = plan(diarize)
        self.clock = clock
        self.min_interval = min_interval
        self.started = clock()
        self.index = -1
        self.fraction = 0.0
        self.stage = "starting"
        self._stage_started = self.started
        self._stage_base = 0.0
        self._sub_index = -1
        self._last_sent = -1.0
        self._eta: float | None = None
        self._eta_at = self.started

    def __call__(self, stage: str, fraction: float) -> None:
        fraction = max(0.0, min(1.0, float(fraction)))
        names = [name for name, _, _ in self.stages]
        now = self.clock()
        if stage in names and names.index(stage) >= max(self.index, 0) and (
                names.index(stage) > self.index or not self._in_sub_stage(stage)):
            index = names.index(stage)
            if index != self.index:
                self.index = index
                self._stage_started = now
                self._stage_base = self.fraction
                self._sub_index = -1
            within = fraction
            self.stage = stage
        elif self.index >= 0:
            within = self._sub_fraction(stage, fraction)
            self.stage = f"{self.stages[self.index][0]} · {stage}"
        else:
            within = 0.0
            self.stage = stage
        overall = self._before(self.index) + self._weight(self.index) * within
        self.fraction = min(max(self.fraction, overall), CEILING)
        self._update_eta(now)
        if now - self._last_sent >= self.min_interval or fraction >= 1.0:
            self._last_sent = now
            self.report(Tick(self.stage, self.fraction, self._eta))

    def finish(self, stage: str = "done") -> None:
        """The job has really finished: now, and only now, the bar reads 100 %."""
        self.fraction = 1.0
        self.report(Tick(stage, 1.0, 0.0, done=True))

    # ------------------------------------------------------------ internals

    def _in_sub_stage(self, stage: str) -> bool:
        """A repeated report of the current stage's name from inside its sub-stages."""
        if self.index < 0:
            return False
        subs = [name for name, _ in self.stages[self.index][2]]
        return stage in subs and self._sub_index >= 0

    def _weight(self, index: int) -> float:
        return self.stages[index][1] if index >= 0 else 0.0

    def _before(self, index: int) -> float:
        return sum(weight for _, weight, _ in self.stages[:max(index, 0)])

    def _sub_fraction(self, stage: str, fraction: float) -> float:
        subs = self.stages[self.index][2]
        names = [name for name, _ in subs]
        if stage not in names:  # a sub-stage this version does not know: hold still
            base = self.fraction - self._before(self.index)
            return base / self._weight(self.index) if self._weight(self.index) else 0.0
        index = names.index(stage)
        self._sub_index = max(self._sub_index, index)
        done = sum(weight for _, weight in subs[:index])
        return done + subs[index][1] * fraction

    def _update_eta(self, now: float) -> None:
        """Time left: this stage at its own measured rate, later stages at the job's rate."""
        elapsed = now - self.started
        if self.fraction < 0.03 or elapsed < 2.0:
            return
        job_rate = self.fraction / elapsed  # share of the job per second so far
        left = (1.0 - self.fraction) / job_rate
        stage_done = self.fraction - self._stage_base
        stage_time = now - self._stage_started
        if self.index >= 0 and stage_done > 0.01 and stage_time > 1.0:
            stage_end = self._before(self.index) + self._weight(self.index)
            stage_left = max(stage_end - self.fraction, 0.0) * stage_time / stage_done
            left = stage_left + (1.0 - stage_end) / job_rate
        if self._eta is None:
            self._eta = left
        else:
            # count the old estimate down, then blend: no jumps of a minute between ticks
            counted = max(self._eta - (now - self._eta_at), 0.0)
            self._eta = 0.7 * counted + 0.3 * left
        self._eta_at = now
