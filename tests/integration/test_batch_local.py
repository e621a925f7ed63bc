"""``verbatim batch --folder`` on local worker processes: real clips into transcript files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CLIPS = ("ES2011a.Headset-0-40s-46s.wav", "jfk.flac")

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


def _audio_dir() -> Path:
    for candidate in (Path(os.environ.get("VERBATIM_TEST_AUDIO", "/nonexistent")),
                      REPO.parent / "shared" / "audio", REPO.parent.parent / "shared" / "audio"):
        if all((candidate / clip).is_file() for clip in CLIPS):
            return candidate
    pytest.skip("real speech clips not found (set VERBATIM_TEST_AUDIO to shared/audio)")


def _batch(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "verbatim", "batch", *argv], text=True,
                          capture_output=True, env=env, timeout=200, stdin=subprocess.DEVNULL)


def test_a_folder_on_two_local_processes_then_a_rerun_skips_what_is_done(
        tmp_path: Path, models_dir: Path, faster_whisper_tiny: Path) -> None:
    folder, out = tmp_path / "recordings", tmp_path / "transcripts"
    folder.mkdir()
    for clip in CLIPS:
        (folder / clip).symlink_to(_audio_dir() / clip)
    (folder / "notes.txt").write_text("not audio")
    env = {**os.environ, "PYTHONPATH": str(REPO), "VERBATIM_MODELS": str(models_dir)}
    flags = ["--folder", str(folder), "--out", str(out), "--local", "2", "--diarize", "none"]

    first = _batch(env, *flags)
    assert first.returncode == 0, first.stderr
    assert "on 2 local worker processes" in first.stderr and "2 saved" in first.stderr
    jfk = json.loads((out / "jfk.json").read_text())
    assert jfk["format"] == "verbatim-transcript/1"
    assert jfk["audio"]["path"] == str(folder / "jfk.flac") and len(jfk["audio"]["sha256"]) == 64
    assert "ask not what your country" in " ".join(w["text"] for w in jfk["words"]).lower()
    assert (out / "ES2011a.Headset-0-40s-46s.json").is_file()

    again = _batch(env, *flags)
    assert again.returncode == 0, again.stderr
    assert again.stderr.count("skipped") == 2 and "nothing to transcribe" in again.stderr


def test_bad_requests_are_one_line_each(tmp_path: Path, models_dir: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "VERBATIM_MODELS": str(models_dir)}
    cases = [
        (["--scheduler", "tcp://10.1.2.3:8786"], "unencrypted"),
        (["P1-1", "--folder", str(tmp_path)], "--folder transcribes files"),
        (["--folder", str(tmp_path / "none"), "--out", str(tmp_path)], "no such folder"),
        ([], "needs interview ids"),
        (["--local", "2", "--scheduler", "tls://x:1"], "not allowed with"),
    ]
    for argv, says in cases:
        result = _batch(env, *argv)
        assert result.returncode != 0 and says in result.stderr, (argv, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
