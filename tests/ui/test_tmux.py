"""The real program in a real terminal: start ``verbatim`` in tmux, read the screen, quit.

With no study configured it must open the demo study (made on first run in
VERBATIM_DATA), show it at 80x24, open the transcript, and quit on ctrl+q.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = [pytest.mark.ui,
              pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")]

VERBATIM = Path(sys.executable).with_name("verbatim")


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True,
                          timeout=20).stdout


def screen(session: str) -> str:
    return tmux("capture-pane", "-p", "-t", session)


def wait_for_text(session: str, *texts: str, timeout: float = 30.0) -> str:
    """The screen once every text is on it at the same time.

    Waiting for all of them, not the first, matters: Textual draws a screen in
    several passes, and a capture between passes shows half a table.
    """
    deadline = time.monotonic() + timeout
    shown = ""
    while time.monotonic() < deadline:
        shown = screen(session)
        if all(text in shown for text in texts):
            return shown
        time.sleep(0.2)
    missing = [text for text in texts if text not in shown]
    raise AssertionError(f"{missing!r} never appeared; the screen was:\n{shown}")


def session_alive(session: str) -> bool:
    return subprocess.run(["tmux", "has-session", "-t", session],
                          capture_output=True).returncode == 0


def test_real_program_opens_demo_study_and_quits(tmp_path: Path) -> None:
    assert VERBATIM.exists(), f"{VERBATIM} missing: run 'make setup'"
    session = f"verbatim-test-{uuid.uuid4().hex[:8]}"
    env = {"VERBATIM_DATA": str(tmp_path / "data"), "VERBATIM_CONFIG": str(tmp_path / "c.toml"),
           "VERBATIM_MODELS": str(tmp_path / "models"), "TERM": "xterm-256color"}
    script = tmp_path / "run.sh"
    exports = " ".join(f"{k}={v}" for k, v in env.items())
    # the exit status lands in a file so the test can see the program ended cleanly
    script.write_text(f"#!/bin/sh\nexport {exports}\n{VERBATIM}\necho $? > {tmp_path}/rc\n")
    script.chmod(0o700)
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24",
                    str(script)], check=True, timeout=20, env={**os.environ, **env})
    try:
        wait_for_text(session, "Study: Demo study", "P1", "Social Worker", "transcribed")
        tmux("send-keys", "-t", session, "o")  # open the selected interview (P1-1)
        # "    1 " is the line-number gutter
        wait_for_text(session, "P1-1 ·", "    1 ", "Thank you for coming in today")
        tmux("send-keys", "-t", session, "C-q")
        deadline = time.monotonic() + 30
        while not (tmp_path / "rc").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert (tmp_path / "rc").exists(), f"still running after ctrl+q:\n{screen(session)}"
        assert (tmp_path / "rc").read_text().strip() == "0"
    finally:
        if session_alive(session):
            subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    assert (tmp_path / "data" / "demo-study" / "study.sqlite").exists()


def test_an_edit_survives_kill_9(tmp_path: Path) -> None:
    """Edit a line in the real program, SIGKILL it, reopen the study: the edit is there."""
    import signal

    from tests.ui.conftest import make_doc
    from verbatim.demo import DEMO_AUDIO
    from verbatim.study import Study

    with Study.init(tmp_path / "study") as study:
        study.add_participant("P1", attributes={"profession": "Social Worker"})
        iid = study.add_interview("P1", DEMO_AUDIO)
        study.save_transcript(iid, make_doc(2), origin="pipeline")
    session = f"verbatim-kill-{uuid.uuid4().hex[:8]}"
    env = {"VERBATIM_DATA": str(tmp_path / "data"), "VERBATIM_CONFIG": str(tmp_path / "c.toml"),
           "VERBATIM_STUDY": str(tmp_path / "study"), "TERM": "xterm-256color",
           "PYTHONPATH": os.environ.get("PYTHONPATH", "")}  # the tree under test
    script = tmp_path / "run.sh"
    exports = " ".join(f"{k}={v}" for k, v in env.items())
    pid_file = tmp_path / "pid"
    script.write_text(f"#!/bin/sh\nexport {exports}\necho $$ > {pid_file}\nexec {VERBATIM}\n")
    script.chmod(0o700)
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24",
                    str(script)], check=True, timeout=20)
    try:
        wait_for_text(session, "Interviews", "Social Worker", "transcribed")
        tmux("send-keys", "-t", session, "o")
        wait_for_text(session, "P1-1 ·")
        tmux("send-keys", "-t", session, "e")
        wait_for_text(session, "Words of line 1")
        tmux("send-keys", "-t", session, "C-a", "C-k")
        deadline = time.monotonic() + 20  # the prompt cleared before typing into it
        while not re.search(r"▊ +▎", screen(session)) and time.monotonic() < deadline:
            time.sleep(0.2)
        tmux("send-keys", "-t", session, "-l", "Welcome and thank you")
        tmux("send-keys", "-t", session, "Enter")
        # a pause mark may sit among the words; "saved": the edit is on disk (a worker saves)
        wait_for_text(session, "Welcome and thank", "saved")
        os.kill(int(pid_file.read_text()), signal.SIGKILL)
    finally:
        if session_alive(session):
            subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    with Study.open(tmp_path / "study") as study:
        doc = study.transcript("P1-1")
        assert doc is not None
        assert [w.text for w in doc.words[:4]] == ["Welcome", "and", "thank", "you"]
