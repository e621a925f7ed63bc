"""Copying a recording into the study (verbatim.study.files.stage): a write the disk
refuses, or a key that cannot seal it, is one line and leaves no partial copy behind, in
a plain and in an encrypted study."""

from __future__ import annotations

import errno
from collections.abc import Callable
from pathlib import Path

import pytest

from verbatim.study import Study, files
from verbatim.vault import VaultError, agefiles, ops


def _refuse(*args: object, **kwargs: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def _plain(tmp_path: Path) -> Path:
    Study.init(tmp_path / "study").close()
    return tmp_path / "study"


def _encrypted(tmp_path: Path) -> Path:
    ops.prepare_new_study(tmp_path / "study", passphrase=None, key_file=tmp_path / "team.key")
    Study.init(tmp_path / "study").close()
    return tmp_path / "study"


@pytest.mark.parametrize(("make", "where"), [(_plain, "fsync"), (_encrypted, "encrypt_file")])
@pytest.mark.usefixtures("vault_runtime")
def test_a_full_disk_is_one_line_and_leaves_no_partial_copy(
        make: Callable[[Path], Path], where: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    study_dir = make(tmp_path)
    source = tmp_path / "rec.wav"
    source.write_bytes(b"RIFF" + bytes(4000))
    monkeypatch.setattr(files.os if where == "fsync" else agefiles, where, _refuse)
    with pytest.raises(files.AudioFileError) as refused:
        files.stage(source, study_dir)
    message = str(refused.value)
    assert message.startswith(f"disk full: no space left in {study_dir / 'audio'};")
    assert "\n" not in message and isinstance(refused.value.__cause__, OSError)
    assert [p.name for p in (study_dir / "audio").iterdir()] == []


@pytest.mark.usefixtures("vault_runtime")
def test_a_key_that_cannot_seal_names_the_recording(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    study_dir = _encrypted(tmp_path)
    source = tmp_path / "rec.wav"
    source.write_bytes(b"RIFF" + bytes(4000))

    def locked(*args: object, **kwargs: object) -> None:
        raise VaultError("the study is locked")

    monkeypatch.setattr(agefiles, "encrypt_file", locked)
    with pytest.raises(files.AudioFileError, match=r"rec\.wav: the study is locked$"):
        files.stage(source, study_dir)
    assert [p.name for p in (study_dir / "audio").iterdir()] == []
