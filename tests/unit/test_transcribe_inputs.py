"""Audio loading, the model store, diariser choice and the CLI's answers to bad input.

No ASR model is loaded here: every bad input must be refused before that.
"""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.fixtures.fake_models import fake_faster_whisper, fake_whisper_checkpoint
from transcribe.audio import AudioError, load_audio, probe_audio
from transcribe.diarize.channels import diarise_channels
from transcribe.diarize.registry import DiarisationError, check_mode, diarise
from transcribe.models import (
    ModelError,
    download_model,
    import_model,
    list_models,
    model_kind,
    resolve_model,
    verify_models,
)
from transcribe.privacy import allow_network

RATE = 16_000


def tone(seconds: float, freq: float = 220.0, rate: int = RATE, level: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (level * np.sin(2 * np.pi * freq * t)).astype(np.float32)


# --- audio --------------------------------------------------------------------------

def test_load_audio_resamples_and_keeps_channels(tmp_path: Path) -> None:
    stereo = np.stack([tone(1.0, rate=44_100), tone(1.0, 330, rate=44_100)], axis=1)
    sf.write(tmp_path / "a.flac", stereo, 44_100)
    audio = load_audio(tmp_path / "a.flac")
    assert audio.channels == 2 and audio.sample_rate == RATE
    assert abs(audio.duration - 1.0) < 0.01
    assert audio.mono.shape == (audio.samples.shape[1],)


@pytest.mark.parametrize("make, message", [
    (lambda p: p, "not found"),
    (lambda p: (p.write_bytes(b""), p)[1], "empty"),
    (lambda p: (p.write_text("just some notes, not audio\n"), p)[1], "not a supported audio"),
    (lambda p: (sf.write(p, np.zeros((0, 1), np.float32), RATE), p)[1], "zero length"),
    (lambda p: (p.mkdir(), p)[1], "not an audio file"),
])
def test_bad_audio_is_one_clear_line(tmp_path: Path, make: Callable[[Path], Path],
                                     message: str) -> None:
    path = make(tmp_path / "input.wav")
    for reader in (load_audio, probe_audio):
        with pytest.raises(AudioError, match=message) as caught:
            reader(path)
        assert "\n" not in str(caught.value)


# --- the model store ----------------------------------------------------------------

def test_resolve_names_and_paths(tmp_path: Path) -> None:
    store = tmp_path / "store"
    fast = fake_faster_whisper(store / "faster-whisper-tiny.en")
    slow = fake_whisper_checkpoint(store / "whisper-tiny.en.pt")
    assert resolve_model("tiny.en", engine="faster-whisper", models_dir=store) == fast
    assert resolve_model("tiny.en", engine="whisper", models_dir=store) == slow
    assert resolve_model(str(fast), engine="faster-whisper", models_dir=tmp_path) == fast
    with pytest.raises(ModelError, match="not in the model store"):
        resolve_model("base.en", engine="whisper", models_dir=store)
    with pytest.raises(ModelError, match="model not found"):
        resolve_model(str(tmp_path / "nowhere" / "model"), engine="whisper", models_dir=store)


def test_a_model_of_the_other_engine_is_refused_by_name(tmp_path: Path) -> None:
    fast = fake_faster_whisper(tmp_path / "fw")
    slow = fake_whisper_checkpoint(tmp_path / "model.pt")
    with pytest.raises(ModelError, match="use --engine faster-whisper"):
        resolve_model(str(fast), engine="whisper", models_dir=tmp_path)
    with pytest.raises(ModelError, match="use --engine whisper"):
        resolve_model(str(slow), engine="faster-whisper", models_dir=tmp_path)


def test_import_then_verify_then_detect_a_change(tmp_path: Path) -> None:
    store = tmp_path / "store"
    source = fake_faster_whisper(tmp_path / "usb" / "faster-whisper-tiny.en")
    entry = import_model(source, store)
    assert entry.kind == "faster-whisper"
    assert [e.name for e in list_models(store)] == ["faster-whisper-tiny.en"]
    with pytest.raises(ModelError, match="already in the model store"):
        import_model(source, store)
    assert all(r.ok for r in verify_models(store))
    (store / "faster-whisper-tiny.en" / "model.bin").write_bytes(b"tampered")
    [result] = verify_models(store)
    assert not result.ok and "model.bin" in result.detail


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, bytes]]:
    """A loopback HTTP server (allowed by the socket guard) serving one file."""
    (tmp_path / "www").mkdir()
    payload = fake_whisper_checkpoint(tmp_path / "www" / "m.pt").read_bytes()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            super().__init__(*args, directory=str(tmp_path / "www"), **kwargs)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/m.pt", payload
    server.shutdown()
    server.server_close()


