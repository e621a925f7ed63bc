"""Audio in: every recording, decoded in-process in blocks, at the pipeline's rate.

WAV (16/24-bit, 32-bit float, RF64, BWF), FLAC, OGG and MP3 are read with
soundfile (libsndfile); everything else (m4a/aac, opus, the audio track of an
mp4/mov/mkv/webm video, ...) with PyAV, the FFmpeg libraries that come with
faster-whisper. No ffmpeg program is ever run. Decoding and resampling (soxr's
streaming resampler) go block by block, so a long recording is never one array
at its native rate; channels are kept, so a two-microphone recording can be
diarised by channel.

Two ways to hold the result: ``load_audio`` gives an in-memory ``Audio`` (short
files, tests); ``spool_audio`` writes the recording once, at 16 kHz as 16-bit
samples, into an unnamed temporary file and gives a ``SpooledAudio`` that reads
it back in slices: a four-hour stereo interview costs a few megabytes of
resident memory instead of gigabytes (the spool's pages are the kernel's file
cache, not the process's memory). A recording that lives in memory (a
decrypted recording of an encrypted study, ``/proc/.../fd/N``) is spooled into
memory too, never to disk.

(Over 400 lines because probing, block decoding by two libraries, and the spool
that the pipeline's stages read are one concern: getting samples in.)
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

import numpy as np
import numpy.typing as npt

from transcribe.errors import TranscribeError

# Whisper, silero-vad and pyannote all work at 16 kHz.
SAMPLE_RATE = 16_000

# Read this many bytes at a time when hashing, and about this many seconds of audio per
# decoded block, so memory stays flat.
_BLOCK_FRAMES = 1 << 20
BLOCK_SECONDS = 30.0

# Formats libsndfile reads itself (exact frame counts, no FFmpeg needed); the rest go to PyAV.
_SOUNDFILE_FORMATS = {"WAV", "WAVEX", "RF64", "W64", "FLAC", "OGG", "AIFF", "AU", "CAF",
                      "MPEG"}


class AudioError(TranscribeError):
    """Missing, empty, non-audio, zero-length, damaged or truncated input."""


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
    def frames(self) -> int:
        return int(self.samples.shape[1])

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate

    @functools.cached_property
    def mono(self) -> npt.NDArray[np.float32]:
        """The channels' mean, computed once (every stage reads it)."""
        if self.channels == 1:
            return self.samples[0]
        return self.samples.mean(axis=0, dtype=np.float32)

    def read_mono(self, start: int, stop: int) -> npt.NDArray[np.float32]:
        """Mono frames ``start:stop`` as a float32 array (a slice, cheap in memory)."""
        return np.asarray(self.mono[max(0, start):max(0, stop)], dtype=np.float32)

    def mono_blocks(self, frames: int) -> Iterator[tuple[int, npt.NDArray[np.float32]]]:
        """(first frame, mono block) pairs covering the recording in order."""
        for first in range(0, self.frames, frames):
            yield first, self.read_mono(first, first + frames)


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


def _soundfile_info(path: Path) -> Any:
    """soundfile's header info when libsndfile reads this format itself, else None."""
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except (RuntimeError, sf.LibsndfileError):
        return None
    return info if info.format in _SOUNDFILE_FORMATS else None


def probe_audio(path: str | Path) -> AudioInfo:
    """Check that ``path`` is readable audio with at least one frame, cheaply.

    Used before a long job starts, so bad input fails in a second, not after
    the models have loaded.
    """
    from transcribe.integrity import IncompleteRecordingError, check_complete

    path = Path(path)
    _check_file(path)
    try:
        check_complete(path)
    except IncompleteRecordingError as exc:
        raise AudioError(str(exc)) from None
    info = _soundfile_info(path)
    if info is not None:
        result = AudioInfo(info.channels, info.samplerate, info.frames)
    else:
        result = _pyav_probe(path)
    if result.frames <= 0:
        raise AudioError(f"recording has no audio (zero length): {path}")
    return result


# ---------------------------------------------------------------- decoding in blocks


