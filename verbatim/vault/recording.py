"""Recording into an encrypted study: nothing plain is ever written, even mid-segment.

A recording whose file lies inside an encrypted study folder (for example
``STUDY/recordings/P4-1.wav``) is recorded by capture's recorder in segments of
``SEGMENT_SECONDS`` that live in the recorder's memory (``SealedSegments``, its
segment sink). About twice a second the bytes added since the last time are
sealed (the study's public recipient: no unlock needed) and appended, fsync'd,
to the segment's journal ``<segment>.sealing``; when the segment closes it is
sealed whole to ``<segment>.age`` and its journal removed. The sidecar (live
marks, typed text) is sealed each time it is written. So a ``kill -9`` at any
moment leaves only sealed bytes: in the study folder, in ``/dev/shm`` and in
the temp folder there is no plaintext audio, and at most the last half second
is lost.

After a crash, ``recover`` (with the study unlocked) turns each journal into
its ``<segment>.age`` (and, for recordings made before journals, seals a
plaintext segment a crash left); ``joined`` decrypts all segments into one WAV
in memory for ``interview add``.

The sealing itself (the sink, its journal format, reading a journal back) is
``verbatim.vault.sealing``.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from verbatim.vault import agefiles, session
from verbatim.vault.errors import LockedError, VaultError
from verbatim.vault.keys import is_encrypted
from verbatim.vault.sealing import (
    JOURNAL_SUFFIX,
    SealedSegments,
    read_journal,
    seal_bytes,
)

SEGMENT_SECONDS = 10.0


def study_of(path: Path) -> Path | None:
    """The encrypted study folder that contains ``path``, if any."""
    folder = Path(path).expanduser().absolute().parent
    for candidate in (folder, *folder.parents):
        if is_encrypted(candidate):
            return candidate
    return None


def segment_bytes(*, rate: int, channels: int, subtype: str = "PCM_24",
                  seconds: float = SEGMENT_SECONDS) -> int:
    from capture.wavfile import HEADER_ALLOWANCE, SUBTYPE_BYTES

    return HEADER_ALLOWANCE + round(seconds * rate) * channels * SUBTYPE_BYTES[subtype]


def _identities(study_dir: Path) -> list[object]:
    try:
        return session.keys_for(study_dir).age_identities()
    except LockedError:
        return []


def encrypt_segment(path: Path, recipient: str, identities: list[object]) -> Path:
    """Encrypt one closed segment beside itself, verify, delete the plaintext."""
    target = path.with_name(path.name + agefiles.AGE_SUFFIX)
    if target.exists():
        raise VaultError(f"{target.name} already exists; {path.name} was left as it is")
    agefiles.encrypt_path(path, target, recipient, identities=identities)
    target.chmod(0o400)
    path.chmod(0o600)
    path.unlink()
    return target


def finish_journals(first: Path, recipient: str, identities: list[object]) -> list[str]:
    """Seal each journal a crash left as its ``<segment>.age``; one line each.

    Needs the study unlocked (the journal must be read); without keys the
    journals stay as they are: sealed, waiting.
    """
    lines = []
    for journal in journals(first):
        segment = journal.with_name(journal.name.removesuffix(JOURNAL_SUFFIX))
        sealed = segment.with_name(segment.name + agefiles.AGE_SUFFIX)
        if sealed.exists():  # sealed whole before the crash; only the journal was left
            journal.unlink()
            continue
        if not identities:
            lines.append(f"{segment.name}: sealed while recording; unlock the study "
                         "to finish it")
            continue
        whole = read_journal(journal, identities)
        seal_bytes(whole, sealed, recipient, identities)
        journal.unlink()
        from capture.wavheader import parse_wav_header

        layout = parse_wav_header(whole[:1 << 16])
        seconds = layout.data_size / layout.block_align / layout.rate
        lines.append(f"{segment.name}: {seconds:.2f} s sealed while recording; encrypted")
    return lines


def journals(first: Path) -> list[Path]:
    """The journals of ``first``'s segments (sealed segments a crash left unfinished)."""
    first = Path(first).absolute()
    found = []
    for candidate in first.parent.iterdir():
        if not candidate.name.endswith(JOURNAL_SUFFIX):
            continue
        number = _segment_number(first, candidate.with_name(
            candidate.name.removesuffix(JOURNAL_SUFFIX)))
        if number is not None:
            found.append((number, candidate))
    return [path for _, path in sorted(found)]


