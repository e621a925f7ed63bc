"""Encrypted studies end to end: record -> transcribe (tiny.en) -> edit -> export, and kill -9.

Recording uses capture's fake source (a real espeak-ng voice replayed as device
blocks); everything else runs as real ``verbatim`` processes with the study
unlocked once through the key agent, like a researcher's session.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

REPO = Path(__file__).resolve().parents[2]
PASS = "a long enough passphrase"
SPOKEN = "The supervision meeting was overwhelming because the therapists disagreed."
WAV_HEADER = re.compile(rb"RIFF....WAVE", re.DOTALL)


def _scan(folder: Path, words: list[str]) -> list[str]:
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if WAV_HEADER.search(data) or b"SQLite format 3" in data:
            found.append(f"{path.name}: header")
        found += [f"{path.name}: {w!r}" for w in words if w.encode() in data]
    return found


@pytest.fixture
def env(tmp_path: Path, models_dir: Path,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))  # this process asks the same agent
    monkeypatch.delenv("VERBATIM_KEY_FILE", raising=False)
    environment = {**os.environ, "VERBATIM_STUDY": str(tmp_path / "study"),
                   "VERBATIM_MODELS": str(models_dir), "PYTHONPATH": str(REPO),
                   "XDG_RUNTIME_DIR": str(runtime)}
    environment.pop("VERBATIM_KEY_FILE", None)
    yield environment
    subprocess.run([sys.executable, "-m", "verbatim", "study", "lock"], env=environment,
                   capture_output=True, timeout=60)
    from verbatim.vault import session

    session.forget()


def _verbatim(env: dict[str, str], *argv: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "verbatim", *argv], input=stdin, text=True,
                          capture_output=True, env=env, timeout=300)


def _speech(tmp_path: Path) -> np.ndarray:
    raw = tmp_path / "speech.wav"
    subprocess.run(["espeak-ng", "-v", "en", "-s", "150", "-w", str(raw), SPOKEN], check=True,
                   capture_output=True)
    data, rate = sf.read(str(raw), dtype="float32")
    import soxr

    return soxr.resample(data, rate, 16000).astype(np.float32)


@pytest.mark.integration
def test_record_transcribe_edit_export_in_an_encrypted_study(
        tmp_path: Path, env: dict[str, str], faster_whisper_tiny: Path) -> None:
    pytest.importorskip("transcribe.pipeline")
    from capture.fake import ReplaySource
    from capture.recorder import Recorder
    from verbatim.vault import recording

    study = tmp_path / "study"
    made = _verbatim(env, "study", "init", str(study), "--encrypt", stdin=PASS + "\n")
    assert made.returncode == 0, made.stderr
    assert _verbatim(env, "participant", "add", "P1", "--attr",
                     "profession=Nurse").returncode == 0
    (study / "recordings").mkdir()
    out = study / "recordings" / "P1-1.wav"
    speech = np.concatenate([np.zeros(8000, np.float32), _speech(tmp_path)])
    sealed = recording.prepare(out)  # unlocked: each segment is also decrypted to verify
    assert sealed is not None and sealed.identities
    source = ReplaySource(speech, rate=16000, block=320)
    rec = Recorder(out, rate=16000, source=source,
                   **sealed.recorder_options(rate=16000, channels=1, seconds=2.0))
    rec.start()
    assert source.finished.wait(30)
    rec.stop()
    sealed.finish()
    assert recording.plain_segments(out) == [] and len(recording.encrypted_segments(out)) >= 2

    added = _verbatim(env, "interview", "add", "P1", str(out))
    assert added.returncode == 0 and added.stdout.strip() == "P1-1", added.stderr
    done = _verbatim(env, "transcribe", "P1-1", "--model", "tiny.en", "--diarize", "none")
    assert done.returncode == 0, done.stderr
    from verbatim.study import Study
    from verbatim.vault import session

    with Study.open(study) as opened:  # this process asks the agent, like the TUI would
        doc = opened.transcript("P1-1")
        assert doc is not None and len(doc.words) >= 6
        heard = [w.text.strip(".,").lower() for w in doc.words]
        assert "meeting" in heard, heard
        from transcript.edits import edit_word

        edited = edit_word(doc, heard.index("meeting"), "Gathering")
        opened.save_transcript("P1-1", edited, origin="edit")
    session.forget()
    words = [w.text.strip(".,") for w in edited.words if len(w.text.strip(".,")) >= 7]
    assert words, "no long words to look for"
    for fmt in ("txt", "docx"):
        exported = _verbatim(env, "export", "P1-1", "--format", fmt,
                             "--out", str(tmp_path / f"P1-1.{fmt}"))
        assert exported.returncode == 0 and "plaintext export" in exported.stderr
    assert "Gathering" in (tmp_path / "P1-1.txt").read_text()
    assert _scan(study, [*words, "Gathering"]) == []
    assert not list(Path("/dev/shm").glob(f"verbatim-{os.getuid()}/*.json"))


_RECORDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import numpy as np
    from capture.fake import ReplaySource
    from capture.recorder import Recorder
    from verbatim.vault import recording

    out = Path(sys.argv[1])
    rate = 16000
    sealed = recording.prepare(out)
    delivered = [0]
    def on_block(i):
        delivered[0] = i * 320
        if i % 25 == 0:
            print(delivered[0], flush=True)
    noise = (0.2 * np.random.default_rng(0).standard_normal(rate * 60)).astype(np.float32)
    source = ReplaySource(noise, rate=rate, block=320, realtime=True, on_block=on_block)
    rec = Recorder(out, rate=rate, source=source,
                   **sealed.recorder_options(rate=rate, channels=1, seconds=1.0))
    rec.start()
    time.sleep(120)
""")


