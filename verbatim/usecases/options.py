"""The pipeline's options from the config and a door's overrides: built here only."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from verbatim.config import Config

if TYPE_CHECKING:  # pragma: no cover
    from transcribe.pipeline import PipelineOptions


def pipeline_options(config: Config, *, engine: str | None = None, model: str | None = None,
                     diarize: str | None = None, speakers: int | None = None,
                     language: str | None = None,
                     checkpoint_dir: Path | None = None) -> PipelineOptions:
    """The config's transcription settings, each overridden by a value given (a CLI flag).

    ``checkpoint_dir``: where a killed job's finished chunks are kept to resume from.
    """
    from transcribe.pipeline import PipelineOptions

    return PipelineOptions(
        engine=engine or config.engine, model=model or config.model,
        diarize=diarize or config.diarize, speakers=speakers,
        language=language or config.language, models_dir=config.models_dir,
        diarization=dict(config.diarization), checkpoint_dir=checkpoint_dir)
