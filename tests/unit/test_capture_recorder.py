"""The recorder end to end with a fake source: dropouts, the writer, pauses, marks, levels."""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from capture import recorder as recorder_module
from capture.errors import CaptureError, DiskFullError
from capture.fake import ReplaySource, tone
from capture.recorder import Recorder
from capture.sidecar import read_sidecar
from capture.wavfile import SegmentedWavWriter, parse_wav_header, read_head

RATE = 48000
BLOCK = 960


def noise(seconds: float, channels: int = 1, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (0.3 * rng.standard_normal((round(seconds * RATE), channels))).clip(-1, 1).astype(
        np.float32)


def record(tmp_path: Path, source: ReplaySource, name: str = "rec.wav", *,
           made: list[Recorder] | None = None, **options: object):
    """Record all of ``source``; ``made`` receives the recorder before it starts (for a
    source's ``on_block`` that pauses or marks it)."""
    rec = Recorder(tmp_path / name, channels=source.channels, rate=RATE, source=source,
                   **options)  # type: ignore[arg-type]
    if made is not None:
        made.append(rec)
    rec.start()
    assert source.finished.wait(20), "fake source did not finish"
    return rec, rec.stop()


def pcm24(x: np.ndarray) -> np.ndarray:
    """What a PCM_24 round trip makes of float samples."""
    return np.round(x.astype(np.float64) * 2**23).clip(-2**23, 2**23 - 1) / 2**23


def test_every_frame_is_written_in_order_as_24_bit(tmp_path: Path) -> None:
    audio = noise(3.0, channels=2)
    _, summary = record(tmp_path, ReplaySource(audio, rate=RATE, block=BLOCK))
    data, rate = sf.read(tmp_path / "rec.wav", always_2d=True)
    assert rate == RATE and sf.info(tmp_path / "rec.wav").subtype == "PCM_24"
    assert summary.frames == len(audio) == len(data)
    np.testing.assert_allclose(data, pcm24(audio), atol=1.5 / 2**23)
    assert summary.dropouts == 0 and summary.error is None


def test_a_stall_is_filled_with_silence_and_recorded_in_the_sidecar(tmp_path: Path) -> None:
    audio = tone(4.0, rate=RATE)
    source = ReplaySource(audio, rate=RATE, block=BLOCK, stalls={100: 0.5})
    _, summary = record(tmp_path, source)
    data, _ = sf.read(tmp_path / "rec.wav", always_2d=True)
    # the timeline stays true: audio delivered + audio lost
    assert len(data) == source.delivered_frames + source.lost_frames
    assert summary.dropouts == 1 and summary.dropped_seconds == pytest.approx(0.5, abs=0.001)
    start = 100 * BLOCK
    assert np.all(data[start:start + RATE // 2] == 0)  # the gap is silence
    np.testing.assert_allclose(data[start + RATE // 2:][:BLOCK], pcm24(audio[start:][:BLOCK]),
                               atol=1.5 / 2**23)  # the audio after it is intact, shifted
    side = read_sidecar(tmp_path / "rec.wav")
    [gap] = side.gaps
    assert gap.start == pytest.approx(2.0) and gap.duration == pytest.approx(0.5)
    assert gap.reason == "stall"
    assert side.complete and side.frames == len(data)


def test_callback_status_flags_are_recorded(tmp_path: Path) -> None:
    source = ReplaySource(tone(3.0), rate=RATE, block=BLOCK, stalls={60: 0.05},
                          overflow_at={60, 120})
    _, summary = record(tmp_path, source)
    side = read_sidecar(tmp_path / "rec.wav")
    assert side.overflows == pytest.approx((60 * BLOCK / RATE, (120 * BLOCK + 2400) / RATE))
    assert [g.reason for g in side.gaps] == ["overflow"]  # only block 60 had missing time
    assert summary.frames == source.delivered_frames + source.lost_frames


def test_a_late_burst_adds_no_silence(tmp_path: Path) -> None:
    audio = noise(4.0)
    source = ReplaySource(audio, rate=RATE, block=BLOCK, delays={80: 0.4})
    _, summary = record(tmp_path, source)
    data, _ = sf.read(tmp_path / "rec.wav", always_2d=True)
    assert summary.dropouts == 0
    np.testing.assert_allclose(data, pcm24(audio), atol=1.5 / 2**23)


def test_a_full_queue_loses_blocks_but_not_time(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    real_write = SegmentedWavWriter.write

    def slow_write(self: SegmentedWavWriter, block: np.ndarray) -> None:
        time.sleep(0.002)  # a writer that cannot keep up with a burst
        real_write(self, block)

    monkeypatch.setattr(SegmentedWavWriter, "write", slow_write)
    source = ReplaySource(tone(3.0), rate=RATE, block=BLOCK)
    _, summary = record(tmp_path, source, queue_blocks=4)
    side = read_sidecar(tmp_path / "rec.wav")
    assert summary.dropouts > 0
    assert {g.reason for g in side.gaps} == {"queue"}
    assert summary.frames == len(tone(3.0))  # lost blocks became silence of their length


def test_pause_keeps_one_timeline_and_is_recorded(tmp_path: Path) -> None:
    rec_holder: list[Recorder] = []

    def on_block(i: int) -> None:
        if i == 50:
            rec_holder[0].pause()
        if i == 100:
            rec_holder[0].resume()

    source = ReplaySource(tone(3.0), rate=RATE, block=BLOCK, on_block=on_block)
    _, summary = record(tmp_path, source, "p.wav", made=rec_holder)
    assert summary.frames == (150 - 50) * BLOCK  # the paused second is not in the file
    [pause] = summary.pauses
    assert pause.at == pytest.approx(50 * BLOCK / RATE)
    assert pause.duration == pytest.approx(50 * BLOCK / RATE, abs=0.03)
    assert summary.dropouts == 0  # resuming is not a dropout
    assert read_sidecar(tmp_path / "p.wav").pauses == summary.pauses


def test_live_marks_land_on_the_timeline_with_their_text(tmp_path: Path) -> None:
    rec_holder: list[Recorder] = []
    times: dict[int, float] = {}

    def on_block(i: int) -> None:
        if i in (25, 100):
            deadline = time.monotonic() + 5
            while rec_holder[0]._frames_dequeued < i * BLOCK and time.monotonic() < deadline:
                time.sleep(0.001)
            times[i] = rec_holder[0].mark("this moved me" if i == 25 else "")

    source = ReplaySource(tone(3.0), rate=RATE, block=BLOCK, on_block=on_block)
    _, summary = record(tmp_path, source, "m.wav", made=rec_holder)
    assert times[25] == pytest.approx(25 * BLOCK / RATE, abs=BLOCK / RATE)
    assert times[100] == pytest.approx(100 * BLOCK / RATE, abs=BLOCK / RATE)
    marks = read_sidecar(tmp_path / "m.wav").marks
    assert [m.text for m in marks] == ["this moved me", ""]
    assert [m.time for m in marks] == [round(times[25], 3), round(times[100], 3)]
    assert summary.marks == marks


def test_levels_arrive_through_a_size_one_queue(tmp_path: Path) -> None:
    source = ReplaySource(tone(2.0, channels=2, amplitude=0.5), rate=RATE, block=BLOCK)
    rec, _ = record(tmp_path, source)
    level = rec.latest_level()
    assert level is not None and len(level.peak) == 2
    assert level.peak[0] == pytest.approx(0.5, abs=0.01)
    assert level.rms[0] == pytest.approx(0.5 / np.sqrt(2), abs=0.01)
    assert level.peak_dbfs[0] == pytest.approx(-6.02, abs=0.2)
    assert rec._levels.maxsize == 1


def test_files_are_owner_only_and_never_overwritten(tmp_path: Path) -> None:
    record(tmp_path, ReplaySource(tone(0.5), rate=RATE, block=BLOCK))
    for path in (tmp_path / "rec.wav", tmp_path / "rec.capture.json"):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    before = (tmp_path / "rec.wav").read_bytes()
    again = Recorder(tmp_path / "rec.wav", source=ReplaySource(tone(0.5)))
    with pytest.raises(CaptureError, match="already exists"):
        again.start()
    assert (tmp_path / "rec.wav").read_bytes() == before


def test_missing_folder_is_one_clear_error(tmp_path: Path) -> None:
    rec = Recorder(tmp_path / "nope" / "x.wav", source=ReplaySource(tone(0.5)))
    with pytest.raises(CaptureError, match="does not exist"):
        rec.start()


def test_max_seconds_stops_on_the_exact_frame(tmp_path: Path) -> None:
    source = ReplaySource(tone(1.0), rate=RATE, block=BLOCK, loop=True)
    rec = Recorder(tmp_path / "s.wav", rate=RATE, source=source, max_seconds=1.25)
    rec.start()
    assert rec.wait(20)
    summary = rec.stop()
    assert summary.frames == 60000 == sf.info(tmp_path / "s.wav").frames
    assert summary.stop_reason == "time limit reached"


def test_segments_roll_over_and_each_closed_one_is_handed_on(tmp_path: Path) -> None:
    closed: list[tuple[Path, int]] = []
    audio = noise(2.5)

    def on_closed(path: Path) -> None:
        closed.append((path, sf.info(path).frames))  # closed, header final, readable

    source = ReplaySource(audio, rate=RATE, block=BLOCK)
    # one second of mono 24-bit per segment (+ header allowance)
    _, summary = record(tmp_path, source, max_segment_bytes=RATE * 3 + 4096,
                        on_segment_closed=on_closed)
    assert [p.name for p, _ in closed] == ["rec.wav", "rec-002.wav", "rec-003.wav"]
    assert [n for _, n in closed] == [RATE, RATE, RATE // 2]
    assert summary.segments == tuple(p for p, _ in closed)
    joined = np.concatenate([sf.read(p, always_2d=True)[0] for p, _ in closed])
    np.testing.assert_allclose(joined, pcm24(audio), atol=1.5 / 2**23)
    side = read_sidecar(tmp_path / "rec.wav")
    assert [(s.path, s.start, s.frames) for s in side.segments] == [
        ("rec.wav", 0.0, RATE), ("rec-002.wav", 1.0, RATE), ("rec-003.wav", 2.0, RATE // 2)]


def test_a_failing_segment_hook_does_not_lose_the_recording(tmp_path: Path) -> None:
    def broken(path: Path) -> None:
        raise RuntimeError("key unavailable")

    _, summary = record(tmp_path, ReplaySource(tone(1.0), rate=RATE, block=BLOCK),
                        on_segment_closed=broken)
    assert sf.info(tmp_path / "rec.wav").frames == RATE
    assert any("key unavailable" in w for w in summary.warnings)


def test_the_header_is_kept_current_while_recording(tmp_path: Path) -> None:
    """A reader (or a crash) mid-recording sees a header covering almost everything."""
    source = ReplaySource(tone(1.0), rate=RATE, block=BLOCK, realtime=True, loop=True)
    rec = Recorder(tmp_path / "h.wav", rate=RATE, source=source)
    rec.start()
    try:
        deadline = time.monotonic() + 10
        header_frames = 0
        while time.monotonic() < deadline and header_frames < RATE // 2:
            time.sleep(0.1)
            layout = parse_wav_header(read_head(tmp_path / "h.wav"))
            header_frames = layout.data_size // layout.block_align
        assert header_frames >= RATE // 2, "header never caught up with the data"
        assert rec.status().state == "recording"
    finally:
        rec.stop()


def test_disk_full_stops_cleanly_with_a_valid_file(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    real_write_part = SegmentedWavWriter._write_part
    calls = {"n": 0}

    def failing(self: SegmentedWavWriter, part: np.ndarray) -> None:
        calls["n"] += 1
        if calls["n"] == 40:  # half a block (and a stray byte) reach the disk, then it is full
            os.write(self._fd, b"\x01" * (len(part) * self.frame_bytes // 2 + 1))
            raise DiskFullError("disk full while writing rec.wav")
        real_write_part(self, part)

    monkeypatch.setattr(SegmentedWavWriter, "_write_part", failing)
    source = ReplaySource(tone(2.0), rate=RATE, block=BLOCK)
    rec = Recorder(tmp_path / "rec.wav", rate=RATE, source=source)
    rec.start()
    assert rec.wait(20)
    assert rec.status().state == "failed"
    summary = rec.stop()
    assert summary.error and "disk full" in summary.error and "kept" in summary.error
    assert summary.stop_reason == "disk full"
    info = sf.info(tmp_path / "rec.wav")
    assert info.frames == 39 * BLOCK + (BLOCK // 2)  # every whole frame that reached the disk
    data, _ = sf.read(tmp_path / "rec.wav")
    assert len(data) == info.frames
    side = read_sidecar(tmp_path / "rec.wav")
    assert side.stop_reason == "disk full" and side.extra["error"] == summary.error


def test_stop_before_any_audio_leaves_a_valid_empty_file(tmp_path: Path) -> None:
    gate = threading.Event()
    source = ReplaySource(tone(1.0), rate=RATE, block=BLOCK, on_block=lambda i: gate.wait(5))
    rec = Recorder(tmp_path / "e.wav", rate=RATE, source=source)
    rec.start(wait=None)
    source._stop.set()
    gate.set()
    summary = rec.stop()
    assert summary.frames == sf.info(tmp_path / "e.wav").frames
    assert read_sidecar(tmp_path / "e.wav").complete


def test_recorder_refuses_three_channels(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="1 or 2 channels"):
        Recorder(tmp_path / "x.wav", channels=3,
                 source=ReplaySource(tone(0.5, channels=3))).start()
    assert not (tmp_path / "x.wav").exists()


def test_sync_interval_meets_the_once_a_second_promise() -> None:
    assert recorder_module.SYNC_INTERVAL <= 1.0


def test_a_device_that_delivers_nothing_is_an_error_and_leaves_no_files(tmp_path: Path) -> None:
    gate = threading.Event()
    source = ReplaySource(tone(1.0), rate=RATE, block=BLOCK, on_block=lambda i: gate.wait(1))
    rec = Recorder(tmp_path / "silent.wav", rate=RATE, source=source)
    with pytest.raises(CaptureError, match="delivered no audio"):
        rec.start(wait=0.3)
    gate.set()
    assert list(tmp_path.iterdir()) == []


def test_status_says_when_the_device_went_quiet(tmp_path: Path) -> None:
    gate = threading.Event()
    source = ReplaySource(tone(1.0), rate=RATE, block=BLOCK, realtime=True,
                          on_block=lambda i: gate.wait(10) if i == 10 else None)
    rec = Recorder(tmp_path / "q.wav", rate=RATE, source=source)
    rec.start()
    try:
        deadline = time.monotonic() + 10
        while rec.status().silent_for < 0.5 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert rec.status().silent_for >= 0.5  # the "device" stopped after block 9
    finally:
        gate.set()
        rec.stop()


def test_an_existing_sidecar_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "old.capture.json").write_text("{}")
    rec = Recorder(tmp_path / "old.wav", source=ReplaySource(tone(0.5)))
    with pytest.raises(CaptureError, match=r"old\.capture\.json already exists"):
        rec.start()
    assert (tmp_path / "old.capture.json").read_text() == "{}"
    assert not (tmp_path / "old.wav").exists()
