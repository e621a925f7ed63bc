"""``verbatim export T.json --format F --out PATH``: export a transcript file.

Interview ids (``verbatim export P4-1``) are answered by the study room
(study_cmds.run_export_interview); this module handles bare files. Every bad
input becomes a one-line UserError: a missing or unreadable file, invalid
JSON, a transcript in a format version this program does not know, a bad
replacement list or notation threshold, an output path that cannot be written.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from transcript.document import DocumentError, read
from transcript.export import FORMATS, ExportMeta, export
from transcript.notation import get_profile
from transcript.pseudonymise import Replacements
from verbatim.config import Config
from verbatim.errors import UserError, file_problem


def load_replacements(path: Path) -> Replacements:
    """Read a replacement list file ('original = [replacement]' per line)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: no such replacement list") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read the replacement list: {exc}") from None
    try:
        return Replacements.parse(text)
    except ValueError as exc:
        raise UserError(f"{path}: {exc}") from None


def _recording(path: str, transcript: Path) -> str:
    """The transcript's recording on this machine (absolute), or '' when it is not found.

    A relative path is tried beside the transcript file, then from here.
    """
    if not path:
        return ""
    candidates = [Path(path)] if Path(path).is_absolute() else [transcript.parent / path,
                                                                  Path.cwd() / path]
    return next((str(c.resolve()) for c in candidates if c.is_file()), "")


def run_export(args: argparse.Namespace, config: Config) -> int:
    fmt = args.format
    if fmt not in FORMATS:
        raise UserError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    target = Path(args.target)
    if target.is_dir():
        raise UserError(f"{target} is a folder, not a transcript file")
    try:
        doc = read(target)
    except DocumentError as exc:
        raise UserError(str(exc)) from None
    name = args.notation or config.notation
    width = args.width or config.width
    try:
        profile = get_profile(name, config.notation_thresholds.get(name))
    except ValueError as exc:
        raise UserError(f"notation: {exc}") from None
    replacements = None
    if args.replacements is not None:
        replacements = load_replacements(args.replacements)
    elif getattr(args, "pseudonymise", False):
        raise UserError("--pseudonymise needs a study's replacement list; for a file, "
                        "give --replacements FILE")
    out = Path(args.out)
    try:
        same = out.resolve() == target.resolve()
    except (OSError, RuntimeError):  # Python 3.11 says RuntimeError for a symlink loop
        raise UserError(f"cannot use {out} or {target}: too many symbolic links (a loop?); "
                        "give the real path") from None
    if same:
        raise UserError(f"refusing to overwrite the transcript itself ({target}) with the export")
    from verbatim.storage import sweep_temps

    sweep_temps(out)  # what an export killed half-way left beside it
    meta = ExportMeta(media_path=_recording(doc.audio.path, target),
                      embed_media=getattr(args, "media", None))
    try:
        export(doc, fmt, out, profile=profile, width=width, replacements=replacements,
               meta=meta, pseudonymised=replacements is not None)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise file_problem(exc, out) from None
    return 0