@dataclass
class EncryptedRecording:
    """What ``verbatim record`` needs to record into an encrypted study."""

    first: Path
    study_dir: Path
    recipient: str
    identities: list[object]

    def recorder_options(self, *, rate: int, channels: int, subtype: str = "PCM_24",
                         seconds: float = SEGMENT_SECONDS) -> dict[str, Any]:
        return {"max_segment_bytes": segment_bytes(rate=rate, channels=channels,
                                                   subtype=subtype, seconds=seconds),
                "segment_sink": SealedSegments(self.recipient, self.identities)}

    def finish(self) -> list[str]:
        """After the recorder stopped: encrypt anything still plain (sidecar included)."""
        return _encrypt_leftovers(self.first, self.recipient, self.identities, repair=False)


def prepare(first: Path) -> EncryptedRecording | None:
    """Recording options when ``first`` lies in an encrypted study, else None."""
    study_dir = study_of(first)
    if study_dir is None:
        return None
    first = Path(first).expanduser().absolute()
    taken = [p for p in (first.with_name(first.name + agefiles.AGE_SUFFIX),
                         _sidecar(first).with_name(_sidecar(first).name + agefiles.AGE_SUFFIX))
             if p.exists()]
    if taken or encrypted_segments(first) or journals(first):
        raise VaultError(f"{first.name} already exists here (encrypted); choose another name "
                         "(a recording is never overwritten)")
    return EncryptedRecording(first=first, study_dir=study_dir,
                              recipient=session.recipient_for(study_dir),
                              identities=_identities(study_dir))


def _sidecar(first: Path) -> Path:
    from capture.sidecar import sidecar_path

    return sidecar_path(first)


def _segment_number(first: Path, candidate: Path) -> int | None:
    name = candidate.name.removesuffix(agefiles.AGE_SUFFIX)
    if name == first.name:
        return 1
    match = re.fullmatch(re.escape(first.stem) + r"-(\d{3,})" + re.escape(first.suffix), name)
    return int(match.group(1)) if match else None


def _segments(first: Path, *, encrypted: bool) -> list[Path]:
    found = []
    for candidate in first.parent.iterdir():
        if candidate.name.endswith(agefiles.AGE_SUFFIX) != encrypted:
            continue
        if candidate.name.endswith(JOURNAL_SUFFIX):
            continue
        number = _segment_number(first, candidate)
        if number is not None:
            found.append((number, candidate))
    return [path for _, path in sorted(found)]


def encrypted_segments(first: Path) -> list[Path]:
    return _segments(Path(first).absolute(), encrypted=True)


def plain_segments(first: Path) -> list[Path]:
    return _segments(Path(first).absolute(), encrypted=False)


def is_encrypted_recording(first: Path) -> bool:
    first = Path(first).expanduser().absolute()
    return first.parent.is_dir() and study_of(first) is not None and bool(
        encrypted_segments(first) or plain_segments(first) or journals(first))


def _encrypt_leftovers(first: Path, recipient: str, identities: list[object], *,
                       repair: bool) -> list[str]:
    lines = []
    for segment in plain_segments(first):
        text = segment.name
        if repair:
            from capture.recover import recover

            text = str(recover(segment))
        encrypt_segment(segment, recipient, identities)
        lines.append(f"{text}; encrypted")
    side = _sidecar(first)
    if side.exists():
        encrypt_segment(side, recipient, identities)
    return lines


def recover(first: Path) -> list[str]:
    """Repair and encrypt the plaintext a crash left; one line per segment handled."""
    first = Path(first).expanduser().absolute()
    study_dir = study_of(first)
    if study_dir is None:
        raise VaultError(f"{first} is not inside an encrypted study")
    recipient, identities = session.recipient_for(study_dir), _identities(study_dir)
    lines = finish_journals(first, recipient, identities)
    lines += _encrypt_leftovers(first, recipient, identities, repair=True)
    count = len(encrypted_segments(first))
    lines.append(f"{first.name}: {count} encrypted segment(s); no plaintext left"
                 if count else f"{first.name}: nothing recorded")
    return lines


_JOINED_SIDECARS: dict[str, Any] = {}
"""The live-mark sidecar of each recording ``joined`` is holding, by the path it yielded."""


def joined_sidecar(path: Path) -> Any | None:
    """The capture sidecar of a recording ``joined`` yielded (None for any other path)."""
    return _JOINED_SIDECARS.get(str(path))


