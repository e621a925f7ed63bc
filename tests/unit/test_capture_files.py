"""WAV writing, header updates, recovery of cut-off files, the sidecar and the level maths."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from capture.errors import CaptureError
from capture.levels import FLOOR_DBFS, LevelMeter, level_of, to_dbfs
from capture.recover import recover
from capture.sidecar import (
    Gap,
    LiveMark,
    Pause,
    Segment,
    Sidecar,
    read_sidecar,
    sidecar_path,
    write_sidecar,
)
from capture.wavfile import SegmentedWavWriter, parse_wav_header, read_head, segment_path

RATE = 48000


def ramp(frames: int, channels: int) -> np.ndarray:
    x = np.linspace(-0.9, 0.9, frames * channels, dtype=np.float32)
    return x.reshape(frames, channels)


def cut_off_wav(path: Path, *, frames: int, channels: int, header_frames: int,
                extra_bytes: int = 0) -> bytes:
    """A WAV as a crash leaves it: samples on disk, a header admitting only some of them."""
    sf.write(path, ramp(frames, channels), RATE, subtype="PCM_24")
    layout = parse_wav_header(read_head(path))
    with open(path, "r+b") as handle:
        handle.seek(layout.data_size_field)
        handle.write(struct.pack("<I", header_frames * layout.block_align))
        handle.seek(4)
        handle.write(struct.pack("<I", layout.data_offset - 8 + header_frames
                                 * layout.block_align))
        handle.seek(0, os.SEEK_END)
        handle.write(b"\x07" * extra_bytes)
    return path.read_bytes()


def test_header_update_makes_the_file_readable_mid_recording(tmp_path: Path) -> None:
    writer = SegmentedWavWriter(tmp_path / "a.wav", rate=RATE, channels=2)
    writer.open()
    writer.write(ramp(12345, 2))
    before = sf.info(tmp_path / "a.wav").frames  # libsndfile left the header as it was
    writer.sync()
    assert before == 0
    assert sf.info(tmp_path / "a.wav").frames == 12345  # the header now covers everything
    writer.write(ramp(100, 2))
    writer.sync()
    assert sf.info(tmp_path / "a.wav").frames == 12445
    writer.close()
    assert sf.info(tmp_path / "a.wav").frames == 12445


def test_segment_names_are_numbered_after_the_first() -> None:
    first = Path("/x/P4-1.wav")
    assert [segment_path(first, n).name for n in (1, 2, 12)] == [
        "P4-1.wav", "P4-1-002.wav", "P4-1-012.wav"]


def test_rollover_skips_names_taken_by_other_files(tmp_path: Path) -> None:
    (tmp_path / "a-002.wav").write_bytes(b"someone else's")
    writer = SegmentedWavWriter(tmp_path / "a.wav", rate=RATE, channels=1,
                                max_segment_bytes=4096 + 3 * 1000)
    writer.open()
    writer.write(ramp(2500, 1))
    writer.close()
    assert [s.path.name for s in writer.closed_segments] == ["a.wav", "a-003.wav", "a-004.wav"]
    assert (tmp_path / "a-002.wav").read_bytes() == b"someone else's"
    assert [s.frames for s in writer.closed_segments] == [1000, 1000, 500]


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("extra_bytes", [0, 1, 4])
def test_recover_keeps_every_whole_frame_of_a_cut_off_file(tmp_path: Path, channels: int,
                                                          extra_bytes: int) -> None:
    path = tmp_path / "cut.wav"
    cut_off_wav(path, frames=30000, channels=channels, header_frames=12000,
                extra_bytes=extra_bytes)
    assert sf.info(path).frames == 12000  # what a player would show before recovery
    report = recover(path)
    align = 3 * channels
    kept_extra = extra_bytes // align
    assert report.repaired
    assert report.frames == 30000 + kept_extra
    assert report.header_frames == 12000
    assert report.dropped_bytes == extra_bytes % align
    data, rate = sf.read(path, always_2d=True)
    assert rate == RATE and len(data) == report.frames
    np.testing.assert_allclose(data[:30000], ramp(30000, channels), atol=2 / 2**23)
    assert "kept" in str(report) and "\n" not in str(report)


def test_recover_handles_a_header_that_was_never_updated(tmp_path: Path) -> None:
    path = tmp_path / "zero.wav"
    cut_off_wav(path, frames=4800, channels=1, header_frames=0)
    report = recover(path)
    assert report.frames == 4800 and report.header_frames == 0
    assert sf.info(path).frames == 4800


def test_recover_leaves_a_complete_file_untouched(tmp_path: Path) -> None:
    path = tmp_path / "ok.wav"
    sf.write(path, ramp(4800, 2), RATE, subtype="PCM_24")
    before = path.read_bytes()
    report = recover(path)
    assert not report.repaired and report.frames == 4800
    assert "nothing to repair" in str(report)
    assert path.read_bytes() == before


def test_recover_leaves_trailing_metadata_chunks_alone(tmp_path: Path) -> None:
    path = tmp_path / "meta.wav"
    with sf.SoundFile(path, "w", RATE, 1, "PCM_24") as handle:
        handle.title = "interview"  # libsndfile writes a LIST chunk after the data
        handle.write(ramp(4800, 1))
    before = path.read_bytes()
    report = recover(path)
    assert not report.repaired and report.frames == 4800
    assert path.read_bytes() == before


def test_recover_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "twice.wav"
    cut_off_wav(path, frames=9000, channels=2, header_frames=100, extra_bytes=5)
    first = recover(path)
    after_first = path.read_bytes()
    second = recover(path)
    assert not second.repaired and second.frames == first.frames
    assert path.read_bytes() == after_first


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"ID3\x03not audio at all" * 4, "not a WAV"),
    (b"RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00", "no data chunk"),
])
def test_recover_refuses_what_it_cannot_repair(tmp_path: Path, content: bytes,
                                               message: str) -> None:
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(CaptureError, match=message):
        recover(path)
    assert path.read_bytes() == content  # nothing destroyed


def test_recover_of_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="does not exist"):
        recover(tmp_path / "none.wav")


def test_sidecar_round_trips_and_is_written_atomically_owner_only(tmp_path: Path) -> None:
    wav = tmp_path / "P4-1.wav"
    side = Sidecar(device="USB mic", rate=RATE, channels=2,
                   started_at="2026-11-26T10:00:00+00:00",
                   gaps=(Gap(start=12.5, duration=0.3),),
                   pauses=(Pause(at=60.0, duration=125.2, started_at="x"),),
                   marks=(LiveMark(time=33.3, text="this moved me"), LiveMark(time=40.0)),
                   segments=(Segment(path="P4-1.wav", start=0.0, frames=RATE * 100),),
                   frames=RATE * 100, ended_at="2026-11-26T10:03:00+00:00",
                   stop_reason="stopped")
    write_sidecar(sidecar_path(wav), side)
    assert sidecar_path(wav).name == "P4-1.capture.json"
    assert read_sidecar(wav) == side == read_sidecar(sidecar_path(wav))
    assert os.stat(sidecar_path(wav)).st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["P4-1.capture.json"]  # no temp left over
    data = json.loads(sidecar_path(wav).read_text())
    assert data["format"] == "verbatim-capture/1" and data["duration"] == 100.0
    assert data["complete"] is True and side.dropped_seconds == pytest.approx(0.3)


def test_a_damaged_sidecar_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "x.capture.json"
    path.write_text('{"format": "something else"}')
    with pytest.raises(CaptureError, match="not a verbatim capture sidecar"):
        read_sidecar(path)
    path.write_text("{not json")
    with pytest.raises(CaptureError, match="cannot read"):
        read_sidecar(path)


def test_levels_of_a_known_sine_and_of_silence() -> None:
    t = np.arange(RATE) / RATE
    block = np.stack([0.5 * np.sin(2 * np.pi * 1000 * t), np.zeros(RATE)], axis=1)
    level = level_of(block)
    assert level.peak[0] == pytest.approx(0.5, abs=1e-3)
    assert level.rms[0] == pytest.approx(0.5 / np.sqrt(2), abs=1e-3)
    assert level.rms_dbfs[0] == pytest.approx(-9.03, abs=0.05)
    assert level.peak_dbfs[1] == FLOOR_DBFS
    assert not level.clipping and level_of(np.ones((10, 1))).clipping
    assert to_dbfs(1.0) == 0.0


def test_the_meter_emits_at_its_interval_and_sees_peaks_between() -> None:
    meter = LevelMeter(rate=RATE, channels=1, interval=0.05)  # 20 Hz
    emitted = []
    block = np.zeros((480, 1), dtype=np.float32)
    for i in range(100):  # one second in 10 ms blocks
        b = block.copy()
        if i == 42:
            b[7, 0] = -0.8  # a click mid-interval must not be missed
        level = meter.add(b)
        if level is not None:
            emitted.append(level)
    assert len(emitted) == 20
    assert max(lv.peak[0] for lv in emitted) == pytest.approx(0.8)


class _MemorySink:
    """A segment sink that keeps what it is given, as the sealing one seals it."""

    def __init__(self) -> None:
        self.kept: dict[str, bytearray] = {}
        self.whole: dict[str, bytes] = {}

    def taken(self, path: Path) -> bool:
        return path.name in self.kept

    def begin(self, path: Path) -> None:
        self.kept[path.name] = bytearray()

    def append(self, path: Path, offset: int, data: bytes) -> None:
        self.kept[path.name][offset:offset + len(data)] = data

    def finish(self, path: Path, whole: bytes) -> None:
        self.whole[path.name] = whole

    def discard(self, path: Path) -> None:
        self.kept.pop(path.name, None)


def test_a_segment_sink_gets_every_byte_and_no_file_is_written(tmp_path: Path) -> None:
    import io

    from capture.recover import repaired_wav

    rate = 16000
    audio = (0.1 * np.random.default_rng(7).standard_normal((rate * 5 // 2, 1))
             ).astype(np.float32)
    sink = _MemorySink()
    writer = SegmentedWavWriter(tmp_path / "talk.wav", rate=rate, channels=1,
                                max_segment_bytes=4096 + rate * 3, sink=sink)
    writer.open()
    for start in range(0, len(audio), 800):
        writer.write(audio[start:start + 800])
        writer.sync()
    kept_mid = {name: bytes(data) for name, data in sink.kept.items()}  # as a crash finds it
    writer.close()
    assert list(tmp_path.iterdir()) == []  # nothing plain on disk, ever
    assert sorted(sink.whole) == ["talk-002.wav", "talk-003.wav", "talk.wav"]
    joined = np.concatenate([sf.read(io.BytesIO(sink.whole[name]), dtype="float32")[0]
                             for name in ("talk.wav", "talk-002.wav", "talk-003.wav")])
    assert np.allclose(joined, audio[:, 0], atol=1e-6)
    # what the sink kept before the close is a whole WAV once its sizes are repaired
    for name, data in kept_mid.items():
        assert repaired_wav(data) == sink.whole[name]
