"""Crash safety: a writer killed at random moments never corrupts the study or loses a commit.

A child process opens the study and writes as fast as it can: a new
transcript version, a reflexive note, an undo and a redo, over and over,
printing each step only after ``Study`` has returned (i.e. after COMMIT with
synchronous=FULL). The parent SIGKILLs it at a random moment, then checks
``PRAGMA integrity_check`` and that every step the child reported is there.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.fixtures.studies import silent_study
from verbatim.study import Study

REPO = Path(__file__).resolve().parents[2]
TRIALS = 25

WRITER = r"""
import sys
from transcript.model import AudioRef, Note, Transcript, Word
from verbatim.study import Study

study = Study.open(sys.argv[1])
iid = sys.argv[2]
print("ready", flush=True)
n = 0
while True:
    n += 1
    words = tuple(Word(text=f"w{n}-{i}", start=i * 0.5, end=i * 0.5 + 0.4, speaker="S1")
                  for i in range(200))
    version = study.save_transcript(iid, Transcript(audio=AudioRef("a.wav"), words=words))
    print(f"version {version} {n}", flush=True)
    note = study.add_note(iid, Note(start=float(n), end=float(n) + 1, phase="after",
                                    moment=f"moment {n}"))
    print(f"note {note.id} {n}", flush=True)
    if n % 3 == 0:
        study.undo(iid)
        study.redo(iid)
        print(f"redo {version}", flush=True)
"""


@pytest.mark.integration
def test_killed_writer_leaves_an_intact_study_with_every_commit(tmp_path: Path) -> None:
    folder = silent_study(tmp_path, participant="P4")
    rng = random.Random(6)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    committed_versions: dict[int, int] = {}   # version -> the n whose words it holds
    committed_notes: dict[int, int] = {}
    killed_mid_work = 0
    for _ in range(TRIALS):
        child = subprocess.Popen([sys.executable, "-c", WRITER, str(folder), "P4-1"],
                                 stdout=subprocess.PIPE, text=True, env=env, cwd=REPO)
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        # kill it mid-stream, not during start-up: wait for its first commit first
        output = [child.stdout.readline().strip()]
        time.sleep(rng.uniform(0.0, 0.25))
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        output += child.stdout.read().splitlines()
        child.stdout.close()
        killed_mid_work += len(output) > 1
        for line in output:
            kind, ident, *rest = line.split()
            if kind == "version":
                committed_versions[int(ident)] = int(rest[0])
            elif kind == "note":
                committed_notes[int(ident)] = int(rest[0])

        conn = sqlite3.connect(folder / "study.sqlite")
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.close()

    assert killed_mid_work >= TRIALS // 2, "the writer was rarely killed after a few commits"
    assert len(committed_versions) > TRIALS
    with Study.open(folder) as study:
        for version, n in committed_versions.items():
            words = study.transcript_version("P4-1", version).words
            assert len(words) == 200 and words[0].text == f"w{n}-0"
        notes = {note.id: note for note in study.notes("P4-1")}
        for note_id, n in committed_notes.items():
            assert notes[note_id].moment == f"moment {n}"
        # killed between an undo and its redo, the current version is the one before
        assert study.interview("P4-1").current_version >= max(committed_versions) - 1
        # the study still works after all that: a new version saves and undoes
        doc = study.transcript("P4-1")
        assert doc is not None
        new = study.save_transcript("P4-1", doc)
        assert study.undo("P4-1") is not None and study.redo("P4-1") is not None
        assert study.interview("P4-1").current_version == new
    print(json.dumps({"trials": TRIALS, "versions": len(committed_versions),
                      "notes": len(committed_notes)}))


IMPORTER = r"""
import sys
from verbatim.study import Study

study = Study.open(sys.argv[1])
print("ready", flush=True)
while True:
    print(study.add_interview("P4", sys.argv[2]), flush=True)
"""


@pytest.mark.integration
def test_killed_import_never_registers_a_missing_or_partial_recording(tmp_path: Path) -> None:
    folder = silent_study(tmp_path, participant="P4")
    big = tmp_path / "long.wav"
    sf.write(str(big), np.random.default_rng(0).uniform(-0.1, 0.1, 16000 * 30)
             .astype("float32"), 16000, subtype="PCM_16")
    rng = random.Random(7)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    reported: set[str] = set()
    for _ in range(10):
        child = subprocess.Popen([sys.executable, "-c", IMPORTER, str(folder), str(big)],
                                 stdout=subprocess.PIPE, text=True, env=env, cwd=REPO)
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        reported.add(child.stdout.readline().strip())  # one import done: now mid-stream
        time.sleep(rng.uniform(0.0, 0.3))
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        reported |= set(child.stdout.read().split())
        conn = sqlite3.connect(folder / "study.sqlite")
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.close()
        child.stdout.close()
    with Study.open(folder) as study:
        interviews = {i.id: i for i in study.interviews()}
        assert reported <= set(interviews)
        for iid, interview in interviews.items():
            assert study.verify_audio(iid), iid
            if iid != "P4-1":  # the setup's own short recording
                assert interview.audio_duration == pytest.approx(30.0)
        # whatever a crash left behind, the next import still works
        study.add_interview("P4", big)
    assert len(reported) >= 10
