"""Dropout accounting: frames received against a clock, so missing audio becomes silence.

PortAudio's ``input_overflow`` flag under-reports stalls (a suspended
laptop, a starved callback thread, a device that hiccups), so the timeline
is checked against a clock: by the arrival of a block the recording should
hold about ``(arrival - anchor) * rate`` frames. The difference between that
and what was received is the block's *lateness*. Lateness jitters by a block
or two and drifts slowly (the sound card's clock is not the computer's), so
it is compared with a *baseline*: a low envelope that follows drift over
tens of seconds. When lateness exceeds the baseline by more than
``threshold`` the blocks are held back for up to ``confirm`` seconds: if they
catch up (a late burst: nothing was lost) they are passed on unchanged;
if lateness stays up, audio really went missing, and a gap of the smallest
excess seen is filled with silence before them. A block flagged by
PortAudio as following an overflow is suspected from two blocks' lateness,
but confirmed the same way: the late burst after a starved callback carries
the flag too, and its buffered audio is not lost.

Pure logic: no threads, no I/O; the recorder's writer thread drives it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Emission:
    """What the writer should do next: write a block of audio, or write silence for a gap."""

    kind: str            # "audio" | "gap"
    frames: int          # frames of audio or of silence to write
    payload: Any = None  # the audio block (for "audio")
    reason: str = ""     # for "gap": stall | overflow | queue
    missing: int = 0     # for "gap": frames missing (more than ``frames`` when capped)
    at: int = 0          # timeline frame where it starts


@dataclass(frozen=True)
class DropoutSettings:
    threshold: float = 0.15   # seconds of lateness beyond the baseline that raise suspicion
    confirm: float = 0.5      # seconds of arrivals to watch before calling it a gap
    warmup: float = 1.0       # seconds after (re)start while the baseline settles
    leak: float = 0.02        # per second: how fast the baseline follows lateness upwards
    max_fill: float = 600.0   # seconds of silence written for one gap at most


class DropoutTracker:
    """Turns (block, arrival time, overflow flag) into audio and silence on one timeline."""

    def __init__(self, rate: int, settings: DropoutSettings | None = None) -> None:
        self.rate = rate
        self.settings = settings or DropoutSettings()
        self.timeline_frames = 0      # everything emitted or held: audio and silence
        self.overflow_flags: list[int] = []  # timeline frames where PortAudio flagged overflow
        self._anchor = 0.0
        self._started_at: float | None = None
        self._last_arrival = 0.0
        self._baseline = 0.0
        self._pending: list[Emission] = []
        self._suspect_since: float | None = None
        self._suspect_limit = self.settings.threshold
        self._suspect_reason = "stall"
        self._min_excess = 0.0

    @property
    def holding(self) -> int:
        """Frames held back while a suspected gap is being confirmed."""
        return sum(e.frames for e in self._pending)

    def restart(self) -> None:
        """After a pause: re-anchor the clock on the next block, keep the timeline."""
        self._started_at = None

    def observe(self, frames: int, arrival: float, *, overflow: bool = False,
                payload: Any = None) -> list[Emission]:
        """Account for one block that arrived at ``arrival`` (seconds, monotonic)."""
        out: list[Emission] = []
        block = Emission("audio", frames, payload, at=self.timeline_frames)
        if self._started_at is None:
            self._anchor = arrival - (self.timeline_frames + frames) / self.rate
            self._started_at = arrival
            self._baseline = 0.0
        late = arrival - self._anchor - (self.timeline_frames + frames) / self.rate
        excess = late - self._baseline
        elapsed = arrival - self._last_arrival
        self._last_arrival = arrival
        if overflow:
            self.overflow_flags.append(self.timeline_frames)

        if arrival - self._started_at < self.settings.warmup and self._suspect_since is None:
            self._baseline = late  # still settling: follow the stream's own rhythm
            return self._emit(out, block)

        if self._suspect_since is None:
            # PortAudio's overflow flag says audio was lost: suspect even two blocks' worth
            limit = (min(self.settings.threshold, max(0.04, 2 * frames / self.rate))
                     if overflow else self.settings.threshold)
            if excess > limit:
                self._suspect_since = arrival
                self._suspect_limit = limit
                self._suspect_reason = "overflow" if overflow else "stall"
                self._min_excess = excess
                self._pending.append(block)
                self.timeline_frames += frames
                return out
            self._follow_baseline(late, elapsed)
            return self._emit(out, block)

        # a gap is suspected: hold blocks until they catch up or the suspicion is confirmed
        self._pending.append(block)
        self.timeline_frames += frames
        self._min_excess = min(self._min_excess, excess)
        if excess <= self._suspect_limit:
            out.extend(self.release())
        elif arrival - self._suspect_since >= self.settings.confirm:
            held = self._pending
            self._pending = []
            self._suspect_since = None
            self.timeline_frames -= sum(e.frames for e in held)
            self._fill(out, self._min_excess, self._suspect_reason)
            for e in held:
                self._emit(out, replace(e, at=self.timeline_frames))
        return out

    def add_loss(self, frames: int, reason: str = "queue") -> list[Emission]:
        """Frames known lost before reaching the writer (its queue was full): fill them."""
        gap = Emission("gap", frames, reason=reason, missing=frames, at=self.timeline_frames)
        self.timeline_frames += frames
        if self._suspect_since is not None:
            self._pending.append(gap)
            return []
        return [gap]

    def release(self) -> list[Emission]:
        """Pass on held blocks unchanged (they caught up, or recording is pausing/stopping)."""
        out = self._pending
        self._pending = []
        self._suspect_since = None
        return out

    def _emit(self, out: list[Emission], item: Emission) -> list[Emission]:
        out.append(item)
        self.timeline_frames += item.frames
        return out

    def _fill(self, out: list[Emission], seconds: float, reason: str) -> None:
        missing = max(0, round(seconds * self.rate))
        if missing == 0:
            return
        filled = min(missing, round(self.settings.max_fill * self.rate))
        # silence not written (beyond the cap) must not count as lateness later
        self._anchor += (missing - filled) / self.rate
        out.append(Emission("gap", filled, reason=reason, missing=missing,
                            at=self.timeline_frames))
        self.timeline_frames += filled

    def _follow_baseline(self, late: float, elapsed: float) -> None:
        if late < self._baseline:
            self._baseline = late
        else:
            step = min(1.0, self.settings.leak * max(0.0, elapsed))
            self._baseline += step * (late - self._baseline)
