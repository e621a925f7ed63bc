"""SubRip (.srt) and WebVTT (.vtt) subtitles: one cue per two numbered lines of a turn.

Both formats are small and fully specified, so they are written directly:
SRT as numbered cues with ``hh:mm:ss,mmm`` times; WebVTT (W3C) with
``hh:mm:ss.mmm`` times, speakers as voice spans (``<v P4>``) and the cue text
escaped (``&``, ``<``, ``>``). A between-speaker gap line gets no speaker.
"""

from __future__ import annotations

from collections.abc import Iterator

from transcript.export.layout import Rendering

LINES_PER_CUE = 2
MIN_CUE = 0.5  # seconds; a cue must end after it starts


def _cues(r: Rendering) -> Iterator[tuple[float, float, str, list[str]]]:
    for turn in r.turns():
        for i in range(0, len(turn.lines), LINES_PER_CUE):
            chunk = turn.lines[i:i + LINES_PER_CUE]
            start = chunk[0].start
            end = max(max(ln.end for ln in chunk), start + MIN_CUE)
            yield start, end, turn.label, [ln.text for ln in chunk]


def _stamp(seconds: float, sep: str) -> str:
    ms = max(0, round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def to_srt(r: Rendering) -> bytes:
    out = []
    for number, (start, end, label, texts) in enumerate(_cues(r), start=1):
        if label:
            texts = [f"{label}: {texts[0]}", *texts[1:]]
        out.append(f"{number}\n{_stamp(start, ',')} --> {_stamp(end, ',')}\n"
                   + "\n".join(texts) + "\n")
    return "\n".join(out).encode("utf-8")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(r: Rendering) -> bytes:
    out = ["WEBVTT", ""]
    for start, end, label, texts in _cues(r):
        body = "\n".join(_escape(t) for t in texts)
        if label:
            body = f"<v {_escape(label)}>{body}"
        out += [f"{_stamp(start, '.')} --> {_stamp(end, '.')}", body, ""]
    return "\n".join(out).encode("utf-8")