def decode_blocks(path: str | Path, *, sample_rate: int = SAMPLE_RATE,
                  block_seconds: float = BLOCK_SECONDS,
                  ) -> Iterator[npt.NDArray[np.float32]]:
    """The recording as float32 blocks of shape (channels, frames) at ``sample_rate``.

    Decoded and resampled block by block (soxr's streaming resampler, "HQ"),
    so memory stays flat whatever the length. A file that cannot be opened or
    breaks off while decoding raises ``AudioError`` naming it and what failed.
    """
    path = Path(path)
    _check_file(path)
    info = _soundfile_info(path)
    native: Iterator[tuple[npt.NDArray[np.float32], int]]
    native = _soundfile_blocks(path, block_seconds) if info is not None \
        else _pyav_blocks(path, block_seconds)
    stream: Any = None
    channels = 0
    for block, block_rate in native:  # block: (frames, channels)
        if block_rate == sample_rate:
            yield np.ascontiguousarray(block.T)
            continue
        if stream is None:
            import soxr

            channels = block.shape[1]
            stream = soxr.ResampleStream(block_rate, sample_rate, channels, dtype="float32",
                                         quality="HQ")
        out = stream.resample_chunk(block, last=False)
        if len(out):
            yield np.ascontiguousarray(out.T)
    if stream is not None:
        tail = stream.resample_chunk(np.zeros((0, channels), np.float32), last=True)
        if len(tail):
            yield np.ascontiguousarray(tail.T)


def _soundfile_blocks(path: Path, block_seconds: float,
                      ) -> Iterator[tuple[npt.NDArray[np.float32], int]]:
    import soundfile as sf

    done = 0.0
    try:
        with sf.SoundFile(str(path)) as handle:
            size = max(1, int(block_seconds * handle.samplerate))
            while True:
                block = handle.read(size, dtype="float32", always_2d=True)
                if not len(block):
                    return
                done += len(block) / handle.samplerate
                yield block, handle.samplerate
    except (RuntimeError, sf.LibsndfileError) as exc:
        reason = _first_line(exc).removeprefix("Error : ").rstrip(".")
        raise AudioError(f"cannot decode {path} after {done:.1f} s: {reason} "
                         "(damaged or truncated?)") from None


def _open_container(path: Path) -> Any:
    import av

    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or _first_line(exc)
        if "invalid data" in reason.lower():
            raise AudioError(f"cannot read {path}: not a supported audio file, or damaged "
                             "or truncated") from None
        raise AudioError(f"cannot read {path}: {reason} (damaged or truncated?)") from None
    if not container.streams.audio:
        container.close()
        raise AudioError(f"cannot read {path}: no audio track in it")
    return container


def _pyav_probe(path: Path) -> AudioInfo:
    """Channels, rate and length from the container (decoding one frame if it gives none)."""
    import av

    container = _open_container(path)
    try:
        stream = container.streams.audio[0]
        rate = int(stream.rate or stream.codec_context.sample_rate or 0)
        channels = int(stream.channels or stream.codec_context.channels or 0)
        seconds = 0.0
        if stream.duration is not None and stream.time_base is not None:
            seconds = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            seconds = container.duration / av.time_base
        if seconds <= 0 or not rate or not channels:
            try:
                frame = next(container.decode(stream), None)
            except av.error.FFmpegError as exc:
                raise AudioError(f"cannot decode {path}: {_av_reason(exc)}") from None
            if frame is None:
                return AudioInfo(channels or 1, rate or SAMPLE_RATE, 0)
            rate, channels = frame.sample_rate, len(frame.layout.channels)
            seconds = max(seconds, frame.samples / rate)
        return AudioInfo(channels, rate, round(seconds * rate))
    finally:
        container.close()


