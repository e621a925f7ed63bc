"""Every recording format researchers have, decoded in-process with no ffmpeg on PATH.

Real files from ``../shared/audio`` (mp3 at 8 and 48 kHz, 24-bit FLAC); m4a,
opus and an mp4 with a video track are made here with PyAV; WAV variants
(24-bit, 32-bit float, RF64, BWF) with soundfile. Each keeps its channels
(left and right carry different tones) and its length; damaged and truncated
files give one line naming the file.
"""

from __future__ import annotations

import os
import shutil
import struct
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import REPO
from transcribe.audio import (
    SAMPLE_RATE,
    AudioError,
    decode_blocks,
    load_audio,
    probe_audio,
    spool_audio,
)

SHARED = next((p for p in (Path(os.environ.get("VERBATIM_TEST_AUDIO", "/nonexistent")),
                           REPO.parent / "shared" / "audio",
                           REPO.parent.parent / "shared" / "audio") if p.is_dir()),
              REPO.parent / "shared" / "audio")
LEFT_HZ, RIGHT_HZ = 440.0, 1000.0
SECONDS = 2.0


@pytest.fixture(autouse=True)
def no_ffmpeg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """PATH holds only a python: an ffmpeg anywhere would fail the test."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    assert shutil.which("ffmpeg") is None and shutil.which("ffprobe") is None


def stereo_tones(rate: int, seconds: float = SECONDS) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return np.stack([0.3 * np.sin(2 * np.pi * LEFT_HZ * t),
                     0.3 * np.sin(2 * np.pi * RIGHT_HZ * t)]).astype(np.float32)


def dominant_hz(channel: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(channel * np.hanning(len(channel))))
    return float(np.argmax(spectrum) * SAMPLE_RATE / len(channel))


def assert_stereo_tones(path: Path, seconds: float = SECONDS) -> None:
    audio = load_audio(path)
    assert audio.channels == 2 and audio.sample_rate == SAMPLE_RATE
    assert abs(audio.duration - seconds) < 0.06, audio.duration
    middle = audio.samples[:, SAMPLE_RATE // 2:SAMPLE_RATE // 2 + 8000]
    assert abs(dominant_hz(middle[0]) - LEFT_HZ) < 5
    assert abs(dominant_hz(middle[1]) - RIGHT_HZ) < 5
    assert abs(probe_audio(path).duration - seconds) < 0.06


def encode_with_pyav(path: Path, container_format: str, codec: str, *, video: bool = False,
                     rate: int = 48_000) -> Path:
    """A short stereo file (left and right different tones), optionally with a video track."""
    import av

    signal = stereo_tones(rate)
    with av.open(str(path), "w", format=container_format) as container:
        picture = None
        if video:
            picture = container.add_stream("mpeg4", rate=10)
            picture.width, picture.height, picture.pix_fmt = 64, 48, "yuv420p"
        sound = container.add_stream(codec, rate=rate)
        sound.layout = "stereo"
        step = 960
        for first in range(0, signal.shape[1], step):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(signal[:, first:first + step]), format="fltp",
                layout="stereo")
            frame.rate, frame.pts = rate, first
            for packet in sound.encode(frame):
                container.mux(packet)
            if picture is not None and first % (rate // 10) < step:
                image = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8),
                                                   format="rgb24")
                for packet in picture.encode(image):
                    container.mux(packet)
        for packet in sound.encode(None):
            container.mux(packet)
        if picture is not None:
            for packet in picture.encode(None):
                container.mux(packet)
    return path


@pytest.mark.parametrize("name, container_format, codec, video", [
    ("interview.m4a", "ipod", "aac", False),
    ("interview.opus", "ogg", "libopus", False),
    ("zoom.mp4", "mp4", "aac", True),
    ("teams.mkv", "matroska", "libopus", True),
])
def test_compressed_and_video_formats_keep_channels(tmp_path: Path, name: str,
                                                    container_format: str, codec: str,
                                                    video: bool) -> None:
    path = encode_with_pyav(tmp_path / name, container_format, codec, video=video)
    assert_stereo_tones(path)


@pytest.mark.parametrize("subtype, container", [
    ("PCM_24", "WAV"), ("FLOAT", "WAV"), ("PCM_16", "RF64"), ("PCM_24", "WAVEX")])
def test_wav_variants(tmp_path: Path, subtype: str, container: str) -> None:
    path = tmp_path / "recorder.wav"
    sf.write(path, stereo_tones(48_000).T, 48_000, subtype=subtype, format=container)
    assert_stereo_tones(path)


def test_broadcast_wave_with_a_bext_chunk(tmp_path: Path) -> None:
    plain = tmp_path / "plain.wav"
    sf.write(plain, stereo_tones(48_000).T, 48_000, subtype="PCM_24")
    riff = plain.read_bytes()
    bext = b"verbatim test recorder".ljust(602, b"\0")  # the BWF description block
    chunk = b"bext" + struct.pack("<I", len(bext)) + bext
    body = riff[12:]
    bwf = tmp_path / "field-recorder.wav"
    bwf.write_bytes(b"RIFF" + struct.pack("<I", 4 + len(chunk) + len(body)) + b"WAVE"
                    + chunk + body)
    assert_stereo_tones(bwf)


@pytest.mark.parametrize("name, channels, native_rate, seconds", [
    ("apollo11.mp3", 1, 8_000, 89.2),
    ("common_voice_en_651325.mp3", 1, 48_000, 2.4),
    ("jfk.flac", 2, 44_100, 11.0),
])
def test_real_recordings(name: str, channels: int, native_rate: int, seconds: float) -> None:
    path = SHARED / name
    if not path.is_file():
        pytest.skip(f"{path} not present")
    info = probe_audio(path)
    assert (info.channels, info.sample_rate) == (channels, native_rate)
    audio = load_audio(path)
    assert audio.channels == channels and abs(audio.duration - seconds) < 0.1
    assert 0.01 < float(np.sqrt(np.mean(audio.mono ** 2))) < 0.5  # real signal, in range
    with spool_audio(path) as spooled:  # the spool holds the same audio, 16-bit
        assert spooled.frames == audio.frames and spooled.channels == channels
        assert np.max(np.abs(spooled.samples[:, :] - audio.samples)) < 1e-4
        assert np.allclose(spooled.mono[1000:9000], audio.mono[1000:9000], atol=1e-4)


def test_blocks_stream_a_long_file_in_pieces(tmp_path: Path) -> None:
    path = tmp_path / "long.flac"
    sf.write(path, stereo_tones(44_100, seconds=70.0).T, 44_100)
    sizes = [block.shape for block in decode_blocks(path, block_seconds=10.0)]
    assert len(sizes) >= 7 and all(channels == 2 for channels, _ in sizes)
    assert max(frames for _, frames in sizes) <= 10.5 * SAMPLE_RATE
    assert abs(sum(frames for _, frames in sizes) - 70 * SAMPLE_RATE) <= 2


def test_the_whole_mono_track_is_read_a_block_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "long.flac"
    sf.write(path, stereo_tones(SAMPLE_RATE, seconds=70.0).T, SAMPLE_RATE)
    with spool_audio(path) as spooled:  # 70 s: longer than one mono read block (60 s)
        whole = np.asarray(spooled.mono)  # what pyannote is given
        expected = spooled.read(0, spooled.frames).mean(axis=0, dtype=np.float32)
        assert whole.dtype == np.float32 and np.array_equal(whole, expected)
        assert np.array_equal(spooled.read_mono(30, spooled.frames - 7), expected[30:-7])


def _truncated(path: Path, fraction: float) -> Path:
    out = path.with_name("cut-" + path.name)
    data = path.read_bytes()
    out.write_bytes(data[:int(len(data) * fraction)])
    return out


def _garbled(path: Path) -> Path:
    out = path.with_name("garbled-" + path.name)
    data = bytearray(path.read_bytes())
    third = len(data) // 3
    data[third:third + 2000] = np.random.default_rng(1).bytes(2000)
    out.write_bytes(bytes(data))
    return out


@pytest.fixture
def m4a(tmp_path: Path) -> Iterator[Path]:
    yield encode_with_pyav(tmp_path / "phone.m4a", "ipod", "aac")


def test_damaged_or_truncated_files_are_one_line_naming_the_file(tmp_path: Path,
                                                                 m4a: Path) -> None:
    flac = tmp_path / "speech.flac"
    sf.write(flac, stereo_tones(44_100).T, 44_100)
    cases = [_truncated(m4a, 0.5), _garbled(m4a), _truncated(flac, 0.5),
             _truncated(m4a, 0.02)]
    for path in cases:
        with pytest.raises(AudioError) as caught:
            load_audio(path)
        message = str(caught.value)
        assert str(path) in message and "\n" not in message
        assert "damaged" in message or "truncated" in message, message
    video_only = tmp_path / "silent-film.mkv"
    _video_only(video_only)
    with pytest.raises(AudioError, match="no audio track"):
        probe_audio(video_only)


def _video_only(path: Path) -> None:
    import av

    with av.open(str(path), "w", format="matroska") as container:
        picture = container.add_stream("mpeg4", rate=10)
        picture.width, picture.height, picture.pix_fmt = 64, 48, "yuv420p"
        for _ in range(3):
            image = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="rgb24")
            for packet in picture.encode(image):
                container.mux(packet)
        for packet in picture.encode(None):
            container.mux(packet)


def test_a_recording_in_memory_is_spooled_in_memory(tmp_path: Path) -> None:
    wav = tmp_path / "in-memory.wav"
    sf.write(wav, stereo_tones(16_000).T, 16_000)
    fd = os.memfd_create("test-recording")
    try:
        os.write(fd, wav.read_bytes())
        with spool_audio(f"/proc/{os.getpid()}/fd/{fd}") as spooled:
            spool_target = os.readlink(f"/proc/self/fd/{spooled.fileno()}")
            assert spool_target.startswith("/memfd:"), spool_target
            assert spooled.channels == 2 and abs(spooled.duration - SECONDS) < 1e-3
    finally:
        os.close(fd)
