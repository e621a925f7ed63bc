"""CLI verbs of the study: study, participant, interview, lock, note, extract, pack,
and transcribe/export of an interview id.

Each verb opens the study named by --study / VERBATIM_STUDY / the config, does
one thing through ``verbatim.study.Study`` and prints a short result. Every
refusal is a ``UserError``: one line on stderr, non-zero exit, nothing changed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from transcript.model import Note
from verbatim.config import Config
from verbatim.errors import UserError, file_problem
from verbatim.study import Study, StudyError, willig_template

NO_STUDY = ("no study: give --study DIR, set VERBATIM_STUDY, or create one with "
            "'verbatim study init DIR'")


@contextmanager
def _study(config: Config) -> Iterator[Study]:
    if config.study is None:
        raise UserError(NO_STUDY)
    from verbatim.vault.commands import warn_if_exposed

    with Study.open(config.study) as study:
        warn_if_exposed(study.path)
        from verbatim.study.integrity import sweep_partials

        sweep_partials(study.path)  # half-copied imports of a killed 'interview add'
        yield study


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _parse_attrs(items: list[str]) -> dict[str, str]:
    attrs: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"--attr {item!r}: expected KEY=VALUE, e.g. 'profession=Nurse'")
        attrs[key.strip()] = value.strip()
    return attrs


def parse_time_range(text: str) -> tuple[float, float]:
    """'12.5-20.0' -> (12.5, 20.0); a single time '12.5' is a moment."""
    head, sep, tail = text.strip().partition("-")
    try:
        start = float(head)
        end = float(tail) if sep else start
    except ValueError:
        raise UserError(f"--at {text!r}: expected seconds like 12.5-20.0") from None
    if start < 0 or end < start:
        raise UserError(f"--at {text!r}: the time range must run forwards from 0")
    return start, end


def parse_line_range(text: str) -> tuple[int, int]:
    """'10-12' (or the paper's '978-81', or one line '10') -> (first, last)."""
    from transcript.citation import expand_range

    try:
        first, last = expand_range(text)
    except ValueError as exc:
        raise UserError(f"--lines: {exc}") from None
    if first < 1:
        raise UserError(f"--lines {text!r}: lines are numbered from 1")
    return first, last


def _profile(config: Config, notation: str | None) -> Any:
    """The notation profile, with the user's threshold overrides from the config."""
    name = notation or config.notation
    overrides = config.notation_thresholds.get(name)
    if not overrides:
        return name
    from transcript.notation import get_profile

    try:
        return get_profile(name, overrides)
    except ValueError as exc:
        raise UserError(f"notation {name!r}: {exc}") from None


# ---- study --------------------------------------------------------------------


def run_study(args: argparse.Namespace, config: Config) -> int:
    from verbatim.vault.commands import VAULT_ACTIONS, run_init_encrypted, run_vault_action

    if args.action == "init" and (getattr(args, "encrypt", False)
                                  or getattr(args, "key_file", None) is not None):
        return run_init_encrypted(args)
    if args.action in VAULT_ACTIONS:
        return run_vault_action(args, config)
    if args.action == "init":
        with Study.init(args.dir, name=args.name) as study:
            _out(f"created study {study.name!r} in {study.path}")
            _out(f"use it with --study {study.path} or VERBATIM_STUDY={study.path}")
            from verbatim.vault.commands import warn_if_exposed

            warn_if_exposed(study.path)  # on a terminal: not encrypted, nor on an encrypted disk
        return 0
    with _study(config) as study:
        if args.action == "info":
            info = study.info()
            _out(f"{info['name']} ({info['path']})")
            from verbatim.vault import is_encrypted

            if is_encrypted(study.path):
                _out("  encrypted at rest (recordings: age; database: SQLCipher); unlocked")
                from verbatim.vault.commands import describe_vault

                for line in describe_vault(study.path):
                    _out(f"  {line}")
            _out(f"  participants {info['participants']}, interviews {info['interviews']} "
                 f"({info['locked']} locked), transcript versions {info['versions']}")
            to_complete = (f" ({info['notes_to_complete']} to complete)"
                           if info["notes_to_complete"] else "")
            _out(f"  notes {info['notes']}{to_complete}, extracts {info['extracts']}, "
                 f"replacements {info['replacements']}")
            if info["set_aside"]:
                _out(f"  recordings set aside after an interrupted import (in audio/): "
                     f"{', '.join(info['set_aside'])}")
            due = study.retention_due()
            if due:
                _out(f"  recordings past their retention date: {', '.join(i.id for i in due)}")
            from verbatim.study.integrity import summary_lines

            for line in summary_lines(study):
                _out(f"  {line}")
            return 0
        if args.action == "verify":
            return _verify(study)
        if args.action == "backup":
            dest = study.backup(args.dest)
            if dest.is_dir():
                _out(f"backed up the study (database and recordings) to {dest}")
            else:
                _out(f"backed up the study database to {dest} (give a folder to include "
                     "the recordings)")
            from verbatim.vault import is_encrypted

            if is_encrypted(study.path):
                _out("the copy is encrypted with the study's keys; its vault.json (beside it) "
                     "must travel with it")
            return 0
        if args.action == "retention":
            return _retention(study, args)
        if args.action == "audit":
            for entry in reversed(study.audit_log(limit=args.limit)):
                detail = " ".join(f"{k}={v}" for k, v in entry.detail.items())
                _out(f"{entry.at}\t{entry.action}\t{entry.target or '-'}\t{detail}")
            return 0
        if args.action == "replace":
            study.add_replacement(args.original, args.replacement)
            _out(f"replacement saved ({len(study.replacement_pairs())} in the list)")
            return 0
    raise UserError(f"unknown study action {args.action!r}")


def _verify(study: Study) -> int:
    """``study verify``: every recording's sha256; exit 1 when one is missing or altered."""
    from verbatim.study.integrity import verify

    states = verify(study)
    for state in states:
        _out(f"{state.interview}\t{state.state}" + (f"\t{state.detail}" if state.detail else ""))
    bad = [s for s in states if s.state != "ok"]
    if not states:
        _out("no stored recordings to verify")
    if bad:
        raise UserError(f"{len(bad)} of {len(states)} recordings are missing or altered: "
                        f"{', '.join(s.interview for s in bad)} (restore them from a backup, or "
                        "accept a checked one with 'transcribe IID --accept-changed-audio')")
    _out(f"all {len(states)} recordings match their checksums")
    return 0


def _retention(study: Study, args: argparse.Namespace) -> int:
    target = getattr(args, "delete", None)
    if target is None:
        due = study.retention_due()
        if not due:
            _out("no recordings are past their retention date")
        for interview in due:
            _out(f"{interview.id}\tretain until {interview.retention_date}\t"
                 f"{interview.audio_file}")
        return 0
    interview = study.interview(target)
    if interview not in study.retention_due():
        # delete_audio gives the precise reason (no date, not due, already deleted)
        study.delete_audio(target)
    if not getattr(args, "yes", False):
        raise UserError(f"this deletes the recording of {target} for good; "
                        "add --yes to confirm")
    study.delete_audio(target)
    _out(f"deleted the recording of {target} (sha256 {interview.audio_sha256}); "
         "the deletion is in the audit log")
    return 0


# ---- participants and interviews -------------------------------------------------


def run_participant(args: argparse.Namespace, config: Config) -> int:
    with _study(config) as study:
        if args.action == "add":
            participant = study.add_participant(args.id, pseudonym=args.pseudonym,
                                                attributes=_parse_attrs(args.attr))
            role = f" ({participant.role})" if participant.role else ""
            _out(f"added participant {participant.id}{role}")
            return 0
        if args.action == "list":
            for p in study.participants():
                attrs = ", ".join(f"{k}={v}" for k, v in p.attributes.items())
                pseudonym = f"\t{p.pseudonym}" if p.pseudonym else ""
                _out(f"{p.id}{pseudonym}\t{attrs}")
            return 0
        if args.action == "table":
            return _participant_table(study, args)
    raise UserError(f"unknown participant action {args.action!r}")


def _participant_table(study: Study, args: argparse.Namespace) -> int:
    from transcript.document import write_atomic
    from verbatim.study import tables

    participants = study.participants()
    if args.format == "docx":
        if args.out is None:
            raise UserError("a Word table needs --out FILE.docx")
        data: str | bytes = tables.to_docx(participants)
    elif args.format == "csv":
        data = tables.to_csv(participants)
    else:
        data = tables.to_markdown(participants)
    if args.out is None:
        assert isinstance(data, str)
        sys.stdout.write(data)
        return 0
    if not Path(args.out).parent.is_dir():
        raise UserError(f"{Path(args.out).parent}: no such folder")
    try:
        write_atomic(args.out, data)
    except OSError as exc:
        raise file_problem(exc, args.out) from None
    _out(f"wrote the participant table to {args.out}")
    from verbatim.vault.commands import export_notice

    export_notice(study.path, Path(args.out))
    return 0


def _consent_fields(args: argparse.Namespace) -> dict[str, str | None]:
    return {"consent_form": getattr(args, "consent_form", None),
            "consent_date": getattr(args, "consent_date", None),
            "consent_scope": getattr(args, "consent_scope", None),
            "retention_date": getattr(args, "retain_until", None)}


def run_interview(args: argparse.Namespace, config: Config) -> int:
    with _study(config) as study:
        if args.action == "add":
            from verbatim.vault.recording import importable

            with importable(Path(args.audio)) as source:  # encrypted recording: joined in RAM
                iid = study.add_interview(args.participant, source, number=args.number,
                                          date=args.date, place=args.place,
                                          **_consent_fields(args))
            to_complete = [n for n in study.notes(iid) if n.to_complete]
            _out(iid)
            if to_complete:
                sys.stderr.write(f"{len(to_complete)} live mark(s) from the recording are "
                                 f"notes to complete: verbatim note list {iid}\n")
            return 0
        if args.action == "list":
            for i in study.interviews():
                state = ("locked" if i.locked else
                         "transcribed" if i.current_version else "not transcribed")
                audio = "" if i.has_audio else "\taudio deleted" if i.audio_file else ""
                seconds = round(i.audio_duration or 0.0)
                minutes = f"{seconds // 60}:{seconds % 60:02d}"
                _out(f"{i.id}\t{i.date or '-'}\t{minutes}\t{state}{audio}")
            return 0
        if args.action == "set":
            fields = {"date": args.date, "place": args.place, **_consent_fields(args)}
            changes = {k: v for k, v in fields.items() if v is not None}
            if not changes:
                raise UserError("nothing to set: give --date, --place, --consent-* or "
                                "--retain-until")
            study.update_interview(args.interview, **changes)
            _out(f"updated {args.interview}: {', '.join(sorted(changes))}")
            return 0
    raise UserError(f"unknown interview action {args.action!r}")


# ---- lock, notes, extracts, pack --------------------------------------------------


def run_lock(args: argparse.Namespace, config: Config) -> int:
    width = args.width or config.width
    with _study(config) as study:
        locked = study.lock(args.interview, profile=_profile(config, args.notation),
                            width=width)
        _out(f"{args.interview} locked: {len(locked.lines)} numbered lines "
             f"({args.notation or config.notation}, width {width})")
    return 0


def run_note(args: argparse.Namespace, config: Config) -> int:
    with _study(config) as study:
        if args.action == "add":
            if args.lines:
                first, last = parse_line_range(args.lines)
                note = study.add_note_at_lines(args.interview, first, last, phase=args.phase,
                                               moment=args.moment, response=args.response,
                                               understanding=args.understanding)
            else:
                start, end = parse_time_range(args.at)
                note = study.add_note(args.interview, Note(
                    start=start, end=end, phase=args.phase, moment=args.moment,
                    response=args.response, understanding=args.understanding))
            _out(f"note {note.id} added to {note.interview} at {_anchor(note)}")
            return 0
        if args.action == "complete":
            if all(getattr(args, k) is None for k in
                   ("moment", "response", "understanding", "phase")):
                raise UserError("nothing to write: give --moment, --response, "
                                "--understanding or --phase")
            note = study.update_note(args.id, moment=args.moment, response=args.response,
                                     understanding=args.understanding, phase=args.phase)
            state = "still to complete" if note.to_complete else "complete"
            _out(f"note {note.id} of {note.interview} updated ({state})")
            return 0
        if args.action == "list":
            for note in study.notes(args.interview):
                flag = "  [to complete]" if note.to_complete else ""
                _out(f"{note.id}\t{note.interview}\t{_anchor(note)}\t{note.phase}{flag}")
                _out(f"\tmoment: {note.moment}")
                if note.response:
                    _out(f"\tresponse: {note.response}")
                if note.understanding:
                    _out(f"\tunderstanding: {note.understanding}")
            return 0
    raise UserError(f"unknown note action {args.action!r}")


def _anchor(note: Any) -> str:
    times = f"{note.start:.1f}-{note.end:.1f} s"
    if note.first_line is not None:
        return f"lines {note.first_line}-{note.last_line} ({times})"
    return times


def run_extract(args: argparse.Namespace, config: Config) -> int:
    with _study(config) as study:
        if args.action == "add":
            first, last = parse_line_range(args.lines)
            analysis = willig_template(args.analysis) if args.willig else args.analysis
            extract = study.add_extract(args.interview, first, last, analysis=analysis)
            _out(extract.citation)
            return 0
        if args.action == "list":
            for extract in study.extracts(args.participant):
                _out(f"{extract.citation}\t{extract.interview}")
            return 0
    raise UserError(f"unknown extract action {args.action!r}")


def run_pack(args: argparse.Namespace, config: Config) -> int:
    with _study(config) as study:
        paths = study.write_pack(args.participant, args.out)
        from verbatim.vault.commands import export_notice

        export_notice(study.path, Path(args.out))
    for path in paths:
        _out(str(path))
    return 0


# ---- transcribe and export an interview -----------------------------------------------


def run_transcribe_interview(args: argparse.Namespace, config: Config) -> int:
    """Transcribe the interview's stored recording and save it as a new version."""
    from verbatim.transcription import pipeline_options, speaker_flags, transcribe_interview

    with _study(config) as study:
        iid = args.target
        if getattr(args, "from_file", None) is not None:
            return _import_kept(study, iid, Path(args.from_file))
        options = pipeline_options(config, engine=args.engine, model=args.model,
                                   diarize=args.diarize, speakers=args.speakers,
                                   language=args.language, device=getattr(args, "device", None),
                                   **speaker_flags(args))
        progress = _Progress(iid)
        try:
            version, doc = transcribe_interview(
                study, iid, options, progress=progress,
                accept_changed_audio=getattr(args, "accept_changed_audio", False))
        finally:
            progress.finish()
        _out(f"{iid}: transcript version {version} ({len(doc.words)} words, "
             f"{len(doc.speakers)} speakers)")
    return 0


def _import_kept(study: Study, iid: str, path: Path) -> int:
    """``transcribe IID --from FILE``: save a transcript kept after a failed save."""
    from verbatim.study import unsaved

    doc = unsaved.load(path, study.path, iid)
    if study.interview(iid).locked:
        raise UserError(f"{iid} is locked: its extracts cite the frozen line numbers")
    version = study.save_transcript(iid, doc, origin="import",
                                    description=f"kept transcript {path.name}")
    path.unlink()
    _out(f"{iid}: transcript version {version} ({len(doc.words)} words) imported from "
         f"{path.name}")
    return 0


class _Progress:
    """Progress on stderr, one updating line, only when stderr is a terminal."""

    def __init__(self, iid: str) -> None:
        self.iid = iid
        self.shown = False
        self._last: tuple[str, int] | None = None

    def __call__(self, stage: str, fraction: float) -> None:
        percent = int(max(0.0, min(1.0, fraction)) * 100)
        if self._last == (stage, percent) or not sys.stderr.isatty():
            return
        self._last = (stage, percent)
        self.shown = True
        sys.stderr.write(f"\r{self.iid}: {stage} {percent:3d}%   ")
        sys.stderr.flush()

    def finish(self) -> None:
        if self.shown:
            sys.stderr.write("\n")


def run_export_interview(args: argparse.Namespace, config: Config) -> int:
    """Export the interview's current transcript with its notes, extracts and metadata."""
    from transcript.export import ExportMeta, export

    with _study(config) as study:
        iid = args.target
        interview = study.interview(iid)
        doc = study.transcript(iid)
        if doc is None:
            raise UserError(f"{iid} has no transcript yet; run 'verbatim transcribe {iid}'")
        if interview.locked and not doc.lines:
            # edits after the lock dropped the numbering: export the frozen one
            doc = study.locked_transcript(iid)
        notes = tuple(Note(start=n.start, end=n.end, phase=n.phase, moment=n.moment,
                           response=n.response, understanding=n.understanding,
                           written_at=n.written_at) for n in study.notes(iid))
        doc = replace(doc, notes=notes)
        participant = study.participant(interview.participant_id)
        replacements = _export_replacements(study, args)
        pseudonymised = bool(replacements) or bool(getattr(args, "pseudonymise", False))
        meta = ExportMeta(title=f"{study.name}: {iid}", participant_id=participant.id,
                          interview_id=iid, attributes=dict(participant.attributes),
                          extracts=tuple(study.extracts(interview=iid)),
                          **_export_media(study, iid, args, pseudonymised=pseudonymised))
        out = Path(args.out)
        if not out.parent.is_dir():
            raise UserError(f"{out.parent}: no such folder")
        from verbatim.storage import sweep_temps

        sweep_temps(out)  # what an export killed half-way left beside it
        try:
            export(doc, args.format, out, profile=_profile(config, args.notation),
                   width=args.width or config.width, replacements=replacements, meta=meta,
                   pseudonymised=pseudonymised)
        except ValueError as exc:
            raise UserError(f"export of {iid} failed: {exc}") from None
        except OSError as exc:
            raise file_problem(exc, out) from None
        _out(f"wrote {out}")
        from verbatim.vault.commands import export_notice

        export_notice(study.path, out)
    return 0


def _export_media(study: Study, iid: str, args: argparse.Namespace, *,
                  pseudonymised: bool) -> dict[str, Any]:
    """Where the recording is, for media links and the .qdpx that holds it."""
    from verbatim.exportmedia import study_media

    try:
        return study_media(study, iid, args.format, embed=getattr(args, "media", None),
                           pseudonymised=pseudonymised)
    except StudyError as exc:
        raise UserError(str(exc)) from None


def _export_replacements(study: Study, args: argparse.Namespace) -> Any:
    """The study's list (--pseudonymise) and/or a list file (--replacements FILE)."""
    from transcript.pseudonymise import Replacements

    pairs: list[tuple[str, str]] = []
    if getattr(args, "pseudonymise", False):
        pairs += study.replacement_pairs()
    if getattr(args, "replacements", None) is not None:
        try:
            text = Path(args.replacements).read_text(encoding="utf-8")
        except OSError as exc:
            raise UserError(f"{args.replacements}: {exc.strerror or exc}") from None
        try:
            pairs += list(Replacements.parse(text).pairs)
        except ValueError as exc:
            raise UserError(f"{args.replacements}: {exc}") from None
    return Replacements.from_pairs(pairs) if pairs else None


__all__ = ["StudyError", "parse_line_range", "parse_time_range"]
