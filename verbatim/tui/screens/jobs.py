"""Background transcriptions: progress bars, estimates, cancel, errors in plain words."""

from __future__ import annotations

import time
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Label, ProgressBar, Static

from verbatim.tui.messages import JobFinished, JobProgress


def describe(job: Any, now: float) -> str:
    """One line: interview, stage, and the estimate or the outcome."""
    if job.state == "failed":
        return f"{job.interview}: failed: {job.error}"
    if job.state in ("done", "cancelled"):
        return f"{job.interview}: {job.state}"
    eta = job.eta_seconds(now)
    left = f" · about {int(eta // 60)}:{int(eta % 60):02d} left" if eta is not None else ""
    return f"{job.interview}: {job.stage}{left}"


class JobRow(Vertical):
    """A job's line and, under it, its progress bar."""

    def __init__(self, job: Any) -> None:
        super().__init__(id=f"job-{job.id}", classes="job")
        self.job = job

    def compose(self) -> ComposeResult:
        yield Static(describe(self.job, time.monotonic()), classes="job-text", markup=False)
        yield ProgressBar(total=1.0, show_eta=False, id=f"bar-{self.job.id}")

    def refresh_job(self, now: float) -> None:
        self.query_one(ProgressBar).update(progress=self.job.fraction)
        self.query_one(".job-text", Static).update(describe(self.job, now))
        self.set_class(self.job.state == "failed", "-failed")


class JobsScreen(Screen[None]):
    """Every transcription of this session; c cancels the selected running one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"), Binding("c", "cancel_job", "Cancel job"),
        Binding("a", "transcribe_pending", "Transcribe all pending"),
                Binding("up,k", "select(-1)", "Up", show=False),
                Binding("down,j", "select(1)", "Down", show=False)]

    def __init__(self) -> None:
        super().__init__()
        self.selected = 0

    def compose(self) -> ComposeResult:
        yield Label("Transcription jobs (they keep running when you leave this screen)",
                    classes="section")
        yield VerticalScroll(id="jobs")
        yield Static("No jobs yet: on the study home, select an interview and press t.",
                     id="no-jobs")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._sync()
        self.set_interval(1.0, self._tick)

    @property
    def _jobs(self) -> list[Any]:
        return list(self.app.jobs.values())  # type: ignore[attr-defined]

    def _sync(self) -> None:
        box = self.query_one("#jobs", VerticalScroll)
        shown = {row.job.id for row in box.query(JobRow)}
        for job in self._jobs:
            if job.id not in shown:
                box.mount(JobRow(job))
        self.query_one("#no-jobs").display = not self._jobs
        self.call_after_refresh(self._tick)

    def _tick(self) -> None:
        now = time.monotonic()
        rows = list(self.query(JobRow))
        for i, row in enumerate(rows):
            row.refresh_job(now)
            row.set_class(i == self.selected, "-selected")

    def on_app_event(self, message: Any) -> None:
        if isinstance(message, (JobProgress, JobFinished)):
            self._sync()

    def action_select(self, delta: int) -> None:
        if self._jobs:
            self.selected = max(0, min(self.selected + delta, len(self._jobs) - 1))
            self._tick()

    def action_cancel_job(self) -> None:
        jobs = self._jobs
        if not jobs:
            return
        job = jobs[min(self.selected, len(jobs) - 1)]
        if job.state != "running":
            self.notify(f"{job.interview} is not running")
            return
        self.app.cancel_job(job.id)  # type: ignore[attr-defined]
        self._tick()

    def action_transcribe_pending(self) -> None:
        self.app.start_pending_batch()  # type: ignore[attr-defined]
        self._sync()

    def action_back(self) -> None:
        self.dismiss(None)
