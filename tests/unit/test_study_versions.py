"""A locked transcript under later edits: numbering frozen, citations stable, undo safe."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.fixtures.studies import talk_transcript
from transcript import edits
from transcript.lines import number_lines
from transcript.model import Transcript, Word
from verbatim.study import Study, StudyError

TALK = [("S1", "So what was it like when the peer worker joined your team"),
        ("S2", "Honestly I was worried at first because John kept saying that the "
               "boundaries would blur and that somebody would get hurt in the end"),
        ("S1", "And what did you make of that"),
        ("S2", "I think he was frightened of what it meant for us as professionals and "
               "for the power we hold over the people we are meant to help")]


def _doc() -> Transcript:
    return talk_transcript(TALK, step=0.4, gap=1.0)


@pytest.fixture
def study(tmp_path: Path) -> Study:
    audio = tmp_path / "rec.wav"
    sf.write(str(audio), np.zeros(16000 * 40, dtype="float32"), 16000)
    s = Study.init(tmp_path / "study")
    s.add_participant("P4", attributes={"profession": "Social Worker"})
    s.add_interview("P4", audio)
    s.save_transcript("P4-1", _doc(), origin="pipeline")
    yield s
    s.close()


def test_cited_lines_resolve_after_edits_renames_and_undo(study: Study) -> None:
    locked = study.lock("P4-1", width=40)
    assert study.versions("P4-1")[-1].origin == "lock"
    john = next(ln.n for ln in locked.lines if "John" in ln.text)
    extract = study.add_extract("P4-1", john, john + 1)
    quoted = extract.text
    assert "John" in quoted
    # the author goes on editing: a word, a speaker's name, then undoes one step
    doc = study.transcript("P4-1")
    assert doc is not None
    index = next(i for i, w in enumerate(doc.words) if w.text == "John")
    study.save_transcript("P4-1", edits.edit_word(doc, index, "Jon"), description="spelling")
    renamed = edits.rename_speaker(study.transcript("P4-1"), "S2", "P4")
    study.save_transcript("P4-1", renamed, description="speaker label")
    study.undo("P4-1")
    # the numbering is the frozen one in every later version, never renumbered
    for info in study.versions("P4-1"):
        if info.version >= study.interview("P4-1").locked_version:
            later = study.transcript_version("P4-1", info.version)
            assert number_lines(later) == locked.lines
    again = study.extract(extract.number)
    assert (again.first, again.last, again.text) == (john, john + 1, quoted)
    assert again.citation == extract.citation


def test_undo_back_past_the_lock_keeps_the_citations(study: Study) -> None:
    locked = study.lock("P4-1")
    extract = study.add_extract("P4-1", 1, 2)
    assert study.undo("P4-1") is not None  # back to the unlocked pipeline version
    assert not study.transcript("P4-1").locked
    assert study.interview("P4-1").locked_version is not None
    assert study.extract(extract.number).text == extract.text
    assert study.locked_lines("P4-1") == locked.lines
    with pytest.raises(StudyError, match="already locked"):
        study.lock("P4-1")


def test_edits_are_stored_as_small_deltas_and_read_back_exactly(study: Study) -> None:
    import sqlite3

    from transcript.document import dumps
    from verbatim.study import versions

    doc = study.transcript("P4-1")
    saved = [doc]
    for i in range(versions.SNAPSHOT_EVERY + 5):  # past one snapshot interval
        k = (i * 7) % len(doc.words)
        doc = edits.edit_word(doc, k, doc.words[k].text.upper() + str(i))
        if i % 9 == 3:
            doc = edits.rename_speaker(doc, "S1", f"Interviewer {i}")
        study.save_transcript("P4-1", doc)
        saved.append(doc)
    conn = sqlite3.connect(study.path / "study.sqlite")
    rows = conn.execute("SELECT version, base, length(document) FROM transcript_versions "
                        "ORDER BY version").fetchall()
    conn.close()
    whole = len(dumps(doc).encode())
    deltas = [size for _, base, size in rows if base is not None]
    assert len(deltas) >= versions.SNAPSHOT_EVERY and max(deltas) < 400 < whole / 10
    assert sum(base is None for _, base, _ in rows) == 2  # the first, and one more later
    # a fresh reader (nothing cached) rebuilds every version exactly
    with Study.open(study.path) as fresh:
        for number, expected in enumerate(saved, start=1):
            got = fresh.transcript_version("P4-1", number)
            assert got == expected and got.speakers == expected.speakers
    assert study.undo("P4-1") == saved[-2] and study.redo("P4-1") == saved[-1]


def test_a_changed_run_is_found_by_value_where_items_are_not_the_same_objects() -> None:
    """The diff scans for identity in C and compares by value only where objects differ:
    equal copies (a document decoded twice) still give the smallest run."""
    from dataclasses import replace

    from verbatim.study.versions import _run

    words = tuple(Word(f"w{i}", float(i), i + 0.5, "S1") for i in range(500))
    copies = tuple(replace(w) for w in words)
    assert _run(words, words) is None
    assert _run(words, copies) is None
    edited = (*copies[:200], Word("new", 200.0, 200.5, "S1"), *copies[201:])
    assert _run(words, edited) == (200, 1, 1)
    assert _run(words, edited[:300] + edited[301:]) == (200, 101, 100)
    assert _run(words, words[:10] + words[11:]) == (10, 1, 0)
    assert _run(words, words + copies[:2]) == (500, 0, 2)
    assert _run((), copies[:3]) == (0, 0, 3)
    repeated = (words[0],) * 4
    assert _run(repeated, repeated[:2]) == (2, 2, 0)
