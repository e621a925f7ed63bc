"""Recordings at rest: age files (X25519 recipient, ChaCha20-Poly1305 STREAM).

Encrypting needs only the study's public recipient, so a recorder can encrypt
segments without holding the secret key. Decrypting goes to memory: an
anonymous ``memfd`` (Linux) that any reader, including a transcription worker
process, opens by its ``/proc/<pid>/fd/<n>`` path; nothing plain touches the
disk. age authenticates every 64 KiB chunk and the end of the stream, so a
truncated or altered file is refused rather than half-read.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from transcript.document import fsync_dir
from verbatim.vault.errors import VaultError

AGE_SUFFIX = ".age"
AGE_MAGIC = b"age-encryption.org/v1\n"
_CHUNK = 1 << 20


class DamagedFileError(VaultError):
    """An encrypted file that does not decrypt: truncated, altered or another study's."""


class _HashingReader(io.RawIOBase):
    """Reads a file and hashes what passes through (the plaintext's sha256)."""

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._fh.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.digest.update(data)
        return n


class _HashingWriter(io.RawIOBase):
    """Writes to a file and hashes what passes through."""

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh
        self.digest = hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self.digest.update(data)
        return self._fh.write(data)


def _recipients(recipient: str) -> list[object]:
    from pyrage import x25519

    return [x25519.Recipient.from_str(recipient)]


def encrypt_bytes(data: bytes, recipient: str) -> bytes:
    """``data`` as one age file for ``recipient`` (small pieces, kept in memory)."""
    import pyrage

    return bytes(pyrage.encrypt(data, _recipients(recipient)))


def encrypt_file(source: Path | BinaryIO, dest_fh: BinaryIO, recipient: str, *,
                 identities: Sequence[object] = ()) -> str:
    """Encrypt ``source`` into the open ``dest_fh``; returns the plaintext's sha256.

    The written bytes are fsync'd and read back: their hash must match what was
    written and, when ``identities`` are given, they must decrypt to the same
    plaintext hash. Only then may a caller delete a plaintext original.
    """
    import pyrage

    owned = isinstance(source, Path)
    src = source.open("rb") if isinstance(source, Path) else source
    try:
        reader = _HashingReader(src)
        writer = _HashingWriter(dest_fh)
        pyrage.encrypt_io(io.BufferedReader(reader, _CHUNK), writer, _recipients(recipient))
        dest_fh.flush()
        os.fsync(dest_fh.fileno())
    finally:
        if owned:
            src.close()
    plain_sha = reader.digest.hexdigest()
    written_sha = writer.digest.hexdigest()
    with open(dest_fh.fileno(), "rb", closefd=False) as again:
        again.seek(0)
        on_disk = hashlib.sha256()
        while chunk := again.read(_CHUNK):
            on_disk.update(chunk)
        if on_disk.hexdigest() != written_sha:
            raise VaultError("the encrypted copy did not read back as written (disk error?)")
        if identities:
            again.seek(0)
            check = _HashingWriter(_NullSink())  # type: ignore[arg-type]
            try:
                pyrage.decrypt_io(again, check, list(identities))
            except (pyrage.DecryptError, OSError):
                raise VaultError("the encrypted copy does not decrypt (disk error?)") from None
            if check.digest.hexdigest() != plain_sha:
                raise VaultError("the encrypted copy does not match its original")
    return plain_sha


class _NullSink(io.RawIOBase):
    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        return len(data)


def encrypt_path(source: Path, dest: Path, recipient: str, *,
                 identities: Sequence[object] = ()) -> str:
    """Encrypt ``source`` to a new ``dest`` (owner-only, atomic); returns plaintext sha256."""
    tmp = dest.with_name(f".{dest.name}.partial")
    fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w+b") as out:
            sha = encrypt_file(source, out, recipient, identities=identities)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(dest.parent)
    return sha


def decrypt_to_memory(path: Path, identities: Sequence[object], *, name: str = "") -> BinaryIO:
    """Decrypt ``path`` into an anonymous in-memory file, positioned at 0."""
    import pyrage

    label = name or path.name
    out = memory_file(label)
    try:
        with path.open("rb") as src:
            if src.read(len(AGE_MAGIC)) != AGE_MAGIC:
                raise DamagedFileError(f"{label} is not an encrypted recording (damaged?)")
            src.seek(0)
            pyrage.decrypt_io(src, out, list(identities))
    except (pyrage.DecryptError, OSError) as exc:
        out.close()
        if isinstance(exc, OSError) and "decrypt" not in str(exc).lower():
            raise DamagedFileError(f"{label}: {exc.strerror or exc}") from None
        raise DamagedFileError(f"{label} does not decrypt: the file is truncated or damaged, "
                               "or belongs to another study; nothing else is affected") from None
    except BaseException:
        out.close()
        raise
    out.flush()
    out.seek(0)
    return out


def decrypt_bytes(path: Path, identities: Sequence[object]) -> bytes:
    with decrypt_to_memory(path, identities) as fh:
        return fh.read()


def memory_file(label: str) -> BinaryIO:
    """A RAM-backed file that other processes can open by path; never on disk."""
    memfd_create = getattr(os, "memfd_create", None)
    if memfd_create is None:
        return io.BytesIO()  # no path, but still memory only
    fd = memfd_create(f"verbatim-{label}", getattr(os, "MFD_CLOEXEC", 1))
    return os.fdopen(fd, "w+b")


def memory_path(fh: BinaryIO) -> Path:
    """The path by which this and child processes can open an in-memory file."""
    try:
        fileno = fh.fileno()
    except (OSError, io.UnsupportedOperation):
        raise VaultError("decrypted audio has no path on this system") from None
    return Path(f"/proc/{os.getpid()}/fd/{fileno}")


def looks_encrypted(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(len(AGE_MAGIC)) == AGE_MAGIC
    except OSError:
        return False