@pytest.mark.integration
def test_kill_during_encrypted_recording_loses_at_most_a_segment_and_leaves_no_plaintext(
        tmp_path: Path, env: dict[str, str]) -> None:
    from verbatim.vault import ops, recording, session

    study = tmp_path / "study"
    ops.prepare_new_study(study, passphrase=None, key_file=tmp_path / "team.key")
    from verbatim.study import Study

    Study.init(study).close()
    keys = session.keys_for(study)
    (study / "recordings").mkdir()
    out = study / "recordings" / "P1-1.wav"
    script = tmp_path / "rec.py"
    script.write_text(_RECORDER)
    child = subprocess.Popen([sys.executable, str(script), str(out)], env=env,
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    delivered = 0
    kill_after = random.uniform(3.5, 5.5) * 16000  # a random moment, mid-segment or not
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        delivered = int(line)
        if len(recording.encrypted_segments(out)) >= 3 and delivered > kill_after:
            break
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    child.stdout.close()
    assert len(recording.encrypted_segments(out)) >= 3, "the recorder never got going"
    assert recording.plain_segments(out) == []  # the open segment was only ever sealed

    fixed = _verbatim({**env, "VERBATIM_KEY_FILE": str(tmp_path / "team.key")},
                      "recover", str(out))
    assert fixed.returncode == 0, fixed.stderr
    assert "no plaintext left" in fixed.stdout and "encrypted" in fixed.stdout
    assert recording.plain_segments(out) == []
    assert not any(WAV_HEADER.search(p.read_bytes()) for p in study.rglob("*") if p.is_file())
    session.hold(study, keys)
    with recording.joined(out) as whole:
        frames = sf.info(str(whole)).frames
    lost = (delivered - frames) / 16000
    assert lost <= 1.0, f"lost {lost:.2f} s (more than one 1-second segment)"


@pytest.mark.integration
def test_verbatim_record_into_an_encrypted_study_on_a_real_device(tmp_path: Path,
                                                                  env: dict[str, str]) -> None:
    """The real CLI on a private PulseAudio null sink: 10 s segments sealed as they close."""
    sys.path.insert(0, str(REPO / "tests" / "integration"))
    from pulse import PrivatePulse, missing_tools, sine

    if missing_tools():
        pytest.skip(f"no private PulseAudio: missing {', '.join(missing_tools())}")
    from verbatim.vault import recording

    study, key = tmp_path / "study", tmp_path / "team.key"
    key_env = {**env, "VERBATIM_KEY_FILE": str(key)}
    assert _verbatim(env, "study", "init", str(study), "--encrypt", "--key-file",
                     str(key)).returncode == 0
    assert _verbatim(key_env, "participant", "add", "P1").returncode == 0
    (study / "recordings").mkdir()
    out = study / "recordings" / "P1-1.wav"
    server = PrivatePulse(tmp_path / "pulse")
    try:
        server.start()
    except RuntimeError as err:
        pytest.skip(f"pulseaudio would not start here: {err}")
    try:
        player = server.play(sine(30.0, 1000.0, amplitude=0.5, channels=2))
        try:
            done = subprocess.run([sys.executable, "-m", "verbatim", "record", str(out),
                                   "--seconds", "12"], env=server.env(key_env), text=True,
                                  capture_output=True, timeout=120)
        finally:
            player.kill()
            player.wait()
    finally:
        server.stop()
    assert done.returncode == 0, done.stderr
    assert "no plaintext kept" in done.stderr
    assert [p.name for p in recording.encrypted_segments(out)] == ["P1-1.wav.age",
                                                                   "P1-1-002.wav.age"]
    assert recording.plain_segments(out) == [] and (out.parent / "P1-1.capture.json.age").exists()
    assert not any(WAV_HEADER.search(p.read_bytes()) for p in study.rglob("*") if p.is_file())
    added = _verbatim(key_env, "interview", "add", "P1", str(out))
    assert added.returncode == 0 and added.stdout.strip() == "P1-1", added.stderr
    from verbatim.study import Study

    with Study.open(study) as opened:  # through the agent 'study init' started
        data, rate = sf.read(str(opened.audio_path("P1-1")), always_2d=True)
    assert (rate, len(data)) == (48000, 12 * 48000)
    assert float(np.sqrt(np.mean(data[rate:, 0] ** 2))) > 0.1, "the tone is in the recording"
