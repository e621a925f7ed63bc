"""The study's recordings on disk: copied in once, checked by sha256, never modified.

Every read of a recording goes through ``audio_path``/``open_audio`` and every
write through ``stage``/``publish``/``copy_in``. In an encrypted study (see
``verbatim.vault``) a recording is stored as ``audio/<id>.<ext>.age``, written
encrypted from the first byte (only the study's public recipient is needed),
and ``audio_path`` hands out a decrypted copy that lives in memory only (a
``memfd`` path that child processes can open too), so the store, the
transcription worker and the player read it like any file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from transcript.document import fsync_dir
from verbatim.study.errors import StudyError

AUDIO_DIR = "audio"
_CHUNK = 1 << 20


class AudioFileError(StudyError):
    """A recording that cannot be imported or found; the message is one line."""


def _storage(exc: OSError, folder: Path) -> str | None:
    """A full disk or read-only folder said as such (verbatim.storage)."""
    from verbatim.storage import explain

    return explain(exc, folder)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def probe_duration(path: Path) -> float:
    """Seconds of audio in ``path``; an ``AudioFileError`` if it is not a usable recording."""
    if path.is_dir():
        raise AudioFileError(f"{path} is a folder; give the recording file inside it")
    if not path.is_file():
        raise AudioFileError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise AudioFileError(f"{path}: the file is empty")
    from transcribe.integrity import IncompleteRecordingError, check_complete

    try:
        check_complete(path)
    except IncompleteRecordingError as exc:
        raise AudioFileError(str(exc)) from None
    try:
        import soundfile

        info = soundfile.info(str(path))
        duration = float(info.frames) / float(info.samplerate) if info.samplerate else 0.0
    except Exception:
        duration = _probe_with_pipeline_loader(path)
    if duration <= 0:
        raise AudioFileError(f"{path}: the recording has no audio in it")
    return duration


def _probe_with_pipeline_loader(path: Path) -> float:
    """Formats libsndfile cannot read (m4a, …): the pipeline's probe reads only the header."""
    from transcribe.audio import probe_audio

    try:
        return float(probe_audio(path).duration)  # the header, not a decode of the whole file
    except Exception:
        raise AudioFileError(f"{path}: not an audio file this version can read") from None


def stored_name(interview_id: str, source: Path) -> str:
    """The file name inside ``audio/``: the interview id, never a person's name."""
    suffix = source.suffix.lower() or ".wav"
    return f"{interview_id}{suffix}"


@dataclass(frozen=True)
class Staged:
    """A verified copy of a recording waiting beside ``audio/`` to be published."""

    tmp: Path
    sha256: str

    def discard(self) -> None:
        if self.tmp.exists():
            self.tmp.chmod(0o600)
            self.tmp.unlink()


def sealing_recipient(study_dir: Path) -> str | None:
    """The study's age recipient when it is encrypted, else None (a plain study)."""
    from verbatim.vault import session

    if not session.will_be_encrypted(study_dir):
        return None
    return session.recipient_for(study_dir)


def _held_identities(study_dir: Path) -> list[object]:
    """Identities to verify an encrypted copy with, if this session has unlocked the study."""
    from verbatim.vault import LockedError, session

    try:
        return session.keys_for(study_dir).age_identities()
    except LockedError:
        return []


def stage(source: Path, study_dir: Path) -> Staged:
    """Copy ``source`` into the study's ``audio/`` under a private temporary name.

    The copy is fsync'd, re-read and compared with the source's checksum, so a
    half-copied or corrupted recording can never be published. The slow part
    (copying) happens here, outside any database transaction.
    """
    audio_dir = study_dir / AUDIO_DIR
    from verbatim.storage import preflight

    preflight(study_dir, need_bytes=source.stat().st_size)  # not a full disk half-way
    try:
        audio_dir.mkdir(mode=0o700, exist_ok=True)
        # the importer's pid in the name: a later command removes it once that process is dead
        fd, name = tempfile.mkstemp(prefix=f".import-{os.getpid()}-", suffix=".partial",
                                    dir=audio_dir)
    except OSError as exc:
        raise AudioFileError(_storage(exc, audio_dir)
                             or f"cannot write into {audio_dir}: {exc.strerror or exc}") from exc
    staged = Staged(Path(name), "")
    recipient = sealing_recipient(study_dir)
    if recipient is not None:
        return _stage_encrypted(fd, staged, source, study_dir, recipient)
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out, source.open("rb") as src:
            while chunk := src.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if sha256_file(staged.tmp) != digest.hexdigest():
            raise AudioFileError(f"{source}: the copy did not match the original (disk error?)")
        os.chmod(staged.tmp, stat.S_IRUSR)
    except BaseException as exc:
        staged.discard()
        if isinstance(exc, OSError):
            raise AudioFileError(_storage(exc, study_dir / AUDIO_DIR)
                                 or f"cannot copy {source} into the study: "
                                 f"{exc.strerror or exc}") from exc
        raise
    return Staged(staged.tmp, digest.hexdigest())


def _stage_encrypted(fd: int, staged: Staged, source: Path, study_dir: Path,
                     recipient: str) -> Staged:
    """Encrypt ``source`` into the staged file, then read it back to verify it."""
    from verbatim.vault import VaultError, agefiles

    try:
        with os.fdopen(fd, "w+b") as out:
            sha = agefiles.encrypt_file(source, out, recipient,
                                        identities=_held_identities(study_dir))
        os.chmod(staged.tmp, stat.S_IRUSR)
    except BaseException as exc:
        staged.discard()
        if isinstance(exc, OSError):
            raise AudioFileError(_storage(exc, study_dir / AUDIO_DIR)
                                 or f"cannot copy {source} into the study: "
                                 f"{exc.strerror or exc}") from exc
        if isinstance(exc, VaultError):
            raise AudioFileError(f"{source}: {exc}") from exc
        raise
    return Staged(staged.tmp, sha)


