"""The recording's sidecar: device, rate, start time, gaps, pauses and live marks.

It sits next to the WAV (``interview.wav`` -> ``interview.capture.json``), is
rewritten atomically (temporary file, fsync, rename) whenever something
changes, and is owner-only. The study store reads its live marks as note
anchors; all times are seconds on the recording's timeline (the WAV's frames).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from capture.errors import CaptureError

FORMAT = "verbatim-capture/1"
SUFFIX = ".capture.json"


@dataclass(frozen=True)
class Gap:
    """Audio the device never delivered, filled with silence on the timeline."""

    start: float      # timeline seconds where the silence begins
    duration: float   # seconds of audio missing (and filled, up to the fill cap)
    reason: str = "stall"  # stall (the clock) | overflow (PortAudio flag) | queue (writer lagged)
    filled: float | None = None  # seconds of silence written, when less than duration


@dataclass(frozen=True)
class Pause:
    """A pause: the timeline stops at ``at`` while ``duration`` wall-clock seconds pass."""

    at: float
    duration: float
    started_at: str = ""


@dataclass(frozen=True)
class LiveMark:
    """A moment the interviewer marked while recording, with an optional short text."""

    time: float
    text: str = ""
    marked_at: str = ""


@dataclass(frozen=True)
class Segment:
    """One WAV file of the recording; long sessions roll over before the 4 GiB limit."""

    path: str       # file name, relative to the sidecar's folder
    start: float    # timeline seconds of its first frame
    frames: int = 0


@dataclass(frozen=True)
class Sidecar:
    """Everything the recorder knows about a recording besides the samples."""

    device: str
    rate: int
    channels: int
    started_at: str
    gaps: tuple[Gap, ...] = ()
    pauses: tuple[Pause, ...] = ()
    marks: tuple[LiveMark, ...] = ()
    segments: tuple[Segment, ...] = ()
    overflows: tuple[float, ...] = ()
    frames: int = 0
    ended_at: str | None = None
    stop_reason: str | None = None
    subtype: str = "PCM_24"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def duration(self) -> float:
        return self.frames / self.rate if self.rate else 0.0

    @property
    def complete(self) -> bool:
        """False until the recorder stopped normally (a crash leaves it False)."""
        return self.ended_at is not None

    @property
    def dropped_seconds(self) -> float:
        return sum(g.duration for g in self.gaps)


def sidecar_path(wav: Path) -> Path:
    """Where the sidecar of ``wav`` lives (or ``wav`` itself when it already is one)."""
    wav = Path(wav)
    if wav.name.endswith(SUFFIX):
        return wav
    return wav.with_name(wav.stem + SUFFIX) if wav.suffix else wav.with_name(wav.name + SUFFIX)


def to_dict(sidecar: Sidecar) -> dict[str, Any]:
    data = asdict(sidecar)
    extra = data.pop("extra")
    data = {"format": FORMAT, **data, "duration": sidecar.duration,
            "complete": sidecar.complete, **extra}
    return data


def from_dict(data: dict[str, Any]) -> Sidecar:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CaptureError("not a verbatim capture sidecar (format is not verbatim-capture/1)")
    known = {"format", "device", "rate", "channels", "started_at", "gaps", "pauses", "marks",
             "segments", "overflows", "frames", "ended_at", "stop_reason", "subtype",
             "duration", "complete"}
    try:
        return Sidecar(
            device=str(data["device"]), rate=int(data["rate"]), channels=int(data["channels"]),
            started_at=str(data["started_at"]),
            gaps=tuple(Gap(**g) for g in data.get("gaps", ())),
            pauses=tuple(Pause(**p) for p in data.get("pauses", ())),
            marks=tuple(LiveMark(**m) for m in data.get("marks", ())),
            segments=tuple(Segment(**s) for s in data.get("segments", ())),
            overflows=tuple(float(t) for t in data.get("overflows", ())),
            frames=int(data.get("frames", 0)), ended_at=data.get("ended_at"),
            stop_reason=data.get("stop_reason"), subtype=str(data.get("subtype", "PCM_24")),
            extra={k: v for k, v in data.items() if k not in known})
    except (KeyError, TypeError, ValueError) as err:
        raise CaptureError(f"damaged capture sidecar: {err}") from None


def write_sidecar(path: Path, sidecar: Sidecar) -> None:
    """Replace the sidecar atomically: a crash leaves the old one or the new one, never half."""
    path = Path(path)
    text = json.dumps(to_dict(sidecar), indent=1, ensure_ascii=False) + "\n"
    fd, tmp = tempfile.mkstemp(prefix="." + path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def read_sidecar(wav_or_sidecar: Path) -> Sidecar:
    """The sidecar of a recording (pass the WAV or the sidecar itself)."""
    path = sidecar_path(Path(wav_or_sidecar))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CaptureError(f"no capture sidecar at {path}") from None
    except (OSError, ValueError) as err:
        raise CaptureError(f"cannot read capture sidecar {path}: {err}") from None
    return from_dict(data)


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX needs the folder fsync'd)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
