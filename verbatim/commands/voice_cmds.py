"""CLI verb ``voice``: enrol a recurring voice (from a recording of them alone, or from one
speaker of a transcribed interview), list enrolled voices.

The logic is in ``transcribe.diarize.voiceprints`` (plain functions the app can
call too); this file only finds where voices live and reports.
"""

from __future__ import annotations

import argparse
import sys

from verbatim.config import Config
from verbatim.errors import UserError
from verbatim.voices import enrolled, voice_folder


def run_voice(args: argparse.Namespace, config: Config) -> int:
    from transcribe.audio import load_audio
    from transcribe.diarize import voiceprints
    from transcribe.diarize.voices import load_voice_model
    from transcribe.errors import TranscribeError

    if args.action == "list":
        for record in enrolled(config):
            sys.stdout.write(f"{record['name']}\t{record['voice_model']}\t"
                             f"{record['speech_seconds']} s of speech\n")
        return 0
    if args.from_interview or args.speaker:
        return _from_interview(args, config)
    if args.audio is None:
        raise UserError("voice enrol NAME needs AUDIO, or --from-interview ID --speaker S1")
    folder, recipient = voice_folder(config)
    try:
        audio = load_audio(args.audio)
        model = load_voice_model("auto", config.models_dir)
        path = voiceprints.enrol(args.name, audio.mono, model, folder, recipient=recipient)
    except (TranscribeError, FileNotFoundError, ValueError) as exc:
        raise UserError(f"voice enrol: {str(exc).splitlines()[0]}") from None
    sealed = " (sealed)" if recipient else ""
    sys.stderr.write(f"enrolled {args.name!r}: voiceprint in {path}{sealed}; "
                     "transcription will name this voice when it is sure\n")
    return 0


def _from_interview(args: argparse.Namespace, config: Config) -> int:
    """``voice enrol NAME --from-interview P1-1 --speaker S1``: the app's "this is the
    interviewer", through the same function (``verbatim.usecases.voices.enrol_speaker``)."""
    from verbatim.commands.study_cmds import _study
    from verbatim.usecases.voices import enrol_speaker

    if args.audio is not None:
        raise UserError("voice enrol: give AUDIO or --from-interview, not both")
    if not (args.from_interview and args.speaker):
        raise UserError("voice enrol: --from-interview ID needs --speaker S1 (and the reverse)")
    with _study(config) as study:
        kept = enrol_speaker(study, config, args.from_interview, args.speaker, name=args.name)
    sealed = " (sealed)" if kept.sealed else ""
    sys.stderr.write(f"enrolled {kept.name!r} from {args.speaker} in {args.from_interview} "
                     f"({kept.seconds:.0f} s of their speech): voiceprint in {kept.path}{sealed};"
                     " the study's next transcriptions name this voice when they are sure\n")
    return 0
