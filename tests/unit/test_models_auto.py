"""model = "auto", --device and the English-only refusal: choices made from the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.fake_models import fake_faster_whisper, fake_whisper_checkpoint
from transcribe.engines import compute_type, resolve_device, verbatim_prompt
from transcribe.errors import TranscribeError
from transcribe.models import ModelError, catalogue, resolve_model
from transcribe.models.auto import choose_model, english_only


def store_with(tmp_path: Path, *names: str) -> Path:
    store = tmp_path / "store"
    for name in names:
        if name.endswith(".pt"):
            store.mkdir(exist_ok=True)
            fake_whisper_checkpoint(store / name)
        else:
            fake_faster_whisper(store / name)
    return store


def test_auto_takes_the_most_accurate_model_fast_enough_here(tmp_path: Path) -> None:
    store = store_with(tmp_path, "faster-whisper-tiny.en", "faster-whisper-base",
                       "faster-whisper-large-v3-turbo", "whisper-tiny.en.pt")
    choice = choose_model(store, engine="faster-whisper")
    assert choice.entry.name == "faster-whisper-base"  # turbo is estimated at > 0.5x here
    assert not choice.measured and "estimated" in choice.reason
    catalogue.record_speed("faster-whisper-large-v3-turbo", audio_seconds=600, asr_seconds=240)
    choice = choose_model(store, engine="faster-whisper")
    assert choice.entry.name == "faster-whisper-large-v3-turbo"
    assert choice.measured and choice.rtf == pytest.approx(0.4)
    assert resolve_model("auto", engine="faster-whisper", models_dir=store) == choice.entry.path
    assert choose_model(store, engine="whisper").entry.name == "whisper-tiny.en.pt"


def test_auto_never_hands_a_slow_machine_a_slow_model_unless_it_is_all_there_is(
        tmp_path: Path) -> None:
    store = store_with(tmp_path, "faster-whisper-large-v3", "faster-whisper-medium")
    choice = choose_model(store, engine="faster-whisper")
    assert choice.entry.name == "faster-whisper-medium"  # the fastest of two slow ones
    assert "none runs at 0.50x" in choice.reason


def test_auto_respects_the_language(tmp_path: Path) -> None:
    store = store_with(tmp_path, "faster-whisper-small.en", "faster-whisper-tiny")
    assert choose_model(store, engine="faster-whisper").entry.name == "faster-whisper-small.en"
    assert choose_model(store, engine="faster-whisper",
                        language="de").entry.name == "faster-whisper-tiny"
    assert choose_model(store, engine="faster-whisper",
                        language="auto").entry.name == "faster-whisper-tiny"
    only_english = store_with(tmp_path / "b", "faster-whisper-tiny.en")
    with pytest.raises(ModelError, match="no multilingual \\(for 'de'\\) faster-whisper model"):
        choose_model(only_english, engine="faster-whisper", language="de")
    with pytest.raises(ModelError, match="no faster-whisper model in the model store"):
        choose_model(tmp_path / "empty", engine="faster-whisper")


def test_a_model_the_catalogue_does_not_know_ranks_below_known_ones(tmp_path: Path) -> None:
    store = store_with(tmp_path, "faster-whisper-my-finetune", "faster-whisper-tiny.en")
    assert choose_model(store, engine="faster-whisper").entry.name == "faster-whisper-tiny.en"
    (store / "faster-whisper-my-finetune" / "vocabulary.txt").write_text("t\n" * 51864)
    assert english_only(store / "faster-whisper-my-finetune")
    (store / "faster-whisper-my-finetune" / "vocabulary.txt").write_text("t\n" * 51866)
    assert not english_only(store / "faster-whisper-my-finetune")


def test_an_english_only_model_refuses_another_language_in_one_line(tmp_path: Path) -> None:
    store = store_with(tmp_path, "faster-whisper-tiny.en", "faster-whisper-distil-large-v3")
    for name in ("tiny.en", "distil-large-v3"):
        with pytest.raises(ModelError, match="English-only model and cannot transcribe 'de'"
                           ) as caught:
            resolve_model(name, engine="faster-whisper", models_dir=store, language="de")
        assert "\n" not in str(caught.value)
    assert resolve_model("tiny.en", engine="faster-whisper", models_dir=store,
                         language="auto").name == "faster-whisper-tiny.en"


def test_the_fast_form_resolves_to_the_same_files(tmp_path: Path) -> None:
    store = store_with(tmp_path, "faster-whisper-large-v3-turbo")
    assert resolve_model("large-v3-turbo-fast", engine="faster-whisper",
                         models_dir=store).name == "faster-whisper-large-v3-turbo"
    assert catalogue.is_fast("large-v3-turbo-fast", "faster-whisper")
    assert not catalogue.is_fast("large-v3-turbo", "faster-whisper")


def test_device_choice_and_compute_types() -> None:
    assert resolve_device("cpu", "faster-whisper") == "cpu"
    assert compute_type("cpu") == "int8" and compute_type("cuda") == "float16"
    assert compute_type("cuda", fast=True) == "int8_float16"
    with pytest.raises(TranscribeError, match="unknown device 'tpu'"):
        resolve_device("tpu", "faster-whisper")
    from transcribe.engines import cuda_available

    for engine in ("faster-whisper", "whisper"):
        if cuda_available(engine):
            assert resolve_device("auto", engine) == "cuda"
        else:
            assert resolve_device("auto", engine) == "cpu"
            with pytest.raises(TranscribeError, match="sees no CUDA device"):
                resolve_device("cuda", engine)


def test_verbatim_prompts_for_english_and_german_only() -> None:
    assert "uh" in (verbatim_prompt("en") or "") and "äh" in (verbatim_prompt("de") or "")
    assert verbatim_prompt("fr") is None
