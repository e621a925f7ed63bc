"""Sealing audio as it is recorded: the recorder's segment sink for an encrypted study.

``SealedSegments`` receives the bytes of the segment being recorded (kept in
the recorder's memory, never in a file) about twice a second, seals each batch
with the study's public recipient and appends it, fsync'd, to the segment's
journal ``<segment>.sealing``; when the segment closes it is sealed whole to
``<segment>.age`` and the journal goes. ``read_journal`` rebuilds a segment a
crash left from its journal (keys needed). Kept apart from
``verbatim.vault.recording`` (which finds, recovers and joins a recording's
pieces) because this is the part that runs on the recorder's writer thread.

A journal is ``JOURNAL_MAGIC`` then records: a 4-byte big-endian length and
that many bytes of one age file, whose plaintext is an 8-byte big-endian
offset into the segment and the bytes there. A record cut short by the crash
is ignored.
"""

from __future__ import annotations

import io
import os
import struct
from pathlib import Path

from verbatim.vault import agefiles
from verbatim.vault.errors import VaultError

JOURNAL_SUFFIX = ".sealing"
JOURNAL_MAGIC = b"verbatim-sealing/1\n"


def journal_path(segment: Path) -> Path:
    """Where the sealed bytes of a segment still being recorded are kept."""
    return segment.with_name(segment.name + JOURNAL_SUFFIX)


def seal_bytes(data: bytes, target: Path, recipient: str, identities: list[object]) -> Path:
    """``data`` sealed to a new ``target`` (atomic, fsync'd, verified when keys are held)."""
    tmp = target.with_name(f".{target.name}.partial")
    fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w+b") as out:
            agefiles.encrypt_file(io.BytesIO(data), out, recipient, identities=identities)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    target.chmod(0o400)
    from transcript.document import fsync_dir

    fsync_dir(target.parent)
    return target


class SealedSegments:
    """The recorder's segment sink for an encrypted study: bytes sealed as they are synced.

    Runs on the recorder's writer thread. Each ``append`` seals one record
    (~0.7 ms for half a second of audio) and fsyncs the journal, so what a
    crash can cost is what the recorder had not yet synced.
    """

    def __init__(self, recipient: str, identities: list[object]) -> None:
        self.recipient = recipient
        self.identities = identities
        self._journals: dict[Path, int] = {}

    def taken(self, path: Path) -> bool:
        sealed = path.with_name(path.name + agefiles.AGE_SUFFIX)
        return sealed.exists() or journal_path(path).exists()

    def begin(self, path: Path) -> None:
        journal = journal_path(path)
        fd = os.open(journal, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND
                     | getattr(os, "O_CLOEXEC", 0), 0o600)
        try:
            os.write(fd, JOURNAL_MAGIC)
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            journal.unlink(missing_ok=True)
            raise
        from transcript.document import fsync_dir

        fsync_dir(journal.parent)
        self._journals[path] = fd

    def append(self, path: Path, offset: int, data: bytes) -> None:
        fd = self._journals[path]
        sealed = agefiles.encrypt_bytes(struct.pack(">Q", offset) + data, self.recipient)
        record = struct.pack(">I", len(sealed)) + sealed
        written = 0
        while written < len(record):
            written += os.write(fd, record[written:])
        os.fsync(fd)

    def finish(self, path: Path, whole: bytes) -> None:
        seal_bytes(whole, path.with_name(path.name + agefiles.AGE_SUFFIX), self.recipient,
                    self.identities)
        self._close(path)
        journal_path(path).unlink(missing_ok=True)

    def discard(self, path: Path) -> None:
        self._close(path)
        journal_path(path).unlink(missing_ok=True)
        path.with_name(path.name + agefiles.AGE_SUFFIX).unlink(missing_ok=True)

    def _close(self, path: Path) -> None:
        fd = self._journals.pop(path, None)
        if fd is not None:
            os.close(fd)


def read_journal(journal: Path, identities: list[object]) -> bytes:
    """The segment bytes a journal holds, header sizes repaired (a valid WAV)."""
    import pyrage

    from capture.recover import repaired_wav

    data = journal.read_bytes()
    if not data.startswith(JOURNAL_MAGIC):
        raise VaultError(f"{journal.name} is not a sealed recording journal")
    segment = bytearray()
    pos = len(JOURNAL_MAGIC)
    while pos + 4 <= len(data):
        size = struct.unpack_from(">I", data, pos)[0]
        if pos + 4 + size > len(data):
            break  # the record being written when the recording was killed
        try:
            plain = pyrage.decrypt(data[pos + 4:pos + 4 + size], list(identities))
        except pyrage.DecryptError:
            raise VaultError(f"{journal.name} does not decrypt: damaged, or another "
                             "study's") from None
        offset = struct.unpack_from(">Q", plain)[0]
        body = plain[8:]
        segment[offset:offset + len(body)] = body
        pos += 4 + size
    return repaired_wav(bytes(segment))