# A staged copy untouched for this long belongs to an import that died (a live copy
# writes every few milliseconds, even from a slow USB stick).
STALE_PARTIAL_SECONDS = 600


def set_aside_recordings(study_dir: Path) -> list[Path]:
    """Complete recordings an interrupted import left without an interview (kept, hidden)."""
    return sorted((study_dir / AUDIO_DIR).glob(".orphan-*"))


def publish(staged: Staged, study_dir: Path, name: str) -> Path:
    """Rename a staged copy to its final, read-only name; never replaces a recording."""
    target = stored_path(study_dir, name)
    if target.exists():
        raise AudioFileError(f"{target} already exists; the study's recordings are never replaced")
    os.replace(staged.tmp, target)
    fsync_dir(target.parent)
    return target


def copy_in(source: Path, study_dir: Path, name: str) -> str:
    """Copy ``source`` into ``audio/`` as ``name`` (verified, read-only); return its sha256."""
    staged = stage(source, study_dir)
    try:
        publish(staged, study_dir, name)
    finally:
        staged.discard()
    return staged.sha256


def set_aside_orphan(study_dir: Path, name: str) -> Path | None:
    """Move a recording no interview owns (a crash mid-import) out of the way, never delete it.

    The caller has already checked that no interview uses ``name``.
    """
    target = stored_path(study_dir, name)
    if not target.exists():
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    aside = target.with_name(f".orphan-{stamp}-{target.name}")
    os.replace(target, aside)
    return aside


def remove(study_dir: Path, name: str) -> None:
    """Delete a stored recording (retention); the caller records the audit entry."""
    target = stored_path(study_dir, name)
    _forget_plaintext(target)
    if target.exists():
        target.chmod(0o600)
        target.unlink()
        fsync_dir(target.parent)


def stored_path(study_dir: Path, name: str) -> Path:
    """The file on disk: ``audio/<name>``, or ``audio/<name>.age`` in an encrypted study."""
    from verbatim.vault import session
    from verbatim.vault.agefiles import AGE_SUFFIX

    plain = study_dir / AUDIO_DIR / name
    if session.will_be_encrypted(study_dir):
        return plain.with_name(plain.name + AGE_SUFFIX)
    return plain


def audio_path(study_dir: Path, name: str) -> Path:
    """A readable path of a stored recording; the one place the store resolves audio files.

    In an encrypted study this is the decrypted recording in memory
    (``/proc/<pid>/fd/<n>``), valid while this process runs; the study must be
    unlocked. A damaged encrypted file gives one line naming it.
    """
    from verbatim.vault import session

    if not session.will_be_encrypted(study_dir):
        return study_dir / AUDIO_DIR / name
    target = stored_path(study_dir, name)
    if not target.is_file():
        return target  # the store reports it missing
    from verbatim.vault import agefiles

    return agefiles.memory_path(_plaintext(study_dir, target, name))


def open_audio(study_dir: Path, name: str) -> BinaryIO:
    """Open a stored recording for reading; decrypted in memory in an encrypted study."""
    from verbatim.vault import session

    if not session.will_be_encrypted(study_dir):
        return audio_path(study_dir, name).open("rb")
    from verbatim.vault import agefiles

    keys = session.keys_for(study_dir)
    try:
        return agefiles.decrypt_to_memory(stored_path(study_dir, name), keys.age_identities(),
                                          name=name)
    except FileNotFoundError:
        raise AudioFileError(f"the recording {name} is missing from the study") from None


# Decrypted recordings kept in memory for this process, newest last: a few at most, and
# older ones let go once together they pass _PLAIN_CACHE_BYTES (a two-hour recording
# at 48 kHz, 24-bit is 1 GB; three of them would be 3 GB). The newest always stays.
_PLAIN_CACHE_SIZE = 3
_PLAIN_CACHE_BYTES = 768 * 1024 * 1024
_plain_cache: dict[tuple[str, int, int], BinaryIO] = {}


def _plaintext(study_dir: Path, target: Path, name: str) -> BinaryIO:
    from verbatim.vault import agefiles, session

    info = target.stat()
    cache_key = (str(target), info.st_mtime_ns, info.st_size)
    cached = _plain_cache.pop(cache_key, None)
    if cached is None or cached.closed:
        keys = session.keys_for(study_dir)
        cached = agefiles.decrypt_to_memory(target, keys.age_identities(), name=name)
        if not _plain_cache:
            import atexit

            atexit.unregister(release_plaintext)
            atexit.register(release_plaintext)  # closed, not left to the garbage collector
    _plain_cache[cache_key] = cached
    while len(_plain_cache) > _PLAIN_CACHE_SIZE or (
            len(_plain_cache) > 1 and _cached_bytes() > _PLAIN_CACHE_BYTES):
        oldest = next(iter(_plain_cache))
        _plain_cache.pop(oldest).close()
    return cached


def _cached_bytes() -> int:
    """The plaintext held in memory by the cache (each is an in-memory file)."""
    total = 0
    for handle in _plain_cache.values():
        with contextlib.suppress(OSError, ValueError):
            total += os.fstat(handle.fileno()).st_size
    return total


def _forget_plaintext(target: Path) -> None:
    for cache_key in [k for k in _plain_cache if k[0] == str(target)]:
        _plain_cache.pop(cache_key).close()


def release_plaintext() -> None:
    """Drop every decrypted recording this process holds in memory."""
    while _plain_cache:
        _plain_cache.popitem()[1].close()


def _register() -> None:
    from verbatim.vault import session

    session.on_forget(release_plaintext)  # 'study lock' drops decrypted recordings too


_register()
