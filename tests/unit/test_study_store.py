"""The study store: participants, interviews, versions with undo/redo, audit, files."""

from __future__ import annotations

import sqlite3
import stat
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from transcript.model import AudioRef, Line, Note, Transcript, Word
from verbatim.study import Study, StudyError


def _wav(path: Path, seconds: float = 1.0) -> Path:
    sf.write(str(path), np.zeros(int(16000 * seconds), dtype="float32"), 16000)
    return path


def _doc(*texts: str) -> Transcript:
    words = tuple(Word(text=t, start=i * 0.5, end=i * 0.5 + 0.4, speaker="S1")
                  for i, t in enumerate(texts))
    return Transcript(audio=AudioRef(path="audio/P4-1.wav"), words=words)


@pytest.fixture
def study(tmp_path: Path) -> Study:
    s = Study.init(tmp_path / "study", name="Resistance study")
    s.add_participant("P4", attributes={"gender": "Male", "profession": "Social Worker"})
    yield s
    s.close()


@pytest.fixture
def iid(study: Study, tmp_path: Path) -> str:
    return study.add_interview("P4", _wav(tmp_path / "rec.wav"))


def test_init_makes_an_owner_only_folder_with_wal(tmp_path: Path) -> None:
    with Study.init(tmp_path / "s") as study:
        assert study.name == "Resistance study" or study.name == "s"
        conn = sqlite3.connect(study.path / "study.sqlite")
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        conn.close()
    assert stat.S_IMODE((tmp_path / "s").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "s" / "study.sqlite").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "s" / "audio").stat().st_mode) == 0o700


def test_open_refuses_a_folder_that_is_not_a_study(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    with pytest.raises(StudyError, match="not a study"):
        Study.open(tmp_path / "plain")
    with pytest.raises(StudyError, match="no such study folder"):
        Study.open(tmp_path / "missing")
    (tmp_path / "fake").mkdir()
    (tmp_path / "fake" / "study.sqlite").write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StudyError, match="not a study"):
        Study.open(tmp_path / "fake")


def test_init_refuses_an_existing_study_or_a_busy_folder(tmp_path: Path) -> None:
    Study.init(tmp_path / "s").close()
    with pytest.raises(StudyError, match="already a study"):
        Study.init(tmp_path / "s")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "thesis.docx").write_bytes(b"x")
    with pytest.raises(StudyError, match="not empty"):
        Study.init(tmp_path / "busy")


def test_participants_keep_their_attributes_and_role(study: Study) -> None:
    study.add_participant("P1", pseudonym="Ann",
                          attributes={"gender": "Female", "profession": "Occupational Therapist"})
    by_id = {p.id: p for p in study.participants()}
    assert by_id["P4"].role == "Social Worker"
    assert by_id["P1"].pseudonym == "Ann"
    assert by_id["P1"].attributes["gender"] == "Female"
    with pytest.raises(StudyError, match="already exists"):
        study.add_participant("P4")
    with pytest.raises(StudyError, match="no dash"):
        study.add_participant("P-4")


def test_role_falls_back_to_another_attribute_or_nothing(study: Study) -> None:
    assert study.add_participant("P6", attributes={"Role": "Nurse"}).role == "Nurse"
    assert study.add_participant("P7").role == ""


def test_interview_copy_is_read_only_checked_and_named_by_id(study: Study, iid: str,
                                                            tmp_path: Path) -> None:
    assert iid == "P4-1"
    stored = study.audio_path(iid)
    assert stored.name == "P4-1.wav"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o400
    assert stored.read_bytes() == (tmp_path / "rec.wav").read_bytes()
    assert study.verify_audio(iid)
    second = study.add_interview("P4", tmp_path / "rec.wav", place="Clinic room 2")
    assert second == "P4-2"
    assert study.interview(second).place == "Clinic room 2"
    assert [i.id for i in study.interviews("P4")] == ["P4-1", "P4-2"]


def test_interview_bad_input_changes_nothing(study: Study, iid: str, tmp_path: Path) -> None:
    before = (study.info(), sorted(p.name for p in (study.path / "audio").iterdir()))
    not_audio = tmp_path / "notes.wav"
    not_audio.write_text("these are my notes, not a recording\n" * 50)
    with pytest.raises(StudyError, match="not an audio file"):
        study.add_interview("P4", not_audio)
    with pytest.raises(StudyError, match="no participant 'P9'"):
        study.add_interview("P9", tmp_path / "rec.wav")
    with pytest.raises(StudyError, match="already exists"):
        study.add_interview("P4", tmp_path / "rec.wav", number=1)
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(StudyError, match="empty"):
        study.add_interview("P4", empty)
    with pytest.raises(StudyError, match="date"):
        study.add_interview("P4", tmp_path / "rec.wav", date="31/05/2024")
    after = (study.info(), sorted(p.name for p in (study.path / "audio").iterdir()))
    assert after == before


