"""Recordings that tell the truth: missing, altered and half-imported files are said.

* ``check`` (cheap, for ``study info`` and the app's home screen): every
  stored recording exists and is unchanged by size and modification time
  since it was imported or last verified.
* ``verify`` (``study verify``): every recording's sha256 against the one
  recorded at import; the result goes to the audit trail, and a verified
  file's size and time become the baseline of the cheap check.
* ``accept_changed`` (``transcribe --accept-changed-audio``): a recording
  the user has checked becomes the reference, its new sha256 in the audit.
* ``sweep_partials``: half-copied imports whose importing process is dead
  are removed by the next command; live ones are listed as in progress.

The baseline of the cheap check is kept in the audit trail (``interview.add``,
``audio.verify`` and ``audio.accept`` entries carry size and mtime), so no
schema change is needed; for a recording imported before that, one modified
more than a minute after its import is reported as changed.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from verbatim.scratch import alive
from verbatim.study import files

if TYPE_CHECKING:  # pragma: no cover
    from verbatim.study.store import Study
    from verbatim.study.values import Interview

# An import's publish (a rename) keeps the copy's mtime: a few seconds before the
# interview row is written. Anything later than this means the file was written to.
IMPORT_SLACK_SECONDS = 60
PARTIAL_PID = re.compile(r"^\.import-(\d+)-.*\.partial$")


@dataclass(frozen=True)
class RecordingState:
    """One interview's recording as found on disk."""

    interview: str
    state: str  # "ok", "missing", "changed" (cheap check), "altered" (sha256 differs)
    detail: str = ""


@dataclass(frozen=True)
class Partial:
    """A half-copied import: in progress (its process lives) or removed (it died)."""

    path: Path
    size: int
    alive: bool


def _baselines(study: Study) -> dict[str, tuple[int, int]]:
    """Per interview, the (size, mtime_ns) of its recording when last verified or accepted."""
    rows = study.ledger.rows("SELECT target, detail FROM audit WHERE action IN "
                       "('interview.add', 'audio.verify', 'audio.accept') ORDER BY id")
    found: dict[str, tuple[int, int]] = {}
    for row in rows:
        try:
            detail = json.loads(row[1])
            if detail.get("ok", True):
                found[row[0]] = (int(detail["size"]), int(detail["mtime_ns"]))
        except (ValueError, KeyError, TypeError):
            continue
    return found


def _stored(study: Study, interview: Interview) -> Path:
    assert interview.audio_file is not None
    return files.stored_path(study.path, interview.audio_file)


def check(study: Study) -> list[RecordingState]:
    """The cheap check: missing files, and files written to since import or verification."""
    baselines = _baselines(study)
    states = []
    for interview in study.interviews():
        if not interview.has_audio:
            continue
        path = _stored(study, interview)
        try:
            info = path.stat()
        except FileNotFoundError:
            states.append(RecordingState(interview.id, "missing", f"{path.name} is not in "
                                         f"{path.parent}"))
            continue
        baseline = baselines.get(interview.id)
        if baseline is not None:
            changed = (info.st_size, info.st_mtime_ns) != baseline
        else:
            changed = info.st_mtime > _timestamp(interview.created_at) + IMPORT_SLACK_SECONDS
        if changed:
            when = datetime.fromtimestamp(info.st_mtime).strftime("%Y-%m-%d %H:%M")
            states.append(RecordingState(interview.id, "changed",
                                         f"{path.name} was modified {when}"))
        else:
            states.append(RecordingState(interview.id, "ok"))
    return states


def _timestamp(iso: str) -> float:
    try:
        return datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return 0.0


