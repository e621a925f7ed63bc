"""Audio file -> speaker-attributed, pause-marked ``verbatim-transcript/1`` document.

Stages, each reported through ``progress(stage, fraction)``: load, vad,
diarise, asr, recover (speech the ASR skipped), boundaries (a second look at the
words where speakers change), marks. ``transcribe_file`` runs them in this process;
``transcribe.jobs`` runs the same in a worker process for the CLI and the TUI.

Streaming: ``transcribe_file`` decodes the recording once, block by block, into
a 16 kHz spool (``transcribe.audio.spool_audio``) while the VAD and the energy
meter ride along on the same blocks; every later stage reads only the
stretches it needs from the spool, and the ASR decodes the VAD's chunks a group
at a time. Resident memory stays flat from ten minutes to four hours. The VAD
runs once per job: the embedding diariser is given its speech regions. After
diarisation and after each ASR group the finished work is checkpointed
(``transcribe.resume``) when ``checkpoint_dir`` is set, so a killed job resumes.
(Past 400 lines on purpose: the stage order, the spool, the checkpoints and the
group-by-group ASR are one flow, read top to bottom.)
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from transcribe.align import assign_speakers, smooth_speakers
from transcribe.audio import Audio, AudioInfo, file_sha256, probe_audio, spool_audio
from transcribe.diarize import Diarisation, Progress
from transcribe.diarize.boundaries import check_boundaries
from transcribe.diarize.registry import check_mode, diarise
from transcribe.diarize.voiceprints import name_speakers
from transcribe.engines import (
    BATCH_SIZE,
    ENGINES,
    AsrResult,
    AsrSettings,
    AsrWord,
    Engine,
    load_engine,
    plan_chunks,
    resolve_device,
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
from transcribe.memory import give_back_memory
from transcribe.models import resolve_model
from transcribe.models.catalogue import is_fast, record_speed
from transcribe.packing import lay_out, pack_windows
from transcribe.privacy import network_blocked
from transcribe.resume import Checkpoint, checkpoint_key
from transcribe.vad import (
    ENERGY_HOP_SECONDS,
    SpeechMap,
    SpeechScanner,
    frame_energy_db,
    map_speech,
)
from transcript.model import AudioRef, Mark, Speaker, Transcript, Word


def _default_models_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("verbatim")) / "models"


@dataclass(frozen=True)
class PipelineOptions:
    """Everything a transcription run may be told; defaults are what a new user gets."""

    engine: str = "faster-whisper"
    model: str = "auto"  # "auto" (transcribe.models.auto), a store name or a path
    device: str = "auto"  # auto (CUDA where the engine sees one), cpu or cuda
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
    # where a long job keeps its finished work so a restart resumes (None: no checkpoints)
    checkpoint_dir: Path | None = None
    # an encrypted study's job: (folder, age recipient) where each checkpoint is also
    # kept sealed, so the job resumes after the program (and its memory) is gone
    checkpoint_seal: tuple[Path, str] | None = None
    # Whisper windows (packed speech, transcribe.packing) decoded per engine call, and per
    # checkpoint. Measured with tiny.en on 2 cores: 8 at a time cost 0.62 GB of transient
    # memory over the model, 4 cost 0.38 GB, 2 cost 0.18 GB, at about the same speed; with
    # turbo, 4 cost 2.01 GB peak against 1.63 GB for 2 and were no faster
    asr_group: int = 2

    def result_settings(self) -> dict[str, Any]:
        """Every option that changes the transcript (a checkpoint is valid only for these)."""
        return {"engine": self.engine, "model": self.model, "diarize": self.diarize,
                "speakers": self.speakers, "language": self.language,
                "diarization": self.diarization, "beam_size": self.beam_size,
                "verbatim": self.verbatim, "asr_group": self.asr_group}

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
                               models_dir=options.models_dir, language=options.language,
                               device=resolve_device(options.device, options.engine))
    info = probe_audio(path)
    check_mode(options.diarize, channels=info.channels)
    return info, model_path


def transcribe_file(path: str | Path, options: PipelineOptions, *,
                    progress: Progress | None = None, engine: Engine | None = None,
                    ) -> Transcript:
    """Transcribe one recording in this process, streaming it through a spool."""
    _, model_path = validate(path, options)
    report = progress or (lambda stage, fraction: None)
    started = time.perf_counter()
    report("load", 0.0)
    sha256 = file_sha256(path)
    scanner = SpeechScanner()
    import ctranslate2  # noqa: F401  (so its sampling can be seeded before the engine loads)

    _same_draws()
    vad_seconds = 0.0

    def vad_rides_along(samples: np.ndarray, first_frame: int) -> None:
        nonlocal vad_seconds
        clock = time.perf_counter()
        scanner.feed(samples[0] if samples.shape[0] == 1
                     else samples.mean(axis=0, dtype=np.float32))
        vad_seconds += time.perf_counter() - clock

    with spool_audio(path, block=vad_rides_along,
                     progress=lambda fraction: report("load", 0.95 * fraction)) as audio:
        if engine is None:
            engine = load_engine(options.engine, model_path, threads=options.threads,
                                 device=options.device,
                                 fast=is_fast(options.model, options.engine))
        report("load", 1.0)
        clock = time.perf_counter()
        report("vad", 0.0)
        speech = scanner.finish()
        report("vad", 1.0)
        vad_seconds += time.perf_counter() - clock
        load_seconds = time.perf_counter() - started - vad_seconds
        doc = transcribe_audio(audio, options, engine=engine, progress=report, sha256=sha256,
                               speech=speech)
    timings = {"load": round(load_seconds, 3), **doc.extra["pipeline"]["timings"],
               "vad": round(vad_seconds, 3)}
    if model_path.parent == options.models_dir:  # the speed `model = "auto"` goes by
        record_speed(model_path.name, audio_seconds=doc.audio.duration,
                     asr_seconds=timings.get("asr", 0.0) + timings.get("recover", 0.0),
                     device=getattr(engine, "device", "cpu"))
    return dataclasses.replace(doc, extra={**doc.extra,
                                           "pipeline": {**doc.extra["pipeline"],
                                                        "timings": timings}})


def transcribe_audio(audio: Audio, options: PipelineOptions, *, engine: Engine,
                     progress: Progress | None = None, sha256: str = "",
                     asr: AsrResult | None = None, speech: SpeechMap | None = None,
                     ) -> Transcript:
    """The stages after loading: VAD (unless given), diarisation, ASR (or a given result),
    marks. ``audio`` may be in memory or a spool; the stages read it in slices."""
    report = progress or (lambda stage, fraction: None)
    timings: dict[str, float] = {}

    # The VAD goes first: its chunks let the engine decode only speech, each chunk with
    # the verbatim prompt (a prompt otherwise reaches only the first 30 s window).
    if speech is None:
        clock = time.perf_counter()
        report("vad", 0.0)
        speech = map_speech(audio.mono, audio.sample_rate)
        report("vad", 1.0)
        timings["vad"] = time.perf_counter() - clock
    chunks = plan_chunks(speech.speech, audio.duration)
    # "auto" has chosen its model by now: a checkpoint is valid only for that model
    checkpoint = Checkpoint.open(options.checkpoint_dir if sha256 and asr is None else None,
                                 checkpoint_key(sha256, {**options.result_settings(),
                                                         "model_used": engine.model_path.name}),
                                 seal=options.checkpoint_seal)

    # Diarisation before ASR: a diariser that cannot run (a missing model) fails in
    # seconds, not after the long ASR stage.
    clock = time.perf_counter()
    report("diarise", 0.0)
    if checkpoint.diarisation is not None and checkpoint.matches(chunks):
        diarisation = checkpoint.diarisation  # a resumed job: done before it stopped
    else:
        diarisation = diarise(audio, mode=options.diarize, num_speakers=options.speakers,
                              settings=options.diarization, models_dir=options.models_dir,
                              progress=report, speech=_within(speech.speech, audio.duration),
                              ) if speech.speech else Diarisation(turns=())
        checkpoint.start(chunks, diarisation)
        give_back_memory()
    report("diarise", 1.0)
    timings["diarise"] = time.perf_counter() - clock

    clock = time.perf_counter()
    settings = options.asr_settings
    if asr is None:
        report("asr", 0.0)
        settings, probability = detect_language_once(engine, audio, chunks, settings)
        # silence only: no chunks, no invented "you"
        asr = decode_chunks(engine, audio, chunks, settings, progress=report,
                            checkpoint=checkpoint, group=options.asr_group)
        asr = dataclasses.replace(asr, language=settings.language,
                                  language_probability=probability)
        report("asr", 1.0)
    elif asr.language:
        settings = dataclasses.replace(settings, language=asr.language)
    asr = drop_words_in_silence(asr, speech)
    timings["asr"] = time.perf_counter() - clock

    clock = time.perf_counter()
    _same_draws()
    if options.recover_skipped:  # in the language detected above, not detected again
        asr = recover_skipped_speech(asr, audio, speech, engine, settings,
                                     progress=lambda done: report("recover", done))
    timings["recover"] = time.perf_counter() - clock

    clock = time.perf_counter()
    diarisation = check_boundaries(audio.mono, diarisation, asr.words, options.diarization,
                                   options.models_dir,  # words near a change: a second look
                                   progress=lambda done: report("boundaries", done))
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
    checkpoint.remove()
    pipeline: dict[str, Any] = {
        "engine": asr.engine, "model": Path(asr.model).name, "diarize": options.diarize,
        "model_requested": options.model, "device": getattr(engine, "device", "cpu"),
        "language": asr.language or options.language,
        **({"language_probability": asr.language_probability}
           if asr.language_probability is not None else {}),
        "offline": network_blocked(), "timings": {k: round(v, 3) for k, v in timings.items()}}
    if checkpoint.resumed_groups:
        pipeline["resumed_groups"] = checkpoint.resumed_groups
    return dataclasses.replace(doc, extra={"pipeline": pipeline})


def detect_language_once(engine: Engine, audio: Audio, chunks: Sequence[tuple[float, float]],
                         settings: AsrSettings, *, seconds: float = 30.0,
                         ) -> tuple[AsrSettings, float | None]:
    """``language = "auto"``: the engine hears the first ``seconds`` of speech once and
    every chunk is decoded in the language it found (and prompted for it)."""
    if settings.language != "auto":
        return settings, None
    rate, pieces, total = audio.sample_rate, [], 0
    for a, b in chunks:
        piece = audio.read_mono(int(a * rate), int(b * rate))[:int(seconds * rate) - total]
        pieces.append(piece)
        total += len(piece)
        if total >= seconds * rate:
            break
    if not pieces:
        return dataclasses.replace(settings, language="en"), None
    language, probability = engine.detect_language(np.concatenate(pieces))
    return dataclasses.replace(settings, language=language), probability


def _within(regions: Sequence[tuple[float, float]], duration: float,
            ) -> list[tuple[float, float]]:
    """Regions cut to the recording (the VAD's last frame may reach past its end)."""
    return [(a, min(b, duration)) for a, b in regions if a < duration]


def decode_chunks(engine: Engine, audio: Audio, chunks: Sequence[tuple[float, float]],
                  settings: AsrSettings, *, progress: Progress | None = None,
                  checkpoint: Checkpoint | None = None, group: int = BATCH_SIZE,
                  ) -> AsrResult:
    """The engine over the VAD's chunks (``plan_chunks``' pieces), in the file's time.

    The pieces are packed into Whisper windows (``packing.pack_windows``: laid end
    to end, so a long pause costs no encoder time) and ``group`` windows go to the
    engine per call, each window one of its chunks. A call gets only its pieces'
    audio, so memory is bounded by one group whatever the file's length. Groups
    already in ``checkpoint`` are not decoded again; each newly finished group is
    saved to it.
    """
    checkpoint = checkpoint or Checkpoint(path=None)
    checkpoint.group = max(1, group)
    rate = audio.sample_rate
    windows = pack_windows(chunks)
    groups = [windows[i:i + group] for i in range(0, len(windows), max(1, group))]
    total = sum(b - a for a, b in chunks) or 1.0
    words: list[AsrWord] = [w for done_group in checkpoint.groups for w in done_group]
    done = sum(b - a for g in groups[:len(checkpoint.groups)] for w in g for a, b in w)
    for members in groups[len(checkpoint.groups):]:
        layout = lay_out(members, rate)
        samples = np.zeros(layout.samples, dtype=np.float32)
        for (first, last), at in zip(layout.reads, layout.offsets, strict=False):
            piece = audio.read_mono(first, last)[:last - first]
            samples[int(at):int(at) + len(piece)] = piece  # short only at the file's end
        seconds = sum(b - a for w in members for a, b in w)

        def group_progress(stage: str, fraction: float, _done: float = done,
                           _seconds: float = seconds) -> None:
            if progress is not None:
                progress("asr", min(1.0, (_done + fraction * _seconds) / total))

        result = engine.transcribe(samples, settings=settings, progress=group_progress,
                                   chunks=list(layout.clips))
        del samples
        found = [AsrWord(w.text, *layout.to_file(w.start, w.end), w.probability)
                 for w in result.words]
        words.extend(found)
        checkpoint.finish_group(found)
        # glibc keeps what the decoder freed: without this the four-hour job's worker
        # crept from 1.30 to 1.48 GB over 160 groups; one malloc_trim then gave back
        # 0.26 GB (RssAnon 0.87 -> 0.64 GB), so it runs after every group (a few ms)
        give_back_memory()
        done += seconds
    return AsrResult(words=tuple(words), engine=engine.name, model=str(engine.model_path))


def drop_words_in_silence(asr: AsrResult, speech: SpeechMap, *, margin: float = 0.3,
                          ) -> AsrResult:
    """Drop words with no speech anywhere near them: Whisper's inventions in silence."""
    regions = np.array(speech.speech, dtype=float).reshape(-1, 2)
    kept = tuple(w for w in asr.words
                 if np.any((regions[:, 0] < w.end + margin) & (regions[:, 1] > w.start - margin)))
    return asr if len(kept) == len(asr.words) else dataclasses.replace(asr, words=kept)


def recover_skipped_speech(asr: AsrResult, audio: Audio, speech: SpeechMap, engine: Engine,
                           settings: AsrSettings, *, min_length: float = 1.0,
                           pad: float = 0.2, progress: Callable[[float], None] | None = None,
                           ) -> AsrResult:
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
    for done, (start, end) in enumerate(holes):
        if progress is not None:
            progress(done / len(holes))
        a, b = max(0.0, start - pad), min(audio.duration, end + pad)
        clip = audio.read_mono(int(a * rate), int(b * rate))
        result = engine.transcribe(clip, settings=plain)
        for w in result.words:
            moved = AsrWord(w.text, round(w.start + a, 3), round(w.end + a, 3), w.probability)
            if start - pad <= (moved.start + moved.end) / 2 <= end + pad:
                found.append(moved)
        give_back_memory()  # as after each ASR group (the four-hour job crept to 1.60 GB here)
    found.sort(key=lambda w: (w.start, w.end))
    return dataclasses.replace(asr, words=tuple(found))


def _same_draws(seed: int = 0) -> None:
    """Seed the engines' random sampling, so a decode that falls back to sampling with a
    temperature draws the same in every job (a resumed job equals an uninterrupted one).

    CTranslate2 seeds each of its threads' generators once, at first use, from
    this seed: it holds for a fresh process (every job's worker), not for a
    model that has already sampled in this one.
    """
    import sys

    ctranslate2 = sys.modules.get("ctranslate2")
    if ctranslate2 is not None:
        ctranslate2.set_random_seed(seed)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)


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
    energy = speech.energy_db if speech.energy_db.size else \
        frame_energy_db(audio.mono, audio.sample_rate)
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
