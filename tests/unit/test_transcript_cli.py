"""``verbatim export`` on files, run as a user runs it (a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.golden.fixture import fixture_document
from transcript.document import write


def run(*args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "verbatim", *args], capture_output=True,
                          text=True, timeout=60, env=env)


@pytest.fixture
def transcript_file(tmp_path: Path) -> Path:
    path = tmp_path / "P4-1.json"
    write(fixture_document(), path)
    return path


def test_export_writes_the_file(transcript_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "t.vtt"
    result = run("export", str(transcript_file), "--format", "vtt", "--out", str(out),
                 "--notation", "jefferson", "--width", "40")
    assert result.returncode == 0, result.stderr
    assert "<v P4>for me, it's th- (0.6) it's that dual" in out.read_text(encoding="utf-8")


def test_config_thresholds_and_replacements_apply(transcript_file: Path,
                                                  tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[notation.paper]\nlong_pause = 2.0\n", encoding="utf-8")
    reps = tmp_path / "replacements.txt"
    reps.write_text("# key kept apart\ndual edge = [phrase]\n", encoding="utf-8")
    out = tmp_path / "t.txt"
    result = run("export", str(transcript_file), "--format", "txt", "--out", str(out),
                 "--replacements", str(reps), env_extra={"VERBATIM_CONFIG": str(config)})
    assert result.returncode == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert "that [phrase] .. thing" in text  # 1.5 s is short under long_pause = 2.0
    assert "dual edge" not in text


@pytest.mark.parametrize("content, fragment", [
    (None, "no such file"),
    ("{not json", "invalid JSON"),
    ('{"format": "verbatim-transcript/2"}', "newer than this version"),
    ('{"format": "verbatim-transcript/1", "words": [{"text": 1}]}', "malformed"),
])
def test_bad_input_gives_one_clear_line(tmp_path: Path, content: str | None,
                                        fragment: str) -> None:
    src = tmp_path / "in.json"
    if content is not None:
        src.write_text(content, encoding="utf-8")
    out = tmp_path / "out.txt"
    result = run("export", str(src), "--format", "txt", "--out", str(out))
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert fragment in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()


def test_unknown_format_and_bad_replacements_are_one_line(transcript_file: Path,
                                                          tmp_path: Path) -> None:
    result = run("export", str(transcript_file), "--format", "pdf", "--out",
                 str(tmp_path / "x.pdf"))
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1 and "pdf" in result.stderr
    bad = tmp_path / "r.txt"
    bad.write_text("just a name\n", encoding="utf-8")
    result = run("export", str(transcript_file), "--format", "txt", "--out",
                 str(tmp_path / "x.txt"), "--replacements", str(bad))
    assert result.returncode == 1
    assert "expected 'original = [replacement]'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_export_never_overwrites_its_own_input(transcript_file: Path) -> None:
    before = transcript_file.read_bytes()
    result = run("export", str(transcript_file), "--format", "json", "--out",
                 str(transcript_file))
    assert result.returncode == 1 and "refusing" in result.stderr
    assert transcript_file.read_bytes() == before
