"""Repair a WAV whose header was not finalised (a crash, kill -9, a power cut).

The recorder writes samples straight to the file and only refreshes the
header about twice a second, so after a crash the file holds more samples
than its header admits, maybe ending in half a frame. Recovery trusts the
file's length: data size = whole frames after the data offset, RIFF size to
match, the partial frame cut off. The recorder always writes the data chunk
last, so nothing after it is mistaken for samples. Only header fields and at
most one partial frame are touched; the samples themselves never change.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

import soundfile

from capture.errors import CaptureError
from capture.wavheader import WavLayout, parse_wav_header, read_head


@dataclass(frozen=True)
class RecoveryReport:
    """What recovery found and kept; ``str()`` is the one-line summary for the user."""

    path: Path
    rate: int
    channels: int
    frames: int            # frames the file holds now
    header_frames: int     # frames the header admitted before recovery
    dropped_bytes: int     # a partial trailing frame that was cut off
    repaired: bool

    @property
    def duration(self) -> float:
        return self.frames / self.rate

    @property
    def recovered_seconds(self) -> float:
        """Audio that was in the file but invisible to players before recovery."""
        return max(0, self.frames - self.header_frames) / self.rate

    def __str__(self) -> str:
        kept = (f"{self.duration:.2f} s ({self.frames} frames, {self.rate} Hz, "
                f"{self.channels} ch)")
        if not self.repaired:
            return f"{self.path.name}: already complete, kept {kept}; nothing to repair"
        text = (f"{self.path.name}: repaired, kept {kept}; the header covered "
                f"{self.header_frames / self.rate:.2f} s")
        if self.dropped_bytes:
            text += f"; cut a partial frame of {self.dropped_bytes} byte(s)"
        return text


def recover(path: Path) -> RecoveryReport:
    """Make ``path`` a valid WAV holding every whole frame in it, and say what was kept."""
    path = Path(path)
    if not path.exists():
        raise CaptureError(f"{path} does not exist")
    if not path.is_file():
        raise CaptureError(f"{path} is not a file")
    if path.stat().st_size == 0:
        raise CaptureError(f"{path} is empty: the recording never wrote any audio")
    try:
        layout = parse_wav_header(read_head(path))
    except OSError as err:
        raise CaptureError(f"cannot read {path}: {err.strerror or err}") from None
    except CaptureError as err:
        raise CaptureError(f"{path.name}: {err}") from None
    align = layout.block_align
    with open(path, "r+b") as handle:
        size = os.fstat(handle.fileno()).st_size
        available = max(0, size - layout.data_offset)
        whole = available // align * align
        pad = whole & 1  # RIFF chunks are word-aligned
        header_bytes = min(layout.data_size, available)
        consistent = (layout.data_size == whole
                      and layout.riff_size == layout.data_offset - 8 + whole + pad
                      and size == layout.data_offset + whole + pad)
        if consistent or _finalised_with_trailing_chunks(path, layout, size):
            return RecoveryReport(path=path, rate=layout.rate, channels=layout.channels,
                                  frames=min(layout.data_size, available) // align,
                                  header_frames=header_bytes // align, dropped_bytes=0,
                                  repaired=False)
        dropped = available - whole
        handle.truncate(layout.data_offset + whole)
        if pad:
            handle.seek(0, os.SEEK_END)
            handle.write(b"\0")
        handle.seek(layout.data_size_field)
        handle.write(struct.pack("<I", whole))
        handle.seek(4)
        handle.write(struct.pack("<I", layout.data_offset - 8 + whole + pad))
        handle.flush()
        os.fsync(handle.fileno())
    report = RecoveryReport(path=path, rate=layout.rate, channels=layout.channels,
                            frames=whole // align, header_frames=header_bytes // align,
                            dropped_bytes=dropped, repaired=True)
    _check_playable(path, report)
    return report


def repaired_wav(data: bytes) -> bytes:
    """``data`` (a WAV whose header was not finalised) with sizes covering every whole frame.

    The in-memory twin of ``recover``: for a segment rebuilt from what was
    sealed while recording, which never touches a disk in plain form.
    """
    layout = parse_wav_header(data[:1 << 16])
    align = layout.block_align
    whole = max(0, len(data) - layout.data_offset) // align * align
    pad = whole & 1
    out = bytearray(data[:layout.data_offset + whole])
    if pad:
        out += b"\0"
    struct.pack_into("<I", out, layout.data_size_field, whole)
    struct.pack_into("<I", out, 4, layout.data_offset - 8 + whole + pad)
    return bytes(out)


def _finalised_with_trailing_chunks(path: Path, layout: WavLayout, size: int) -> bool:
    """A properly closed file with chunks after the data (LIST, PEAK...): leave it alone.

    The bytes after the stated data must walk as well-formed chunks exactly to
    the end of the file; samples cut off by a crash almost never do.
    """
    end = layout.data_offset + layout.data_size + (layout.data_size & 1)
    if layout.data_size % layout.block_align or end >= size or layout.riff_size + 8 != size:
        return False
    with open(path, "rb") as handle:
        pos = end
        while pos < size:
            handle.seek(pos)
            header = handle.read(8)
            if len(header) < 8 or not all(32 <= b < 127 for b in header[:4]):
                return False
            chunk = struct.unpack_from("<I", header, 4)[0]
            pos += 8 + chunk + (chunk & 1)
    return pos == size


def _check_playable(path: Path, report: RecoveryReport) -> None:
    try:
        info = soundfile.info(str(path))
    except Exception as err:
        raise CaptureError(f"{path.name}: still unreadable after repair ({err})") from None
    if info.frames != report.frames:
        raise CaptureError(f"{path.name}: repair left {info.frames} frames, "
                           f"expected {report.frames}")


def recover_recording(path: Path) -> list[RecoveryReport]:
    """Recover ``path`` and, when its sidecar lists more segment files, each of those too.

    A sidecar left incomplete by the crash is brought up to date (frames,
    segment lengths, ``stop_reason``="recovered after a crash"); its marks,
    gaps and pauses are kept as they were last written.
    """
    from dataclasses import replace

    from capture.sidecar import Segment, read_sidecar, sidecar_path, write_sidecar

    path = Path(path)
    reports = [recover(path)]
    side_file = sidecar_path(path)
    if not side_file.exists():
        return reports
    try:
        side = read_sidecar(side_file)
    except CaptureError:
        return reports  # a damaged sidecar must not stop the audio being recovered
    folder = path.parent
    by_name = {path.name: reports[0]}
    for seg in side.segments:
        seg_path = folder / seg.path
        if seg.path not in by_name and seg_path.exists():
            by_name[seg.path] = recover(seg_path)
            reports.append(by_name[seg.path])
    if side.complete:
        return reports
    segments = tuple(Segment(path=s.path, start=s.start,
                             frames=by_name[s.path].frames if s.path in by_name else s.frames)
                     for s in side.segments)
    if segments:
        last = segments[-1]
        frames = round(last.start * side.rate) + last.frames
    else:
        frames = reports[0].frames
    write_sidecar(side_file, replace(side, segments=segments, frames=frames,
                                     stop_reason="recovered after a crash"))
    return reports
