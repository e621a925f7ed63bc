"""What the pyannote back end and its CAM++ variant share (apart, so neither imports
the other in a circle)."""

from __future__ import annotations

from typing import Any


class PipelineFolderError(ValueError):
    """The pipeline folder is missing, incomplete, or names a model it does not hold."""


def _placeholder_plda() -> Any:
    from pyannote.audio.core.plda import PLDA

    return PLDA.__new__(PLDA)  # never called: only VBx clustering reads a PLDA
