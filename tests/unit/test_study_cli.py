"""The study verbs through ``verbatim.cli.main`` (the ``cli`` fixture of
tests/unit/conftest.py): output, exit codes, refusals."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.fixtures.studies import talk_transcript
from transcript.model import Transcript
from verbatim.study import Study

SENTENCES = [
    ("S1", "Could you tell me about the peer support work on your team"),
    ("S2", "Well Sarah started last spring and at first I was really worried about "
           "what the others would say because nobody had done it before"),
    ("S1", "What worried you most"),
    ("S2", "I suppose that the boundaries would blur and that I would have to "
           "protect her from the team and from the patients as well"),
    ("S1", "Can you say more about that feeling"),
    ("S2", "It felt like being the only one who could see the risk"),
]


def _wav(path: Path, seconds: float = 30.0) -> Path:
    sf.write(str(path), np.zeros(int(16000 * seconds), dtype="float32"), 16000)
    return path


def _transcript() -> Transcript:
    return talk_transcript(SENTENCES, step=0.35, gap=0.8)


def _snapshot(study_dir: Path) -> tuple[list[str], list[str]]:
    """Every row of every table plus the audio listing: 'nothing changed' means equal."""
    conn = sqlite3.connect(study_dir / "study.sqlite")
    dump = list(conn.iterdump())
    conn.close()
    return dump, sorted(p.name for p in (study_dir / "audio").iterdir())


@pytest.fixture
def study_dir(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    assert cli("study", "init", str(tmp_path / "st"), "--name", "Resistance").code == 0
    monkeypatch.setenv("VERBATIM_STUDY", str(tmp_path / "st"))
    return tmp_path / "st"


def test_init_participant_interview_prints_the_id(cli, study_dir: Path, tmp_path: Path) -> None:
    run = cli("participant", "add", "P4", "--attr", "gender=Male",
              "--attr", "profession=Social Worker")
    assert run.code == 0 and "P4" in run.out
    run = cli("interview", "add", "P4", str(_wav(tmp_path / "rec.wav")))
    assert (run.code, run.out.strip()) == (0, "P4-1")
    run = cli("interview", "add", "P4", str(tmp_path / "rec.wav"), "--date", "2019-03-04",
              "--place", "Clinic", "--consent-form", "v2", "--consent-date", "2019-03-01",
              "--consent-scope", "audio and quotes", "--retain-until", "2029-03-04")
    assert run.out.strip() == "P4-2"
    with Study.open(study_dir) as study:
        second = study.interview("P4-2")
    assert (second.date, second.place, second.consent_form, second.consent_scope,
            second.retention_date) == ("2019-03-04", "Clinic", "v2", "audio and quotes",
                                       "2029-03-04")
    listing = cli("interview", "list").out.splitlines()
    assert listing[0].startswith("P4-1") and "0:30" in listing[0]


def test_bad_input_is_one_line_nonzero_and_changes_nothing(cli, study_dir: Path,
                                                           tmp_path: Path) -> None:
    cli("participant", "add", "P4", "--attr", "profession=Social Worker")
    cli("interview", "add", "P4", str(_wav(tmp_path / "rec.wav")))
    with Study.open(study_dir) as study:
        study.save_transcript("P4-1", _transcript(), origin="pipeline")
    cli("lock", "P4-1")
    (tmp_path / "letter.wav").write_text("Dear participant, thank you\n" * 40)
    before = _snapshot(study_dir)
    attempts = [
        ("participant", "add", "P4"),                                  # duplicate id
        ("participant", "add", "P-4"),                                 # malformed id
        ("participant", "add", "P5", "--attr", "nonsense"),            # bad attribute
        ("interview", "add", "P9", str(tmp_path / "rec.wav")),         # unknown participant
        ("interview", "add", "P4", str(tmp_path / "letter.wav")),      # not audio
        ("interview", "add", "P4", str(tmp_path / "missing.wav")),     # no file
        ("interview", "add", "P4", str(tmp_path / "rec.wav"), "--number", "1"),  # duplicate
        ("lock", "P4-1"),                                              # already locked
        ("lock", "P4-7"),                                              # unknown interview
        ("extract", "add", "P4-1", "--lines", "1-999"),                # outside
        ("extract", "add", "P4-1", "--lines", "9-3"),                  # backwards
        ("extract", "add", "P7-1", "--lines", "1-2"),                  # unknown interview
        ("note", "add", "P4-1", "--lines", "500-501", "--phase", "after", "--moment", "x"),
        ("note", "add", "P4-1", "--at", "20-10", "--phase", "after", "--moment", "x"),
        ("note", "add", "P4-9", "--at", "1-2", "--phase", "after", "--moment", "x"),
        ("pack", "P9", "--out", str(tmp_path / "pack")),               # unknown participant
        ("pack", "P4", "--out", str(tmp_path / "pack")),               # no extracts yet
        ("study", "backup", str(tmp_path / "nowhere" / "b.sqlite")),
        ("study", "retention", "--delete", "P4-1", "--yes"),           # no retention date
        ("--study", str(tmp_path), "participant", "list"),             # not a study
        ("--study", str(tmp_path / "absent"), "participant", "list"),
    ]
    for argv in attempts:
        run = cli(*argv)
        assert run.code != 0, argv
        lines = run.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("verbatim: "), (argv, run.err)
        assert "Traceback" not in run.err and "internal error" not in run.err, argv
    assert _snapshot(study_dir) == before
    assert not (tmp_path / "pack").exists()


def test_no_study_is_one_clear_line(cli) -> None:
    run = cli("participant", "list")
    assert run.code == 1 and run.err.strip().startswith("verbatim: no study")


def test_lock_extract_note_and_pack_from_the_command_line(cli, study_dir: Path,
                                                          tmp_path: Path) -> None:
    cli("participant", "add", "P4", "--attr", "gender=Male", "--attr",
        "profession=Social Worker")
    cli("interview", "add", "P4", str(_wav(tmp_path / "rec.wav")))
    with Study.open(study_dir) as study:
        study.save_transcript("P4-1", _transcript(), origin="pipeline")
    assert cli("study", "replace", "Sarah", "[colleague]").code == 0
    run = cli("lock", "P4-1", "--width", "40")
    assert run.code == 0 and "locked" in run.out
    with Study.open(study_dir) as study:
        lines = study.locked_lines("P4-1")
    assert len(lines) >= 6
    sarah = next(ln.n for ln in lines if "Sarah" in ln.text)
    run = cli("extract", "add", "P4-1", "--lines", f"{sarah}-{sarah + 1}", "--willig",
              "--analysis", "Sarah is positioned as needing protection")
    assert run.code == 0
    assert run.out.strip() == f"(Extract 1. P4, Social Worker. {sarah}-{sarah + 1})"
    run = cli("note", "add", "P4-1", "--lines", f"{sarah}-{sarah}", "--phase", "analysis",
              "--moment", "protectiveness", "--response", "I wanted to rescue",
              "--understanding", "my own clinical training")
    assert run.code == 0 and f"lines {sarah}-{sarah}" in run.out
    listed = cli("extract", "list").out
    assert f"(Extract 1. P4, Social Worker. {sarah}-{sarah + 1})" in listed
    run = cli("pack", "P4", "--out", str(tmp_path / "pack"))
    assert run.code == 0
    md = (tmp_path / "pack" / "P4-member-check.md").read_text(encoding="utf-8")
    assert "Sarah" not in md and "[colleague]" in md
    assert f"(Extract 1. P4, Social Worker. {sarah}-{sarah + 1})" in md
    assert "Positionings" in md  # Willig's template laid out the analysis
    import docx

    word = docx.Document(str(tmp_path / "pack" / "P4-member-check.docx"))
    body = "\n".join(p.text for p in word.paragraphs)
    assert "Sarah" not in body and "Extract 1" in body and "[colleague]" in body


def test_participant_table_in_three_formats(cli, study_dir: Path, tmp_path: Path) -> None:
    table_one = [("P1", "Female", "Occupational Therapist", "Acute Care"),
                 ("P2", "Female", "Psychologist", "Community"),
                 ("P4", "Male", "Social Worker", "Specialist Services")]
    for pid, gender, profession, setting in table_one:
        cli("participant", "add", pid, "--attr", f"gender={gender}",
            "--attr", f"profession={profession}", "--attr", f"work_setting={setting}",
            "--attr", "experience=Over fifteen")
    md = cli("participant", "table").out
    assert md.splitlines()[0] == ("| Participant | Gender | Profession | Work Setting | "
                                  "Experience |")
    assert "| P4 | Male | Social Worker | Specialist Services | Over fifteen |" in md
    assert cli("participant", "table", "--format", "csv", "--out", "t.csv").code == 0
    import csv

    rows = list(csv.reader((tmp_path / "t.csv").read_text(encoding="utf-8").splitlines()))
    assert rows[2] == ["P2", "Female", "Psychologist", "Community", "Over fifteen"]
    assert cli("participant", "table", "--format", "docx").code == 1
    assert cli("participant", "table", "--format", "docx", "--out", "t.docx").code == 0
    import docx

    table = docx.Document(str(tmp_path / "t.docx")).tables[0]
    assert [c.text for c in table.rows[3].cells][:3] == ["P4", "Male", "Social Worker"]


def test_retention_report_and_guarded_delete(cli, study_dir: Path, tmp_path: Path) -> None:
    cli("participant", "add", "P4")
    cli("interview", "add", "P4", str(_wav(tmp_path / "rec.wav")), "--retain-until",
        "2020-01-01")
    cli("interview", "add", "P4", str(tmp_path / "rec.wav"), "--retain-until", "2999-01-01")
    report = cli("study", "retention").out
    assert "P4-1" in report and "P4-2" not in report
    run = cli("study", "retention", "--delete", "P4-1")
    assert run.code == 1 and "--yes" in run.err
    assert (study_dir / "audio" / "P4-1.wav").exists()
    assert cli("study", "retention", "--delete", "P4-2", "--yes").code == 1
    assert (study_dir / "audio" / "P4-2.wav").exists()
    assert cli("study", "retention", "--delete", "P4-1", "--yes").code == 0
    assert not (study_dir / "audio" / "P4-1.wav").exists()
    with Study.open(study_dir) as study:
        entry = study.audit_log(limit=1)[0]
    assert (entry.action, entry.target) == ("audio.delete", "P4-1")
    assert "audio deleted" in cli("interview", "list").out


def test_info_and_backup(cli, study_dir: Path, tmp_path: Path) -> None:
    cli("participant", "add", "P4")
    info = cli("study", "info").out
    assert "Resistance" in info and "participants 1" in info
    audit = cli("study", "audit").out.splitlines()
    assert [line.split("\t")[1] for line in audit] == ["study.init", "participant.add"]
    (tmp_path / "usb").mkdir()
    run = cli("study", "backup", str(tmp_path / "usb"))
    assert run.code == 0
    [folder] = list((tmp_path / "usb").iterdir())
    assert str(folder) in run.out
    copy = sqlite3.connect(folder / "study.sqlite")
    assert copy.execute("SELECT id FROM participants").fetchall() == [("P4",)]
    copy.close()
    assert cli("study", "backup", str(tmp_path / "db-only.sqlite")).code == 0
    assert (tmp_path / "db-only.sqlite").is_file()


def test_a_live_mark_is_completed_from_the_command_line(cli, study_dir: Path,
                                                       tmp_path: Path) -> None:
    cli("participant", "add", "P4")
    cli("interview", "add", "P4", str(_wav(tmp_path / "rec.wav")))
    with Study.open(study_dir) as study:
        from transcript.model import Note

        live = study.add_note("P4-1", Note(start=4.0, end=4.0, phase="during",
                                           moment="marked during the interview"),
                              source="live-mark", to_complete=True)
    assert "[to complete]" in cli("note", "list", "P4-1").out
    assert cli("note", "complete", str(live.id)).code == 1
    run = cli("note", "complete", str(live.id), "--moment", "she cried about her father",
              "--response", "I held back", "--understanding", "my own grief")
    assert run.code == 0 and "(complete)" in run.out
    listing = cli("note", "list", "P4-1").out
    assert "[to complete]" not in listing and "she cried about her father" in listing
    assert cli("note", "complete", "99", "--response", "x").code == 1
