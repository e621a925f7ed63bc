"""A new user's whole journey in the real program, in tmux, in an encrypted study.

Record from the app (speech played into a private PulseAudio null sink) with a
typed mark, stop, see the interview listed, transcribe it from the app (the bar
must move and never read 100 % before the end), edit a word, write a note,
lock, extract, export Word. Between steps and at the end the study folder, our
/dev/shm folder and the program's temp folder are scanned for plaintext: the
typed mark and the transcript's words may exist only in the export.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.pulse import PrivatePulse, running_or_skip
from tests.ui.test_tmux import VERBATIM, screen, session_alive, tmux, wait_for_text

pytestmark = [pytest.mark.ui, pytest.mark.integration,
              pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
              pytest.mark.usefixtures("vault_runtime")]

SPEECH_SECONDS = 12.0  # of the demo recording, played into the null sink while recording
MARK = "quokka lantern moment"
NEW_WORD = "Zanzibarians"  # a word of line 1 is retyped as this word no one said


@pytest.fixture
def pulse(tmp_path: Path) -> Iterator[PrivatePulse]:
    with running_or_skip(tmp_path / "pulse") as server:
        yield server


def plaintext_in(folders: list[Path], needles: list[bytes], *, skip: Path | None = None,
                 ) -> list[str]:
    hits = []
    for folder in folders:
        if not folder.exists():
            continue
        for path in folder.rglob("*"):
            if not path.is_file() or (skip is not None and path == skip):
                continue
            try:
                data = path.read_bytes()
            except OSError:
                continue
            hits += [f"{path}: {n.decode()}" for n in needles if n in data]
    return hits


def wait_until(session: str, condition: Callable[[str], bool], timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    shown = ""
    while time.monotonic() < deadline:
        shown = screen(session)
        if condition(shown):
            return shown
        time.sleep(0.2)
    raise AssertionError(f"the screen never got there:\n{shown}")


def first_line_words(study_dir: Path) -> str:
    """Line 1's words as the editor's ``e`` offers them, one of them (5+ letters) replaced."""
    from transcript import edits
    from verbatim.study import Study
    from verbatim.tui.layout import numbered_lines

    with Study.open(study_dir) as study:
        doc = study.transcript("P1-1")
    assert doc is not None
    line = numbered_lines(doc)[0]
    span = edits.words_between(doc, line.start, line.end, line.speaker)
    assert span is not None, "line 1 has no words"
    words = [w.text for w in doc.words[span[0]:span[1] + 1]]
    target = next(i for i, w in enumerate(words) if w.isalpha() and len(w) >= 5)
    words[target] = NEW_WORD
    return " ".join(words)


def test_record_transcribe_edit_note_lock_extract_export_encrypted(
        tmp_path: Path, pulse: PrivatePulse, models_dir: Path,
        faster_whisper_tiny: Path) -> None:
    import soundfile as sf

    from verbatim.study import Study
    from verbatim.vault import ops

    assert VERBATIM.exists(), f"{VERBATIM} missing: run 'make setup'"
    study_dir, key_file = tmp_path / "study", tmp_path / "team.key"
    ops.prepare_new_study(study_dir, passphrase=None, key_file=key_file)
    with Study.init(study_dir, name="Journey") as study:
        study.add_participant("P1", attributes={"profession": "Nurse"})
    config = tmp_path / "config.toml"
    config.write_text('engine = "faster-whisper"\nmodel = "tiny.en"\ndiarize = "none"\n')
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    env = pulse.env({"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TERM": "xterm-256color",
                     "VERBATIM_STUDY": str(study_dir), "VERBATIM_KEY_FILE": str(key_file),
                     "VERBATIM_CONFIG": str(config), "VERBATIM_MODELS": str(models_dir),
                     "VERBATIM_DATA": str(tmp_path / "data"), "TMPDIR": str(private_tmp),
                     "PYTHONPATH": os.environ.get("PYTHONPATH", "")})
    script = tmp_path / "run.sh"
    exports = "\n".join(f"export {k}={shlex.quote(v)}" for k, v in env.items())
    script.write_text(f"#!/bin/sh\n{exports}\n{VERBATIM}\necho $? > {tmp_path}/rc\n")
    script.chmod(0o700)
    shm = Path("/dev/shm") / f"verbatim-{os.getuid()}"
    watched = [study_dir, shm, private_tmp]
    from verbatim.demo import DEMO_AUDIO

    speech, rate = sf.read(str(DEMO_AUDIO), dtype="float32", frames=int(16000 * SPEECH_SECONDS))
    session = f"verbatim-journey-{uuid.uuid4().hex[:8]}"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "100", "-y", "30",
                    str(script)], check=True, timeout=20)

    def keys(*names: str) -> None:
        tmux("send-keys", "-t", session, *names)

    def typed(text: str) -> None:
        tmux("send-keys", "-t", session, "-l", text)

    try:
        wait_for_text(session, "Study: Journey", "P1", "Nurse")
        keys("r")
        wait_for_text(session, "Record · interview with P1", "press space to start")
        player = pulse.play(speech, rate=rate)
        keys("space")
        wait_for_text(session, "recording ·")
        keys("M")
        wait_for_text(session, "Mark this moment")
        typed(MARK)
        keys("Enter")
        wait_for_text(session, "mark at")
        assert not plaintext_in(watched, [MARK.encode()]), "the typed mark is on disk in plain"
        player.wait(timeout=30)
        keys("s")
        wait_for_text(session, "saved as interview P1-1", timeout=60)
        keys("Escape")
        wait_for_text(session, "P1-1", "recorded")
        assert not list((study_dir / "recordings").iterdir()), "a second copy stayed"

        keys("Enter", "t", "C-o")  # participant -> its interviews; transcribe; jobs
        seen: list[int] = []
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            shown = screen(session)
            if "P1-1: done" in shown:
                break
            assert "failed" not in shown, shown
            match = re.search(r"P1-1: .*? (\d+) %", shown)
            if match:
                seen.append(int(match.group(1)))
            time.sleep(0.2)
        else:
            raise AssertionError(f"the transcription did not finish:\n{screen(session)}")
        assert seen and max(seen) < 100, f"100 % before the end: {seen}"
        assert len(set(seen)) >= 2, f"the bar did not move: {seen}"

        keys("Escape")
        wait_for_text(session, "Interviews of P1", "transcribed")
        keys("o")
        wait_for_text(session, "P1-1 ·", "line 1 ·")
        keys("e")
        wait_for_text(session, "Words of line 1")
        line_words = first_line_words(study_dir)
        keys("C-a", "C-k")
        wait_until(session, lambda shown: re.search(r"▊ +▎", shown) is not None)  # cleared
        typed(line_words)
        keys("Home")  # a long line scrolls the field: its start holds the new word
        wait_for_text(session, NEW_WORD)  # in the prompt, before it is saved
        keys("Enter")
        wait_for_text(session, NEW_WORD, "saved")
        keys("a")
        wait_for_text(session, "Reflexive note")
        typed("His voice rose here")
        keys("C-s")
        wait_for_text(session, "note saved")
        keys("L")
        wait_for_text(session, "Lock P1-1")
        keys("Enter")
        wait_for_text(session, "line numbers locked")
        keys("x")
        wait_for_text(session, "(Extract 1. P1, Nurse.")
        keys("Escape")
        wait_until(session, lambda shown: "Copy citation" not in shown)
        keys("E")
        wait_for_text(session, "Export P1-1", "pseudonymise")
        keys("C-s")
        export = study_dir / "exports" / "P1-1.docx"
        deadline = time.monotonic() + 30
        while not export.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert export.exists(), screen(session)
        keys("C-q")
        deadline = time.monotonic() + 30
        while not (tmp_path / "rc").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert (tmp_path / "rc").read_text().strip() == "0"
    finally:
        if session_alive(session):
            subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)

    needles = [MARK.encode(), NEW_WORD.encode(), b"His voice rose here"]
    assert not plaintext_in(watched, needles, skip=export), "plaintext left beside the study"
    import zipfile

    with zipfile.ZipFile(export) as docx:
        assert NEW_WORD.encode() in docx.read("word/document.xml")
    with Study.open(study_dir) as study:
        assert study.interview("P1-1").locked
        assert study.extract(1).interview == "P1-1"
        assert [n.moment for n in study.notes("P1-1")] == [MARK, "His voice rose here"]
    assert sys.executable  # the real program ran as a separate process
