"""``verbatim speaker list|rename|merge``: the editor's speaker changes from the command line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.golden.fixture import fixture_document
from transcript.model import Word
from verbatim.cli import main
from verbatim.study import Study


@pytest.fixture
def study(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
          capsys: pytest.CaptureFixture[str]) -> Path:
    monkeypatch.chdir(tmp_path)
    study_dir = tmp_path / "study"
    assert main(["study", "init", str(study_dir)]) == 0
    monkeypatch.setenv("VERBATIM_STUDY", str(study_dir))
    assert main(["participant", "add", "P4"]) == 0
    sf.write(str(tmp_path / "r.wav"), np.zeros(8000 * 20, dtype="int16"), 8000)
    assert main(["interview", "add", "P4", str(tmp_path / "r.wav")]) == 0
    doc = fixture_document()
    split = tuple(Word(w.text, w.start, w.end, "S3") if w.text == "plans" else w
                  for w in doc.words)  # the diariser gave one word to a third voice
    with Study.open(study_dir) as s:
        s.save_transcript("P4-1", type(doc)(audio=doc.audio, speakers=doc.speakers,
                                            words=split, marks=doc.marks), origin="pipeline")
    capsys.readouterr()
    return study_dir


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_list_rename_and_merge_save_new_versions(study: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "speaker", "list", "P4-1")
    assert code == 0
    assert out.splitlines() == ["S1\tInterviewer\t8 words", "S2\tP4\t27 words", "S3\tS3\t1 words"]
    code, out, _ = _run(capsys, "speaker", "rename", "P4-1", "S1", "Researcher")
    assert (code, out.strip()) == (0, "P4-1: S1 is now 'Researcher' (version 2)")
    code, out, _ = _run(capsys, "speaker", "merge", "P4-1", "S3", "S2")
    assert (code, out.strip()) == (0, "P4-1: merged S3 into S2 (1 words) (version 3)")
    with Study.open(study) as s:
        doc = s.transcript("P4-1")
        assert doc is not None
        assert {w.speaker for w in doc.words} == {"S1", "S2"}
        assert doc.speaker_label("S1") == "Researcher"
        assert [v.origin for v in s.versions("P4-1")] == ["pipeline", "edit", "edit"]
    # the same change again changes nothing and saves nothing
    code, out, _ = _run(capsys, "speaker", "rename", "P4-1", "S1", "Researcher")
    assert (code, out.strip()) == (0, "P4-1: nothing to change")


def test_locked_transcript_renames_but_refuses_a_merge(study: Path,
                                                       capsys: pytest.CaptureFixture[str],
                                                       tmp_path: Path) -> None:
    assert _run(capsys, "lock", "P4-1", "--width", "40")[0] == 0
    code, _, err = _run(capsys, "speaker", "merge", "P4-1", "S3", "S2")
    assert code != 0 and err.count("\n") == 1 and "locked" in err
    assert _run(capsys, "speaker", "rename", "P4-1", "S2", "Social Worker")[0] == 0
    out = tmp_path / "t.txt"
    assert _run(capsys, "export", "P4-1", "--format", "txt", "--out", str(out))[0] == 0
    assert "Social Worker:" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize("argv, says", [
    (("speaker", "rename", "P4-1", "S9", "X"), "no speaker 'S9'"),
    (("speaker", "rename", "P4-1", "S1", "  "), "cannot be empty"),
    (("speaker", "merge", "P4-1", "S1", "S1"), "into itself"),
    (("speaker", "merge", "P4-1", "S1", "S9"), "no speaker 'S9'"),
    (("speaker", "list", "P4-7"), "P4-7"),
])
def test_bad_input_is_one_line_and_changes_nothing(study: Path, argv: tuple[str, ...], says: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, *argv)
    assert code != 0 and says in err and err.count("\n") == 1 and "Traceback" not in err
    with Study.open(study) as s:
        assert len(s.versions("P4-1")) == 1