def _pyav_blocks(path: Path, block_seconds: float,
                 ) -> Iterator[tuple[npt.NDArray[np.float32], int]]:
    """(frames, channels) float32 blocks at the stream's own rate, from PyAV."""
    import av

    container = _open_container(path)
    try:
        stream = container.streams.audio[0]
        stream.thread_type = "AUTO"
        resampler: Any = None
        pending: list[npt.NDArray[np.float32]] = []
        pending_frames = 0
        rate = int(stream.rate or 0)
        channels = 0
        decoded_seconds = 0.0
        frames = container.decode(stream)
        while True:
            try:
                frame = next(frames, None)
            except av.error.FFmpegError as exc:
                raise AudioError(f"cannot decode {path} after {decoded_seconds:.1f} s: "
                                 f"{_av_reason(exc)} (damaged or truncated?)") from None
            if frame is None:
                break
            if resampler is None:  # packed float32, the stream's own rate and channels
                rate = frame.sample_rate
                channels = len(frame.layout.channels)
                resampler = av.AudioResampler(format="flt", layout=frame.layout, rate=rate)
            for out in resampler.resample(frame):
                data = out.to_ndarray().reshape(-1, channels)
                pending.append(data)
                pending_frames += len(data)
                decoded_seconds += len(data) / rate
            if pending_frames >= block_seconds * rate:
                yield np.concatenate(pending), rate
                pending, pending_frames = [], 0
        if resampler is not None:
            for out in resampler.resample(None):
                pending.append(out.to_ndarray().reshape(-1, channels))
        if pending:
            yield np.concatenate(pending), rate
    finally:
        container.close()


def _av_reason(exc: BaseException) -> str:
    return str(getattr(exc, "strerror", None) or _first_line(exc))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# ---------------------------------------------------------------- whole-file loading


def load_audio(path: str | Path, *, sample_rate: int = SAMPLE_RATE) -> Audio:
    """Decode ``path`` to one float32 array at ``sample_rate``, keeping its channels.

    For short recordings; the pipeline spools long ones (``spool_audio``).
    """
    path = Path(path)
    probe_audio(path)
    blocks = list(decode_blocks(path, sample_rate=sample_rate))
    if not blocks or sum(b.shape[1] for b in blocks) == 0:
        raise AudioError(f"recording has no audio (zero length): {path}")
    samples = np.ascontiguousarray(np.concatenate(blocks, axis=1), dtype=np.float32)
    return Audio(samples=samples, sample_rate=sample_rate, path=str(path))


# ---------------------------------------------------------------- the spool


_INT16_SCALE = 32767.0
_MONO_BLOCK = 60 * SAMPLE_RATE  # frames per read when a long mono stretch is asked for


class _SpoolArray:
    """A read-only, array-like view of a spool: slicing reads just that stretch from it.

    Supports what the stages use (``shape``, ``len``, ``[a:b]`` and ``[:, a:b]``);
    anything else (``np.asarray``) reads the whole recording into memory.
    """

    def __init__(self, spool: SpooledAudio, *, mono: bool) -> None:
        self._spool = spool
        self._mono = mono
        frames = spool.frames
        self.shape: tuple[int, ...] = (frames,) if mono else (spool.channels, frames)
        self.ndim = len(self.shape)
        self.dtype = np.dtype(np.float32)
        self.size = int(np.prod(self.shape))

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: Any) -> npt.NDArray[np.float32]:
        if self._mono:
            if isinstance(key, slice) and key.step in (None, 1):
                start, stop, _ = key.indices(self.shape[0])
                return self._spool.read_mono(start, stop)
            return self._spool.read_mono(0, self.shape[0])[key]
        if isinstance(key, tuple) and len(key) == 2 and isinstance(key[1], slice) \
                and key[1].step in (None, 1):
            start, stop, _ = key[1].indices(self.shape[1])
            return self._spool.read(start, stop)[key[0], :]
        return self._spool.read(0, self.shape[1])[key]

    def __array__(self, dtype: Any = None, copy: Any = None) -> npt.NDArray[Any]:
        whole = self[:] if self._mono else self[:, :]
        return whole if dtype is None else whole.astype(dtype)


