"""WAV files that stay playable: a header kept current, numbered segments, and a parser.

libsndfile writes the samples. Its ``SFC_UPDATE_HEADER_NOW`` command rewrites
the RIFF and data sizes from the file's current length (soundfile's
``flush()`` only syncs, it never touches the header), so calling it about
twice a second, followed by ``fsync``, bounds what a power cut can cost. A
WAV's sizes are 32-bit, so long sessions roll over to a new numbered file
well before 4 GiB.

With a ``SegmentSink`` no segment file is written at all: the open segment is
kept in memory and its bytes are handed to the sink as they are synced (an
encrypted study seals them, ``verbatim.vault.recording``), then the whole
segment once it closes. So plaintext audio never reaches a disk.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import soundfile

from capture.errors import CaptureError, DiskFullError
from capture.wavheader import parse_wav_header, read_head

# sndfile.h: SFC_UPDATE_HEADER_NOW = 0x1060. soundfile's cffi declarations do not name it.
SFC_UPDATE_HEADER_NOW = 0x1060

# 4 GiB is the RIFF limit; stop 96 MiB short so a header and trailing chunks always fit.
DEFAULT_SEGMENT_BYTES = 2**32 - 96 * 2**20
# Room left for the header when converting a byte budget into frames.
HEADER_ALLOWANCE = 4096

SUBTYPE_BYTES = {"PCM_16": 2, "PCM_24": 3, "PCM_32": 4, "FLOAT": 4}

SegmentClosed = Callable[[Path], None]


class SegmentSink(Protocol):
    """Where a segment's bytes go instead of a file on disk.

    The writer calls, from its one thread: ``begin`` for a new segment,
    ``append`` with the bytes added since the last call (at open, about twice a
    second, and before ``finish``; the header's sizes in the first bytes are
    those at open, and grow only in ``finish``'s copy), ``finish`` with the
    whole closed segment, and ``discard`` when a segment holds nothing. An
    ``OSError`` from ``append`` is a write failure like a disk's.
    """

    def taken(self, path: Path) -> bool:
        """Whether a segment of this name already exists (in whatever form the sink keeps)."""

    def begin(self, path: Path) -> None:
        """A new segment named ``path`` starts (nothing is created at ``path`` itself)."""

    def append(self, path: Path, offset: int, data: bytes) -> None:
        """Bytes ``offset``.. of the segment, kept durably before returning."""

    def finish(self, path: Path, whole: bytes) -> None:
        """The complete segment (final header); what ``append`` kept may go."""

    def discard(self, path: Path) -> None:
        """Remove what the sink keeps of this segment (it holds no audio)."""


def update_header(handle: soundfile.SoundFile) -> None:
    """Ask libsndfile to rewrite the header of an open file so it matches the data so far."""
    lib = soundfile._snd  # the cffi library soundfile itself calls
    lib.sf_command(handle._file, SFC_UPDATE_HEADER_NOW, soundfile._ffi.NULL, 0)


def segment_path(first: Path, number: int) -> Path:
    """The n-th file of a recording: ``talk.wav``, then ``talk-002.wav``, ``talk-003.wav``..."""
    if number <= 1:
        return first
    return first.with_name(f"{first.stem}-{number:03d}{first.suffix}")


def create_private(path: Path) -> int:
    """Create a new owner-only file and return its descriptor; never overwrite one."""
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0),
                       0o600)
    except FileExistsError:
        raise CaptureError(f"{path} already exists; choose another name "
                           "(an existing recording is never overwritten)") from None
    except FileNotFoundError:
        raise CaptureError(f"folder {path.parent} does not exist") from None
    except IsADirectoryError:
        raise CaptureError(f"{path} is a folder, not a file name") from None
    except PermissionError:
        raise CaptureError(f"cannot create {path}: permission denied") from None
    except OSError as err:
        raise CaptureError(f"cannot create {path}: {err.strerror or err}") from None


def is_disk_full(err: BaseException) -> bool:
    """Whether a write failure means no room: ENOSPC, EFBIG, a quota, or libsndfile saying so."""
    if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        return True
    text = str(err).lower()
    return any(s in text for s in ("no space left", "file too large", "quota exceeded"))


@dataclass(frozen=True)
class ClosedSegment:
    """A finished segment file: where it is, where it starts on the timeline, its frames."""

    path: Path
    start_frame: int
    frames: int


class SegmentedWavWriter:
    """Writes (frames, channels) float blocks to one or more crash-safe WAV files.

    Owned by a single thread (the recorder's writer). ``sync()`` brings the
    header up to date and fsyncs; ``write()`` rolls over to the next numbered
    file before ``max_segment_bytes``; ``close()`` finishes the last file.
    ``on_segment_closed(path)`` runs after each file is closed and fsync'd.
    With ``sink`` the segments live in memory and go to the sink instead (no
    file, no ``on_segment_closed``).
    """

    def __init__(self, path: Path, *, rate: int, channels: int, subtype: str = "PCM_24",
                 max_segment_bytes: int = DEFAULT_SEGMENT_BYTES,
                 on_segment_closed: SegmentClosed | None = None,
                 sink: SegmentSink | None = None) -> None:
        if subtype not in SUBTYPE_BYTES:
            raise CaptureError(f"unsupported sample format {subtype}")
        self.first_path = Path(path)
        self.rate = rate
        self.channels = channels
        self.subtype = subtype
        self.frame_bytes = SUBTYPE_BYTES[subtype] * channels
        self.max_frames = (max_segment_bytes - HEADER_ALLOWANCE) // self.frame_bytes
        if self.max_frames < 1:
            raise CaptureError(f"segment size {max_segment_bytes} bytes is too small")
        self.on_segment_closed = on_segment_closed
        self.sink = sink
        self._memory: io.BytesIO | None = None
        self._handed = 0  # bytes of the in-memory segment already given to the sink
        self.closed_segments: list[ClosedSegment] = []
        self.callback_errors: list[str] = []
        self.total_frames = 0
        self._number = 0
        self._fd: int | None = None
        self._handle: soundfile.SoundFile | None = None
        self._segment_frames = 0
        self._segment_start = 0
        self._dirty = False

    @property
    def current_path(self) -> Path:
        return segment_path(self.first_path, self._number)

    @property
    def segment_frames(self) -> int:
        return self._segment_frames

    def open(self) -> None:
        """Create the first file (fails cleanly if it exists or its folder does not)."""
        self._open_segment(1)

    def _taken(self, path: Path) -> bool:
        return path.exists() or (self.sink is not None and self.sink.taken(path))

    def _open_segment(self, number: int) -> None:
        path = segment_path(self.first_path, number)
        if number > 1:  # never overwrite: skip numbers taken by other files
            while self._taken(path):
                number += 1
                path = segment_path(self.first_path, number)
        if self.sink is not None:
            self._open_in_memory(path, number)
            return
        fd = create_private(path)
        try:
            handle = soundfile.SoundFile(fd, mode="w", samplerate=self.rate,
                                         channels=self.channels, subtype=self.subtype,
                                         format="WAV", closefd=False)
            update_header(handle)
            os.fsync(fd)
        except Exception as err:
            os.close(fd)
            raise CaptureError(f"cannot write {path}: {err}") from None
        self._fd, self._handle, self._number = fd, handle, number
        self._segment_frames = 0
        self._segment_start = self.total_frames

    def _open_in_memory(self, path: Path, number: int) -> None:
        assert self.sink is not None
        if self._taken(path):
            raise CaptureError(f"{path} already exists; choose another name "
                               "(an existing recording is never overwritten)")
        memory = io.BytesIO()
        try:
            handle = soundfile.SoundFile(memory, mode="w", samplerate=self.rate,
                                         channels=self.channels, subtype=self.subtype,
                                         format="WAV")
            update_header(handle)
            self.sink.begin(path)
        except Exception as err:
            raise CaptureError(f"cannot write {path}: {err}") from None
        self._memory, self._handle, self._number, self._handed = memory, handle, number, 0
        self._segment_frames = 0
        self._segment_start = self.total_frames
        self._hand_over(path)

    def _hand_over(self, path: Path) -> None:
        """Give the sink the in-memory segment's bytes it has not had yet."""
        assert self.sink is not None and self._memory is not None
        view = self._memory.getbuffer()
        try:
            if len(view) > self._handed:
                self.sink.append(path, self._handed, bytes(view[self._handed:]))
                self._handed = len(view)
        except OSError as err:
            if is_disk_full(err):
                raise DiskFullError(f"disk full while writing {path.name}") from None
            raise CaptureError(f"cannot write {path.name}: {err.strerror or err}") from None
        finally:
            view.release()

    def write(self, block: np.ndarray) -> None:
        """Append a block, rolling over as needed. Raises DiskFullError / CaptureError."""
        offset = 0
        while offset < len(block):
            if self._handle is None:
                raise CaptureError("recording file is closed")
            room = self.max_frames - self._segment_frames
            if room <= 0:
                self._roll_over()
                continue
            part = block[offset:offset + room]
            self._write_part(part)
            offset += len(part)

    def _write_part(self, part: np.ndarray) -> None:
        assert self._handle is not None
        try:
            self._handle.write(part)
        except Exception as err:  # libsndfile reports ENOSPC/EFBIG as "System error."
            self._dirty = True
            self.total_frames = self._segment_start + self._frames_on_disk()
            detail = self._libsndfile_detail() or str(err)
            if is_disk_full(err) or is_disk_full(RuntimeError(detail)) or self._out_of_room():
                raise DiskFullError(f"disk full while writing {self.current_path.name}") from None
            raise CaptureError(f"cannot write {self.current_path.name}: {detail}") from None
        self._segment_frames += len(part)
        self.total_frames += len(part)
        self._dirty = True

    def _libsndfile_detail(self) -> str:
        """libsndfile's own message for the last error (it carries the system's strerror)."""
        if self._handle is None or self._handle._file is None:
            return ""
        try:
            text = soundfile._ffi.string(soundfile._snd.sf_strerror(self._handle._file))
        except Exception:
            return ""
        return text.decode("utf-8", "replace").strip()

    def _out_of_room(self) -> bool:
        """After a failed write: is the disk (or the file size limit) exhausted?"""
        from capture.disk import file_size_limit

        try:
            size = os.fstat(self._fd).st_size if self._fd is not None else 0
            free = shutil.disk_usage(self.first_path.parent).free
        except OSError:
            return False
        limit = file_size_limit()
        return free < 1 << 20 or (limit is not None and size + self.frame_bytes * 64 > limit)

    def _frames_on_disk(self) -> int:
        """Whole frames actually in the current file (after a failed write)."""
        if self._fd is None:
            return self._segment_frames
        try:
            size = os.fstat(self._fd).st_size
            layout = parse_wav_header(read_head(self.current_path))
        except (OSError, CaptureError):
            return self._segment_frames
        return max(0, (size - layout.data_offset) // self.frame_bytes)

    def sync(self) -> None:
        """Bring the current file's header up to date and push everything to the disk."""
        if self._handle is not None and self._memory is not None and self._dirty:
            self._hand_over(self.current_path)
            self._dirty = False
            return
        if self._handle is None or self._fd is None or not self._dirty:
            return
        update_header(self._handle)
        try:
            os.fsync(self._fd)
        except OSError as err:
            if is_disk_full(err):
                raise DiskFullError(f"disk full while writing {self.current_path.name}") from None
            raise CaptureError(f"cannot write {self.current_path.name}: {err}") from None
        self._dirty = False

    def _roll_over(self) -> None:
        self._close_segment()
        self._open_segment(self._number + 1)

    def _close_segment(self, *, repair: bool = False) -> None:
        if self._memory is not None:
            self._close_in_memory()
            return
        handle, fd, path = self._handle, self._fd, self.current_path
        if handle is None or fd is None:
            return
        self._handle = self._fd = None
        try:
            handle.close()
        except Exception:  # a full disk can fail the final header write: repaired below
            repair = True
        with contextlib.suppress(OSError):
            os.fsync(fd)
        os.close(fd)
        if repair:
            from capture.recover import recover

            recover(path)
            frames = recover_frames(path, self.frame_bytes)
            self.total_frames = self._segment_start + frames
        else:
            frames = self._segment_frames
        closed = ClosedSegment(path=path, start_frame=self._segment_start, frames=frames)
        self.closed_segments.append(closed)
        if self.on_segment_closed is not None:
            try:
                self.on_segment_closed(path)
            except Exception as err:  # a hook must not lose the recording
                self.callback_errors.append(f"{path.name}: {type(err).__name__}: {err}")

    def _close_in_memory(self) -> None:
        """Finish the header in memory, hand the sink the rest, then the whole segment."""
        assert self.sink is not None and self._memory is not None and self._handle is not None
        path, handle = self.current_path, self._handle
        self._handle = None
        with contextlib.suppress(Exception):
            handle.close()  # into memory: only the header's sizes change
        self.closed_segments.append(ClosedSegment(path=path, start_frame=self._segment_start,
                                                  frames=self._segment_frames))
        try:
            self._hand_over(path)  # what was kept so far is complete, should finish fail
            self.sink.finish(path, self._memory.getvalue())
        except Exception as err:  # kept by the sink's appends: recovery finishes it
            self.callback_errors.append(f"{path.name}: {type(err).__name__}: {err}")
        finally:
            self._memory = None

    def discard_empty(self) -> None:
        """After a start that never got audio: remove what the sink kept of the segments."""
        if self.sink is None:
            return
        for seg in self.closed_segments:
            with contextlib.suppress(OSError):
                self.sink.discard(seg.path)

    def close(self, *, after_error: bool = False) -> None:
        """Finish the current file; after a write error, repair it so it is a valid WAV."""
        self._close_segment(repair=after_error)


def recover_frames(path: Path, frame_bytes: int) -> int:
    layout = parse_wav_header(read_head(path))
    return layout.data_size // frame_bytes
