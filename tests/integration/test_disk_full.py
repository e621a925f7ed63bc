"""A full disk and a read-only study: every write command says so in one line, loses nothing.

The study lives on a small tmpfs the test mounts (root only; skipped
otherwise). The disk is filled to 0 bytes and to 40 KB free, then remounted
read-only; each write command of the CLI runs in this process through
``verbatim.cli.main``. Each must exit non-zero with one line naming the
folder and the fix (never "internal error", never "not a study"), and the
study must come back intact: same rows, same recording, integrity ok.
"""

from __future__ import annotations

import io
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from transcript.model import AudioRef, Transcript, Word
from verbatim.study import Study
from verbatim.study.files import sha256_file

pytestmark = pytest.mark.integration

SIZE = "3m"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE},mode=0700", "tmpfs",
                           str(mount)], capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _study(disk: Path, tmp_path: Path) -> tuple[Path, Path]:
    audio = tmp_path / "rec.wav"
    rng = np.random.default_rng(1)
    sf.write(str(audio), rng.uniform(-0.1, 0.1, 16000 * 4).astype("float32"), 16000)
    folder = disk / "study"
    words = tuple(Word(text=f"w{i}", start=i * 0.5, end=i * 0.5 + 0.4, speaker="S1")
                  for i in range(8))
    with Study.init(folder) as study:
        study.add_participant("P1", attributes={"profession": "Nurse"})
        study.add_interview("P1", audio)
        study.save_transcript("P1-1", Transcript(audio=AudioRef("a.wav"), words=words))
        study.add_interview("P1", audio)
        study.save_transcript("P1-2", Transcript(audio=AudioRef("a.wav"), words=words))
        study.lock("P1-2")
        study.add_extract("P1-2", 1, 1)
    return folder, audio


def _snapshot(folder: Path) -> dict[str, object]:
    conn = sqlite3.connect(f"file:{folder / 'study.sqlite'}?mode=ro", uri=True)
    try:
        counts = {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                  for table in ("participants", "interviews", "transcript_versions", "notes",
                                "extracts", "replacements")}
        counts["integrity"] = conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()
    counts["audio"] = sha256_file(folder / "audio" / "P1-1.wav")
    return counts


def _fill(disk: Path, leave: int) -> Path:
    """Fill ``disk`` to the brim, then give back ``leave`` bytes."""
    filler = disk / "filler"
    with filler.open("wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError:
            pass
    with filler.open("r+b") as fh:
        fh.truncate(max(0, filler.stat().st_size - leave))
    return filler


def _commands(folder: Path, disk: Path, audio: Path) -> list[list[str]]:
    s = ["--study", str(folder)]
    out = disk / "out"
    return [
        [*s, "transcribe", "P1-1", "--diarize", "none"],
        [*s, "participant", "add", "P2"],
        [*s, "participant", "table", "--format", "csv", "--out", str(disk / "t.csv")],
        [*s, "interview", "add", "P1", str(audio)],
        [*s, "interview", "set", "P1-1", "--place", "Clinic"],
        [*s, "note", "add", "P1-1", "--at", "1-2", "--phase", "after", "--moment", "moved"],
        [*s, "study", "replace", "Bob", "[colleague]"],
        [*s, "lock", "P1-1"],
        [*s, "extract", "add", "P1-2", "--lines", "1-1"],
        [*s, "export", "P1-1", "--format", "txt", "--out", str(disk / "x.txt")],
        [*s, "export", "P1-1", "--format", "docx", "--out", str(disk / "x.docx")],
        [*s, "study", "backup", str(disk / "b.sqlite")],
        [*s, "study", "backup", str(out) + "/"],
        [*s, "pack", "P1", "--out", str(disk / "pack")],
        ["study", "encrypt", str(folder), "--yes"],
    ]


def _run_all(commands: list[list[str]], capsys: pytest.CaptureFixture[str],
             monkeypatch: pytest.MonkeyPatch, expect: str,
             small_writes_fit: bool = False) -> list[str]:
    """Run each command; return the one-line refusals (a small write may fit, if allowed)."""
    from transcribe.privacy import allow_network
    from verbatim.cli import main

    lines = []
    for argv in commands:
        monkeypatch.setattr("sys.stdin", io.StringIO("a long passphrase\n"))
        try:
            code = main(argv)
        finally:
            allow_network()
        err = capsys.readouterr().err.strip()
        if code == 0 and small_writes_fit:
            continue
        assert code != 0, (argv, err)
        assert "\n" not in err and err.startswith("verbatim: "), (argv, err)
        assert "internal error" not in err and "not a study" not in err, (argv, err)
        assert expect in err, (argv, err)
        lines.append(err)
    return lines


@pytest.mark.parametrize("leave", [0, 40 * 1024])
def test_every_write_command_on_a_full_disk(small_disk: Path, tmp_path: Path, leave: int,
                                           capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERBATIM_NO_VOLUME_WARNING", "1")
    folder, audio = _study(small_disk, tmp_path)
    before = _snapshot(folder)
    filler = _fill(small_disk, leave)
    lines = _run_all(_commands(folder, small_disk, audio), capsys, monkeypatch, "disk full",
                     small_writes_fit=leave > 0)
    print(f"{leave} bytes free: {len(lines)} of 15 write commands refused, one line each")
    assert len(lines) == 15 if leave == 0 else len(lines) >= 5
    filler.unlink()
    after = _snapshot(folder)
    assert after["audio"] == before["audio"] and after["integrity"] == "ok"
    for table in ("participants", "interviews", "transcript_versions", "notes", "extracts"):
        assert after[table] >= before[table]  # type: ignore[operator]
    assert after["interviews"] == before["interviews"]  # 40 KB never holds a recording
    assert not (folder / "vault.json").exists()
    assert not list((folder / "audio").glob(".import-*"))
    assert not (small_disk / "out").exists() or not any((small_disk / "out").iterdir())


def test_every_write_command_on_a_read_only_study(small_disk: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERBATIM_NO_VOLUME_WARNING", "1")
    folder, audio = _study(small_disk, tmp_path)
    before = _snapshot(folder)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    lines = _run_all(_commands(folder, small_disk, audio), capsys, monkeypatch, "read-only")
    print("\n".join(lines))
    assert len(lines) == 15
    assert _snapshot(folder) == before
    shutil.rmtree(tmp_path / "nothing", ignore_errors=True)
