"""The jobs screen's "transcribe all pending" (a): the same use case as ``verbatim batch``.

The worker processes are replaced by an in-process backend
(tests/fixtures/batch_backend.py) that answers with a fixed document, so the real
``verbatim.batch.study`` path (pending list, reading the recording, saving the
version) runs without models.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.batch_backend import ScriptedBackend
from transcript.document import dumps
from verbatim.study import Study
from verbatim.tui.screens.jobs import JobsScreen

from .conftest import make_doc
from .test_screens import SIZE, press_for, wait_for

pytestmark = pytest.mark.ui


async def test_a_transcribes_every_pending_interview_through_the_batch_use_case(
        make_app: Any, study: Study, monkeypatch: pytest.MonkeyPatch) -> None:
    from verbatim.batch import backends

    backend = ScriptedBackend(document=lambda key: dumps(make_doc(2)).encode())
    monkeypatch.setattr(backends, "LocalBackend", lambda workers: backend)
    app = make_app(pipeline_options=lambda c: _options())
    async with app.run_test(size=SIZE) as pilot:
        await press_for(pilot, "ctrl+o", JobsScreen)
        await pilot.press("a")
        await wait_for(pilot, lambda: 1 in app.jobs and app.jobs[1].state == "done")
    assert backend.submitted == ["P1-2"]  # P1-1 was transcribed
    assert backend.requests[0].audio == study.audio_path("P1-2").read_bytes()
    versions = study.versions("P1-2")
    assert len(versions) == 1 and "batch on w:1" in versions[0].description
    doc = study.transcript("P1-2")
    assert doc is not None and doc.audio.path.startswith("audio/")


def _options() -> Any:
    from transcribe.pipeline import PipelineOptions

    return PipelineOptions(diarize="none")
