"""Export an interview (with its notes, extracts and Table One facts), a pack, a backup.

One export for both doors: the current transcript, or the frozen numbering when
edits after the lock dropped it, so citations in the export match the locked
lines; notes and extracts of the interview travel with it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from transcript.model import Note, Transcript
from transcript.pseudonymise import Replacements
from verbatim.study import Study, StudyError


@dataclass(frozen=True)
class ExportResult:
    """A written export; ``plaintext_warning`` when the study is encrypted."""

    interview: str
    path: Path
    fmt: str
    plaintext_warning: bool


def export_document(study: Study, iid: str) -> Transcript:
    """The document an export of ``iid`` renders: current, or locked if edits dropped lines."""
    interview = study.interview(iid)
    doc = study.transcript(iid)
    if doc is None:
        raise StudyError(f"{iid} has no transcript yet; run 'verbatim transcribe {iid}'")
    if interview.locked and not doc.lines:
        doc = study.locked_transcript(iid)  # cite the frozen numbering
    notes = tuple(Note(start=n.start, end=n.end, phase=n.phase, moment=n.moment,
                       response=n.response, understanding=n.understanding,
                       written_at=n.written_at) for n in study.notes(iid))
    return replace(doc, notes=notes)


def study_replacements(study: Study, *, pseudonymise: bool,
                       extra: Replacements | None = None) -> Replacements | None:
    """The study's list (when pseudonymising) joined with an extra list, or None."""
    pairs: list[tuple[str, str]] = []
    if pseudonymise:
        pairs += study.replacement_pairs()
    if extra is not None:
        pairs += list(extra.pairs)
    return Replacements.from_pairs(pairs) if pairs else None


def export_interview(study: Study, iid: str, fmt: str, out: Path | str, *,
                     profile: Any = "paper", width: int = 80, pseudonymise: bool = False,
                     replacements: Replacements | None = None, media: bool | None = None,
                     timestamps: Any = None, make_folder: bool = False) -> ExportResult:
    """Write ``iid`` as ``fmt`` to ``out``; StudyError (one line) when it cannot.

    ``media``: put the recording inside a .qdpx (None: unless pseudonymised);
    ``timestamps``: a ``transcript.export.layout.Timestamps`` (None: none).
    """
    from transcript.export import ExportMeta, export
    from verbatim.errors import file_problem
    from verbatim.exportmedia import study_media
    from verbatim.storage import sweep_temps
    from verbatim.vault import is_encrypted

    doc = export_document(study, iid)
    interview = study.interview(iid)
    participant = study.participant(interview.participant_id)
    chosen = study_replacements(study, pseudonymise=pseudonymise, extra=replacements)
    pseudonymised = bool(chosen) or pseudonymise
    meta = ExportMeta(title=f"{study.name}: {iid}", participant_id=participant.id,
                      interview_id=iid, attributes=dict(participant.attributes),
                      extracts=tuple(study.extracts(interview=iid)),
                      **({"timestamps": timestamps} if timestamps is not None else {}),
                      **study_media(study, iid, fmt, embed=media, pseudonymised=pseudonymised))
    out = Path(out).expanduser()
    if make_folder:
        out.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not out.parent.is_dir():
        raise StudyError(f"{out.parent}: no such folder")
    sweep_temps(out)  # what an export killed half-way left beside it
    try:
        export(doc, fmt, out, profile=profile, width=width, replacements=chosen, meta=meta,
               pseudonymised=pseudonymised)
    except ValueError as exc:
        raise StudyError(f"export of {iid} failed: {exc}") from None
    except OSError as exc:
        raise file_problem(exc, out) from None
    return ExportResult(iid, out, fmt, is_encrypted(study.path))


def write_pack(study: Study, participant: str, out_dir: Path | str) -> list[Path]:
    """The participant's member-check pack (Markdown and Word); returns the files."""
    from verbatim.study.pack import write_pack as write

    return write(study, participant, Path(out_dir).expanduser())


def backup(study: Study, dest: Path | str) -> Path:
    """Back the study up (a file: the database; a folder: everything); returns the copy."""
    return study.backup(dest)
