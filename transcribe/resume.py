"""Resume: a long job keeps its finished work in a checkpoint file and a restart continues.

After diarisation and after each finished group of ASR chunks the pipeline
saves what it has (speaker turns, the words of every finished group) to one
JSON file, written atomically, named from the recording's sha256 and every
option that changes the result. A restarted job with the same recording and
options reads it back and decodes only the groups not yet done, so at most the
one group that was being decoded when the job died is decoded twice, and the
result equals an uninterrupted run. The file is removed once the transcript is
made. A checkpoint that does not match (other chunks, damaged JSON) is ignored
and replaced.

Where checkpoints live is the caller's choice (``PipelineOptions.checkpoint_dir``):
the data folder for a bare file, the study's private work folder for a study.
An encrypted study's job works from a plaintext checkpoint in memory and also
keeps a sealed copy on disk (``PipelineOptions.checkpoint_seal``: a folder and
the study's age recipient; sealing needs no secret key, so the worker can do
it). The plaintext in memory dies with the program; the door that runs the
next job, holding the unlocked study's identities, opens the sealed copy back
into memory first (``unseal``), so an encrypted job resumes too.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transcribe.diarize import Diarisation, SpeakerTurn
from transcribe.engines import AsrWord

FORMAT = "verbatim-checkpoint/1"
SEALED_SUFFIX = ".age"


def checkpoint_key(sha256: str, settings: Mapping[str, Any]) -> str:
    """A file name from the recording's checksum and the result-changing settings."""
    blob = json.dumps(settings, sort_keys=True, default=str).encode()
    return f"{sha256[:16]}-{hashlib.sha256(blob).hexdigest()[:12]}.json"


@dataclass
class Checkpoint:
    """The finished work of one job; ``save`` after each step, ``remove`` when done."""

    path: Path | None  # None: checkpoints are off (nothing is written)
    chunks: list[tuple[float, float]] = field(default_factory=list)
    diarisation: Diarisation | None = None
    groups: list[list[AsrWord]] = field(default_factory=list)  # words of each finished group
    resumed_groups: int = 0  # how many groups were read back from a previous run
    group: int = 0  # chunks per group (for a reader of the file; the key already fixes it)
    sealed: Path | None = None  # where a sealed copy is kept (an encrypted study's job)
    recipient: str = ""  # the age recipient it is sealed for

    @classmethod
    def open(cls, folder: Path | None, key: str,
             seal: tuple[Path, str] | None = None) -> Checkpoint:
        """The checkpoint for ``key`` in ``folder``: read back if there is one, else empty.

        ``seal``: (folder, age recipient) where each save also leaves a sealed copy.
        """
        if folder is None:
            return cls(path=None)
        found = cls._read(folder / key)
        if seal is not None:
            found.sealed = seal[0] / (key + SEALED_SUFFIX)
            found.recipient = seal[1]
            _sweep(found.sealed)
        return found

    @classmethod
    def _read(cls, path: Path) -> Checkpoint:
        _sweep(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                raise ValueError("not a checkpoint")
            found = cls(path=path,
                        chunks=[(float(a), float(b)) for a, b in data["chunks"]],
                        diarisation=_diarisation_from(data["diarisation"]),
                        groups=[[AsrWord(str(t), float(a), float(b), float(p))
                                 for t, a, b, p in group] for group in data["groups"]])
            found.resumed_groups = len(found.groups)
            return found
        except (OSError, ValueError, KeyError, TypeError):
            return cls(path=path)  # none yet, or unusable: start afresh

    def matches(self, chunks: Sequence[tuple[float, float]]) -> bool:
        return [tuple(c) for c in self.chunks] == [tuple(c) for c in chunks]

    def start(self, chunks: Sequence[tuple[float, float]], diarisation: Diarisation) -> None:
        """A fresh run's plan (the chunks) and its diarisation, saved before the ASR."""
        self.chunks = [(float(a), float(b)) for a, b in chunks]
        self.diarisation = diarisation
        self.groups = []
        self.resumed_groups = 0
        self.save()

    def finish_group(self, words: Sequence[AsrWord]) -> None:
        self.groups.append(list(words))
        self.save()

    def save(self) -> None:
        if self.path is None:
            return
        from transcript.document import write_atomic

        diarisation = self.diarisation or Diarisation(turns=())
        data = {
            "format": FORMAT,
            "chunks": self.chunks,
            "group": self.group,
            "diarisation": {
                "turns": [[t.start, t.end, t.speaker] for t in diarisation.turns],
                "overlaps": [[t.start, t.end, t.speaker] for t in diarisation.overlaps],
                "backend": diarisation.backend,
                "timings": diarisation.timings,
            },
            "groups": [[[w.text, w.start, w.end, w.probability] for w in group]
                       for group in self.groups],
        }
        text = json.dumps(data, ensure_ascii=False)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(self.path, text)
        if self.sealed is not None:
            from transcript.document import write_atomic_stream
            from verbatim.vault.agefiles import encrypt_file

            self.sealed.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_atomic_stream(self.sealed, lambda fh: encrypt_file(
                io.BytesIO(text.encode("utf-8")), fh, self.recipient))

    def remove(self) -> None:
        for path in (self.path, self.sealed):
            if path is not None:
                path.unlink(missing_ok=True)
                _sweep(path)
                with contextlib.suppress(OSError):  # the folder goes with its last checkpoint
                    path.parent.rmdir()


def unseal(sealed_folder: Path, folder: Path, identities: Sequence[object]) -> int:
    """Open every sealed checkpoint in ``sealed_folder`` into ``folder`` (memory), for a
    job about to start; returns how many. One that does not open (another key, damaged)
    is left alone: the job then starts afresh and replaces it."""
    from verbatim.vault.agefiles import decrypt_bytes
    from verbatim.vault.errors import VaultError

    opened = 0
    if not identities or not sealed_folder.is_dir():
        return opened
    for path in sorted(sealed_folder.glob("*.json" + SEALED_SUFFIX)):
        try:
            text = decrypt_bytes(path, identities)
        except (VaultError, OSError, ValueError):
            continue
        from transcript.document import write_atomic

        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(folder / path.name.removesuffix(SEALED_SUFFIX), text)
        opened += 1
    return opened


def _sweep(path: Path) -> None:
    """Remove what a job killed while saving left behind (the atomic write's temporary)."""
    if path.parent.is_dir():
        for stale in path.parent.glob(f".{path.name}.*.tmp"):
            stale.unlink(missing_ok=True)


def _diarisation_from(data: Mapping[str, Any]) -> Diarisation:
    return Diarisation(
        turns=tuple(SpeakerTurn(float(a), float(b), str(s)) for a, b, s in data["turns"]),
        overlaps=tuple(SpeakerTurn(float(a), float(b), str(s)) for a, b, s in data["overlaps"]),
        backend=str(data["backend"]),
        timings={str(k): float(v) for k, v in data["timings"].items()})
