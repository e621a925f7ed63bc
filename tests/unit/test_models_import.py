"""`models import` and `models verify` on files that are not what they claim to be.

Every bad case is refused at import (nothing lands in the store, no staging
folder is left behind), and the same file put into the store by hand is never
reported ok by `verify`.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fixtures.fake_models import (
    ctranslate2_bytes,
    fake_faster_whisper,
    fake_torch_checkpoint,
    fake_whisper_checkpoint,
)
from transcribe.models import ModelError, import_model, import_models, list_models, verify_models
from transcribe.privacy import allow_network


def text_file(name: str, text: str = "foo\nb\n") -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        (folder / name).write_text(text)
        return folder / name
    return make


def faster_whisper(change: Callable[[Path], None]) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        model = fake_faster_whisper(folder / "faster-whisper-small.en")
        change(model)
        return model
    return make


def truncated_zip(name: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = fake_torch_checkpoint(folder / name)
        path.write_bytes(path.read_bytes()[:30])
        return path
    return make


def legacy_torch_truncated(folder: Path) -> Path:
    import torch

    path = folder / "encoder.pt"
    torch.save({"w": torch.zeros(64)}, path, _use_new_zipfile_serialization=False)
    path.write_bytes(path.read_bytes()[:-40])
    return path


def folder_of(*names: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        target = folder / "speaker-model"
        target.mkdir()
        for name in names:
            (target / name).write_text("notes")
        return target
    return make


def pipeline_folder(text: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        target = folder / "pyannote-diarization"
        target.mkdir()
        (target / "config.yaml").write_text(text)
        return target
    return make


BAD = [
    ("six-byte text .bin", text_file("foo.bin"), "not a torch checkpoint"),
    ("README", text_file("README.md", "# models\n"), "not a model file"),
    ("empty .pt", text_file("empty.pt", ""), "empty"),
    ("text named whisper", text_file("whisper-small.en.pt"), "not an openai-whisper checkpoint"),
    ("zip without a pickle", lambda f: shutil.make_archive(str(f / "x"), "zip", f) and
     (f / "x.zip").rename(f / "x.pt"), "not a torch checkpoint"),
    ("truncated torch zip", truncated_zip("pytorch_model.bin"), "not a torch checkpoint"),
    ("truncated legacy torch", legacy_torch_truncated, "does not load as a torch checkpoint"),
    ("garbage onnx", text_file("seg.onnx", "not protobuf at all \x00\x01"), "ONNX"),
    ("truncated model.bin", faster_whisper(
        lambda m: (m / "model.bin").write_bytes(ctranslate2_bytes()[:-9])), "truncated"),
    ("model.bin with junk after", faster_whisper(
        lambda m: (m / "model.bin").write_bytes(ctranslate2_bytes() + b"junk")),
     "unexpected bytes"),
    ("model.bin that is text", faster_whisper(
        lambda m: (m / "model.bin").write_text("hello")), "not a CTranslate2 model"),
    ("no tokenizer.json", faster_whisper(lambda m: (m / "tokenizer.json").unlink()),
     "missing tokenizer.json"),
    ("no model.bin", faster_whisper(lambda m: (m / "model.bin").unlink()),
     "missing model.bin"),
    ("no vocabulary", faster_whisper(lambda m: (m / "vocabulary.txt").unlink()),
     "missing vocabulary.txt"),
    ("config.json not JSON", faster_whisper(lambda m: (m / "config.json").write_text("{")),
     "not valid JSON"),
    ("folder of notes", folder_of("README.md", "notes.txt"), "holds no model file"),
    ("pipeline without a pipeline", pipeline_folder("name: x\n"), "not a pyannote pipeline"),
    ("pipeline yaml broken", pipeline_folder("pipeline: [unclosed\n"), "does not parse"),
]


@pytest.mark.parametrize("make, reason", [pytest.param(m, r, id=i) for i, m, r in BAD])
def test_a_model_that_does_not_load_is_refused_at_import_and_fails_verify(
        tmp_path: Path, make: Callable[[Path], Path], reason: str) -> None:
    usb, store = tmp_path / "usb", tmp_path / "store"
    usb.mkdir()
    source = make(usb)
    with pytest.raises(ModelError, match=reason) as caught:
        import_model(source, store)
    assert "\n" not in str(caught.value)
    assert not store.exists() or not list(store.iterdir())  # no entry, no staging folder

    store.mkdir(exist_ok=True)  # the same file copied in by hand
    if source.is_dir():
        shutil.copytree(source, store / source.name)
    else:
        shutil.copy(source, store / source.name)
    results = verify_models(store)
    assert not any(r.ok for r in results), results
    assert results or source.suffix == ".md"  # a README is no entry: verify skips it


GOOD = [
    ("faster-whisper", lambda f: fake_faster_whisper(f / "faster-whisper-x"), "faster-whisper"),
    ("openai-whisper", lambda f: fake_whisper_checkpoint(f / "whisper-x.pt"), "whisper"),
    ("torch file", lambda f: fake_torch_checkpoint(f / "encoder.pt"), "torch"),
    ("folder with a checkpoint", lambda f: fake_torch_checkpoint(
        f / "ge2e-voice-encoder" / "pretrained.pt").parent, "folder"),
    ("pipeline", pipeline_folder("pipeline:\n  name: x\n"), "pyannote-pipeline"),
]


@pytest.mark.parametrize("make, kind", [pytest.param(m, k, id=i) for i, m, k in GOOD])
def test_a_model_that_loads_is_imported_and_verifies(
        tmp_path: Path, make: Callable[[Path], Path], kind: str) -> None:
    usb, store = tmp_path / "usb", tmp_path / "store"
    usb.mkdir()
    entry = import_model(make(usb), store)
    assert entry.kind == kind
    assert [r.ok for r in verify_models(store)] == [True]


def usb_stick(tmp_path: Path) -> Path:
    """A folder of models as a colleague would hand it over: with a README and a dud."""
    usb = tmp_path / "usb"
    fake_faster_whisper(usb / "faster-whisper-small.en")
    fake_torch_checkpoint(usb / "ge2e-voice-encoder" / "pretrained.pt")
    fake_whisper_checkpoint(usb / "whisper-small.en.pt")
    (usb / "README.md").write_text("# Models for the team\n")
    (usb / "broken.bin").write_text("foo\nb\n")
    (usb / ".manifest.json").write_text("{}")
    return usb


def test_a_folder_of_models_imports_each_it_recognises_and_refuses_the_rest(
        tmp_path: Path) -> None:
    store = tmp_path / "store"
    report = import_models(usb_stick(tmp_path), store)
    assert sorted(e.name for e in report.imported) == [
        "faster-whisper-small.en", "ge2e-voice-encoder", "whisper-small.en.pt"]
    assert dict(report.refused).keys() == {"README.md", "broken.bin"}
    assert "not a model file" in dict(report.refused)["README.md"]
    assert sorted(p.name for p in store.iterdir()) == [
        ".manifest.json", "faster-whisper-small.en", "ge2e-voice-encoder", "whisper-small.en.pt"]
    again = import_models(usb_stick(tmp_path / "again"), store)
    assert not again.imported and all("already in the model store" in r
                                      for n, r in again.refused if n != "README.md"
                                      and n != "broken.bin")
    with pytest.raises(ModelError, match="--name applies to one"):
        import_models(tmp_path / "usb", store, name="x")


@pytest.fixture
def cli() -> Iterator[Callable[[list[str]], int]]:
    from verbatim.cli import main

    yield main
    allow_network()  # main() blocks the network process-wide; leave the guard to conftest


def test_cli_import_of_a_folder_says_what_it_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Callable[[list[str]], int],
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("VERBATIM_MODELS", str(tmp_path / "store"))
    assert cli(["models", "import", str(usb_stick(tmp_path))]) == 0
    captured = capsys.readouterr()
    assert captured.out.count("imported ") == 3
    assert sorted(captured.err.splitlines()) == [
        "refused README.md: README.md is not a model file (expected .pt, .pth, .bin, .onnx, "
        ".ckpt or a model folder)",
        "refused broken.bin: broken.bin is not a torch checkpoint (truncated, or another kind "
        "of file)"]
    assert cli(["models", "verify"]) == 0
    assert cli(["models", "import", str(tmp_path / "usb" / "README.md")]) == 1
    assert capsys.readouterr().err.startswith("verbatim: README.md is not a model file")
    assert [e.name for e in list_models(tmp_path / "store")] == [
        "faster-whisper-small.en", "ge2e-voice-encoder", "whisper-small.en.pt"]
