"""kill -9 in the middle of a segment of a recording into an encrypted study: no plaintext.

A child process records through the app's recorder (``recorder_factory`` of an
encrypted study, 10-second segments) from a fake device that plays a known
signal in real time. It is killed 2.5 to 5 s in, inside the first segment,
while that segment is only in memory and its journal is being sealed. Then
every file in the study folder, the child's temp folder, its runtime folder
and ``/dev/shm`` is searched for a WAV header and for stretches of the
signal's own PCM bytes; and the recording, recovered, must be that signal.
"""

from __future__ import annotations

import io
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
RATE = 16000
WAV_HEADER = re.compile(rb"RIFF....WAVE", re.DOTALL)

_CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import numpy as np
    from capture.fake import ReplaySource
    from verbatim.vault import recording

    out = Path(sys.argv[1])
    signal = np.load(sys.argv[2])
    def on_block(i):
        if i % 10 == 0:
            print(i * 320, flush=True)
    source = ReplaySource(signal, rate=16000, block=320, realtime=True, on_block=on_block)
    factory = recording.recorder_factory(out.parent.parent)
    rec = factory(out, rate=16000, source=source)
    rec.start()
    time.sleep(120)
""")


def known_signal() -> np.ndarray:
    """30 s of seeded noise: no stretch of its samples occurs anywhere by chance."""
    return (0.3 * np.random.default_rng(1234).standard_normal(RATE * 30)).astype(np.float32)


def pcm_of(samples: np.ndarray) -> bytes:
    """The signal's bytes as the recorder stores them (PCM_24 through libsndfile)."""
    from capture.wavheader import parse_wav_header

    buffer = io.BytesIO()
    sf.write(buffer, samples, RATE, subtype="PCM_24", format="WAV")
    data = buffer.getvalue()
    return data[parse_wav_header(data[:1 << 16]).data_offset:]


def plaintext_in(folders: list[Path], windows: list[bytes], *, headers: bool) -> list[str]:
    found = []
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            try:
                data = path.read_bytes()
            except OSError:
                continue  # another user's file in /dev/shm
            if headers and WAV_HEADER.search(data):
                found.append(f"{path}: WAV header")
            if any(window in data for window in windows):
                found.append(f"{path}: the recorded signal")
    return found


@pytest.fixture
def study(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    from verbatim.study import Study
    from verbatim.vault import ops, session

    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.delenv("VERBATIM_KEY_FILE", raising=False)
    folder = tmp_path / "study"
    ops.prepare_new_study(folder, passphrase=None, key_file=tmp_path / "team.key")
    Study.init(folder).close()
    (folder / "recordings").mkdir()
    yield folder
    session.forget()


@pytest.mark.integration
def test_kill_mid_segment_leaves_no_plaintext_anywhere(study: Path, tmp_path: Path) -> None:
    from verbatim.vault import recording, session
    from verbatim.vault.sealing import journal_path

    keys = session.keys_for(study)
    session.forget()  # the recorder needs only the study's public recipient
    signal_path = tmp_path / "signal.npy"
    samples = known_signal()
    np.save(signal_path, samples)
    pcm = pcm_of(samples)
    temp = tmp_path / "tmp"
    temp.mkdir()
    out = study / "recordings" / "P1-1.wav"
    script = tmp_path / "child.py"
    script.write_text(_CHILD)
    env = {**os.environ, "PYTHONPATH": str(REPO), "TMPDIR": str(temp),
           "XDG_RUNTIME_DIR": str(tmp_path / "run")}
    child = subprocess.Popen([sys.executable, str(script), str(out), str(signal_path)],
                             env=env, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    journal = journal_path(out)
    kill_after = random.uniform(2.5, 5.0) * RATE  # a random moment inside the 10 s segment
    delivered = 0
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            delivered = int(line)
            # the writer has sealed audio already (header record + at least one more)
            if delivered > kill_after and journal.exists() and journal.stat().st_size > 4096:
                break
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
    assert delivered > kill_after, "the recorder never got going"
    assert recording.encrypted_segments(out) == [], "the kill was meant to land mid-segment"
    assert recording.plain_segments(out) == [] and journal.exists()

    # stretches of the signal's own bytes, 10 samples each, every quarter second recorded
    frame = 3
    windows = [pcm[at * frame:(at + 10) * frame]
               for at in range(0, int(delivered) - 10, RATE // 4)]
    shm = [Path("/dev/shm")] if Path("/dev/shm").is_dir() else []
    places = [study, temp, tmp_path / "run"]
    assert plaintext_in(places, windows, headers=True) == []
    assert plaintext_in(shm, windows, headers=False) == []

    # what was sealed while recording is the signal, up to the last half second or so
    session.hold(study, keys)
    lines = recording.recover(out)
    assert any("sealed while recording; encrypted" in line for line in lines), lines
    assert recording.journals(out) == [] and recording.plain_segments(out) == []
    assert plaintext_in(places, windows, headers=True) == []
    with recording.joined(out) as whole:
        data = whole.read_bytes()
    from capture.wavheader import parse_wav_header

    kept = data[parse_wav_header(data[:1 << 16]).data_offset:]
    assert kept == pcm[:len(kept)]
    lost = (delivered - len(kept) // frame) / RATE
    assert 0 <= lost <= 1.5, f"lost {lost:.2f} s of {delivered / RATE:.2f} s"
