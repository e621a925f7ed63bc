"""The jobs screen's "transcribe all pending" (a): the same use case as ``verbatim batch``.

The worker processes are replaced by an in-process backend that returns a
fixed document, so the real ``verbatim.batch.study`` path (pending list,
reading the recording, saving the version) runs without models.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any, ClassVar

import pytest

from transcript.document import dumps
from verbatim.batch.task import TaskRequest, TaskResult
from verbatim.study import Study
from verbatim.tui.screens.jobs import JobsScreen

from .conftest import make_doc
from .test_screens import SIZE, press_for, wait_for

pytestmark = pytest.mark.ui


class InProcessBackend:
    """Plays the local worker processes: every task answers at once with a document."""

    description = "in-process"
    retries_lost = True
    progress_channel: str | None = None
    requests: ClassVar[list[TaskRequest]] = []

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def submit(self, request: TaskRequest) -> Any:
        InProcessBackend.requests.append(request)
        future: Future[TaskResult] = Future()
        future.set_result(TaskResult(request.key, dumps(make_doc(2)).encode(), False, 0.1,
                                     1.0, "test:1"))
        return future

    def wait_any(self, handles: Any, timeout: float) -> set[Any]:
        return {h for h in handles if h.done()}

    def progress(self) -> list[tuple[str, str, float]]:
        return []

    def result(self, handle: Any) -> TaskResult:
        result: TaskResult = handle.result()
        return result

    def restart(self) -> None:
        pass

    def close(self, *, cancel: bool = False) -> None:
        pass


async def test_a_transcribes_every_pending_interview_through_the_batch_use_case(
        make_app: Any, study: Study, monkeypatch: pytest.MonkeyPatch) -> None:
    from verbatim.batch import backends

    monkeypatch.setattr(backends, "LocalBackend", InProcessBackend)
    InProcessBackend.requests = []
    app = make_app(pipeline_options=lambda c: _options())
    async with app.run_test(size=SIZE) as pilot:
        await press_for(pilot, "ctrl+o", JobsScreen)
        await pilot.press("a")
        await wait_for(pilot, lambda: 1 in app.jobs and app.jobs[1].state == "done")
    assert [r.key for r in InProcessBackend.requests] == ["P1-2"]  # P1-1 was transcribed
    assert InProcessBackend.requests[0].audio == study.audio_path("P1-2").read_bytes()
    versions = study.versions("P1-2")
    assert len(versions) == 1 and "batch on test:1" in versions[0].description
    doc = study.transcript("P1-2")
    assert doc is not None and doc.audio.path.startswith("audio/")


def _options() -> Any:
    from transcribe.pipeline import PipelineOptions

    return PipelineOptions(diarize="none")
