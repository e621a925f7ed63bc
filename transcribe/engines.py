"""The two ASR engines behind one small interface, both giving word timestamps.

``faster-whisper`` (CTranslate2, int8 on CPU) is the default: on this machine
it ran tiny.en 2-3x faster than openai-whisper. ``whisper`` (openai-whisper) is
first-class: loaded by path, its alignment heads set, audio passed as an array
so ffmpeg is never needed.

Both are prompted for verbatim text, so fillers, cut-offs and repetitions
survive, and run with ``condition_on_previous_text`` off, which avoids the
repetition loops Whisper falls into on long files. Each engine's own types are
turned into ``AsrWord`` here and nowhere else.

Past 400 lines because both engines' adapters live here, each with its chunk and
second-reading logic beside the other's; the pure loop logic is in ``repetition``.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from transcribe.diarize import Progress
from transcribe.errors import TranscribeError
from transcribe.packing import GAP_SECONDS, WINDOW_SECONDS, plan_pieces
from transcribe.repetition import better, find_loops, is_suspect_text, suspect, without_loops

ENGINES = ("faster-whisper", "whisper")

# A disfluent example in the prompt tells Whisper this is a verbatim transcript: it
# then writes "um", "uh", "I- I" instead of tidying them away. Written for English and
# German (fillers and cut-offs as transcribers of each write them); other languages are
# decoded without a prompt (an English prompt there pulls Whisper towards English).
VERBATIM_PROMPT = "Um, so, I- I was, uh, thinking that, you know, we- we should, hmm, talk."
VERBATIM_PROMPTS = {
    "en": VERBATIM_PROMPT,
    "de": "Ähm, also, ich- ich hab, äh, gedacht, dass wir- wir, hm, mal reden sollten.",
}
DEVICES = ("auto", "cpu", "cuda")


def verbatim_prompt(language: str) -> str | None:
    """The verbatim prompt for ``language``, or None where none is written."""
    return VERBATIM_PROMPTS.get(language)


def cuda_available(engine: str) -> bool:
    """Whether ``engine``'s library sees a CUDA device (CTranslate2 or torch)."""
    try:
        if engine == "faster-whisper":
            import ctranslate2

            return int(ctranslate2.get_cuda_device_count()) > 0
        import torch

        return bool(torch.cuda.is_available())
    except Exception:  # a broken driver is no GPU
        return False


def resolve_device(requested: str, engine: str) -> str:
    """``auto`` is CUDA where the engine sees one, else the CPU; ``cuda`` without one refuses."""
    if requested not in DEVICES:
        raise TranscribeError(f"unknown device {requested!r} (choose from {', '.join(DEVICES)})")
    if requested == "cpu":
        return "cpu"
    if cuda_available(engine):
        return "cuda"
    if requested == "cuda":
        raise TranscribeError(f"--device cuda: {engine} sees no CUDA device here "
                              "(use --device auto or cpu)")
    return "cpu"


def compute_type(device: str, *, fast: bool = False) -> str:
    """float16 on a GPU (int8_float16 for the 'fast' form), int8 on the CPU."""
    if device == "cuda":
        return "int8_float16" if fast else "float16"
    return "int8"


@dataclass(frozen=True, slots=True)
class AsrWord:
    """One word as the engine heard it (leading space removed, punctuation kept)."""

    text: str
    start: float
    end: float
    probability: float


@dataclass(frozen=True)
class AsrSettings:
    """Decoding choices shared by both engines. ``language`` may be ``auto``: the engine
    detects it once, on the first 30 s of speech, and decodes everything in it."""

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
    language: str = ""  # the language decoded in (detected when asked for "auto")
    language_probability: float | None = None  # the detector's confidence, when detected


Chunks = Sequence[tuple[float, float]]  # (start, end) seconds, each at most CHUNK_SECONDS

# Whisper hears 30 s at a time; chunks stop a little short so padding never spills over.
CHUNK_SECONDS = WINDOW_SECONDS


class Engine(Protocol):
    """``chunks`` (from the VAD) make the engine decode only speech, each chunk with the
    verbatim prompt; without them it decodes the whole array in its own 30 s windows."""

    name: str
    model_path: Path
    device: str

    def detect_language(self, samples: npt.NDArray[np.float32]) -> tuple[str, float]: ...

    def transcribe(self, samples: npt.NDArray[np.float32], *, settings: AsrSettings,
                   progress: Progress | None = None, chunks: Chunks | None = None,
                   ) -> AsrResult: ...