def test_versions_undo_redo_and_branching(study: Study, iid: str) -> None:
    assert study.transcript(iid) is None
    assert study.undo(iid) is None
    v1 = study.save_transcript(iid, _doc("i", "was", "worried"), origin="pipeline")
    v2 = study.save_transcript(iid, _doc("I", "was", "worried"), description="capital I")
    v3 = study.save_transcript(iid, _doc("I", "was", "really", "worried"))
    assert (v1, v2, v3) == (1, 2, 3)
    assert [w.text for w in study.transcript(iid).words] == ["I", "was", "really", "worried"]
    assert [w.text for w in study.undo(iid).words] == ["I", "was", "worried"]
    assert [w.text for w in study.undo(iid).words] == ["i", "was", "worried"]
    assert study.undo(iid) is None and not study.can_undo(iid)
    assert [w.text for w in study.redo(iid).words] == ["I", "was", "worried"]
    # an edit after an undo starts a new branch; redo now has nowhere to go
    v4 = study.save_transcript(iid, _doc("I", "was", "so", "worried"))
    assert v4 == 4 and study.redo(iid) is None
    assert [w.text for w in study.undo(iid).words] == ["I", "was", "worried"]
    assert [w.text for w in study.redo(iid).words] == ["I", "was", "so", "worried"]
    infos = study.versions(iid)
    assert [v.version for v in infos] == [1, 2, 3, 4]
    assert [v.parent for v in infos] == [None, 1, 2, 2]
    assert [v.current for v in infos] == [False, False, False, True]
    assert infos[1].description == "capital I"


def test_undo_is_shared_between_two_open_handles(study: Study, iid: str) -> None:
    study.save_transcript(iid, _doc("one"), origin="pipeline")
    with Study.open(study.path) as other:
        other.save_transcript(iid, _doc("two"))
    assert [w.text for w in study.transcript(iid).words] == ["two"]
    assert [w.text for w in study.undo(iid).words] == ["one"]


def test_audit_never_holds_transcript_or_note_text(study: Study, iid: str) -> None:
    study.save_transcript(iid, _doc("Zebedee", "confided", "secretly"), origin="pipeline")
    study.add_note(iid, Note(start=0.0, end=1.0, phase="after",
                             moment="Kangaroo moment", response="Felt wombat",
                             understanding="Platypus insight"))
    study.add_replacement("Zebedee", "[colleague]")
    raw = sqlite3.connect(study.path / "study.sqlite")
    rows = raw.execute("SELECT action, target, detail FROM audit").fetchall()
    raw.close()
    text = repr(rows)
    for secret in ("Zebedee", "confided", "Kangaroo", "wombat", "Platypus", "colleague"):
        assert secret not in text
    assert {"study.init", "participant.add", "interview.add", "transcript.save",
            "note.add", "replacement.set"} <= {r[0] for r in rows}


def test_notes_keep_three_parts_and_live_marks_complete(study: Study, iid: str) -> None:
    stored = study.add_note(iid, Note(start=12.5, end=20.0, phase="after", moment="tears",
                                      response="I felt protective"))
    assert stored.written_at and stored.interview == iid and not stored.to_complete
    with pytest.raises(StudyError, match="phase"):
        study.add_note(iid, Note(start=0, end=1, phase="later", moment="x"))
    with pytest.raises(StudyError, match="forwards"):
        study.add_note(iid, Note(start=5, end=1, phase="after", moment="x"))
    live = study.add_note(iid, Note(start=3.0, end=3.0, phase="during", moment="moved me"),
                          source="live-mark", to_complete=True)
    done = study.update_note(live.id, response="sadness", understanding="my own loss")
    assert not done.to_complete and done.moment == "moved me"
    assert [n.start for n in study.notes(iid)] == [3.0, 12.5]


def _locked_doc() -> Transcript:
    lines = tuple(Line(n=i, speaker="S2", text=f"line {i} text", start=i * 2.0,
                       end=i * 2.0 + 1.5) for i in range(1, 21))
    return replace(_doc("a", "b"), lines=lines)


