"""The study's recordings on disk: copied in once, checked by sha256, never modified.

Every read of a recording goes through ``audio_path``/``open_audio`` and every
write through ``copy_in``: that is the seam where the encryption issue adds
age encryption at rest without the store or the UI noticing.
"""

from __future__ import annotations

import hashlib
import os
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from verbatim.study.errors import StudyError

AUDIO_DIR = "audio"
_CHUNK = 1 << 20


class AudioFileError(StudyError):
    """A recording that cannot be imported or found; the message is one line."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def probe_duration(path: Path) -> float:
    """Seconds of audio in ``path``; an ``AudioFileError`` if it is not a usable recording."""
    if not path.is_file():
        raise AudioFileError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise AudioFileError(f"{path}: the file is empty")
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
    """Formats libsndfile cannot read (m4a, …) are tried with the pipeline's loader."""
    try:
        from transcribe.audio import load_audio
    except ImportError:
        raise AudioFileError(f"{path}: not an audio file this version can read") from None
    try:
        return float(load_audio(path).duration)
    except Exception:
        raise AudioFileError(f"{path}: not an audio file this version can read") from None


def stored_name(interview_id: str, source: Path) -> str:
    """The file name inside ``audio/``: the interview id, never a person's name."""
    suffix = source.suffix.lower() or ".wav"
    return f"{interview_id}{suffix}"


def copy_in(source: Path, study_dir: Path, name: str) -> str:
    """Copy ``source`` into the study's ``audio/`` as ``name``; return its sha256.

    The copy is written beside its final place, fsync'd, re-read and compared
    with the source's checksum before it is renamed into place and made
    read-only, so a half-copied or corrupted recording never enters the study.
    """
    audio_dir = study_dir / AUDIO_DIR
    audio_dir.mkdir(mode=0o700, exist_ok=True)
    target = audio_dir / name
    if target.exists():
        raise AudioFileError(f"{target} already exists; the study's recordings are never replaced")
    tmp = audio_dir / f".{name}.partial"
    digest = hashlib.sha256()
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out, source.open("rb") as src:
            while chunk := src.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        expected = digest.hexdigest()
        if sha256_file(tmp) != expected:
            raise AudioFileError(f"{source}: the copy did not match the original (disk error?)")
        os.chmod(tmp, stat.S_IRUSR)
        os.replace(tmp, target)
        _fsync_dir(audio_dir)
    except OSError as exc:
        raise AudioFileError(f"cannot copy {source} into the study: {exc.strerror or exc}") \
            from exc
    finally:
        if tmp.exists():
            tmp.chmod(0o600)
            tmp.unlink()
    return expected


def set_aside_orphan(study_dir: Path, name: str) -> Path | None:
    """Move a recording no interview owns (a crash mid-import) out of the way, never delete it.

    The caller has already checked that no interview uses ``name``.
    """
    target = study_dir / AUDIO_DIR / name
    if not target.exists():
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    aside = target.with_name(f".orphan-{stamp}-{name}")
    os.replace(target, aside)
    return aside


def remove(study_dir: Path, name: str) -> None:
    """Delete a stored recording (retention); the caller records the audit entry."""
    target = study_dir / AUDIO_DIR / name
    if target.exists():
        target.chmod(0o600)
        target.unlink()
        _fsync_dir(target.parent)


def audio_path(study_dir: Path, name: str) -> Path:
    """Where a stored recording is; the one place the store resolves audio files."""
    return study_dir / AUDIO_DIR / name


def open_audio(study_dir: Path, name: str) -> BinaryIO:
    """Open a stored recording for reading (the decryption seam of issue 9)."""
    return audio_path(study_dir, name).open("rb")


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
