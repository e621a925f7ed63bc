"""A study's interviews as a batch: which are pending, how each is read and saved.

Both doors come here: ``verbatim batch`` and the app's "transcribe all
pending" (jobs screen). Reading goes through ``verbatim.study.files`` (an
encrypted study's recording is decrypted in memory), saving through
``verbatim.usecases.saving.save_or_keep``, in the caller's process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from verbatim.batch.runner import BatchEvent, BatchItem, BatchSummary, SaveResult, run_batch
from verbatim.errors import UserError

if TYPE_CHECKING:  # pragma: no cover
    from transcribe.pipeline import PipelineOptions
    from verbatim.study import Study


def pending_interviews(study: Study) -> list[str]:
    """Interviews with a recording, not locked and not yet transcribed, in study order."""
    return [i.id for i in study.interviews()
            if i.audio_file and not i.audio_deleted_at and not i.locked
            and i.current_version is None]


def study_items(study: Study, ids: list[str], options: PipelineOptions, *, pending: bool,
                ) -> tuple[list[BatchItem], SaveResult, list[str]]:
    """(items, save, skipped lines) for ``ids`` plus, with ``pending``, every pending one."""
    from verbatim.study import StudyError, files
    from verbatim.usecases.saving import check_transcribable, save_or_keep

    wanted = list(dict.fromkeys([*ids, *(pending_interviews(study) if pending else [])]))
    items: list[BatchItem] = []
    skipped: list[str] = []
    for iid in wanted:
        try:
            interview = check_transcribable(study, iid)
        except StudyError:
            raise  # no such interview, a locked study: the whole request is wrong
        except UserError as exc:  # locked transcript: this one only
            skipped.append(f"{iid:<10} skipped  {exc}")
            continue
        name = interview.audio_file or ""

        def load(name: str = name) -> bytes:
            with files.open_audio(study.path, name) as fh:  # decrypted in memory if need be
                return fh.read()

        items.append(BatchItem(iid, interview.audio_duration or 0.0, load))

    def save(item: BatchItem, doc: Any, result: Any) -> str:
        # a full disk keeps the finished transcript aside, as 'transcribe P4-1' does
        version = save_or_keep(study, item.key, doc, options,
                               where=f"batch on {result.worker}")
        return f"version {version}, {len(doc.words)} words"

    return items, save, skipped


def transcribe_pending(study: Study, options: PipelineOptions, *, workers: int | None = None,
                       report: Callable[[BatchEvent], None] | None = None,
                       cancel: threading.Event | None = None) -> BatchSummary:
    """Transcribe every pending interview on local worker processes; saved one by one here."""
    import dataclasses

    from verbatim.batch.backends import LocalBackend
    from verbatim.batch.cluster import cores, local_workers

    items, save, _ = study_items(study, [], options, pending=True)
    if not items:
        return BatchSummary(backend="nothing pending")
    count = min(local_workers(workers), len(items))
    options = dataclasses.replace(options, threads=options.threads or max(1, cores() // count))
    return run_batch(items, LocalBackend(count), options, save=save, report=report,
                     cancel=cancel, in_flight=count)
