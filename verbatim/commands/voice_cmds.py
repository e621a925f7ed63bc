"""CLI verb ``voice``: enrol a recurring voice, list enrolled voices.

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
