"""A WAV file's header: where its samples are and what it claims (parsing only).

Kept apart from the writer (``capture.wavfile``) so the repair code
(``capture.recover``) can read headers without importing the writer, which in
turn calls the repair: no import circle.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from capture.errors import CaptureError


@dataclass(frozen=True)
class WavLayout:
    """Where a WAV's parts are and what its header claims."""

    channels: int
    rate: int
    block_align: int
    bits: int
    data_offset: int       # byte offset of the first sample
    data_size: int         # the data chunk's stated size
    riff_size: int         # the RIFF chunk's stated size
    data_size_field: int   # byte offset of the data size field
    format_tag: int


def read_head(path: Path, limit: int = 1 << 16) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(limit)


def parse_wav_header(head: bytes) -> WavLayout:
    """Parse the chunks before the samples; raises CaptureError if this is not a PCM WAV."""
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise CaptureError("not a WAV file (no RIFF/WAVE header)")
    riff_size = struct.unpack_from("<I", head, 4)[0]
    pos = 12
    fmt: tuple[int, int, int, int, int] | None = None
    while pos + 8 <= len(head):
        chunk_id = head[pos:pos + 4]
        size = struct.unpack_from("<I", head, pos + 4)[0]
        body = pos + 8
        if chunk_id == b"fmt ":
            if body + 16 > len(head):
                break
            tag, channels, rate, _byte_rate, align, bits = struct.unpack_from("<HHIIHH",
                                                                              head, body)
            fmt = (tag, channels, rate, align, bits)
        elif chunk_id == b"data":
            if fmt is None:
                raise CaptureError("damaged WAV: the data chunk comes before the format chunk")
            tag, channels, rate, align, bits = fmt
            if channels == 0 or align == 0 or rate == 0:
                raise CaptureError("damaged WAV: the format chunk is empty")
            return WavLayout(channels=channels, rate=rate, block_align=align, bits=bits,
                             data_offset=body, data_size=size, riff_size=riff_size,
                             data_size_field=pos + 4, format_tag=tag)
        pos = body + size + (size & 1)
    raise CaptureError("damaged WAV: no data chunk found (the recording never started?)")

