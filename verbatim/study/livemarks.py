"""What a recording's capture sidecar brings to its import: live marks and the date.

The recorder writes a sidecar (``capture.sidecar``) beside each recording with
when it started and the marks the interviewer tapped. On import, each mark
becomes a note to complete, anchored to the moments just before the tap, and
the start date becomes the interview's date. Reading the sidecar is kept here,
apart from the interviews table, because it is the store's one contact with
the capture package and because a damaged sidecar must never block an import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

LIVE_MARK_SPAN = 10.0
"""A live mark is tapped just after the moment it marks: its note covers the 10 s before."""


@dataclass(frozen=True)
class LiveMark:
    """A mark tapped during the recording, as the note it becomes."""

    start: float
    end: float
    text: str
    written_at: str


def read_sidecar(source: Path) -> Any | None:
    """The capture sidecar beside a recording, if one exists and reads."""
    from capture.sidecar import read_sidecar as read
    from capture.sidecar import sidecar_path

    try:
        if not Path(sidecar_path(source)).exists():
            return None
        return read(source)
    except Exception:
        return None  # a damaged sidecar must not block importing the recording itself


def segment_count(sidecar: Any | None) -> int:
    """How many segment files the sidecar's recording was written in."""
    return len(getattr(sidecar, "segments", ()) or ())


def live_marks(sidecar: Any | None) -> list[LiveMark]:
    """The recording's live marks as notes: when they were tapped, on what came just before."""
    if sidecar is None:
        return []
    marks = getattr(sidecar, "marks", None) or []
    started = str(getattr(sidecar, "started_at", "") or "")
    out = []
    for mark in marks:
        text = str(getattr(mark, "text", "") or "").strip() or "marked during the interview"
        at = max(0.0, float(getattr(mark, "time", 0.0)))
        marked = str(getattr(mark, "marked_at", "") or "")
        written = _offset(marked, 0.0) if marked else _offset(started, at)
        out.append(LiveMark(max(0.0, at - LIVE_MARK_SPAN), at, text, written))
    return out


def _offset(started: str, seconds: float) -> str:
    """``started`` (ISO) plus ``seconds``, in the store's format; "" if unknown."""
    try:
        moment = datetime.fromisoformat(started)
    except ValueError:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment + timedelta(seconds=seconds)).astimezone(UTC).isoformat(timespec="seconds")


def recording_date(source: Path, sidecar: Any | None) -> str:
    """The day the recording started: from its sidecar, else the file's modification time."""
    started = getattr(sidecar, "started_at", None) if sidecar is not None else None
    if isinstance(started, str) and ISO_DATE.match(started[:10]):
        return started[:10]
    if isinstance(started, datetime):
        return started.date().isoformat()
    return datetime.fromtimestamp(source.stat().st_mtime, UTC).date().isoformat()