def test_download_checks_the_published_checksum(tmp_path: Path,
                                                served: tuple[str, bytes]) -> None:
    url, payload = served
    store = tmp_path / "store"
    good = hashlib.sha256(payload).hexdigest()
    seen: list[int] = []
    with pytest.raises(ModelError, match="failed its checksum"):
        download_model("whisper-x.pt", store, plan=[(url, "whisper-x.pt", "0" * 64)])
    assert not (store / "whisper-x.pt").exists()  # all or nothing
    entry = download_model("whisper-x.pt", store, plan=[(url, "whisper-x.pt", good)],
                           progress=lambda name, done, total: seen.append(done))
    assert entry.path.read_bytes() == payload and seen[-1] == len(payload)
    assert model_kind(entry.path) == "whisper"


# --- diarisation modes --------------------------------------------------------------

def test_unknown_mode_and_channels_on_mono_are_refused() -> None:
    with pytest.raises(DiarisationError, match="unknown diarisation mode 'magic'"):
        check_mode("magic")
    with pytest.raises(DiarisationError, match="one microphone per speaker"):
        check_mode("channels", channels=1)


def test_channels_gives_each_microphone_its_speaker_and_finds_overlap(tmp_path: Path) -> None:
    from transcribe.audio import Audio

    quiet = np.zeros(RATE, np.float32)
    a, b = tone(2.0, 200), tone(2.0, 310)
    first = np.concatenate([a, quiet, 0.05 * b, quiet, a[:RATE]])
    second = np.concatenate([0.05 * a, quiet, b, quiet, b[:RATE]])
    noise = np.random.default_rng(0).normal(0, 1e-4, (2, first.size)).astype(np.float32)
    audio = Audio(np.stack([first, second]) + noise)
    result = diarise_channels(audio)
    assert [(t.speaker, round(t.start, 1), round(t.end, 1)) for t in result.turns][:2] == [
        ("S1", 0.0, 2.0), ("S2", 3.0, 5.0)]
    assert [(round(t.start, 1), round(t.end, 1)) for t in result.overlaps] == [(6.0, 7.0)]
    assert diarise(Audio(audio.samples[:1]), mode="none", models_dir=tmp_path).speakers == ("S1",)


# --- the CLI -------------------------------------------------------------------------

@pytest.fixture
def cli() -> Iterator[Callable[[list[str]], int]]:
    from verbatim.cli import main

    yield main
    allow_network()  # main() blocks the network process-wide; leave the guard to conftest


@pytest.fixture
def wav(tmp_path: Path) -> Path:
    path = tmp_path / "speech.wav"
    sf.write(path, tone(1.0), RATE)
    return path


@pytest.mark.parametrize("case", ["missing", "empty", "not-audio", "zero-length",
                                  "no-such-model", "other-engine", "unknown-diarize",
                                  "channels-on-mono"])
def test_bad_input_is_one_line_nonzero_and_overwrites_nothing(
        case: str, tmp_path: Path, wav: Path, cli: Callable[[list[str]], int],
        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "t.json"
    out.write_text("an earlier transcript")
    audio, extra = wav, ["--diarize", "none", "--model",
                         str(fake_faster_whisper(tmp_path / "fw"))]
    if case == "missing":
        audio = tmp_path / "missing.wav"
    elif case == "empty":
        audio = tmp_path / "empty.wav"
        audio.write_bytes(b"")
    elif case == "not-audio":
        audio = tmp_path / "notes.wav"
        audio.write_text("not audio")
    elif case == "zero-length":
        audio = tmp_path / "zero.wav"
        sf.write(audio, np.zeros((0, 1), np.float32), RATE)
    elif case == "no-such-model":
        extra = ["--diarize", "none", "--model", str(tmp_path / "nope" / "model.bin")]
    elif case == "other-engine":
        extra = ["--diarize", "none", "--engine", "whisper", "--model", extra[-1]]
    elif case == "unknown-diarize":
        extra = ["--diarize", "magic", "--model", extra[-1]]
    elif case == "channels-on-mono":
        extra = ["--diarize", "channels", "--model", extra[-1]]
    code = cli(["transcribe", str(audio), "--out", str(out), *extra])
    err = capsys.readouterr().err
    assert code != 0
    assert len(err.strip().splitlines()) == 1 and err.startswith("verbatim: "), err
    assert out.read_text() == "an earlier transcript"


def test_models_import_list_verify(tmp_path: Path, cli: Callable[[list[str]], int],
                                   capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERBATIM_MODELS", str(tmp_path / "store"))
    source = fake_faster_whisper(tmp_path / "usb" / "faster-whisper-tiny.en")
    assert cli(["models", "import", str(source)]) == 0
    assert cli(["models", "list"]) == 0
    assert "faster-whisper-tiny.en" in capsys.readouterr().out
    assert cli(["models", "import", str(source)]) == 1
    assert "already in the model store" in capsys.readouterr().err
