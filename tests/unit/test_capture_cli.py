"""``verbatim recover`` and the parts of ``verbatim record`` that need no device."""

from __future__ import annotations

import dataclasses
import struct
import subprocess
import sys
from pathlib import Path

import soundfile as sf

from capture.fake import ReplaySource, tone
from capture.levels import Level
from capture.recorder import Recorder, RecorderStatus
from capture.recover import recover_recording
from capture.sidecar import read_sidecar, sidecar_path, write_sidecar
from capture.wavfile import parse_wav_header, read_head
from verbatim.commands.capture_cmds import meter, status_line

REPO = Path(__file__).resolve().parents[2]


def verbatim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "verbatim", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=60)


def crash(path: Path, keep_header_frames: int = 0) -> None:
    """Make a finished WAV look like one a crash left: header sizes from long ago."""
    layout = parse_wav_header(read_head(path))
    with open(path, "r+b") as handle:
        handle.seek(layout.data_size_field)
        handle.write(struct.pack("<I", keep_header_frames * layout.block_align))
        handle.write(b"\x05")  # and half a frame at the end
        handle.seek(0, 2)
        handle.write(b"\x05")


def test_recover_command_repairs_and_reports_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "cut.wav"
    sf.write(path, tone(1.0), 48000, subtype="PCM_24")
    crash(path)
    out = verbatim("recover", str(path))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines() == [
        "cut.wav: repaired, kept 1.00 s (48000 frames, 48000 Hz, 1 ch); the header covered "
        "0.00 s; cut a partial frame of 1 byte(s)"]
    assert sf.info(path).frames == 48000


def test_recover_command_bad_input_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "notes.wav").write_text("not audio, just text that is long enough")
    for target, message in ((tmp_path / "notes.wav", "not a WAV file"),
                            (tmp_path / "none.wav", "does not exist")):
        out = verbatim("recover", str(target))
        assert out.returncode == 1
        assert len(out.stderr.strip().splitlines()) == 1 and message in out.stderr
    assert (tmp_path / "notes.wav").read_text().startswith("not audio")


def test_record_needs_a_wav_path(tmp_path: Path) -> None:
    out = verbatim("record")
    assert out.returncode == 1 and "needs an output file" in out.stderr
    out = verbatim("record", str(tmp_path / "x.mp3"), "--seconds", "1")
    assert out.returncode == 1 and "must be a .wav file" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_recovering_a_crashed_segmented_recording_fixes_every_file_and_the_sidecar(
        tmp_path: Path) -> None:
    source = ReplaySource(tone(2.5), rate=48000, block=960)
    rec = Recorder(tmp_path / "long.wav", source=source, max_segment_bytes=48000 * 3 + 4096)
    rec.start()
    assert source.finished.wait(20)
    summary = rec.stop()
    last = summary.segments[-1]
    crash(last)
    side = read_sidecar(tmp_path / "long.wav")
    write_sidecar(sidecar_path(tmp_path / "long.wav"),
                  dataclasses.replace(side, ended_at=None, stop_reason=None, frames=0))
    reports = recover_recording(tmp_path / "long.wav")
    assert [r.path.name for r in reports] == ["long.wav", "long-002.wav", "long-003.wav"]
    assert [r.repaired for r in reports] == [False, False, True]
    assert sf.info(last).frames == 24000
    after = read_sidecar(tmp_path / "long.wav")
    assert after.frames == 120000 and after.stop_reason == "recovered after a crash"


def test_the_live_line_shows_state_time_levels_dropouts_and_disk() -> None:
    status = RecorderStatus(state="recording", elapsed=3725.4, frames=0, dropouts=2,
                            dropped_seconds=0.4, disk_seconds_left=7200.0)
    line = status_line(status, Level(peak=(0.5, 1.0), rms=(0.3, 0.7)))
    assert line.startswith("REC 01:02:05")
    assert "L ###########." in line and "R ############" in line and "CLIP" in line
    assert "dropouts 2" in line and "disk 2.0 h" in line and "\n" not in line
    assert status_line(dataclasses.replace(status, state="paused"), None).startswith("PAUSED")
    assert "NO AUDIO 3 s" in status_line(dataclasses.replace(status, silent_for=3.2), None)
    assert "NO AUDIO" not in line
    assert meter(-60.0) == "." * 12 and meter(0.0) == "#" * 12 and meter(-30.0) == "#" * 6 + "." * 6
