"""The one error family of the transcription package.

Every failure a user can act on (a missing file, a model in the wrong format,
an unknown diarisation mode) is a ``TranscribeError`` whose ``str()`` is one
complete line; the CLI prints it as it is, the TUI shows it in a dialog.
"""

from __future__ import annotations


class TranscribeError(ValueError):
    """Bad input to the pipeline, said in one line."""
