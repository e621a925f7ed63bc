"""The interview transcription flow's pieces, where ``verbatim batch`` first found them.

They live in the use-case room (``verbatim.usecases.saving``, composed by
``verbatim.usecases.transcription``); this name stays for existing callers.
"""

from verbatim.usecases.options import speaker_flags
from verbatim.usecases.saving import (
    check_recording,
    check_transcribable,
    pipeline_options,
    save_or_keep,
    save_pipeline_transcript,
    work_file,
)

__all__ = ["check_recording", "check_transcribable", "pipeline_options", "save_or_keep",
           "save_pipeline_transcript", "speaker_flags", "work_file"]
