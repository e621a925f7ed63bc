"""Exporters: one rendering of the transcript, written in every format users need.

``export`` numbers the lines once (or takes the locked numbering), applies the
pseudonymisation to a copy, and hands the same ``Rendering`` to the writer of
the chosen format; each writer is a small module returning bytes, imported
only when used so that importing ``transcript`` stays light (python-docx,
lxml and pympi load only for docx, qdpx and eaf). The file is written
atomically and owner-only.

Pseudonymisation is applied after numbering, so a pseudonymised export has
the same line numbers as the original and citations agree between them. A
locked transcript keeps its lines and numbers in every notation: each line is
written in the notation asked for (``transcript.lines.lines_in_notation``).
"""

from __future__ import annotations

import importlib
import os
import tempfile
from dataclasses import replace
from pathlib import Path

from transcript.document import fsync_dir, write_atomic
from transcript.export.layout import ExportMeta, Rendering
from transcript.export.media import neutral_name
from transcript.lines import lines_in_notation, number_lines
from transcript.model import Transcript
from transcript.notation import Profile, resolve_profile
from transcript.pseudonymise import Replacements, pseudonymise, pseudonymise_lines

FORMATS = ("txt", "md", "docx", "json", "srt", "vtt", "eaf", "qdpx", "nvivo", "maxqda")

# format -> (module, function); each function takes a Rendering and returns bytes
_WRITERS = {
    "txt": ("transcript.export.plain", "to_txt"),
    "md": ("transcript.export.markdown", "to_md"),
    "docx": ("transcript.export.word", "to_docx"),
    "json": ("transcript.export.jsondoc", "to_json"),
    "srt": ("transcript.export.subtitles", "to_srt"),
    "vtt": ("transcript.export.subtitles", "to_vtt"),
    "eaf": ("transcript.export.elan", "to_eaf"),
    "qdpx": ("transcript.export.refiqda", "to_qdpx"),
    "nvivo": ("transcript.export.qda_text", "to_nvivo"),
    "maxqda": ("transcript.export.qda_text", "to_maxqda"),
}

# formats whose writer can also stream into an open file: format -> function(r, fh)
_STREAMING = {"qdpx": "write_qdpx"}

SUFFIXES = {"txt": ".txt", "md": ".md", "docx": ".docx", "json": ".json", "srt": ".srt",
            "vtt": ".vtt", "eaf": ".eaf", "qdpx": ".qdpx", "nvivo": ".txt", "maxqda": ".txt"}

__all__ = ["FORMATS", "SUFFIXES", "ExportMeta", "Rendering", "export", "prepare", "render"]


def prepare(doc: Transcript, *, profile: str | Profile = "paper", width: int = 80,
            replacements: Replacements | None = None, meta: ExportMeta | None = None,
            target_dir: str | os.PathLike[str] | None = None,
            pseudonymised: bool = False) -> Rendering:
    """Number the lines (or take the locked ones) and pseudonymise a copy.

    ``pseudonymised``: the export is meant to be pseudonymised even when the
    replacement list is empty (media are then linked by interview id only).
    """
    prof = resolve_profile(profile)
    # locked: the frozen lines and numbers, each line written in the notation asked for
    lines = lines_in_notation(doc, prof) if doc.locked else number_lines(doc, profile=prof,
                                                                         width=width)
    if doc.locked:
        numbering = doc.extra.get("numbering")
        if isinstance(numbering, dict) and isinstance(numbering.get("width"), int):
            width = numbering["width"]
    if replacements:
        doc = pseudonymise(doc, replacements)
        lines = pseudonymise_lines(lines, replacements)
        if meta is not None:
            meta = replace(meta, extracts=tuple(
                replace(e, text=replacements.apply_text(e.text),
                        analysis=replacements.apply_text(e.analysis)) for e in meta.extracts))
    pseudonymised = pseudonymised or bool(replacements)
    meta = meta or ExportMeta()
    if pseudonymised and doc.audio.path:
        # the recording's own path (folders, a named file) never leaves in a pseudonymised file
        doc = replace(doc, audio=replace(doc.audio, path=neutral_name(doc.audio.path,
                                                                      meta.interview_id)))
    return Rendering(doc=doc, lines=lines, profile=prof, width=width, meta=meta,
                     target_dir=Path(target_dir) if target_dir is not None else None,
                     pseudonymised=pseudonymised)


def render(doc: Transcript, fmt: str, *, profile: str | Profile = "paper", width: int = 80,
           replacements: Replacements | None = None, meta: ExportMeta | None = None,
           target_dir: str | os.PathLike[str] | None = None,
           pseudonymised: bool = False) -> bytes:
    """The bytes of an export, without writing anything (tests and previews).

    ``target_dir``: the folder the export will be saved in (relative media links).
    """
    if fmt not in _WRITERS:
        raise ValueError(f"unknown export format {fmt!r} (choose from {', '.join(FORMATS)})")
    rendering = prepare(doc, profile=profile, width=width, replacements=replacements, meta=meta,
                        target_dir=target_dir, pseudonymised=pseudonymised)
    module_name, func_name = _WRITERS[fmt]
    writer = getattr(importlib.import_module(module_name), func_name)
    return writer(rendering)


def export(doc: Transcript, fmt: str, out: str | os.PathLike[str], *,
           profile: str | Profile = "paper", width: int = 80,
           replacements: Replacements | None = None, meta: ExportMeta | None = None,
           pseudonymised: bool = False) -> None:
    """Write ``doc`` as ``fmt`` to ``out`` atomically (owner-only); ValueError on bad input.

    A format that can hold the recording (.qdpx) is streamed to the file, so a
    two-hour recording is copied in blocks, never held in memory.
    """
    target = Path(out)
    if fmt not in _WRITERS:
        raise ValueError(f"unknown export format {fmt!r} (choose from {', '.join(FORMATS)})")
    if target.is_dir():
        raise ValueError(f"{target} is a folder; give a file name to export to")
    if not target.parent.exists():
        raise ValueError(f"folder {target.parent} does not exist")
    rendering = prepare(doc, profile=profile, width=width, replacements=replacements, meta=meta,
                        target_dir=target.parent, pseudonymised=pseudonymised)
    module_name, func_name = _WRITERS[fmt]
    module = importlib.import_module(module_name)
    stream = _STREAMING.get(fmt)
    if stream is None:
        write_atomic(target, getattr(module, func_name)(rendering))
        return
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w+b") as fh:
            getattr(module, stream)(rendering, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(target.parent)
