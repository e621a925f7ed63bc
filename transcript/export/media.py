"""How an export points at its recording: one rule for ELAN, REFI-QDA and any other link.

- Not pseudonymised, the recording's place known (``ExportMeta.media_path``, or
  an absolute ``AudioRef.path``): an absolute ``file://`` URL, plus a path
  relative to the folder the export is written to, so the pair still opens
  when the study and the export are moved together.
- Pseudonymised, or the place unknown: only a file name, the interview id
  with the recording's suffix ('P4-1.wav'), looked for beside the export. No
  folder, user name or original file name leaves in a pseudonymised file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from transcript.export.layout import Rendering

MIMES = {"wav": "audio/x-wav", "mp3": "audio/mpeg", "flac": "audio/flac", "ogg": "audio/ogg",
         "opus": "audio/ogg", "m4a": "audio/mp4", "aac": "audio/aac", "mp4": "video/mp4",
         "webm": "audio/webm"}


@dataclass(frozen=True, slots=True)
class MediaLink:
    """Where an export says its recording is."""

    url: str
    """Absolute ``file://`` URL, or just the file name when it must not say more."""
    relative: str
    """Relative to the export's folder ('./P4-1.wav', '../audio/P4-1.wav')."""
    name: str
    """The file name the export uses ('P4-1.wav')."""
    mime: str

    @property
    def absolute(self) -> bool:
        return self.url.startswith("file://")


def _suffix(path: str) -> str:
    suffix = PurePosixPath(path).suffix.lower()
    return suffix if 1 < len(suffix) <= 6 else ".wav"


def mime_of(name: str) -> str:
    return MIMES.get(_suffix(name).lstrip("."), "audio/x-wav")


def neutral_name(path: str, interview_id: str) -> str:
    """The recording's name in a pseudonymised export: 'P4-1.wav' (no id: 'recording.wav').

    The original file name may itself name someone ('Sarah Smith.wav'), so it
    is never kept; only its suffix is.
    """
    return f"{interview_id or 'recording'}{_suffix(path)}" if path else ""


def media_link(r: Rendering) -> MediaLink | None:
    """The link to the recording (None when the transcript names no recording at all)."""
    stored = r.doc.audio.path
    known = r.meta.media_path or (stored if os.path.isabs(stored) else "")
    if not stored and not known:
        return None
    suffix = _suffix(known or stored)
    if r.pseudonymised or not known:
        if r.pseudonymised:
            name = neutral_name(known or stored, r.meta.interview_id)
        else:
            stem = r.meta.interview_id or PurePosixPath(stored).stem or "recording"
            name = f"{stem}{suffix}"
        return MediaLink(url=name, relative=f"./{name}", name=name, mime=mime_of(name))
    absolute = Path(os.path.abspath(known))
    base = r.target_dir.resolve() if r.target_dir is not None else None
    if base is None:
        relative = f"./{absolute.name}"
    else:
        rel = Path(os.path.relpath(absolute, base)).as_posix()
        relative = rel if rel.startswith("../") else f"./{rel}"
    return MediaLink(url=absolute.as_uri(), relative=relative, name=absolute.name,
                     mime=mime_of(absolute.name))


def media_to_embed(r: Rendering) -> Path | None:
    """The recording to put inside a self-contained export, or None (left out or absent)."""
    embed = r.meta.embed_media
    if embed is None:
        embed = not r.pseudonymised  # a voice identifies: a pseudonymised export links only
    if not embed:
        return None
    source = r.meta.media_source or r.meta.media_path
    if not source:
        stored = r.doc.audio.path
        source = stored if os.path.isabs(stored) else ""
    if not source:
        if r.meta.embed_media:
            raise ValueError("the recording cannot be included: this transcript does not say "
                             "where it is on this machine")
        return None
    path = Path(source)
    if not path.is_file() and not str(path).startswith("/proc/"):
        raise ValueError(f"the recording {path} is missing; export with --no-media to leave "
                         "it out")
    return path
