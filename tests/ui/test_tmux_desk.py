"""The transcriber's desk in the real program, in tmux (issue 18).

Open a transcript, go through its doubtful words with ``n`` (each one plays),
confirm one and correct another, move a boundary word to the other speaker,
lock, cite an extract, correct again, export with timestamps: the citation
made before the second correction is unchanged and its lines keep their numbers.
"""

from __future__ import annotations

import subprocess
import time
import uuid
from dataclasses import replace
from pathlib import Path

from tests.ui.conftest import make_doc
from tests.ui.test_tmux import VERBATIM, pytestmark, screen, session_alive, tmux, wait_for_text
from transcript.doubt import count_doubtful
from transcript.lines import number_lines
from verbatim.demo import DEMO_AUDIO
from verbatim.study import Study

__all__ = ["pytestmark"]

DOUBTFUL_WORDS = ("coming", "I've")  # the interviewer's, the participant's


def keys(session: str, *names: str) -> None:
    tmux("send-keys", "-t", session, *names)


def type_into_prompt(session: str, title: str, text: str) -> None:
    """Replace a prompt's text and press Enter once the input shows what was typed.

    Under load the first keys can reach the dialog before its input has focus
    and are lost; the text is then typed again (the input is cleared first).
    """
    wait_for_text(session, title)
    for _ in range(4):
        time.sleep(0.5)
        keys(session, "C-a", "C-k")
        tmux("send-keys", "-t", session, "-l", text)
        try:
            wait_for_text(session, text, timeout=5.0)
        except AssertionError:
            continue
        keys(session, "Enter")
        return
    raise AssertionError(f"could not type into {title!r}:\n{screen(session)}")


def wait_for_any(session: str, *texts: str, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shown = screen(session)
        found = next((t for t in texts if t in shown), None)
        if found is not None:
            return found
        time.sleep(0.1)
    raise AssertionError(f"none of {texts!r} appeared; the screen was:\n{screen(session)}")


def stop_playback(session: str) -> None:
    """Pause if playing (here there may be no sound card, and then nothing plays)."""
    for _ in range(3):
        if "▶" not in screen(session).splitlines()[0]:
            return
        keys(session, "p")
        time.sleep(0.5)


def until(condition: object, what: str, session: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} never happened; the screen was:\n{screen(session)}")


def test_desk_journey(tmp_path: Path) -> None:
    doc = make_doc(2)
    doubtful = [next(i for i, w in enumerate(doc.words) if w.text == text)
                for text in DOUBTFUL_WORDS]
    doc = replace(doc, words=tuple(replace(w, probability=0.2) if i in doubtful else w
                                   for i, w in enumerate(doc.words)))
    study_dir = tmp_path / "study"
    with Study.init(study_dir) as study:
        study.add_participant("P1", attributes={"profession": "Social Worker"})
        iid = study.add_interview("P1", DEMO_AUDIO)
        study.save_transcript(iid, doc, origin="pipeline")
    # the participant's first line, corrected by the author (short: the input shows it whole)
    lines = number_lines(doc, width=80)
    second = next(ln for ln in lines if ln.speaker == "S2")
    typed = "Yes I am a social worker, I have been"

    session = f"verbatim-desk-{uuid.uuid4().hex[:8]}"
    env = {"VERBATIM_DATA": str(tmp_path / "data"), "VERBATIM_CONFIG": str(tmp_path / "c.toml"),
           "VERBATIM_STUDY": str(study_dir), "TERM": "xterm-256color",
           # the tmux server may be older than this test: say which tree's code runs
           "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    exports = " ".join(f"{k}={v}" for k, v in env.items())
    out = tmp_path / "P1-1.txt"
    script = tmp_path / "run.sh"
    script.write_text(f"#!/bin/sh\nexport {exports}\n{VERBATIM}\n"
                      f"{VERBATIM} export P1-1 --format txt --out {out} --timestamps turn,5 "
                      f"> {tmp_path}/export.log 2>&1\necho $? > {tmp_path}/rc\n")
    script.chmod(0o700)
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "100", "-y", "30",
                    str(script)], check=True, timeout=20)

    def current() -> object:
        with Study.open(study_dir) as s:
            return s.transcript("P1-1")

    try:
        wait_for_text(session, "Interviews", "Social Worker", "transcribed")
        keys(session, "o")
        wait_for_text(session, "P1-1 ·", "doubtful 2")
        time.sleep(1.0)  # the editor takes the keys once it has focus
        keys(session, "n")  # 'coming': the cursor goes there and it plays (or says why not)
        wait_for_any(session, "▶", "playback:")  # no sound card here: the one-line reason
        keys(session, "c")  # it was right
        wait_for_text(session, "doubtful 1")
        keys(session, "n")  # 'I've', on the participant's first line
        wait_for_text(session, "doubtful 1", f"{second.n}")
        stop_playback(session)
        keys(session, "e")
        type_into_prompt(session, f"Words of line {second.n}", typed)
        wait_for_text(session, "doubtful 0", "I have been")
        until(lambda: "I have been" in " ".join(w.text for w in current().words),  # type: ignore
              "the correction", session)
        # the interviewer's last word goes to the participant
        stop_playback(session)
        keys(session, "g", "}")
        first_s2 = next(i for i, w in enumerate(doc.words) if w.speaker == "S2")
        until(lambda: current().words[first_s2 - 1].speaker == "S2",  # type: ignore[attr-defined]
              "the boundary move", session)
        keys(session, "L")
        wait_for_text(session, "Lock P1-1")
        time.sleep(0.5)  # keys sent as a dialog opens can reach it before it takes them
        keys(session, "Enter")
        wait_for_text(session, "· locked")
        time.sleep(0.5)
        keys(session, "x")  # extract of line 1, cited before the next correction
        wait_for_text(session, "(Extract 1. P1, Social Worker. 1)")
        for _ in range(5):  # escape is read after a pause (it may start a key sequence)
            keys(session, "Escape")
            time.sleep(1.0)
            if "Copy citation" not in screen(session):
                break
        with Study.open(study_dir) as s:
            cited = s.extract(1)
            numbers = [ln.number for ln in s.transcript("P1-1").lines]  # type: ignore[union-attr]
        keys(session, "e")  # correct again, after the lock
        type_into_prompt(session, "Words of line 1", "Thank you for coming in today, really")
        wait_for_text(session, "today, really")
        until(lambda: "really" in " ".join(w.text for w in current().words),  # type: ignore
              "the correction after the lock", session)
        keys(session, "C-q")
        until(lambda: (tmp_path / "rc").exists(), "the export", session, timeout=40)
    finally:
        if session_alive(session):
            subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    assert (tmp_path / "rc").read_text().strip() == "0", (tmp_path / "export.log").read_text()
    with Study.open(study_dir) as s:
        after = s.transcript("P1-1")
        assert after is not None and after.locked
        assert [ln.number for ln in after.lines] == numbers  # no cited number moved
        assert s.extract(1).citation == cited.citation == "(Extract 1. P1, Social Worker. 1)"
        assert s.extract(1).text == cited.text
        assert "really" in after.lines[0].text  # the correction, on the same line
        assert count_doubtful(after) == 0
    text = out.read_text()
    assert "[00:00:00]" in text and text.count("[00:00:") >= 2
    assert "really" in text
