"""The pipeline on real models and real audio, scored against known truth.

Audio: the synthetic espeak-ng interview (tests/fixtures/synth.py) and
pyannote's bundled sample.wav with its RTTM/STM. ASR runs once per engine and
audio (session fixtures); each figure is printed for the issue's report.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.fixtures.metrics import pause_scores, speaker_accuracy, word_error_rate
from tests.fixtures.synth import SynthInterview, make_interview
from transcribe.audio import Audio, load_audio
from transcribe.diarize.registry import diarise
from transcribe.engines import AsrResult, AsrWord, Engine, load_engine
from transcribe.pipeline import PipelineOptions, transcribe_audio, transcribe_file
from transcript.model import MarkKind, Transcript

# F's embedding diariser loads silero-vad's TorchScript model, which torch 2.11 flags.
pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:DeprecationWarning"),
]

SAMPLE_DIR = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" \
    / "site-packages" / "pyannote" / "audio" / "sample"


def say(*parts: object) -> None:
    print("[transcribe]", *parts, file=sys.stderr)


def text_of(words: object) -> str:
    return " ".join(w.text for w in words)  # type: ignore[attr-defined]


def found_pauses(doc: Transcript) -> list[tuple[float, float]]:
    return [(m.start, m.end) for m in doc.marks if m.kind == MarkKind.PAUSE and m.speaker]


@pytest.fixture(scope="session")
def interview() -> SynthInterview:
    return make_interview(channels=2)


@pytest.fixture(scope="session")
def interview_audio(interview: SynthInterview) -> Audio:
    return load_audio(interview.path)


@pytest.fixture(scope="session")
def fw_engine(faster_whisper_tiny: Path) -> Engine:
    return load_engine("faster-whisper", faster_whisper_tiny)


@pytest.fixture(scope="session")
def options(models_dir: Path) -> PipelineOptions:
    return PipelineOptions(engine="faster-whisper", diarize="channels", models_dir=models_dir)


@pytest.fixture(scope="session")
def fw_raw(fw_engine: Engine, interview_audio: Audio, options: PipelineOptions) -> AsrResult:
    """The raw engine on the interview, nothing else: the baseline for WER."""
    return fw_engine.transcribe(interview_audio.mono, settings=options.asr_settings)


@pytest.fixture(scope="session")
def fw_channels(fw_engine: Engine, interview_audio: Audio, options: PipelineOptions,
                ) -> Transcript:
    return transcribe_audio(interview_audio, options, engine=fw_engine)


def test_pause_marks_match_the_inserted_silences(interview: SynthInterview,
                                                 fw_channels: Transcript) -> None:
    truth = [(a, b) for a, b, _ in interview.pauses]
    f1, error = pause_scores(truth, found_pauses(fw_channels))
    say(f"pauses: F1 {f1:.3f}, mean duration error {error:.3f} s over {len(truth)} pauses")
    assert f1 >= 0.95 and error <= 0.15


def test_gaps_between_speakers_are_their_own_kind(interview: SynthInterview,
                                                  fw_channels: Transcript) -> None:
    gaps = [(m.start, m.end) for m in fw_channels.marks if m.label == "gap"]
    f1, _ = pause_scores(interview.gaps, gaps)
    say(f"gaps between speakers: F1 {f1:.3f}")
    assert f1 >= 0.9


def test_words_land_on_the_right_microphone(interview: SynthInterview,
                                            fw_channels: Transcript) -> None:
    words = [(w.start, w.end, w.speaker) for w in fw_channels.words]
    accuracy = speaker_accuracy(interview.turns, words, mapping={"S1": "S1", "S2": "S2"})
    say(f"channels: words on the right speaker {accuracy:.3%}")
    assert accuracy >= 0.99


def test_pipeline_keeps_the_engines_words(interview: SynthInterview, fw_raw: AsrResult,
                                          fw_channels: Transcript, fw_engine: Engine,
                                          interview_audio: Audio,
                                          options: PipelineOptions) -> None:
    """As good as the engine alone, prompted (as the pipeline is) or not."""
    plain = fw_engine.transcribe(interview_audio.mono, settings=dataclasses.replace(
        options.asr_settings, verbatim=False))
    raw = word_error_rate(interview.reference_text, text_of(fw_raw.words))
    raw_plain = word_error_rate(interview.reference_text, text_of(plain.words))
    piped = word_error_rate(interview.reference_text, text_of(fw_channels.words))
    say(f"WER faster-whisper raw engine {raw:.4f} (verbatim prompt), {raw_plain:.4f} "
        f"(no prompt); pipeline {piped:.4f}")
    assert piped <= min(raw, raw_plain) + 0.01


@pytest.mark.skipif(importlib.util.find_spec("transcribe.diarize.embedding") is None,
                    reason="the embedding diariser is not installed")
def test_embedding_mode_on_the_mono_interview(fw_engine: Engine, options: PipelineOptions,
                                              ge2e_encoder: Path) -> None:
    mono = make_interview(channels=1)
    audio = load_audio(mono.path)
    stages: list[str] = []
    doc = transcribe_audio(audio, dataclasses.replace(options, diarize="embedding",
                                                      speakers=None), engine=fw_engine,
                           progress=lambda stage, fraction: stages.append(stage))
    # the boundary re-check reports as it goes (at an hour it takes as long as the ASR)
    assert stages.index("asr") < stages.index("boundaries") < stages.index("marks")
    assert stages.count("boundaries") >= 2
    accuracy = speaker_accuracy(mono.turns, [(w.start, w.end, w.speaker) for w in doc.words])
    f1, error = pause_scores([(a, b) for a, b, _ in mono.pauses], found_pauses(doc))
    say(f"embedding: words on the right speaker {accuracy:.3%}; pauses F1 {f1:.3f} "
        f"error {error:.3f} s")
    assert accuracy >= 0.95


# --- pyannote's sample.wav, with both engines ---------------------------------------

def _reference() -> tuple[str, list[tuple[float, float, str]]]:
    stm = (SAMPLE_DIR / "sample.stm").read_text().splitlines()
    text = " ".join(line.split(None, 5)[5] for line in stm if line.strip())
    turns = []
    for line in (SAMPLE_DIR / "sample.rttm").read_text().splitlines():
        parts = line.split()
        start, length = float(parts[3]), float(parts[4])
        turns.append((start, start + length, parts[7]))
    return text, turns


def diarisation_error_rate(reference: list[tuple[float, float, str]],
                           hypothesis: list[tuple[float, float, str]]) -> float:
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.diarization import DiarizationErrorRate

    def annotation(turns: list[tuple[float, float, str]]) -> Annotation:
        out = Annotation()
        for start, end, speaker in turns:
            out[Segment(start, end)] = speaker
        return out

    return float(DiarizationErrorRate()(annotation(reference), annotation(hypothesis)))


@pytest.fixture(scope="session")
def sample_audio() -> Audio:
    if not (SAMPLE_DIR / "sample.wav").exists():
        pytest.skip("pyannote's sample.wav is not installed")
    return load_audio(SAMPLE_DIR / "sample.wav")


@pytest.mark.parametrize("engine_name", ["faster-whisper", "whisper"])
def test_sample_wav_words_and_speakers(engine_name: str, sample_audio: Audio,
                                       options: PipelineOptions, fw_engine: Engine,
                                       whisper_tiny: Path) -> None:
    engine = fw_engine if engine_name == "faster-whisper" else load_engine("whisper",
                                                                           whisper_tiny)
    text, turns = _reference()
    modes = ["none"]
    if importlib.util.find_spec("transcribe.diarize.embedding") is not None:
        modes.append("embedding")
    base = dataclasses.replace(options, engine=engine_name)
    raw = engine.transcribe(sample_audio.mono, settings=base.asr_settings)
    raw_wer = word_error_rate(text, text_of(raw.words))
    piped: AsrResult | None = None
    for mode in modes:
        mode_options = dataclasses.replace(base, diarize=mode, speakers=2 if mode != "none"
                                           else None)
        doc = transcribe_audio(sample_audio, mode_options, engine=engine, asr=piped)
        piped = AsrResult(tuple(AsrWord(w.text, w.start, w.end, w.probability)
                                for w in doc.words), engine_name, "")  # ASR once per engine
        wer = word_error_rate(text, text_of(doc.words))
        result = diarise(sample_audio, mode=mode, num_speakers=mode_options.speakers,
                         models_dir=options.models_dir)
        der = diarisation_error_rate(turns, [(t.start, t.end, t.speaker) for t in result.turns])
        say(f"sample.wav {engine_name} {mode}: WER raw {raw_wer:.4f} pipeline {wer:.4f}, "
            f"DER {der:.3f}")
        assert wer <= raw_wer + 0.01
        assert wer < 0.35  # both engines get the substance of this call right
        if mode == "none":
            assert doc.speakers and len(doc.speakers) == 1


def test_silence_gives_an_empty_transcript(tmp_path: Path, fw_engine: Engine,
                                           options: PipelineOptions) -> None:
    path = tmp_path / "silence.wav"
    noise = np.random.default_rng(1).normal(0, 3e-4, 5 * 16_000).astype(np.float32)
    sf.write(path, noise, 16_000)
    doc = transcribe_file(path, dataclasses.replace(options, diarize="none"), engine=fw_engine)
    assert doc.words == () and doc.marks == () and doc.audio.duration == pytest.approx(5.0)