def plan_chunks(speech: Sequence[tuple[float, float]], duration: float, *,
                max_seconds: float = CHUNK_SECONDS, gap: float = GAP_SECONDS,
                ) -> list[tuple[float, float]]:
    """The VAD's speech regions as the pieces the ASR decodes (``packing.plan_pieces``).

    Each piece is speech with ``gap / 2`` of its surrounding audio; pauses up to
    ``gap`` stay inside a piece, longer ones are never decoded whole: the ASR
    lays pieces end to end into its 30 s windows (``packing.pack_windows``), so
    a long pause is heard shortened to ``gap``. No piece is longer than
    ``max_seconds``.
    """
    return plan_pieces(speech, duration, max_seconds=max_seconds, gap=gap)


def speech_sample(samples: npt.NDArray[np.float32], chunks: Chunks | None, *,
                  seconds: float = 30.0) -> npt.NDArray[np.float32]:
    """Up to ``seconds`` of the recording's speech (its first chunks), for language detection."""
    if not chunks:
        return samples[:int(seconds * 16_000)]
    pieces, total = [], 0
    for a, b in chunks:
        piece = samples[int(a * 16_000):int(b * 16_000)]
        pieces.append(piece[:int(seconds * 16_000) - total])
        total += len(pieces[-1])
        if total >= seconds * 16_000:
            break
    return np.concatenate(pieces) if pieces else samples[:0]


def settle_language(engine: Engine, samples: npt.NDArray[np.float32], settings: AsrSettings,
                    chunks: Chunks | None) -> tuple[AsrSettings, float | None]:
    """``auto`` becomes the detected language (once per recording); others pass through."""
    if settings.language != "auto":
        return settings, None
    language, probability = engine.detect_language(speech_sample(samples, chunks))
    return dataclasses.replace(settings, language=language), probability


def load_engine(engine: str, model_path: Path, *, threads: int = 0, device: str = "cpu",
                fast: bool = False) -> Engine:
    """Load a model for ``engine`` from a local path (never from the network).

    ``device`` is ``auto``, ``cpu`` or ``cuda``; ``fast`` computes in int8 on a GPU too.
    """
    where = resolve_device(device, engine)
    if engine == "faster-whisper":
        return FasterWhisperEngine(model_path, threads=threads, device=where, fast=fast)
    if engine == "whisper":
        return OpenAIWhisperEngine(model_path, threads=threads, device=where)
    raise ValueError(f"unknown engine {engine!r}")


BATCH_SIZE = 8  # chunks decoded together by faster-whisper (its own default)


class FasterWhisperEngine:
    name = "faster-whisper"

    def __init__(self, model_path: Path, *, threads: int = 0, device: str = "cpu",
                 fast: bool = False) -> None:
        from faster_whisper import WhisperModel

        self.model_path = Path(model_path)
        self.device = device
        self.compute_type = compute_type(device, fast=fast)
        self._model = WhisperModel(str(model_path), device=device,
                                   compute_type=self.compute_type, cpu_threads=threads,
                                   local_files_only=True)
        self._batched: Any = None

    def detect_language(self, samples: npt.NDArray[np.float32]) -> tuple[str, float]:
        if not self._model.model.is_multilingual:
            return "en", 1.0
        language, probability, _ = self._model.detect_language(audio=samples)
        return str(language), round(float(probability), 3)

    def transcribe(self, samples: npt.NDArray[np.float32], *, settings: AsrSettings,
                   progress: Progress | None = None, chunks: Chunks | None = None,
                   ) -> AsrResult:
        duration = len(samples) / 16_000
        if chunks is not None and not chunks:
            return AsrResult(words=(), engine=self.name, model=str(self.model_path),
                             language="" if settings.language == "auto" else settings.language)
        settings, probability = settle_language(self, samples, settings, chunks)
        common = {"language": settings.language, "beam_size": settings.beam_for(self.name) or 1,
                  "word_timestamps": True, "condition_on_previous_text": False,
                  "initial_prompt": verbatim_prompt(settings.language) if settings.verbatim
                  else None}
        if chunks is not None:
            words = self._decode_chunks(samples, chunks, common, progress, duration)
            words = self._second_reading(samples, chunks, common, words)
        else:
            segments, _info = self._model.transcribe(samples, vad_filter=False, **common)
            words = self._collect(segments, progress, duration)
        return AsrResult(words=tuple(w for w in without_loops(words) if w.text), engine=self.name,
                         model=str(self.model_path), language=settings.language,
                         language_probability=probability)

    def _decode_chunks(self, samples: npt.NDArray[np.float32], chunks: Chunks,
                       common: dict[str, Any], progress: Progress | None, duration: float,
                       ) -> list[AsrWord]:
        from faster_whisper import BatchedInferencePipeline

        # The batched pipeline decodes our chunks (windows of packed speech), each prompted.
        self._batched = self._batched or BatchedInferencePipeline(self._model)
        segments, _info = self._batched.transcribe(
            samples, clip_timestamps=[{"start": a, "end": b} for a, b in chunks],
            batch_size=BATCH_SIZE, without_timestamps=True, **common)
        return self._collect(segments, progress, duration)

    def _second_reading(self, samples: npt.NDArray[np.float32], chunks: Chunks,
                        common: dict[str, Any], words: list[AsrWord]) -> list[AsrWord]:
        """Suspect chunks (too few words for a prompted one, a loop) decoded again.

        Stricter than the batched pass: one chunk at a time, unprompted, with
        faster-whisper's temperature fallback (a window whose text compresses like a
        loop, ratio > 2.4, is sampled again hotter). A loop that survives that gets a
        third reading, prompted, that may not repeat any three words. The best
        reading is kept (``better``).
        """
        by_chunk = [[w for w in words if a <= (w.start + w.end) / 2 < b] for a, b in chunks]
        prompted = bool(common["initial_prompt"])
        for i, ((a, b), got) in enumerate(zip(chunks, by_chunk, strict=True)):
            if not (suspect(got, b - a) if prompted else is_suspect_text([w.text for w in got])):
                continue
            piece = samples[int(a * 16_000):int(b * 16_000)]
            tries = [{**common, "initial_prompt": None}]
            if prompted:
                tries.append({**common, "no_repeat_ngram_size": 3})
            for options in tries:
                segments, _info = self._model.transcribe(piece, vad_filter=False,
                                                         without_timestamps=True, **options)
                again = [dataclasses.replace(w, start=round(w.start + a, 3),
                                             end=round(w.end + a, 3))
                         for w in self._collect(segments, None, 0.0)]
                by_chunk[i] = better(by_chunk[i], again)
                if not find_loops([w.text for w in by_chunk[i]]):
                    break
        return [w for got in by_chunk for w in got]

    @staticmethod
    def _collect(segments: Any, progress: Progress | None, duration: float) -> list[AsrWord]:
        words: list[AsrWord] = []
        for segment in segments:  # a lazy generator: each segment is a progress tick
            for w in segment.words or ():
                words.append(AsrWord(w.word.strip(), round(float(w.start), 3),
                                     round(float(w.end), 3), round(float(w.probability), 4)))
            if progress is not None and duration > 0:
                progress("asr", min(1.0, segment.end / duration))
        return words


