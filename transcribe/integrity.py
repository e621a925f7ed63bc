"""Is a recording whole? Cheap checks before it is stored or transcribed.

A crash mid-recording leaves a WAV whose header disagrees with its size; a
copy cut short leaves a FLAC that ends mid-frame; a mis-pressed key leaves a
recording of a tenth of a second. Each would be stored or transcribed without
complaint and only puzzle the user later (a wrong length, a decoder error
after the models have loaded, an empty transcript). These checks read the
header and the last block only, so they take milliseconds on an hour of audio.
"""

from __future__ import annotations

import struct
from pathlib import Path

MIN_SECONDS = 0.5
"""Shorter than this is not an interview recording (a key pressed by mistake)."""

_TAIL_FRAMES = 4096
_EXACT_FORMATS = frozenset({"WAV", "WAVEX", "RF64", "W64", "FLAC", "AIFF", "CAF"})


class IncompleteRecordingError(ValueError):
    """The recording is cut off, damaged or too short; ``str()`` is one line with the fix."""


def _wav_declared_bytes(path: Path) -> tuple[int, int] | None:
    """(bytes the WAV's data chunk claims, bytes the file holds after it), or None."""
    try:
        with path.open("rb") as fh:
            head = fh.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            size = path.stat().st_size
            offset = 12
            while offset + 8 <= size:
                fh.seek(offset)
                chunk, length = struct.unpack("<4sI", fh.read(8))
                if chunk == b"data":
                    return length, size - offset - 8
                offset += 8 + length + (length & 1)
    except OSError:
        return None
    return None


def check_complete(path: str | Path) -> None:
    """Raise IncompleteRecordingError when ``path`` is cut off, damaged or too short.

    Formats libsndfile cannot open (MP3 in old builds, M4A) are left to the
    decoder: this only judges what it can read.
    """
    import soundfile as sf

    path = Path(path)
    declared = _wav_declared_bytes(path)
    if declared is not None:
        claimed, present = declared
        # 0 and 0xFFFFFFFF are what a recorder writes before it knows the length
        # (streaming, or a crash before the header was finished): recoverable.
        if claimed not in (0, 0xFFFFFFFF) and claimed > present:
            raise IncompleteRecordingError(
                f"{path}: the recording is cut off (its header promises {claimed:,} bytes of "
                f"audio, the file holds {present:,}); run 'verbatim recover {path}' first")
    try:
        with sf.SoundFile(str(path)) as audio:
            frames, rate = audio.frames, audio.samplerate
            # Lossy formats (MP3) estimate their length: only exact ones are held to it.
            if audio.format in _EXACT_FORMATS and frames > _TAIL_FRAMES and audio.seekable():
                audio.seek(frames - _TAIL_FRAMES)
                tail = audio.read(_TAIL_FRAMES, dtype="float32")
                if len(tail) < _TAIL_FRAMES:
                    ends = (frames - _TAIL_FRAMES + len(tail)) / rate
                    raise IncompleteRecordingError(
                        f"{path}: the recording ends early ({ends:.1f} s of the "
                        f"{frames / rate:.1f} s its header promises); copy it again from the "
                        "recorder, or repair it with 'verbatim recover'")
    except IncompleteRecordingError:
        raise
    except (RuntimeError, sf.LibsndfileError) as exc:
        text = str(exc).lower()
        if "unknown format" in text or "format not recognised" in text or \
                "not recognised" in text:
            return  # not a libsndfile format: the decoder judges it
        raise IncompleteRecordingError(
            f"{path}: the recording is damaged (its last block does not decode); copy it "
            "again from the recorder") from None
    if rate and 0 < frames / rate < MIN_SECONDS:  # no audio at all: the caller says so
        raise IncompleteRecordingError(
            f"{path}: the recording is only {frames / rate:.2f} s long; an interview needs at "
            f"least {MIN_SECONDS:g} s (was the right file chosen?)")
