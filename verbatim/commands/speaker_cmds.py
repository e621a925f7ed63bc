"""``verbatim speaker list|rename|merge INTERVIEW …``: the editor's speaker keys, on the CLI.

The change itself is the pure ``transcript.edits.rename_speaker`` /
``merge_speakers`` the app's editor applies (keys ``s`` and ``S``), saved as
a new version as the editor saves it, with the same rules: a rename only
changes a label, so it is allowed on a locked transcript; a merge changes
whose words a line holds, so a locked numbering refuses it.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable

from transcript import edits
from transcript.model import Transcript
from verbatim.config import Config
from verbatim.errors import UserError


def add_parser(verbs: argparse._SubParsersAction,
               parser_class: type[argparse.ArgumentParser]) -> None:
    p = verbs.add_parser("speaker", help="list, rename or merge an interview's speakers",
                         description="The diarised speakers of an interview: list them, give "
                         "one a label (S2 -> P4), or fold one into another when the diariser "
                         "split a voice in two.")
    sv = p.add_subparsers(dest="action", metavar="ACTION", required=True,
                          parser_class=parser_class)
    q = sv.add_parser("list", help="speaker ids, labels and word counts")
    q.add_argument("interview", metavar="INTERVIEW")
    q = sv.add_parser("rename", help="give a speaker a label, e.g. S2 P4")
    q.add_argument("interview", metavar="INTERVIEW")
    q.add_argument("speaker", metavar="ID", help="speaker id, e.g. S2 (see 'speaker list')")
    q.add_argument("label", metavar="LABEL", help="the label, e.g. P4 or Interviewer")
    q = sv.add_parser("merge", help="fold speaker ID into speaker INTO (not once locked)")
    q.add_argument("interview", metavar="INTERVIEW")
    q.add_argument("speaker", metavar="ID", help="the speaker that goes, e.g. S3")
    q.add_argument("target", metavar="INTO", help="the speaker that stays, e.g. S2")


def run_speaker(args: argparse.Namespace, config: Config) -> int:
    from verbatim.commands.study_cmds import _study
    from verbatim.study import StudyError

    with _study(config) as study:
        iid = args.interview
        try:
            study.interview(iid)
            doc = study.transcript(iid)
        except StudyError as exc:
            raise UserError(str(exc)) from None
        if doc is None:
            raise UserError(f"{iid} has no transcript yet; run 'verbatim transcribe {iid}'")
        if args.action == "list":
            _list(doc)
            return 0
        if args.action == "rename":
            label = args.label.strip()
            change: Callable[[Transcript], Transcript] = \
                lambda d: edits.rename_speaker(d, args.speaker, label)  # noqa: E731
            description = f"rename {args.speaker} to {label}"
            said = f"{iid}: {args.speaker} is now {label!r}"
        else:
            if doc.locked:
                raise UserError(f"{iid}'s line numbers are locked: merging speakers would "
                                "change cited lines (rename them instead)")
            moved = sum(1 for w in doc.words if w.speaker == args.speaker)
            change = lambda d: edits.merge_speakers(d, args.speaker, args.target)  # noqa: E731
            description = f"merge {args.speaker} into {args.target}"
            said = f"{iid}: merged {args.speaker} into {args.target} ({moved} words)"
        try:
            new = change(doc)
        except ValueError as exc:
            raise UserError(f"{iid}: {exc}") from None
        if new == doc:
            sys.stdout.write(f"{iid}: nothing to change\n")
            return 0
        version = study.save_transcript(iid, new, origin="edit", description=description)
        sys.stdout.write(f"{said} (version {version})\n")
    return 0


def _list(doc: Transcript) -> None:
    counts = Counter(w.speaker for w in doc.words)
    ids = [s.id for s in doc.speakers] + sorted(set(counts) - {s.id for s in doc.speakers})
    for speaker_id in ids:
        sys.stdout.write(f"{speaker_id}\t{doc.speaker_label(speaker_id)}\t"
                         f"{counts.get(speaker_id, 0)} words\n")
