"""Audio file -> speaker-attributed, pause-marked ``verbatim-transcript/1`` document.

Stages, each reported through ``progress(stage, fraction)``: load, vad,
diarise, asr, marks. ``transcribe_file`` runs them in this process;
``transcribe.jobs`` runs the same in a worker process for the CLI and the TUI.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from transcribe.align import assign_speakers, smooth_speakers
from transcribe.audio import Audio, AudioInfo, file_sha256, load_audio, probe_audio
from transcribe.diarize import Diarisation, Progress
from transcribe.diarize.boundaries import check_boundaries
from transcribe.diarize.registry import check_mode, diarise
from transcribe.diarize.voiceprints import name_speakers
from transcribe.engines import (
    ENGINES,
    AsrResult,
    AsrSettings,
    AsrWord,
    Engine,
    load_engine,
    plan_chunks,
)
from transcribe.errors import TranscribeError
from transcribe.marks import (
    MarkSettings,
    disfluency_marks,
    inaudible_marks,
    overlap_marks,
    pause_marks,
    tone_marks,
    utterances,
)
from transcribe.models import resolve_model
from transcribe.privacy import network_blocked
from transcribe.vad import ENERGY_HOP_SECONDS, SpeechMap, frame_energy_db, map_speech
from transcript.model import AudioRef, Mark, Speaker, Transcript, Word


def _default_models_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("verbatim")) / "models"


@dataclass(frozen=True)
class PipelineOptions:
    """Everything a transcription run may be told; defaults are what a new user gets."""

    engine: str = "faster-whisper"
    model: str = "tiny.en"  # a store name or a path
    diarize: str = "embedding"
    speakers: int | None = None  # a hint for the diariser, when known
    language: str = "en"
    models_dir: Path = field(default_factory=_default_models_dir)
    diarization: dict[str, Any] = field(default_factory=dict)
    beam_size: int | None = None  # None: the engine's measured best
    verbatim: bool = True  # prompt Whisper to keep fillers, cut-offs and repetitions
    recover_skipped: bool = True  # re-decode speech the engine skipped (see below)
    threads: int = 0  # 0: the engine's default (all cores)
    marks: MarkSettings = field(default_factory=MarkSettings)

    @property
    def asr_settings(self) -> AsrSettings:
        return AsrSettings(language=self.language, beam_size=self.beam_size,
                           verbatim=self.verbatim)


def validate(path: str | Path, options: PipelineOptions) -> tuple[AudioInfo, Path]:
    """Every cheap check, before any model loads: mode, engine, model, audio."""
    check_mode(options.diarize)
    if options.engine not in ENGINES:
        raise TranscribeError(f"unknown engine {options.engine!r} "
                              f"(choose from {', '.join(ENGINES)})")
    model_path = resolve_model(options.model, engine=options.engine,
                               models_dir=options.models_dir)
    info = probe_audio(path)
    check_mode(options.diarize, channels=info.channels)
    return info, model_path


def transcribe_file(path: str | Path, options: PipelineOptions, *,
                    progress: Progress | None = None, engine: Engine | None = None,
                    ) -> Transcript:
    """Transcribe one recording in this process."""
    _, model_path = validate(path, options)
    report = progress or (lambda stage, fraction: None)
    started = time.perf_counter()
    report("load", 0.0)
    audio = load_audio(path)
    sha256 = file_sha256(path)
    if engine is None:
        engine = load_engine(options.engine, model_path, threads=options.threads)
    report("load", 1.0)
    load_seconds = time.perf_counter() - started
    doc = transcribe_audio(audio, options, engine=engine, progress=report, sha256=sha256)
    timings = {"load": round(load_seconds, 3), **doc.extra["pipeline"]["timings"]}
    return dataclasses.replace(doc, extra={**doc.extra,
                                           "pipeline": {**doc.extra["pipeline"],
                                                        "timings": timings}})


def transcribe_audio(audio: Audio, options: PipelineOptions, *, engine: Engine,
                     progress: Progress | None = None, sha256: str = "",
                     asr: AsrResult | None = None) -> Transcript:
    """The stages after loading: VAD, diarisation, ASR (or a given result), marks."""
    report = progress or (lambda stage, fraction: None)
    timings: dict[str, float] = {}

    # The VAD goes first: its chunks let the engine decode only speech, each chunk with
    # the verbatim prompt (a prompt otherwise reaches only the first 30 s window).
    clock = time.perf_counter()
    report("vad", 0.0)
    speech = map_speech(audio.mono, audio.sample_rate)
    report("vad", 1.0)
    timings["vad"] = time.perf_counter() - clock

    # Diarisation before ASR: a diariser that cannot run (a missing model) fails in
    # seconds, not after the long ASR stage.
    clock = time.perf_counter()
    report("diarise", 0.0)
    diarisation = diarise(audio, mode=options.diarize, num_speakers=options.speakers,
                          settings=options.diarization, models_dir=options.models_dir,
                          progress=report) if speech.speech else Diarisation(turns=())
    report("diarise", 1.0)
    timings["diarise"] = time.perf_counter() - clock

    clock = time.perf_counter()
    if asr is None:
        report("asr", 0.0)
        chunks = plan_chunks(speech.speech, audio.duration)
        asr = engine.transcribe(audio.mono, settings=options.asr_settings, progress=report,
                                chunks=chunks)  # silence only: no chunks, no invented "you"
        report("asr", 1.0)
    asr = drop_words_in_silence(asr, speech)
    timings["asr"] = time.perf_counter() - clock

    clock = time.perf_counter()
    if options.recover_skipped:
        asr = recover_skipped_speech(asr, audio, speech, engine, options.asr_settings)
    timings["recover"] = time.perf_counter() - clock

    clock = time.perf_counter()
    diarisation = check_boundaries(audio.mono, diarisation, asr.words, options.diarization,
                                   options.models_dir)  # words near a change: a second look
    timings["boundaries"] = time.perf_counter() - clock

    clock = time.perf_counter()
    report("marks", 0.0)
    doc = assemble(audio, asr, speech, diarisation, options=options, sha256=sha256)
    names = name_speakers(audio.mono, diarisation, options.diarization, options.models_dir)
    if names:  # enrolled voices recognised: their names become the speakers' labels
        doc = dataclasses.replace(doc, speakers=tuple(
            Speaker(s.id, names.get(s.id, s.label)) for s in doc.speakers))
    report("marks", 1.0)
    timings["marks"] = time.perf_counter() - clock
    pipeline = {"engine": asr.engine, "model": Path(asr.model).name, "diarize": options.diarize,
                "offline": network_blocked(),
                "timings": {k: round(v, 3) for k, v in timings.items()}}
    return dataclasses.replace(doc, extra={"pipeline": pipeline})


def drop_words_in_silence(asr: AsrResult, speech: SpeechMap, *, margin: float = 0.3,
                          ) -> AsrResult:
    """Drop words with no speech anywhere near them: Whisper's inventions in silence."""
    regions = np.array(speech.speech, dtype=float).reshape(-1, 2)
    kept = tuple(w for w in asr.words
                 if np.any((regions[:, 0] < w.end + margin) & (regions[:, 1] > w.start - margin)))
    return asr if len(kept) == len(asr.words) else dataclasses.replace(asr, words=kept)


