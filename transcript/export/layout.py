"""What every exporter shares: the numbered lines, turns, labels, times, note anchors.

An exporter receives one ``Rendering`` and returns bytes; it never renders or
numbers lines itself, so the same line has the same number and text in every
format.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from transcript.model import Extract, Line, Note, Transcript
from transcript.notation import Profile

PHASE_TEXT = {
    "during": "during the interview",
    "after": "straight after the interview",
    "analysis": "during analysis",
}


@dataclass(frozen=True)
class ExportMeta:
    """Facts about the interview that the document itself does not hold (all optional).

    ``created`` (ISO 8601) stamps formats that carry a date; empty means now.
    Tests pass a fixed value so golden files do not change from run to run.
    """

    title: str = ""
    participant_id: str = ""
    interview_id: str = ""
    attributes: Mapping[str, str] = field(default_factory=dict)
    extracts: tuple[Extract, ...] = ()
    created: str = ""
    media_path: str = ""
    """Where the recording is on this machine (absolute); media links point here."""
    media_source: str = ""
    """A readable copy of the recording to put inside self-contained exports (.qdpx);
    empty: ``media_path``. In an encrypted study, the decrypted copy in memory."""
    embed_media: bool | None = None
    """Put the recording inside a .qdpx: None (default) yes, unless pseudonymised."""

    def created_at(self) -> datetime:
        if self.created:
            stamp = datetime.fromisoformat(self.created.replace("Z", "+00:00"))
            return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
        return datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class TurnLines:
    """The numbered lines of one turn (a paragraph in prose formats)."""

    speaker: str
    label: str
    lines: tuple[Line, ...]

    @property
    def start(self) -> float:
        return self.lines[0].start

    @property
    def end(self) -> float:
        return max(ln.end for ln in self.lines)

    @property
    def text(self) -> str:
        return " ".join(ln.text for ln in self.lines)

    @property
    def first(self) -> int:
        return self.lines[0].n

    @property
    def last(self) -> int:
        return self.lines[-1].n


@dataclass(frozen=True)
class Rendering:
    """A document ready to export: already pseudonymised, lines already numbered."""

    doc: Transcript
    lines: tuple[Line, ...]
    profile: Profile
    width: int
    meta: ExportMeta
    target_dir: Path | None = None
    """The folder the export is written to (relative media links start here)."""
    pseudonymised: bool = False

    @property
    def title(self) -> str:
        return (self.meta.title or self.meta.interview_id
                or self.doc.audio.path.rsplit("/", 1)[-1] or "Transcript")

    def label(self, speaker_id: str) -> str:
        """The speaker label printed beside a line ('' for a between-speaker gap)."""
        return self.doc.speaker_label(speaker_id) if speaker_id else ""

    def turns(self) -> Iterator[TurnLines]:
        """Consecutive lines of one speaker, grouped: each turn started a new line."""
        group: list[Line] = []
        for line in self.lines:
            if group and line.speaker != group[0].speaker:
                yield TurnLines(group[0].speaker, self.label(group[0].speaker), tuple(group))
                group = []
            group.append(line)
        if group:
            yield TurnLines(group[0].speaker, self.label(group[0].speaker), tuple(group))

    def numbered_rows(self) -> Iterator[tuple[str, str, str]]:
        """(number, label or '', text) per line; the label only on a turn's first line."""
        previous: str | None = None
        for line in self.lines:
            label = self.label(line.speaker) if line.speaker != previous else ""
            previous = line.speaker
            text = line.text.replace("\r", " ").replace("\n", " ")
            yield str(line.n), (f"{label}:" if label else ""), text

    def numbered_text(self) -> str:
        """The transcript as aligned, line-numbered plain text (txt, QDA sources)."""
        rows = list(self.numbered_rows())
        if not rows:
            return ""
        number_w = max(len(n) for n, _, _ in rows)
        label_w = max(len(lb) for _, lb, _ in rows)
        out = []
        for n, label, text in rows:
            out.append(f"{n:>{number_w}}  {label:<{label_w}}  {text}".rstrip())
        return "\n".join(out) + "\n"

    def note_lines(self, note: Note) -> tuple[int, int] | None:
        """The first and last line a note's time range touches, if any."""
        return lines_touching(self.lines, note.start, note.end)

    def note_anchor(self, note: Note) -> str:
        """'lines 2-3 (00:00:03.5-00:00:09.1)' or just the times."""
        times = f"{clock(note.start)}-{clock(note.end)}"
        span = self.note_lines(note)
        if span is None:
            return times
        first, last = span
        which = f"line {first}" if first == last else f"lines {first}-{last}"
        return f"{which} ({times})"

    def summary(self) -> str:
        state = "locked" if self.doc.locked else "not locked"
        return f"Notation: {self.profile.name}; width {self.width}; line numbers {state}"


def lines_touching(lines: Sequence[Line], start: float, end: float) -> tuple[int, int] | None:
    """The first and last line overlapping a time range (a moment: the lines around it)."""
    if end > start:
        hits = [ln.n for ln in lines if ln.start < end and ln.end > start]
    else:
        hits = [ln.n for ln in lines if ln.start <= start <= ln.end]
    if not hits:
        return None
    return min(hits), max(hits)


def phase_text(phase: str) -> str:
    return PHASE_TEXT.get(phase, phase)


def clock(seconds: float, *, decimals: int = 1) -> str:
    """'00:01:02.5': hours, minutes, seconds (tenths by default)."""
    seconds = max(0.0, seconds)
    scale = 10 ** decimals
    total = round(seconds * scale)
    whole, frac = divmod(total, scale)
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    text = f"{h:02d}:{m:02d}:{s:02d}"
    return f"{text}.{frac:0{decimals}d}" if decimals else text


def millis(seconds: float) -> int:
    return max(0, round(seconds * 1000))
