"""Timestamped text for NVivo and MAXQDA, one paragraph per turn.

NVivo (Import Transcript Entries, tab-delimited .txt, "File includes header
row"): each row is ``Timespan<TAB>Speaker<TAB>Lines<TAB>Content`` with the
timespan as ``hh:mm:ss.s - hh:mm:ss.s``; every row has the same number of
tabs, and tabs or line breaks inside the text become spaces. Map Timespan and
Content; Speaker and Lines become custom fields.

MAXQDA (Import > Transcripts with timestamps): paragraphs ``Speaker: text``
separated by a blank line, each ending in the f4/f5 timestamp ``#hh:mm:ss-d#``
(tenths after the hyphen) that marks the time reached at that point.
"""

from __future__ import annotations

from transcript.export.layout import Rendering, clock


def _flat(text: str) -> str:
    """One physical line: tabs and line breaks become spaces ('[  ]' keeps its spaces)."""
    return text.replace("\t", " ").replace("\r", " ").replace("\n", " ")


def to_nvivo(r: Rendering) -> bytes:
    rows = ["Timespan\tSpeaker\tLines\tContent"]
    for turn in r.turns():
        span = f"{clock(turn.start)} - {clock(turn.end)}"
        lines = str(turn.first) if turn.first == turn.last else f"{turn.first}-{turn.last}"
        rows.append("\t".join([span, _flat(turn.label), lines, _flat(turn.text)]))
    return ("\r\n".join(rows) + "\r\n").encode("utf-8")


def _f4(seconds: float) -> str:
    whole, tenth = clock(seconds).split(".")
    return f"#{whole}-{tenth}#"


def to_maxqda(r: Rendering) -> bytes:
    paragraphs = []
    for turn in r.turns():
        who = f"{_flat(turn.label)}: " if turn.label else ""
        paragraphs.append(f"{who}{_flat(turn.text)} {_f4(turn.end)}")
    return ("\r\n\r\n".join(paragraphs) + "\r\n").encode("utf-8")