def test_lock_and_extracts_cite_frozen_lines_after_later_edits(study: Study, iid: str) -> None:
    pytest.importorskip("transcript.lines")
    study.save_transcript(iid, _locked_doc(), origin="pipeline")
    with pytest.raises(StudyError, match="not locked"):
        study.add_extract(iid, 10, 12)
    study.lock(iid)
    with pytest.raises(StudyError, match="already locked"):
        study.lock(iid)
    first = study.add_extract(iid, 10, 12, analysis="positions")
    # later edits (even ones that drop the lines) never move what was cited
    study.save_transcript(iid, _doc("rewritten", "entirely"))
    again = study.extract(first.number)
    assert again.text.splitlines()[-1].endswith("line 12 text")
    assert "line 10 text" in again.text
    assert (again.first, again.last, again.analysis) == (10, 12, "positions")
    with pytest.raises(StudyError, match="outside"):
        study.add_extract(iid, 19, 25)
    second = study.add_extract(iid, 1, 2)
    assert second.number == first.number + 1
    note = study.add_note_at_lines(iid, 3, 4, phase="analysis", moment="defended")
    assert (note.start, note.end, note.first_line, note.last_line) == (6.0, 9.5, 3, 4)


def test_listing_extracts_decodes_no_transcript(study: Study, iid: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The quoted text is stored with the extract; an older extract is quoted once, then kept."""
    study.save_transcript(iid, _locked_doc(), origin="pipeline")
    study.lock(iid)
    made = [study.add_extract(iid, n, n + 1) for n in (1, 5, 9)]
    with study.ledger.tx() as conn:  # as a study from before the text was stored
        conn.execute("UPDATE extracts SET text = NULL WHERE number = ?", (made[0].number,))
    decoded: list[int] = []
    real = Study.transcript_version

    def counting(self: Study, interview: str, version: int) -> Transcript:
        decoded.append(version)
        return real(self, interview, version)

    monkeypatch.setattr(Study, "transcript_version", counting)
    assert [e.text for e in study.extracts("P4")] == [e.text for e in made]
    assert len(decoded) == 1  # the old one, once
    decoded.clear()
    assert [e.citation for e in study.extracts()] == [e.citation for e in made]
    assert study.extract(made[1].number).text == "line 5 text\nline 6 text"
    assert decoded == []


def test_retention_delete_is_guarded_and_audited(study: Study, iid: str) -> None:
    with pytest.raises(StudyError, match="no retention date"):
        study.delete_audio(iid)
    study.update_interview(iid, retention_date="2030-01-01")
    assert study.retention_due(today="2029-12-31") == []
    with pytest.raises(StudyError, match="kept until 2030-01-01"):
        study.delete_audio(iid, today="2029-12-31")
    assert study.audio_path(iid).exists()
    assert [i.id for i in study.retention_due(today="2030-01-01")] == [iid]
    path = study.audio_path(iid)
    study.delete_audio(iid, today="2030-01-02")
    assert not path.exists()
    with pytest.raises(StudyError, match="deleted"):
        study.audio_path(iid)
    assert study.audit_log(limit=1)[0].action == "audio.delete"
    assert study.retention_due(today="2031-01-01") == []


def test_backup_is_a_consistent_copy_that_never_overwrites(study: Study, iid: str,
                                                           tmp_path: Path) -> None:
    study.save_transcript(iid, _doc("kept"), origin="pipeline")
    dest = study.backup(tmp_path / "backup.sqlite")
    copy = sqlite3.connect(dest)
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert copy.execute("SELECT count(*) FROM transcript_versions").fetchone()[0] == 1
    copy.close()
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    with pytest.raises(StudyError, match="already exists"):
        study.backup(dest)


def test_live_marks_from_the_capture_sidecar_become_notes_to_complete(study: Study,
                                                                     tmp_path: Path) -> None:
    sidecar = pytest.importorskip("capture.sidecar")
    audio = _wav(tmp_path / "interview.wav", seconds=3.0)
    sidecar.write_sidecar(sidecar.sidecar_path(audio), sidecar.Sidecar(
        device="test", rate=16000, channels=1, started_at="2019-03-04T10:00:00+00:00",
        marks=(sidecar.LiveMark(time=1.25, text="this moved me"),
               sidecar.LiveMark(time=2.5, text=""))))
    iid = study.add_interview("P4", audio)
    notes = study.notes(iid)
    # each note covers what was said before the tap, and was written when tapped
    assert [(n.start, n.end, n.moment, n.phase, n.to_complete, n.source, n.written_at)
            for n in notes] == [
        (0.0, 1.25, "this moved me", "during", True, "live-mark", "2019-03-04T10:00:01+00:00"),
        (0.0, 2.5, "marked during the interview", "during", True, "live-mark",
         "2019-03-04T10:00:02+00:00")]
    assert study.interview(iid).date == "2019-03-04"
    # a damaged sidecar never blocks importing the recording itself
    other = _wav(tmp_path / "other.wav")
    sidecar.sidecar_path(other).write_text("{not json")
    assert study.notes(study.add_interview("P4", other)) == []


def test_a_study_from_a_newer_verbatim_is_refused(study: Study) -> None:
    raw = sqlite3.connect(study.path / "study.sqlite")
    raw.execute("PRAGMA user_version = 99")
    raw.commit()
    raw.close()
    with pytest.raises(StudyError, match="newer verbatim"):
        Study.open(study.path)


def test_threads_and_a_second_handle_can_write_at_once(study: Study, iid: str) -> None:
    """The TUI saves from worker threads while the CLI writes too: nothing is lost."""
    import threading

    other = Study.open(study.path)
    errors: list[BaseException] = []

    def writer(handle: Study, tag: str) -> None:
        try:
            for i in range(15):
                handle.save_transcript(iid, _doc(f"{tag}{i}"))
                handle.add_note(iid, Note(start=float(i), end=float(i), phase="analysis",
                                          moment=f"{tag}{i}"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(h, t))
               for h, t in ((study, "a"), (study, "b"), (other, "c"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.close()
    assert errors == []
    assert len(study.versions(iid)) == 45
    assert len(study.notes(iid)) == 45
    assert {w.text for v in range(1, 46)
            for w in study.transcript_version(iid, v).words} == {
        f"{t}{i}" for t in "abc" for i in range(15)}


def test_backup_into_a_folder_is_a_whole_study_that_opens(study: Study, iid: str,
                                                          tmp_path: Path) -> None:
    study.save_transcript(iid, _doc("kept"), origin="pipeline")
    (tmp_path / "usb").mkdir()
    folder = study.backup(tmp_path / "usb")
    assert folder.parent == tmp_path / "usb"
    with Study.open(folder) as copy:
        assert [w.text for w in copy.transcript(iid).words] == ["kept"]
        assert copy.verify_audio(iid)
    assert stat.S_IMODE((folder / "audio" / "P4-1.wav").stat().st_mode) == 0o400


def test_wal_files_are_owner_only_too(study: Study, iid: str) -> None:
    study.save_transcript(iid, _doc("private"), origin="pipeline")
    wal = study.path / "study.sqlite-wal"
    assert wal.exists()
    assert stat.S_IMODE(wal.stat().st_mode) == 0o600


def test_the_store_imports_no_ui_and_no_ml() -> None:
    import json
    import subprocess
    import sys

    code = ("import json, sys; import verbatim.study, verbatim.commands.study_cmds; "
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True, timeout=120)
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert not loaded & {"textual", "torch", "whisper", "faster_whisper", "pyannote",
                         "sounddevice"}


def test_leftovers_of_a_crashed_import_are_cleaned_or_set_aside(study: Study,
                                                               tmp_path: Path) -> None:
    import os
    import time

    audio = study.path / "audio"
    stale = audio / ".import-dead.partial"
    stale.write_bytes(b"half a recording")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    live = audio / ".import-busy.partial"
    live.write_bytes(b"another program is copying this right now")
    orphan = audio / "P4-1.wav"  # renamed into place, then the process died before COMMIT
    orphan.write_bytes(b"RIFF")
    iid = study.add_interview("P4", _wav(tmp_path / "rec.wav"))
    assert iid == "P4-1" and study.verify_audio(iid)
    assert not stale.exists() and live.exists()
    assert [p.name.split("-", 2)[0] for p in (audio.glob(".orphan-*"))] == [".orphan"]
    assert len(study.info()["set_aside"]) == 1


def test_two_programs_adding_interviews_at_once_get_distinct_ids(study: Study,
                                                                tmp_path: Path) -> None:
    import threading

    audio = _wav(tmp_path / "rec.wav")
    other = Study.open(study.path)
    made: list[str] = []
    errors: list[BaseException] = []

    def add(handle: Study) -> None:
        try:
            for _ in range(6):
                made.append(handle.add_interview("P4", audio))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(h,)) for h in (study, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.close()
    assert errors == []
    assert sorted(made, key=lambda i: int(i.split("-")[1])) == [f"P4-{n}" for n in range(1, 13)]
    assert all(study.verify_audio(i) for i in made)
    assert not list((study.path / "audio").glob(".*"))
