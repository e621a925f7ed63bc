"""Fixtures every tier shares: the network guard and the real models."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from transcribe.privacy import apply_privacy_env, is_local_address

apply_privacy_env()

REPO = Path(__file__).resolve().parent.parent
# the user's model store as it was before isolated_config points VERBATIM_MODELS elsewhere
_PROVISIONED_MODELS = os.environ.get("VERBATIM_MODELS")


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


def _test_models_dir() -> Path | None:
    configured = os.environ.get("VERBATIM_TEST_MODELS")
    candidates = [Path(configured)] if configured else []
    candidates.append(REPO.parent / "shared" / "models")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return None


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """The real pretrained models (../shared/models, or $VERBATIM_TEST_MODELS)."""
    found = _test_models_dir()
    if found is None:
        pytest.skip("real models not found: set VERBATIM_TEST_MODELS to the shared/models folder")
    return found


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


def _provisioned(models_dir: Path | None, relative: str) -> Path:
    """A model from the test models, else from the store `make setup` provisioned."""
    import platformdirs

    stores = [models_dir] if models_dir is not None else []
    stores.append(Path(_PROVISIONED_MODELS) if _PROVISIONED_MODELS
                  else Path(platformdirs.user_data_dir("verbatim")) / "models")
    for store in stores:
        if (store / relative).exists():
            return store / relative
    pytest.skip(f"model {relative} not found in {' or '.join(map(str, stores))} "
                "(run `make setup`, or set VERBATIM_TEST_MODELS)")


@pytest.fixture(scope="session")
def campplus_model() -> Path:
    """CAM++ speaker-embedding weights (campplus-cn-en/campplus_cn_en_common.pt)."""
    return _provisioned(_test_models_dir(), "campplus-cn-en/campplus_cn_en_common.pt")


@pytest.fixture(scope="session")
def segmentation_3_pyannote() -> Path:
    """pyannote segmentation-3.0 in pyannote's own checkpoint format."""
    return _provisioned(_test_models_dir(), "pyannote-segmentation-3.0/pytorch_model.bin")
