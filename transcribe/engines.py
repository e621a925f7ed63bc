"""The two ASR engines behind one small interface, both giving word timestamps.

``faster-whisper`` (CTranslate2, int8 on CPU) is the default: on this machine
it ran tiny.en 2-3x faster than openai-whisper. ``whisper`` (openai-whisper) is
first-class: loaded by path, its alignment heads set, audio passed as an array
so ffmpeg is never needed.

Both are prompted for verbatim text, so fillers, cut-offs and repetitions
survive, and run with ``condition_on_previous_text`` off, which avoids the
repetition loops Whisper falls into on long files. Each engine's own types are
turned into ``AsrWord`` here and nowhere else.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from transcribe.diarize import Progress

ENGINES = ("faster-whisper", "whisper")

# A disfluent example in the prompt tells Whisper this is a verbatim transcript: it
# then writes "um", "uh", "I- I" instead of tidying them away.
VERBATIM_PROMPT = "Um, so, I- I was, uh, thinking that, you know, we- we should, hmm, talk."


@dataclass(frozen=True, slots=True)
class AsrWord:
    """One word as the engine heard it (leading space removed, punctuation kept)."""

    text: str
    start: float
    end: float
    probability: float


@dataclass(frozen=True)
class AsrSettings:
    """Decoding choices shared by both engines."""

    language: str = "en"
    beam_size: int | None = None  # None: the engine's measured best (see DEFAULT_BEAM)
    verbatim: bool = True

    def beam_for(self, engine: str) -> int | None:
        return self.beam_size if self.beam_size is not None else DEFAULT_BEAM[engine]


# faster-whisper: beam 5 (its default) costs 1.5x greedy here for fewer errors on tiny.en;
# openai-whisper: greedy (its default), beam search there costs 2-3x.
DEFAULT_BEAM: dict[str, int | None] = {"faster-whisper": 5, "whisper": None}


@dataclass(frozen=True)
class AsrResult:
    words: tuple[AsrWord, ...]
    engine: str
    model: str


class Engine(Protocol):
    name: str
    model_path: Path

    def transcribe(self, samples: npt.NDArray[np.float32], *, settings: AsrSettings,
                   progress: Progress | None = None) -> AsrResult: ...


def load_engine(engine: str, model_path: Path, *, threads: int = 0) -> Engine:
    """Load a model for ``engine`` from a local path (never from the network)."""
    if engine == "faster-whisper":
        return FasterWhisperEngine(model_path, threads=threads)
    if engine == "whisper":
        return OpenAIWhisperEngine(model_path, threads=threads)
    raise ValueError(f"unknown engine {engine!r}")


class FasterWhisperEngine:
    name = "faster-whisper"

    def __init__(self, model_path: Path, *, threads: int = 0) -> None:
        from faster_whisper import WhisperModel

        self.model_path = Path(model_path)
        self._model = WhisperModel(str(model_path), device="cpu", compute_type="int8",
                                   cpu_threads=threads, local_files_only=True)

    def transcribe(self, samples: npt.NDArray[np.float32], *, settings: AsrSettings,
                   progress: Progress | None = None) -> AsrResult:
        duration = len(samples) / 16_000
        segments, _info = self._model.transcribe(
            samples, language=settings.language, beam_size=settings.beam_for(self.name) or 1,
            word_timestamps=True, condition_on_previous_text=False, vad_filter=False,
            initial_prompt=VERBATIM_PROMPT if settings.verbatim else None)
        words: list[AsrWord] = []
        for segment in segments:  # a lazy generator: each segment is a progress tick
            for w in segment.words or ():
                words.append(AsrWord(w.word.strip(), round(float(w.start), 3),
                                     round(float(w.end), 3), round(float(w.probability), 4)))
            if progress is not None and duration > 0:
                progress("asr", min(1.0, segment.end / duration))
        return AsrResult(words=tuple(w for w in words if w.text), engine=self.name,
                         model=str(self.model_path))


class OpenAIWhisperEngine:
    name = "whisper"

    def __init__(self, model_path: Path, *, threads: int = 0) -> None:
        import torch
        import whisper

        if threads:
            torch.set_num_threads(threads)
        self.model_path = Path(model_path)
        self._model = whisper.load_model(str(model_path), device="cpu")
        # Loaded from a path, whisper cannot know which alignment heads to use; tiny.en's
        # are the right ones for our store's tiny.en, the default (all heads) otherwise.
        heads = whisper._ALIGNMENT_HEADS.get(_whisper_name(self.model_path, self._model))
        if heads is not None:
            self._model.set_alignment_heads(heads)

    def transcribe(self, samples: npt.NDArray[np.float32], *, settings: AsrSettings,
                   progress: Progress | None = None) -> AsrResult:
        import whisper

        beam = settings.beam_for(self.name)
        with _whisper_progress(progress, len(samples) / 16_000):
            result = whisper.transcribe(
                self._model, np.ascontiguousarray(samples, dtype=np.float32),
                language=settings.language, word_timestamps=True,
                condition_on_previous_text=False, fp16=False, verbose=None,
                initial_prompt=VERBATIM_PROMPT if settings.verbatim else None,
                **({"beam_size": beam} if beam else {}))
        words = [AsrWord(str(w["word"]).strip(), round(float(w["start"]), 3),
                         round(float(w["end"]), 3), round(float(w["probability"]), 4))
                 for segment in result["segments"] for w in segment.get("words", ())]
        return AsrResult(words=tuple(w for w in words if w.text), engine=self.name,
                         model=str(self.model_path))


def _whisper_name(path: Path, model: Any) -> str:
    """Which of openai's model names this checkpoint is, from its file name and size."""
    stem = path.name.removesuffix(".pt").removeprefix("whisper-")
    dims = model.dims
    is_english = dims.n_vocab < 51865
    sizes = {384: "tiny", 512: "base", 768: "small", 1024: "medium", 1280: "large"}
    size = sizes.get(dims.n_audio_state, "")
    guess = f"{size}.en" if is_english and size in ("tiny", "base", "small", "medium") else size
    return stem if stem == guess else guess


@contextlib.contextmanager
def _whisper_progress(progress: Progress | None, duration: float) -> Iterator[None]:
    """openai-whisper reports progress only through tqdm: borrow that seam."""
    if progress is None:
        yield
        return
    import sys

    import whisper  # noqa: F401  (loads whisper.transcribe, which the package name shadows)

    module = sys.modules["whisper.transcribe"]
    real_tqdm = module.tqdm

    class _Bar:
        def __init__(self, *, total: int, **_: Any) -> None:
            self.total, self.done = max(1, total), 0

        def __enter__(self) -> _Bar:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def update(self, n: int) -> None:
            self.done += n
            progress("asr", min(1.0, self.done / self.total))

    class _Module:
        tqdm = _Bar

    module.tqdm = _Module  # type: ignore[assignment]
    try:
        yield
    finally:
        module.tqdm = real_tqdm
