"""The few transcript-room functions the store needs, in one place.

The store codes against the cross-room API (``transcript.lines``,
``transcript.model.Extract``); if a name there moves, this file is the one
place to adapt.
"""

from __future__ import annotations

from transcript.lines import lines_in_range as _lines_in_range
from transcript.lines import lock as _lock
from transcript.model import Extract, Line, Transcript
from transcript.notation import Profile


def lock(doc: Transcript, *, profile: str | Profile = "paper", width: int = 80) -> Transcript:
    """Freeze the line numbering of ``doc`` (a locked document is returned as it is)."""
    return _lock(doc, profile=profile, width=width)


def lines_in_range(lines: tuple[Line, ...], first: int, last: int) -> tuple[Line, ...]:
    """The numbered lines ``first``..``last``; ValueError when the range is not all there."""
    return tuple(_lines_in_range(lines, first, last))


def make_extract(*, number: int, interview: str, participant: str, role: str, first: int,
                 last: int, text: str, analysis: str) -> Extract:
    """A ``transcript.model.Extract`` (its ``citation`` is the paper's citation string)."""
    return Extract(number=number, interview=interview, participant=participant, role=role,
                   first=first, last=last, text=text, analysis=analysis)


def render_lines(lines: tuple[Line, ...], doc: Transcript) -> str:
    """An extract's text, one numbered line per line of text.

    A single speaker's words stand alone, as the paper quotes them; when the
    extract crosses turns, each change of speaker is labelled ("P4: …").
    """
    speakers = {line.speaker for line in lines}
    if len(speakers) <= 1:
        return "\n".join(line.text for line in lines)
    out: list[str] = []
    previous: str | None = None
    for line in lines:
        if line.speaker != previous:
            out.append(f"{doc.speaker_label(line.speaker)}: {line.text}")
        else:
            out.append(line.text)
        previous = line.speaker
    return "\n".join(out)