def recover_skipped_speech(asr: AsrResult, audio: Audio, speech: SpeechMap, engine: Engine,
                           settings: AsrSettings, *, min_length: float = 1.0,
                           pad: float = 0.2) -> AsrResult:
    """Decode again, unprompted, any long stretch of speech the engine gave no words for.

    Whisper sometimes ends a 30 s window early and skips to the next one, and
    the verbatim prompt makes tiny.en do it more often (measured here: 24 s of
    the synthetic interview lost when the whole file was decoded in one call).
    The VAD knows where speech is, so such holes are found and filled; when
    nothing was skipped this costs nothing.
    """
    holes = _uncovered(speech.speech, asr.words, min_length=min_length)
    if not holes:
        return asr
    plain = dataclasses.replace(settings, verbatim=False)
    found: list[AsrWord] = list(asr.words)
    rate = audio.sample_rate
    for start, end in holes:
        a, b = max(0.0, start - pad), min(audio.duration, end + pad)
        clip = audio.mono[int(a * rate):int(b * rate)]
        result = engine.transcribe(clip, settings=plain)
        for w in result.words:
            moved = AsrWord(w.text, round(w.start + a, 3), round(w.end + a, 3), w.probability)
            if start - pad <= (moved.start + moved.end) / 2 <= end + pad:
                found.append(moved)
    found.sort(key=lambda w: (w.start, w.end))
    return dataclasses.replace(asr, words=tuple(found))


def _uncovered(speech: Sequence[tuple[float, float]], words: Sequence[AsrWord], *,
               min_length: float, join: float = 1.0) -> list[tuple[float, float]]:
    """Speech regions with no word touching them, neighbours within ``join`` s merged."""
    starts = np.array([w.start for w in words]) if words else np.zeros(0)
    ends = np.array([w.end for w in words]) if words else np.zeros(0)
    holes: list[list[float]] = []
    for start, end in speech:
        if np.any((starts < end) & (ends > start)):
            continue
        if holes and start - holes[-1][1] <= join:
            holes[-1][1] = end
        else:
            holes.append([start, end])
    return [(a, b) for a, b in holes if b - a >= min_length]


def assemble(audio: Audio, asr: AsrResult, speech: SpeechMap, diarisation: Diarisation, *,
             options: PipelineOptions, sha256: str = "") -> Transcript:
    """Words get speakers, then the marks are inferred: pure apart from the energy read."""
    settings = options.marks
    speakers = smooth_speakers(asr.words, assign_speakers(asr.words, diarisation.turns))
    words = tuple(Word(w.text, w.start, w.end, s, w.probability)
                  for w, s in zip(asr.words, speakers, strict=True))
    pauses = pause_marks(words, speech.silences, min_pause=settings.min_pause)
    energy = frame_energy_db(audio.mono, audio.sample_rate)
    marks: list[Mark] = [
        *pauses,
        *overlap_marks(diarisation.overlaps),
        *disfluency_marks(words, max_gap=settings.stutter_max_gap),
        *inaudible_marks(words, speech.speech, diarisation.turns,
                         min_length=settings.min_inaudible,
                         low_probability=settings.low_probability),
        *tone_marks(utterances(words, pauses, energy, ENERGY_HOP_SECONDS), settings=settings),
    ]
    marks.sort(key=lambda m: (m.start, m.end, str(m.kind)))
    ids = sorted({w.speaker for w in words}, key=lambda s: (len(s), s))
    return Transcript(
        audio=AudioRef(path=audio.path, sha256=sha256, duration=round(audio.duration, 3)),
        speakers=tuple(Speaker(i, i) for i in ids), words=words, marks=tuple(marks))
