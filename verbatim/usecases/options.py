"""The pipeline's options from the config and a door's overrides: built here only."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from verbatim.config import Config

if TYPE_CHECKING:  # pragma: no cover
    from transcribe.pipeline import PipelineOptions


def pipeline_options(config: Config, *, engine: str | None = None, model: str | None = None,
                     diarize: str | None = None, speakers: int | None = None,
                     language: str | None = None, device: str | None = None,
                     min_speakers: int | None = None, max_speakers: int | None = None,
                     voice_model: str | None = None,
                     checkpoint_dir: Path | None = None) -> PipelineOptions:
    """The config's transcription settings, each overridden by a value given (a CLI flag).

    Speaker flags and enrolled voices go through ``verbatim.voices.diarization_settings``;
    ``checkpoint_dir``: where a killed job's finished chunks are kept to resume from.
    """
    from transcribe.pipeline import PipelineOptions
    from verbatim.voices import diarization_settings

    return PipelineOptions(
        engine=engine or config.engine, model=model or config.model,
        diarize=diarize or config.diarize, speakers=speakers,
        language=language or config.language, models_dir=config.models_dir,
        device=device or config.device,
        diarization=diarization_settings(config, speakers=speakers, min_speakers=min_speakers,
                                         max_speakers=max_speakers, voice_model=voice_model),
        checkpoint_dir=checkpoint_dir)


def speaker_flags(args: Any) -> dict[str, Any]:
    """--min-speakers, --max-speakers, --voice-model of a parsed command line."""
    return {key: getattr(args, key, None)
            for key in ("min_speakers", "max_speakers", "voice_model")}
