"""Audio in: every recording becomes one ``Audio`` value at the pipeline's rate.

WAV, FLAC and OGG are read with soundfile (libsndfile) and resampled with soxr,
so ffmpeg is needed only for compressed formats such as mp3 and m4a; when it is
missing the user is told so in one line. Channels are kept: a two-microphone
recording can be diarised by channel.
"""

from __future__ import annotations

import functools
import hashlib
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from transcribe.errors import TranscribeError

# Whisper, silero-vad and pyannote all work at 16 kHz.
SAMPLE_RATE = 16_000

# Read this many frames at a time when hashing or converting, so memory stays flat.
_BLOCK_FRAMES = 1 << 20


class AudioError(TranscribeError):
    """Missing, empty, non-audio, zero-length or undecodable input."""


@dataclass(frozen=True, eq=False)
class Audio:
    """Float32 samples in [-1, 1], shape (channels, frames), at ``sample_rate``.

    Channels are kept so a two-microphone recording can be diarised by channel;
    ``mono`` is what the ASR engines and VAD consume.
    """

    samples: npt.NDArray[np.float32]
    sample_rate: int = SAMPLE_RATE
    path: str = ""

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration(self) -> float:
        return self.samples.shape[1] / self.sample_rate

    @functools.cached_property
    def mono(self) -> npt.NDArray[np.float32]:
        """The channels' mean, computed once (every stage reads it)."""
        if self.channels == 1:
            return self.samples[0]
        return self.samples.mean(axis=0, dtype=np.float32)


@dataclass(frozen=True)
class AudioInfo:
    """What the file header says, read without decoding the audio."""

    channels: int
    sample_rate: int
    frames: int

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0


def _check_file(path: Path) -> None:
    if not path.exists():
        raise AudioError(f"audio file not found: {path}")
    if not path.is_file():
        raise AudioError(f"not an audio file (a folder or device): {path}")
    if path.stat().st_size == 0:
        raise AudioError(f"audio file is empty (0 bytes): {path}")


def probe_audio(path: str | Path) -> AudioInfo:
    """Check that ``path`` is readable audio with at least one frame, cheaply.

    Used before a long job starts, so bad input fails in a second, not after
    the models have loaded.
    """
    import soundfile as sf

    from transcribe.integrity import IncompleteRecordingError, check_complete

    path = Path(path)
    _check_file(path)
    try:
        check_complete(path)
    except IncompleteRecordingError as exc:
        raise AudioError(str(exc)) from None
    try:
        info = sf.info(str(path))
        result = AudioInfo(info.channels, info.samplerate, info.frames)
    except (RuntimeError, sf.LibsndfileError):
        result = _ffmpeg_probe(path)
    if result.frames <= 0:
        raise AudioError(f"recording has no audio (zero length): {path}")
    return result


def load_audio(path: str | Path, *, sample_rate: int = SAMPLE_RATE) -> Audio:
    """Decode ``path`` to float32 at ``sample_rate``, keeping its channels."""
    import soundfile as sf

    path = Path(path)
    _check_file(path)
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, sf.LibsndfileError):
        data, rate = _ffmpeg_decode(path, sample_rate)
    if data.shape[0] == 0:
        raise AudioError(f"recording has no audio (zero length): {path}")
    samples = np.ascontiguousarray(data.T, dtype=np.float32)
    if rate != sample_rate:
        samples = _resample(samples, rate, sample_rate)
    return Audio(samples=samples, sample_rate=sample_rate, path=str(path))


def _resample(samples: npt.NDArray[np.float32], rate: int, target: int,
              ) -> npt.NDArray[np.float32]:
    import soxr

    # soxr takes (frames, channels); "HQ" is transparent for speech and fast.
    out = soxr.resample(samples.T, rate, target, quality="HQ")
    return np.ascontiguousarray(np.atleast_2d(out.T), dtype=np.float32).reshape(
        samples.shape[0], -1)


def _not_audio(path: Path) -> AudioError:
    hint = "" if shutil.which("ffmpeg") else \
        " (WAV, FLAC and OGG are read directly; install ffmpeg for mp3/m4a)"
    return AudioError(f"cannot read {path}: not a supported audio file{hint}")


def _ffmpeg_probe(path: Path) -> AudioInfo:
    """Header facts for formats libsndfile does not read (via a short ffmpeg decode)."""
    data, rate = _ffmpeg_decode(path, SAMPLE_RATE, seconds=1.0)
    return AudioInfo(channels=data.shape[1], sample_rate=rate, frames=data.shape[0])


def _ffmpeg_decode(path: Path, sample_rate: int, *, seconds: float | None = None,
                   ) -> tuple[npt.NDArray[np.float32], int]:
    """Decode with ffmpeg to float32 PCM; channels kept. Only when ffmpeg exists."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise _not_audio(path)
    channels = _ffprobe_channels(path)
    command = [ffmpeg, "-nostdin", "-v", "error", "-i", str(path)]
    if seconds is not None:
        command += ["-t", str(seconds)]
    command += ["-f", "f32le", "-acodec", "pcm_f32le", "-ac", str(channels),
                "-ar", str(sample_rate), "-"]
    result = subprocess.run(command, capture_output=True, check=False)
    if result.returncode != 0:
        raise _not_audio(path)
    data = np.frombuffer(result.stdout, dtype=np.float32).reshape(-1, channels)
    return data, sample_rate


def _ffprobe_channels(path: Path) -> int:
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        return 1
    result = subprocess.run(
        [ffprobe, "-v", "error", "-select_streams", "a:0", "-show_entries",
         "stream=channels", "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, check=False)
    try:
        return max(1, int(result.stdout.strip().splitlines()[0]))
    except (ValueError, IndexError):
        raise _not_audio(path) from None


def file_sha256(path: str | Path) -> str:
    """The recording's checksum, read in blocks so a 2-hour file costs no memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_BLOCK_FRAMES):
            digest.update(block)
    return digest.hexdigest()