@contextlib.contextmanager
def joined(first: Path) -> Iterator[Path]:
    """The whole encrypted recording as one WAV in memory (an anonymous memfd).

    The path yielded is ``/proc/<pid>/fd/<n>``: readable by this process and its
    children, gone with the process, so even a ``kill -9`` while importing leaves
    no plaintext in ``/dev/shm`` or anywhere else. Its sidecar (live marks) is
    ``joined_sidecar(path)``. Where the system has no memfd, a private RAM
    folder is used instead, the sidecar written beside the WAV.
    """
    import soundfile

    first = Path(first).expanduser().absolute()
    study_dir = study_of(first)
    if study_dir is None:
        raise VaultError(f"{first} is not inside an encrypted study")
    if plain_segments(first):
        raise VaultError(f"{first.name} has unencrypted segments left by a crash: run "
                         f"'verbatim recover {first}' first")
    identities = session.keys_for(study_dir).age_identities()
    finish_journals(first, session.recipient_for(study_dir), identities)
    segments = encrypted_segments(first)
    if not segments:
        raise VaultError(f"{first}: no such recording")
    with contextlib.ExitStack() as stack:
        memory = stack.enter_context(agefiles.memory_file(first.name))
        try:
            out_path = agefiles.memory_path(memory)
            folder = None
        except VaultError:  # no memfd on this system: a private RAM folder
            from verbatim.vault.memdir import private_memory_dir

            folder = private_memory_dir() / f"join-{abs(hash(first)) % 10**8}"
            folder.mkdir(mode=0o700, exist_ok=True)
            stack.callback(shutil.rmtree, folder, ignore_errors=True)
            out_path = folder / first.name
        out: Any = None
        for segment in segments:
            with agefiles.decrypt_to_memory(segment, identities) as plain, \
                    soundfile.SoundFile(plain) as part:
                if out is None:
                    target: Any = memory if folder is None else str(out_path)
                    out = soundfile.SoundFile(target, "w", samplerate=part.samplerate,
                                              channels=part.channels, subtype=part.subtype,
                                              format="WAV")
                while True:
                    block = part.read(1 << 16, dtype="float64"
                                      if part.subtype == "PCM_32" else "float32")
                    if not len(block):
                        break
                    out.write(block)
        if out is not None:
            out.close()
        memory.flush()
        sidecar = _decrypted_sidecar(first, identities)
        if folder is not None and sidecar is not None:
            from capture.sidecar import sidecar_path, write_sidecar

            write_sidecar(sidecar_path(out_path), sidecar)
        _JOINED_SIDECARS[str(out_path)] = sidecar
        stack.callback(_JOINED_SIDECARS.pop, str(out_path), None)
        yield out_path


def _decrypted_sidecar(first: Path, identities: list[object]) -> Any | None:
    """The recording's sidecar (live marks) decrypted, as one segment; None if none."""
    import json

    from capture.errors import CaptureError
    from capture.sidecar import from_dict

    side = _sidecar(first)
    sealed = side.with_name(side.name + agefiles.AGE_SUFFIX)
    if not sealed.exists():
        return None
    try:
        data = json.loads(agefiles.decrypt_bytes(sealed, identities).decode("utf-8"))
        sidecar = from_dict(data)
    except (ValueError, CaptureError):
        return None  # a damaged sidecar must not block the audio
    return replace(sidecar, segments=())


def write_sealed_sidecar(path: Path, sidecar: Any, recipient: str) -> Path:
    """Replace ``<sidecar>.age`` atomically with the sidecar encrypted; no plaintext file."""
    import io
    import json
    import os

    from capture.sidecar import to_dict

    target = path.with_name(path.name + agefiles.AGE_SUFFIX)
    data = (json.dumps(to_dict(sidecar), indent=1, ensure_ascii=False) + "\n").encode("utf-8")
    tmp = target.with_name(f".{target.name}.partial")
    fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w+b") as out:
            agefiles.encrypt_file(io.BytesIO(data), out, recipient)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


@contextlib.contextmanager
def importable(audio: Path) -> Iterator[Path]:
    """``audio`` itself, or the joined plaintext of an encrypted recording (in RAM)."""
    if is_encrypted_recording(audio):
        with joined(audio) as path:
            yield path
    else:
        yield audio


def recorder_factory(study_dir: Path) -> Any | None:
    """A drop-in for ``capture.recorder.Recorder`` that records encrypted into this study.

    None for a plain study. The TUI can use it as its ``recorder_factory``: the
    recorder it returns takes the same arguments, rolls short segments sealed on
    close, and seals the sidecar when stopped.
    """
    if not is_encrypted(Path(study_dir)):
        return None
    from capture.recorder import Recorder

    class SealingRecorder(Recorder):
        def __init__(self, path: Path, **options: Any) -> None:
            sealed = prepare(Path(path))
            if sealed is not None:
                options.update(sealed.recorder_options(rate=options.get("rate", 48000),
                                                       channels=options.get("channels", 1)))
            super().__init__(path, **options)
            self.sealed = sealed

        def _write_sidecar(self, *, final: bool = False) -> None:
            """The sidecar holds typed mark text: sealed as it is written, never plain."""
            if self.sealed is None:
                super()._write_sidecar(final=final)
                return
            write_sealed_sidecar(self.sidecar_path, self.sidecar(final=final),
                                 self.sealed.recipient)

        def stop(self) -> Any:
            summary = super().stop()
            if self.sealed is not None:
                self.sealed.finish()
            return summary

    return SealingRecorder