# Speech left after a chunk's last word beyond which whisper is taken to have stopped early
# (a chunk ends 0.2 s of padding after its speech; measured tails were 0.0-0.5 s).
TAIL_SECONDS = 1.0


class OpenAIWhisperEngine:
    name = "whisper"

    def __init__(self, model_path: Path, *, threads: int = 0, device: str = "cpu") -> None:
        import torch
        import whisper

        if threads:
            torch.set_num_threads(threads)
        self.model_path = Path(model_path)
        self.device = device
        self._model = whisper.load_model(str(model_path), device=device)
        # Loaded from a path, whisper cannot know which alignment heads to use; tiny.en's
        # are the right ones for our store's tiny.en, the default (all heads) otherwise.
        heads = whisper._ALIGNMENT_HEADS.get(_whisper_name(self.model_path, self._model))
        if heads is not None:
            self._model.set_alignment_heads(heads)

    def detect_language(self, samples: npt.NDArray[np.float32]) -> tuple[str, float]:
        import whisper

        if not self._model.is_multilingual:
            return "en", 1.0
        audio = whisper.pad_or_trim(np.ascontiguousarray(samples, dtype=np.float32))
        mel = whisper.log_mel_spectrogram(audio, self._model.dims.n_mels).to(self._model.device)
        _, probs = self._model.detect_language(mel)
        language = max(probs, key=probs.get)
        return str(language), round(float(probs[language]), 3)

    def transcribe(self, samples: npt.NDArray[np.float32], *, settings: AsrSettings,
                   progress: Progress | None = None, chunks: Chunks | None = None,
                   ) -> AsrResult:
        probability = None
        if chunks is None or chunks:
            settings, probability = settle_language(self, samples, settings, chunks)
        spans = [(0.0, len(samples) / 16_000)] if chunks is None else list(chunks)
        total = sum(b - a for a, b in spans) or 1.0
        words: list[AsrWord] = []
        done = 0.0
        prompted = settings.verbatim and verbatim_prompt(settings.language) is not None
        for start, end in spans:
            got = self._decode_span(samples, start, end, settings, progress,
                                    done=done, total=total, whole=chunks is not None)
            if prompted and chunks is not None and suspect(got, end - start):
                plain = dataclasses.replace(settings, verbatim=False)
                got = better(got, self._decode_span(samples, start, end, plain, None, done=done,
                                                    total=total, whole=True))
            words.extend(got)
            done += end - start
            if progress is not None:
                progress("asr", min(1.0, done / total))
        return AsrResult(words=tuple(without_loops(words)), engine=self.name,
                         model=str(self.model_path),
                         language="" if settings.language == "auto" else settings.language,
                         language_probability=probability)

    def _decode_span(self, samples: npt.NDArray[np.float32], start: float, end: float,
                     settings: AsrSettings, progress: Progress | None, *, done: float,
                     total: float, whole: bool) -> list[AsrWord]:
        """Words of ``samples[start:end]`` (seconds), in the file's time.

        A chunk fits one window: its text is decoded whole (no timestamp tokens). If the
        model stops early and leaves more than ``TAIL_SECONDS`` after its last word, that
        tail is decoded again with the prompt; a normal tail (the chunk's padding) is not.
        """
        words: list[AsrWord] = []
        a = start
        while True:
            def span_progress(stage: str, fraction: float, _a: float = a) -> None:
                if progress is not None:
                    progress(stage, min(1.0, (done + _a - start + fraction * (end - _a))
                                        / total))

            piece = samples[int(a * 16_000):int(end * 16_000)]
            got = [AsrWord(w.text, round(w.start + a, 3), round(w.end + a, 3), w.probability)
                   for w in self._decode(piece, settings, span_progress, whole=whole)]
            words.extend(got)
            if not whole or not got or got[-1].end <= a + 0.5 or end - got[-1].end <= TAIL_SECONDS:
                return words
            a = got[-1].end

    def _decode(self, samples: npt.NDArray[np.float32], settings: AsrSettings,
                progress: Progress, *, whole: bool = False) -> list[AsrWord]:
        import whisper

        beam = settings.beam_for(self.name)
        audio = np.ascontiguousarray(samples, dtype=np.float32)
        with _whisper_progress(progress, len(samples) / 16_000):
            # A whole chunk gets its word times added here, not inside transcribe(): there,
            # word timestamps move the next window's start back to the last word's end, so
            # every chunk's 0.2-0.5 s tail of padding was decoded again as a window of its
            # own (28 extra encoder passes on the 6-minute bench, one with a full
            # temperature-fallback run): that was the pipeline's 17 % over the raw run.
            result = whisper.transcribe(
                self._model, audio, language=settings.language, word_timestamps=not whole,
                condition_on_previous_text=False, fp16=self.device == "cuda", verbose=None,
                initial_prompt=verbatim_prompt(settings.language) if settings.verbatim else None,
                without_timestamps=whole, **({"beam_size": beam} if beam else {}))
        if whole:
            _add_chunk_word_times(self._model, audio, result["segments"], settings.language)
        words = [AsrWord(str(w["word"]).strip(), round(float(w["start"]), 3),
                         round(float(w["end"]), 3), round(float(w["probability"]), 4))
                 for segment in result["segments"] for w in segment.get("words", ())]
        return [w for w in words if w.text]


