"""Record an interview into a study and add it: plain or encrypted, from either door.

``start_recording`` picks the recorder: in an encrypted study the vault's
sealing recorder (segments and the live-mark sidecar sealed as they are
written). ``add_recording`` joins the sealed segments in RAM when needed
(``importable``), adds the interview (live marks become notes to complete) and
then removes what the recording left in ``recordings/``: the study keeps one
copy of the audio, its ``audio/`` file, checked against its sha256.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from verbatim.study import Study

RECORDINGS_DIR = "recordings"


@dataclass(frozen=True)
class RecordingAdded:
    """A recording stored as an interview."""

    interview: str
    live_marks: int
    removed: tuple[Path, ...]


def new_recording_path(folder: Path, participant: str | None) -> Path:
    """``<folder>/recordings/<participant>-<time>.wav`` (the folder made owner-only)."""
    base = Path(folder) / RECORDINGS_DIR
    base.mkdir(mode=0o700, parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return base / f"{participant or 'recording'}-{stamp}.wav"


def recorder_class(study_dir: Path | None) -> Callable[..., Any]:
    """The recorder for a study: the sealing one in an encrypted study, else capture's."""
    if study_dir is not None:
        from verbatim.vault.recording import recorder_factory

        sealing = recorder_factory(Path(study_dir))
        if sealing is not None:
            return sealing
    from capture.recorder import Recorder

    return Recorder


def add_recording(study: Study, participant: str, recording: Path, *,
                  details: dict[str, Any] | None = None,
                  remove_source: bool = False) -> RecordingAdded:
    """Add ``recording`` (plain, or an encrypted study's sealed segments) as an interview.

    ``details`` are ``Study.add_interview``'s (date, place, consent ...).
    ``remove_source``: the recording was made for this study (the app's
    ``recordings/``), so once the interview is stored its pieces are removed.
    """
    from verbatim.vault.recording import importable, joined_sidecar

    recording = Path(recording)
    with importable(recording) as source:
        iid = study.add_interview(participant, source, sidecar=joined_sidecar(source),
                                  **(details or {}))
    pieces = recording_pieces(recording)  # after: joining seals what a crash left
    marks = sum(1 for note in study.notes(iid) if note.source == "live-mark")
    removed: tuple[Path, ...] = ()
    if remove_source:
        for piece in pieces:
            piece.unlink(missing_ok=True)
        removed = tuple(pieces)
    return RecordingAdded(iid, marks, removed)


def recording_pieces(recording: Path) -> list[Path]:
    """Every file a recording consists of: segments and sidecar, plain or sealed."""
    from capture.sidecar import sidecar_path
    from verbatim.vault.recording import encrypted_segments, journals, plain_segments

    recording = Path(recording).absolute()
    if not recording.parent.is_dir():
        return []
    side = sidecar_path(recording)
    pieces = [*plain_segments(recording), *encrypted_segments(recording),
              *journals(recording)]
    pieces += [p for p in (side, side.with_name(side.name + ".age")) if p.exists()]
    return sorted(set(pieces))