class SpooledAudio(Audio):
    """The recording at 16 kHz in a spool file (16-bit, channels interleaved), read in slices.

    Behaves as ``Audio`` for every stage: ``samples[:, a:b]`` and ``mono[a:b]``
    read only that stretch. Close it (or use it as a context manager) to free
    the spool; an unnamed spool also vanishes when the process dies.
    """

    _handle: BinaryIO
    _channels: int
    _frames: int

    def __init__(self, handle: BinaryIO, *, channels: int, frames: int,
                 sample_rate: int = SAMPLE_RATE, path: str = "") -> None:
        object.__setattr__(self, "_handle", handle)
        object.__setattr__(self, "_channels", channels)
        object.__setattr__(self, "_frames", frames)
        super().__init__(samples=cast(npt.NDArray[np.float32], None), sample_rate=sample_rate,
                         path=path)
        object.__setattr__(self, "samples",
                           cast(npt.NDArray[np.float32], _SpoolArray(self, mono=False)))

    @property
    def channels(self) -> int:
        return self._channels

    @property
    def frames(self) -> int:
        return self._frames

    @functools.cached_property
    def mono(self) -> npt.NDArray[np.float32]:
        return cast(npt.NDArray[np.float32], _SpoolArray(self, mono=True))

    def read(self, start: int, stop: int) -> npt.NDArray[np.float32]:
        """Frames ``start:stop`` of every channel, (channels, frames) float32."""
        start, stop = max(0, start), min(self._frames, stop)
        if stop <= start:
            return np.zeros((self._channels, 0), np.float32)
        width = 2 * self._channels
        raw = os.pread(self._handle.fileno(), (stop - start) * width, start * width)
        data = np.frombuffer(raw, dtype="<i2").reshape(-1, self._channels)
        return np.ascontiguousarray(data.T, dtype=np.float32) / np.float32(_INT16_SCALE)

    def read_mono(self, start: int, stop: int) -> npt.NDArray[np.float32]:
        """Mono frames ``start:stop``; a long stretch is read a block at a time into the
        result, so reading the whole recording (pyannote takes one array) costs its mono
        float32 size (0.9 GB at four hours), not four times that in int16 and stereo
        float32 copies on the way."""
        start, stop = max(0, start), min(self._frames, stop)
        if stop - start > _MONO_BLOCK:
            out = np.empty(stop - start, dtype=np.float32)
            for first in range(start, stop, _MONO_BLOCK):
                last = min(stop, first + _MONO_BLOCK)
                out[first - start:last - start] = self.read_mono(first, last)
            return out
        block = self.read(start, stop)
        if self._channels == 1:
            return block[0]
        return block.mean(axis=0, dtype=np.float32)

    def fileno(self) -> int:
        """The spool's file descriptor (a memfd for a recording that lives in memory)."""
        return self._handle.fileno()

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> SpooledAudio:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _in_memory(path: Path) -> bool:
    """A recording that lives in memory (a decrypted one): its spool must not touch disk."""
    text = str(path)
    return text.startswith(("/proc/", "/dev/fd/", "/dev/shm/"))


def _spool_file(path: Path, folder: Path | None) -> BinaryIO:
    memfd_create = getattr(os, "memfd_create", None)
    if _in_memory(path) and memfd_create is not None:
        fd = memfd_create("verbatim-spool", getattr(os, "MFD_CLOEXEC", 1))
        return os.fdopen(fd, "w+b")
    # unnamed (O_TMPFILE where the system has it): nothing is left behind after a crash
    return cast(BinaryIO, tempfile.TemporaryFile(dir=folder, prefix=".verbatim-spool-"))


def spool_audio(path: str | Path, *, folder: Path | None = None,
                block: Callable[[npt.NDArray[np.float32], int], None] | None = None,
                progress: Callable[[float], None] | None = None) -> SpooledAudio:
    """Decode ``path`` once into a 16 kHz 16-bit spool; ``SpooledAudio`` reads it back.

    ``block(samples, first_frame)`` sees each decoded (channels, frames) block
    on the way (so a pass over the audio can ride along with the decode);
    ``progress(fraction)`` is told how far decoding has got.
    """
    path = Path(path)
    info = probe_audio(path)
    handle = _spool_file(path, folder)
    frames = 0
    channels = info.channels
    expected = max(1, round(info.duration * SAMPLE_RATE))
    try:
        for samples in decode_blocks(path):
            channels = samples.shape[0]
            clipped = np.clip(samples, -1.0, 1.0) * _INT16_SCALE
            handle.write(np.rint(clipped).astype("<i2").T.tobytes())
            if block is not None:
                block(samples, frames)
            frames += samples.shape[1]
            if progress is not None:
                progress(min(1.0, frames / expected))
        handle.flush()
    except BaseException:
        handle.close()
        raise
    if frames == 0:
        handle.close()
        raise AudioError(f"recording has no audio (zero length): {path}")
    return SpooledAudio(handle, channels=channels, frames=frames, path=str(path))


def file_sha256(path: str | Path) -> str:
    """The recording's checksum, read in blocks so a 2-hour file costs no memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_BLOCK_FRAMES):
            digest.update(block)
    return digest.hexdigest()
