"""Backups are all or nothing: built aside, verified, renamed; incomplete ones say so."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.fixtures.studies import silent_study
from verbatim.cli import main
from verbatim.study import Study, StudyError
from verbatim.study import backup as backups


@pytest.fixture
def study(tmp_path: Path) -> Path:
    return silent_study(tmp_path, interviews=2)


def test_a_trailing_slash_makes_a_folder_backup(study: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "usb" / "backups"
    assert main(["--study", str(study), "study", "backup", f"{dest}/"]) == 0
    assert dest.is_dir()
    (made,) = dest.iterdir()
    manifest = json.loads((made / "backup.json").read_text())
    assert manifest["complete"] and manifest["recordings"] == 2
    with Study.open(made) as copy:
        assert copy.verify_audio("P1-1") and copy.verify_audio("P1-2")
    assert "backed up the study" in capsys.readouterr().out


def test_a_missing_recording_gives_an_incomplete_backup_that_says_which(
        study: Path, tmp_path: Path) -> None:
    missing = study / "audio" / "P1-2.wav"
    missing.chmod(0o600)
    missing.unlink()
    with Study.open(study) as opened, pytest.raises(StudyError, match="missing recordings: P1-2"):
        opened.backup(f"{tmp_path / 'out'}/")
    (made,) = (tmp_path / "out").iterdir()
    assert made.name.endswith("-INCOMPLETE")
    manifest = json.loads((made / "backup.json").read_text())
    assert manifest["complete"] is False and manifest["missing"] == ["P1-2"]
    assert (made / "audio" / "P1-1.wav").is_file()  # what could be copied was


def test_a_dead_backup_leaves_no_folder_that_looks_like_one(study: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    out = tmp_path / "out"
    out.mkdir()

    def cut(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(backups, "_verify_database", cut)
    with Study.open(study) as opened, pytest.raises(KeyboardInterrupt):
        opened.backup(out)
    assert list(out.iterdir()) == []  # cleaned on the way out
    # a SIGKILL leaves a hidden partial folder whose writer is dead: the next backup removes it
    dead = out / ".study-backup-20260101T000000Z.partial"
    dead.mkdir()
    (dead / ".pid").write_text("999999999")
    (dead / "study.sqlite").write_bytes(b"half")
    monkeypatch.undo()
    with Study.open(study) as opened:
        made = opened.backup(out)
    assert sorted(p.name for p in out.iterdir()) == [made.name]
    assert os.path.basename(made).startswith("study-backup-")


def test_a_folder_backup_keeps_the_study_voiceprints_as_they_are(study: Path,
                                                                 tmp_path: Path) -> None:
    voices = study / "voices"
    voices.mkdir(mode=0o700)
    plain = b'{"format": "verbatim-voiceprint/1", "name": "Interviewer", "vector": [0.1]}\n'
    from pyrage import decrypt, encrypt, x25519

    key = x25519.Identity.generate()
    sealed = encrypt(plain.replace(b"Interviewer", b"Chair"), [key.to_public()])
    (voices / "Interviewer.json").write_bytes(plain)
    (voices / "Chair.json.age").write_bytes(sealed)
    (voices / ".Other.json.partial").write_bytes(b"half")  # an enrolment cut short
    with Study.open(study) as opened:
        opened.backup(f"{tmp_path / 'out'}/")
    (made,) = (tmp_path / "out").iterdir()
    assert sorted(p.name for p in (made / "voices").iterdir()) == ["Chair.json.age",
                                                                    "Interviewer.json"]
    assert (made / "voices" / "Interviewer.json").read_bytes() == plain
    copied = (made / "voices" / "Chair.json.age").read_bytes()
    assert b"vector" not in copied and b"Chair" in decrypt(copied, [key])  # still sealed
    assert all(p.stat().st_mode & 0o077 == 0 for p in (made / "voices").iterdir())
    assert json.loads((made / "backup.json").read_text())["voices"] == 2
