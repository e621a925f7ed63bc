"""The whole study workflow of DESIGN's command list, on a real recording and real tiny.en.

init -> participant add -> interview add -> transcribe -> lock -> note add ->
extract add (prints the citation) -> export -> pack, each as a real
``verbatim`` process, with sockets blocked by the CLI itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from transcript import document
from verbatim.study import Study

REPO = Path(__file__).resolve().parents[2]
SAMPLE = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" \
    / "site-packages" / "pyannote" / "audio" / "sample" / "sample.wav"


def _sample() -> Path:
    try:
        import pyannote.audio.sample as pkg

        found = Path(pkg.__file__).parent / "sample.wav"
    except Exception:
        found = SAMPLE
    if not found.is_file():
        pytest.skip("pyannote's sample.wav (a real 30 s two-speaker recording) is not installed")
    return found


@pytest.mark.integration
def test_scripted_study_flow_end_to_end(tmp_path: Path, models_dir: Path,
                                        faster_whisper_tiny: Path) -> None:
    pytest.importorskip("transcribe.pipeline")
    recording = _sample()
    study_dir = tmp_path / "study"
    env = {**os.environ, "VERBATIM_STUDY": str(study_dir), "VERBATIM_MODELS": str(models_dir),
           "PYTHONPATH": str(REPO)}
    diarize = "embedding" if (models_dir / "ge2e-voice-encoder").is_dir() else "none"

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "verbatim", *argv], capture_output=True,
                              text=True, env=env, cwd=tmp_path, timeout=300)

    def verbatim(*argv: str) -> str:
        done = run(*argv)
        assert done.returncode == 0, (argv, done.stderr)
        return done.stdout.strip()

    def refused(*argv: str) -> str:
        done = run(*argv)
        lines = done.stderr.strip().splitlines()
        assert done.returncode != 0 and len(lines) == 1, (argv, done.stderr)
        return lines[0]

    verbatim("study", "init", str(study_dir), "--name", "Resistance to user involvement")
    verbatim("participant", "add", "P4", "--attr", "gender=Male",
             "--attr", "profession=Social Worker", "--attr", "work_setting=Specialist Services")
    assert verbatim("interview", "add", "P4", str(recording), "--number", "1") == "P4-1"
    out = verbatim("transcribe", "P4-1", "--model", "tiny.en", "--diarize", diarize)
    assert "P4-1: transcript version 1" in out
    assert not any((study_dir / ".work").iterdir()), "the worker's JSON was left behind"
    assert "no interview 'P4-9'" in refused("transcribe", "P4-9")
    assert "model" in refused("transcribe", "P4-1", "--model", "no-such-model")
    with Study.open(study_dir) as study:
        doc = study.transcript("P4-1")
        assert doc is not None and len(doc.words) > 30
        assert doc.audio.sha256 == study.interview("P4-1").audio_sha256
        assert [v.origin for v in study.versions("P4-1")] == ["pipeline"]
    assert "locked" in verbatim("lock", "P4-1", "--width", "40")
    with Study.open(study_dir) as study:
        lines = study.locked_lines("P4-1")
    assert len(lines) >= 12
    verbatim("note", "add", "P4-1", "--at", "12.5-20.0", "--phase", "after",
             "--moment", "his voice dropped", "--response", "I felt uneasy",
             "--understanding", "my own worry about risk")
    citation = verbatim("extract", "add", "P4-1", "--lines", "10-12", "--willig")
    assert citation == "(Extract 1. P4, Social Worker. 10-12)"  # teens keep both digits (issue 19)
    for fmt in ("docx", "md", "json"):
        verbatim("export", "P4-1", "--format", fmt, "--out", str(tmp_path / f"P4-1.{fmt}"))
    exported = document.read(tmp_path / "P4-1.json")
    assert exported.lines == lines
    assert [n.moment for n in exported.notes] == ["his voice dropped"]
    assert citation in (tmp_path / "P4-1.md").read_text(encoding="utf-8")
    packed = verbatim("pack", "P4", "--out", str(tmp_path / "pack")).splitlines()
    assert [Path(p).name for p in packed] == ["P4-member-check.md", "P4-member-check.docx"]
    pack_md = (tmp_path / "pack" / "P4-member-check.md").read_text(encoding="utf-8")
    assert citation in pack_md and lines[10].text in pack_md
    # the recording in the study is untouched by all of it
    with Study.open(study_dir) as study:
        assert study.verify_audio("P4-1")