def _add_chunk_word_times(model: Any, audio: npt.NDArray[np.float32],
                          segments: list[dict[str, Any]], language: str) -> None:
    """Align the words of a chunk decoded as one window, on the very mel window (content,
    then zero-padded to 30 s) that ``whisper.transcribe`` itself aligns a window on."""
    segments[:] = [s for s in segments if s["tokens"]]
    if not segments:
        return
    from whisper.audio import N_FRAMES, N_SAMPLES, log_mel_spectrogram, pad_or_trim
    from whisper.timing import add_word_timestamps
    from whisper.tokenizer import get_tokenizer

    mel = log_mel_spectrogram(audio, model.dims.n_mels, padding=N_SAMPLES)
    frames = min(N_FRAMES, mel.shape[-1] - N_FRAMES)
    window = pad_or_trim(mel[:, :frames], N_FRAMES).to(model.device)
    tokenizer = get_tokenizer(model.is_multilingual, num_languages=model.num_languages,
                              language=language, task="transcribe")
    add_word_timestamps(segments=segments, model=model, tokenizer=tokenizer, mel=window,
                        num_frames=frames, last_speech_timestamp=0.0)


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

    module: Any = sys.modules["whisper.transcribe"]  # untyped third-party module
    real_tqdm = module.tqdm
    report: Progress = progress  # narrowed above; a nested class does not see that

    class _Bar:
        def __init__(self, *, total: int, **_: Any) -> None:
            self.total, self.done = max(1, total), 0

        def __enter__(self) -> _Bar:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def update(self, n: int) -> None:
            self.done += n
            report("asr", min(1.0, self.done / self.total))

    class _Module:
        tqdm = _Bar

    module.tqdm = _Module
    try:
        yield
    finally:
        module.tqdm = real_tqdm
