"""--language auto on a real bilingual recording, the English-only refusal at the CLI,
and the same transcript on a GPU as on the CPU (where a GPU exists)."""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import _model
from tests.fixtures.metrics import word_error_rate
from transcribe.audio import Audio, load_audio
from transcribe.engines import Engine, cuda_available, load_engine
from transcribe.pipeline import PipelineOptions, transcribe_audio, transcribe_file
from transcribe.privacy import allow_network

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:DeprecationWarning"),
]

REPO = Path(__file__).resolve().parents[2]
AUDIO = (Path(os.environ["VERBATIM_TEST_MODELS"]).parent if os.environ.get("VERBATIM_TEST_MODELS")
         else REPO.parent / "shared") / "audio"
RATE = 16_000


def _audio(name: str) -> Path:
    path = AUDIO / name
    if not path.is_file():
        pytest.skip(f"real speech not found: {path}")
    return path


@pytest.fixture(scope="module")
def base(models_dir: Path) -> Engine:
    """Whisper base, multilingual (provisioned by make setup from its wheels)."""
    return load_engine("faster-whisper", _model(models_dir, "faster-whisper-base"))


@pytest.fixture(scope="module")
def bilingual() -> Audio:
    return load_audio(_audio("multilingual.mp3"))  # English, then German from about 30 s


def _clip(audio: Audio, start: float, end: float) -> Audio:
    return dataclasses.replace(audio, samples=audio.samples[:, int(start * RATE):int(end * RATE)])


def test_language_auto_detects_the_language_once_and_decodes_in_it(
        base: Engine, bilingual: Audio, models_dir: Path) -> None:
    english = bilingual.mono[:10 * RATE]
    assert base.detect_language(english)[0] == "en"
    options = PipelineOptions(model="base", language="auto", diarize="none",
                              models_dir=models_dir)
    doc = transcribe_audio(_clip(bilingual, 35.0, 52.0), options, engine=base)
    pipeline = doc.extra["pipeline"]
    text = " ".join(w.text for w in doc.words)
    print(f"[language] German clip: detected {pipeline['language']} "
          f"({pipeline['language_probability']}), {len(doc.words)} words: {text[:70]}",
          file=sys.stderr)
    assert pipeline["language"] == "de" and pipeline["language_probability"] > 0.8
    assert pipeline["model"] == "faster-whisper-base" and pipeline["model_requested"] == "base"
    # The German verbatim prompt made base loop here; the unprompted second reading won.
    assert len(doc.words) > 25 and "Software" in text, text


@pytest.fixture
def cli() -> Iterator[Callable[[list[str]], int]]:
    from verbatim.cli import main

    yield main
    allow_network()  # main() blocks the network process-wide; leave the guard to conftest


def test_an_english_only_model_asked_for_german_refuses_in_one_line(
        models_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        cli: Callable[[list[str]], int], capsys: pytest.CaptureFixture[str]) -> None:
    _model(models_dir, "faster-whisper-tiny.en")
    monkeypatch.setenv("VERBATIM_MODELS", str(models_dir))
    code = cli(["transcribe", str(_audio("jfk.flac")), "--out", str(tmp_path / "t.json"),
                "--model", "tiny.en", "--language", "de"])
    err = capsys.readouterr().err
    assert code != 0 and len(err.strip().splitlines()) == 1, err
    assert "English-only model and cannot transcribe 'de'" in err
    assert not (tmp_path / "t.json").exists()


@pytest.mark.gpu
def test_the_gpu_transcript_matches_the_cpu_one(models_dir: Path) -> None:
    if not cuda_available("faster-whisper"):
        pytest.skip("no CUDA device: CTranslate2 sees none here")
    options = PipelineOptions(model="tiny.en", diarize="none", models_dir=models_dir)
    cpu = transcribe_file(_audio("jfk.flac"), dataclasses.replace(options, device="cpu"))
    gpu = transcribe_file(_audio("jfk.flac"), dataclasses.replace(options, device="cuda"))
    assert gpu.extra["pipeline"]["device"] == "cuda"
    text = " ".join(w.text for w in cpu.words)
    assert word_error_rate(text, " ".join(w.text for w in gpu.words)) <= 0.1
    starts = [w.start for w in cpu.words][:10]
    assert all(abs(a - b.start) < 0.3 for a, b in zip(starts, gpu.words, strict=False))
