"""Read and write the ``verbatim-transcript/1`` JSON document.

The conversion lives here and only here: the rest of the program sees
``transcript.model`` values, never raw dicts.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from transcript.model import (
    FORMAT,
    AudioRef,
    Line,
    Mark,
    MarkKind,
    Note,
    Source,
    Speaker,
    Transcript,
    Word,
)

_KNOWN_KEYS = {"format", "audio", "speakers", "words", "marks", "notes", "lines"}


class DocumentError(ValueError):
    """A transcript file that cannot be read: says which file and why, in one line."""


def to_dict(doc: Transcript) -> dict[str, Any]:
    """The JSON-ready form of a transcript, fields in contract order."""
    out: dict[str, Any] = {
        "format": FORMAT,
        "audio": {"path": doc.audio.path, "sha256": doc.audio.sha256,
                  "duration": doc.audio.duration},
        "speakers": {s.id: {"label": s.label} for s in doc.speakers},
        "words": [{"text": w.text, "start": w.start, "end": w.end, "speaker": w.speaker,
                   "probability": w.probability, **({"confirmed": True} if w.confirmed else {})}
                  for w in doc.words],
        "marks": [{"kind": str(m.kind), "start": m.start, "end": m.end, "speaker": m.speaker,
                   "label": m.label, "source": str(m.source)} for m in doc.marks],
        "notes": [{"start": n.start, "end": n.end, "phase": n.phase, "moment": n.moment,
                   "response": n.response, "understanding": n.understanding,
                   "written_at": n.written_at} for n in doc.notes],
        "lines": [{"n": ln.n, "speaker": ln.speaker, "text": ln.text, "start": ln.start,
                   "end": ln.end, **({"suffix": ln.suffix} if ln.suffix else {})}
                  for ln in doc.lines],
    }
    for key, value in doc.extra.items():
        out.setdefault(key, value)
    return out


def from_dict(data: Any) -> Transcript:
    """Build a transcript from parsed JSON, refusing malformed or future-version data."""
    if not isinstance(data, dict):
        raise DocumentError("not a transcript: the JSON top level is not an object")
    fmt = data.get("format")
    if fmt != FORMAT:
        if isinstance(fmt, str) and fmt.startswith("verbatim-transcript/"):
            raise DocumentError(
                f"transcript format {fmt!r} is newer than this version of verbatim "
                f"understands ({FORMAT}); upgrade verbatim")
        raise DocumentError(f"not a verbatim transcript (format is {fmt!r}, expected {FORMAT!r})")
    try:
        audio = data.get("audio") or {}
        speakers = data.get("speakers") or {}
        return Transcript(
            audio=AudioRef(path=str(audio.get("path", "")), sha256=str(audio.get("sha256", "")),
                           duration=float(audio.get("duration", 0.0))),
            speakers=tuple(Speaker(id=str(k), label=str(v.get("label", k)))
                           for k, v in speakers.items()),
            words=tuple(Word(text=str(w["text"]), start=float(w["start"]), end=float(w["end"]),
                             speaker=str(w["speaker"]),
                             probability=float(w.get("probability", 1.0)),
                             confirmed=bool(w.get("confirmed", False)))
                        for w in data.get("words") or []),
            marks=tuple(Mark(kind=MarkKind(m["kind"]), start=float(m["start"]),
                             end=float(m["end"]), speaker=_optional_str(m.get("speaker")),
                             label=str(m.get("label", "")),
                             source=Source(m.get("source", "auto")))
                        for m in data.get("marks") or []),
            notes=tuple(Note(start=float(n["start"]), end=float(n["end"]),
                             phase=str(n.get("phase", "")), moment=str(n.get("moment", "")),
                             response=str(n.get("response", "")),
                             understanding=str(n.get("understanding", "")),
                             written_at=str(n.get("written_at", "")))
                        for n in data.get("notes") or []),
            lines=tuple(Line(n=int(ln["n"]), speaker=str(ln["speaker"]), text=str(ln["text"]),
                             start=float(ln["start"]), end=float(ln["end"]),
                             suffix=str(ln.get("suffix", "")))
                        for ln in data.get("lines") or []),
            extra={k: v for k, v in data.items() if k not in _KNOWN_KEYS},
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DocumentError(f"malformed transcript: {type(exc).__name__}: {exc}") from exc


def _optional_str(value: Any) -> str | None:
    """A mark's speaker: an id, or None for a mark between speakers."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"a mark's speaker must be a string or null, not {type(value).__name__}")


def dumps(doc: Transcript) -> str:
    return json.dumps(to_dict(doc), ensure_ascii=False, indent=1)


def loads(text: str) -> Transcript:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DocumentError(f"invalid JSON: {exc}") from exc
    return from_dict(data)


def read(path: str | os.PathLike[str]) -> Transcript:
    """Load a transcript file; every failure is a ``DocumentError`` naming the file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DocumentError(f"{p}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DocumentError(f"{p}: cannot read: {exc}") from exc
    try:
        return loads(text)
    except DocumentError as exc:
        raise DocumentError(f"{p}: {exc}") from None


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> None:
    """Write a file so a crash leaves either the old file or the new one, never half.

    The temporary file sits beside the target (same filesystem, so the rename is
    atomic), is owner-only from birth, and is fsync'd before the rename; the
    folder is fsync'd after it.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    write_atomic_stream(path, lambda fh: fh.write(payload))


def write_atomic_stream(path: str | os.PathLike[str],
                        write: Callable[[BinaryIO], object]) -> None:
    """``write_atomic`` for content written piece by piece into the open file."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w+b") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(target.parent)


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Make a rename or a new file in ``path`` durable: fsync the folder itself.

    Best effort: a folder that cannot be opened (some filesystems) is left alone.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write(doc: Transcript, path: str | os.PathLike[str]) -> None:
    """Save a transcript as JSON, atomically and readable by the owner only."""
    write_atomic(path, dumps(doc) + "\n")
