"""Recordings are checked: missing, altered and half-imported files are said, not ignored."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from verbatim.cli import main
from verbatim.study import Study, integrity


@pytest.fixture
def study(tmp_path: Path) -> Path:
    audio = tmp_path / "rec.wav"
    sf.write(str(audio), np.random.default_rng(0).uniform(-0.1, 0.1, 16000)
             .astype("float32"), 16000)
    with Study.init(tmp_path / "study") as made:
        made.add_participant("P1")
        for _ in range(3):
            made.add_interview("P1", audio)
    return tmp_path / "study"


def _alter(path: Path) -> None:
    path.chmod(0o600)
    with path.open("r+b") as fh:
        fh.seek(2000)
        byte = fh.read(1)
        fh.seek(2000)
        fh.write(bytes([byte[0] ^ 1]))


def test_info_flags_missing_and_changed_recordings_cheaply(
        study: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (study / "audio" / "P1-3.wav").chmod(0o600)
    (study / "audio" / "P1-3.wav").unlink()
    _alter(study / "audio" / "P1-2.wav")
    assert main(["--study", str(study), "study", "info"]) == 0
    out = capsys.readouterr().out
    assert "MISSING from audio/: P1-3" in out
    assert "changed since import: P1-2" in out
    with Study.open(study) as opened:
        states = {s.interview: s.state for s in integrity.check(opened)}
    assert states == {"P1-1": "ok", "P1-2": "changed", "P1-3": "missing"}


def test_verify_compares_checksums_and_transcribe_refuses_an_altered_recording(
        study: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _alter(study / "audio" / "P1-2.wav")
    assert main(["--study", str(study), "study", "verify"]) == 1
    captured = capsys.readouterr()
    assert "P1-1\tok" in captured.out and "P1-2\taltered" in captured.out
    assert "1 of 3 recordings" in captured.err
    code = main(["--study", str(study), "transcribe", "P1-2", "--diarize", "none"])
    err = capsys.readouterr().err
    assert code == 1 and "--accept-changed-audio" in err and "\n" not in err.strip()
    with Study.open(study) as opened:
        integrity.accept_changed(opened, "P1-2", integrity.changed_since_import(opened, "P1-2")
                                 or "")
        assert integrity.changed_since_import(opened, "P1-2") is None
        entry = opened.audit_log(limit=1)[0]
        assert entry.action == "audio.accept" and entry.detail["previous"] != \
            entry.detail["sha256"]
        assert {s.state for s in integrity.check(opened)} == {"ok"}  # the new baseline


def test_partial_imports_are_shown_while_their_importer_lives_and_removed_after(
        study: Path, capsys: pytest.CaptureFixture[str]) -> None:
    importer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = study / "audio" / f".import-{importer.pid}-abc.partial"
        live.write_bytes(b"\0" * 4096)
        with Study.open(study) as opened:
            lines = integrity.summary_lines(opened)
        assert any("imports in progress: 1" in line for line in lines), lines
        assert live.exists()
    finally:
        importer.kill()
        importer.wait()
    # the importer died (a kill mid-copy): the next command removes its partial copy
    assert main(["--study", str(study), "interview", "list"]) == 0
    assert not live.exists()
    assert not list((study / "audio").glob(".import-*"))
