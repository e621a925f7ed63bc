"""Fixtures every tier shares: the network guard and the real models."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from transcribe.privacy import apply_privacy_env, is_local_address
from verbatim.config import default_models_dir

if TYPE_CHECKING:
    from verbatim.study import Study

apply_privacy_env()

REPO = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "gpu: needs a CUDA device (skips where none is seen)")


class NetworkAccessError(AssertionError):
    """A test opened a network connection: everything must work offline."""


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail any test that connects anywhere but this machine."""
    def guarded(real: Callable[..., object]) -> Callable[..., object]:
        def connect(self: socket.socket, address: object) -> object:
            if not is_local_address(address):
                raise NetworkAccessError(f"test tried to connect to {address!r}")
            return real(self, address)
        return connect

    monkeypatch.setattr(socket.socket, "connect", guarded(socket.socket.connect))
    monkeypatch.setattr(socket.socket, "connect_ex", guarded(socket.socket.connect_ex))
    yield


@pytest.fixture(autouse=True)
def isolated_config(tmp_path_factory: pytest.TempPathFactory,
                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Point config and data at a throwaway folder so tests never touch the user's."""
    home = tmp_path_factory.mktemp("verbatim-home")
    monkeypatch.setenv("VERBATIM_CONFIG", str(home / "config.toml"))
    monkeypatch.setenv("VERBATIM_DATA", str(home / "data"))
    monkeypatch.delenv("VERBATIM_STUDY", raising=False)
    if not os.environ.get("VERBATIM_MODELS"):
        monkeypatch.setenv("VERBATIM_MODELS", str(home / "models"))


@pytest.fixture
def vault_runtime(tmp_path_factory: pytest.TempPathFactory,
                  monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private runtime folder for encrypted-study key agents; keys forgotten afterwards.

    Tests that unlock studies use it so no agent socket or key outlives the test.
    """
    from verbatim.vault import agent, session

    folder = tmp_path_factory.mktemp("run")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    monkeypatch.delenv("VERBATIM_KEY_FILE", raising=False)
    yield folder
    session.forget()
    for sock in (folder / "verbatim").glob("*.sock"):  # stop the agents the test started
        agent.stop(sock.name.removesuffix(".sock"))


@pytest.fixture
def voice_study(tmp_path: Path) -> Iterator[Study]:
    """A study of P1 with one transcribed recording of two real voices, JFK the
    interviewer (tests/fixtures/voice_study.py; mark the module needs_real_voices)."""
    from tests.fixtures.voice_study import interview_study

    with interview_study(tmp_path) as made:
        yield made


# The store `make setup` provisioned (models provision), looked up before any fixture
# points VERBATIM_MODELS at a throwaway folder: tests find its entries too.
PROVISIONED_STORE = default_models_dir()


def _test_models_dirs() -> list[Path]:
    """$VERBATIM_TEST_MODELS (else ../shared/models), then the provisioned store."""
    configured = os.environ.get("VERBATIM_TEST_MODELS")
    candidates = [Path(configured)] if configured else []
    candidates += [REPO.parent / "shared" / "models", PROVISIONED_STORE]
    found = [c for c in dict.fromkeys(candidates) if c.is_dir()]
    return found


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real pretrained models: one folder of every entry the test folders hold.

    Entries of $VERBATIM_TEST_MODELS (else ../shared/models) win; the provisioned
    store fills the gaps (CAM++, segmentation-3.0, Whisper base), through symlinks.
    """
    found = _test_models_dirs()
    if not found:
        pytest.skip("real models not found: set VERBATIM_TEST_MODELS to the shared/models "
                    "folder, or run 'make setup' to provision the default models")
    if len(found) == 1:
        return found[0]
    merged = tmp_path_factory.mktemp("models")
    for folder in found:
        for entry in sorted(folder.iterdir()):
            if not entry.name.startswith(".") and not (merged / entry.name).exists():
                (merged / entry.name).symlink_to(entry.resolve())
    return merged


@pytest.fixture(scope="session")
def provisioned_store() -> Path:
    """The store `make setup` filled from the pinned wheels (the user's default store)."""
    from transcribe.models.provision import DEFAULT_SET

    missing = [e.name for e in DEFAULT_SET if not (PROVISIONED_STORE / e.name).exists()]
    if missing:
        pytest.skip(f"the default models are not provisioned in {PROVISIONED_STORE} "
                    f"(missing {', '.join(missing)}): run 'make setup'")
    return PROVISIONED_STORE


def _model(models_dir: Path, relative: str) -> Path:
    path = models_dir / relative
    if not path.exists():
        pytest.skip(f"model {relative} not found under {models_dir}")
    return path


@pytest.fixture(scope="session")
def faster_whisper_tiny(models_dir: Path) -> Path:
    return _model(models_dir, "faster-whisper-tiny.en")


@pytest.fixture(scope="session")
def whisper_tiny(models_dir: Path) -> Path:
    return _model(models_dir, "whisper-tiny.en.pt")


@pytest.fixture(scope="session")
def segmentation_2022(models_dir: Path) -> Path:
    return _model(models_dir, "pyannote-segmentation-2022/pytorch_model.bin")


@pytest.fixture(scope="session")
def segmentation_3_onnx(models_dir: Path) -> Path:
    return _model(models_dir, "pyannote-segmentation-3.0-onnx/segmentation-3.0.onnx")


@pytest.fixture(scope="session")
def ge2e_encoder(models_dir: Path) -> Path:
    return _model(models_dir, "ge2e-voice-encoder/pretrained.pt")


@pytest.fixture(scope="session")
def campplus_model(models_dir: Path) -> Path:
    """CAM++ speaker-embedding weights (campplus-cn-en/campplus_cn_en_common.pt)."""
    return _model(models_dir, "campplus-cn-en/campplus_cn_en_common.pt")


@pytest.fixture(scope="session")
def segmentation_3_pyannote(models_dir: Path) -> Path:
    """pyannote segmentation-3.0 in pyannote's own checkpoint format."""
    return _model(models_dir, "pyannote-segmentation-3.0/pytorch_model.bin")
