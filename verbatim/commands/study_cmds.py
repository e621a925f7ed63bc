"""CLI verbs of the study: study, participant, interview, lock, note, extract, pack,
and transcribe/export of an interview id.

Each verb opens the study named by --study / VERBATIM_STUDY / the config, does
one thing through ``verbatim.study.Study`` and prints a short result. Every
refusal is a ``UserError``: one line on stderr, non-zero exit, nothing changed.
(Past 400 lines: one short handler per verb, each gathering input, calling its use
case and printing the result.)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from verbatim.config import Config
from verbatim.errors import UserError, file_problem
from verbatim.study import Study, StudyError, willig_template
from verbatim.usecases import exporting
from verbatim.usecases import notes as usecases_notes

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
        return run_init_encrypted(args, Study.init)
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
            dest = exporting.backup(study, args.dest)
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
            from verbatim.usecases.recording import add_recording

            added = add_recording(study, args.participant, Path(args.audio), details={
                "number": args.number, "date": args.date, "place": args.place,
                **_consent_fields(args)})
            _out(added.interview)
            if added.live_marks:
                sys.stderr.write(f"{added.live_marks} live mark(s) from the recording are "
                                 f"notes to complete: verbatim note list {added.interview}\n")
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
        locked = usecases_notes.lock(study, args.interview,
                                     profile=_profile(config, args.notation), width=width)
        _out(f"{args.interview} locked: {locked.lines} numbered lines "
             f"({args.notation or config.notation}, width {width})")
    return 0


def run_note(args: argparse.Namespace, config: Config) -> int:
    with _study(config) as study:
        if args.action == "add":
            note = usecases_notes.add_note(
                study, args.interview, phase=args.phase, moment=args.moment,
                response=args.response, understanding=args.understanding,
                lines=parse_line_range(args.lines) if args.lines else None,
                at=None if args.lines else parse_time_range(args.at))
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
            extract = usecases_notes.add_extract(study, args.interview, first, last,
                                                 analysis=analysis)
            _out(extract.citation)
            return 0
        if args.action == "list":
            for extract in study.extracts(args.participant):
                _out(f"{extract.citation}\t{extract.interview}")
            return 0
    raise UserError(f"unknown extract action {args.action!r}")


def run_pack(args: argparse.Namespace, config: Config) -> int:
    with _study(config) as study:
        paths = exporting.write_pack(study, args.participant, args.out)
        from verbatim.vault.commands import export_notice

        export_notice(study.path, Path(args.out))
    for path in paths:
        _out(str(path))
    return 0


# ---- transcribe and export an interview -----------------------------------------------


def run_transcribe_interview(args: argparse.Namespace, config: Config) -> int:
    """Transcribe the interview's stored recording and save it as a new version."""
    from verbatim.commands.transcribe_cmds import ProgressBar
    from verbatim.usecases.options import pipeline_options, speaker_flags
    from verbatim.usecases.transcription import transcribe_interview

    with _study(config) as study:
        if getattr(args, "from_file", None) is not None:
            return _import_kept(study, args.target, Path(args.from_file))
        options = pipeline_options(config, engine=args.engine, model=args.model,
                                   diarize=args.diarize, speakers=args.speakers,
                                   language=args.language, device=getattr(args, "device", None),
                                   **speaker_flags(args))
        bar = ProgressBar(prefix=f"{args.target}: ")
        try:
            result = transcribe_interview(
                study, args.target, options, progress=bar,
                accept_changed_audio=getattr(args, "accept_changed_audio", False))
        except KeyboardInterrupt:
            raise UserError("transcription cancelled; nothing was saved") from None
        finally:
            bar.finish()
        _out(result.summary)
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


def run_export_interview(args: argparse.Namespace, config: Config) -> int:
    """Export the interview's current transcript with its notes, extracts and metadata."""
    from verbatim.commands.export_cmds import timestamps_arg
    from verbatim.usecases.exporting import export_interview

    with _study(config) as study:
        result = export_interview(study, args.target, args.format, Path(args.out),
                                  profile=_profile(config, args.notation),
                                  width=args.width or config.width,
                                  pseudonymise=getattr(args, "pseudonymise", False),
                                  replacements=_replacement_file(args),
                                  media=getattr(args, "media", None),
                                  timestamps=timestamps_arg(args))
        _out(f"wrote {result.path}")
        from verbatim.vault.commands import export_notice

        export_notice(study.path, result.path)
    return 0


def _replacement_file(args: argparse.Namespace) -> Any:
    """A replacement list file (--replacements FILE), or None."""
    from transcript.pseudonymise import Replacements

    if getattr(args, "replacements", None) is None:
        return None
    try:
        text = Path(args.replacements).read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{args.replacements}: {exc.strerror or exc}") from None
    try:
        return Replacements.parse(text)
    except ValueError as exc:
        raise UserError(f"{args.replacements}: {exc}") from None


__all__ = ["StudyError", "parse_line_range", "parse_time_range"]