def verify(study: Study) -> list[RecordingState]:
    """Every recording's sha256 against its record; results recorded in the audit trail."""
    states = []
    for interview in study.interviews():
        if not interview.has_audio:
            continue
        path = _stored(study, interview)
        if not path.is_file():
            states.append(RecordingState(interview.id, "missing",
                                         f"{path.name} is not in {path.parent}"))
            continue
        info = path.stat()
        sha = files.sha256_file(study.audio_path(interview.id))
        ok = sha == interview.audio_sha256
        with study.ledger.tx():
            study.ledger.audit("audio.verify", interview.id, ok=ok, sha256=sha, size=info.st_size,
                         mtime_ns=info.st_mtime_ns)
        recorded = str(interview.audio_sha256)[:12]
        states.append(RecordingState(
            interview.id, "ok" if ok else "altered",
            "" if ok else f"sha256 {sha[:12]}… differs from the {recorded}… recorded at import"))
    return states


def changed_since_import(study: Study, iid: str) -> str | None:
    """The recording's sha256 when it differs from the one recorded at import, else None."""
    interview = study.interview(iid)
    sha = files.sha256_file(study.audio_path(iid))
    return None if sha == interview.audio_sha256 else sha


def accept_changed(study: Study, iid: str, sha: str) -> None:
    """The user has checked the changed recording: it becomes the reference (audited)."""
    interview = study.interview(iid)
    info = _stored(study, interview).stat()
    with study.ledger.tx() as conn:
        conn.execute("UPDATE interviews SET audio_sha256 = ? WHERE id = ?", (sha, iid))
        study.ledger.audit("audio.accept", iid, previous=interview.audio_sha256, sha256=sha,
                     size=info.st_size, mtime_ns=info.st_mtime_ns)


def partial_name(pid: int | None = None) -> str:
    """The prefix of a staged import's temporary name: it carries the importer's pid."""
    return f".import-{os.getpid() if pid is None else pid}-"


def _alive(pid: int) -> bool:
    return pid == os.getpid() or alive(pid)


def sweep_partials(study_dir: Path) -> list[Partial]:
    """Remove half-copied imports whose process died; returns every partial found."""
    found = []
    for path in sorted((Path(study_dir) / files.AUDIO_DIR).glob(".import-*.partial")):
        match = PARTIAL_PID.match(path.name)
        try:
            size = path.stat().st_size
        except OSError:
            continue
        if match is not None:
            alive = _alive(int(match.group(1)))
        else:  # a name from before pids were recorded: the old age rule
            alive = path.stat().st_mtime > datetime.now().timestamp() - \
                files.STALE_PARTIAL_SECONDS
        if not alive:
            with contextlib.suppress(OSError):
                path.chmod(0o600)
                path.unlink()
        found.append(Partial(path, size, alive))
    return found


def summary_lines(study: Study) -> list[str]:
    """What ``study info`` (and the app's home screen) say about the recordings."""
    lines = []
    states = check(study)
    missing = [s.interview for s in states if s.state == "missing"]
    changed = [s.interview for s in states if s.state == "changed"]
    if missing:
        lines.append(f"recordings MISSING from audio/: {', '.join(missing)}")
    if changed:
        lines.append(f"recordings changed since import: {', '.join(changed)} (run 'verbatim "
                     "study verify' to compare checksums)")
    partials = sweep_partials(study.path)
    live = [p for p in partials if p.alive]
    removed = [p for p in partials if not p.alive]
    if live:
        size = sum(p.size for p in live) / 1e6
        lines.append(f"imports in progress: {len(live)} ({size:.1f} MB copied so far)")
    if removed:
        size = sum(p.size for p in removed) / 1e6
        lines.append(f"removed {len(removed)} half-copied import(s) left by an interrupted "
                     f"'interview add' ({size:.1f} MB)")
    return lines


def clean_stale_partials(study_dir: Path, *,
                         older_than: float = files.STALE_PARTIAL_SECONDS) -> int:
    """Remove half-copied imports left by a crash; returns how many were removed."""
    removed = sum(not p.alive for p in sweep_partials(study_dir))  # dead importers' copies
    cutoff = time.time() - older_than
    for partial in (study_dir / files.AUDIO_DIR).glob(".import-*.partial"):
        try:
            if partial.stat().st_mtime < cutoff:
                partial.chmod(0o600)
                partial.unlink()
                removed += 1
        except OSError:
            continue  # another program finished or removed it meanwhile
    return removed
