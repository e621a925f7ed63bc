"""The Verbatim terminal app: study home, recording, background jobs, the editor.

The app holds what outlives a screen: the open study, the background
transcription jobs and the recorder. Everything it needs from outside (the
config, the study, how to record, transcribe and play) is passed in, so tests
drive the real screens with a fake microphone or a fake pipeline.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from transcribe.progress import CEILING, Tick
from verbatim.config import Config
from verbatim.errors import UserError
from verbatim.tui.messages import JobFinished, JobProgress, StudyChanged

JobRunner = Callable[..., Any]
"""``run_transcription_job(path, options, out_path, *, progress, cancel) -> Transcript``."""


@dataclass
class Job:
    """A background transcription as the jobs screen shows it."""

    id: int
    interview: str
    stage: str = "queued"
    fraction: float = 0.0
    state: str = "running"  # running | done | failed | cancelled
    error: str = ""
    seconds_left: float | None = None
    """Measured by the progress tracker; None until there is a rate to go on."""
    reported: float = field(default_factory=time.monotonic)
    cancel: threading.Event = field(default_factory=threading.Event)

    def eta_seconds(self, now: float) -> float | None:
        """The tracker's time left, counted down since its last report."""
        if self.state != "running" or self.seconds_left is None:
            return None
        return max(self.seconds_left - (now - self.reported), 0.0)


class VerbatimApp(App[None]):
    """Record, transcribe, edit with playback, annotate, cite and export interviews."""

    CSS_PATH = "app.tcss"
    TITLE = "Verbatim"
    ENABLE_COMMAND_PALETTE = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help"),
        Binding("ctrl+o", "jobs", "Jobs", show=False),
        Binding("ctrl+q", "quit", "Quit", priority=True, show=False),
    ]

    def __init__(self, config: Config, *, study: Any = None, study_note: str = "",
                 job_runner: JobRunner | None = None,
                 recorder_factory: Callable[..., Any] | None = None,
                 device_lister: Callable[[], list[Any]] | None = None,
                 player_factory: Callable[..., Any] | None = None,
                 pipeline_options: Callable[[Config], Any] | None = None) -> None:
        super().__init__()
        self.config = config
        self.study = study
        self.study_note = study_note
        """One line shown on the home screen ("demo study: ..."), or ""."""
        self.job_runner = job_runner
        """Tests pass a fake; None runs the real worker process (``transcribe.jobs``)."""
        if job_runner is None:
            _start_resource_tracker()
        self.recorder_factory = recorder_factory
        self.device_lister = device_lister
        self.player_factory = player_factory
        self.pipeline_options = pipeline_options or _pipeline_options
        self.jobs: dict[int, Job] = {}
        self._crash: BaseException | None = None
        self.recorder: Any = None
        """The live recorder, owned by the app so leaving the record screen never stops it."""

    def notify(self, message: str, *, title: str = "", severity: Any = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Every message here may quote transcript text ("[laughs]", "[team??]"): never markup."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    # ------------------------------------------------------------ screens

    def on_mount(self) -> None:
        from verbatim.tui.screens.home import HomeScreen

        self.push_screen(HomeScreen())

    def action_help(self) -> None:
        from verbatim.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_jobs(self) -> None:
        from verbatim.tui.screens.jobs import JobsScreen

        if not isinstance(self.screen, JobsScreen):
            self.push_screen(JobsScreen())

    # The app makes the screens, so screens never import one another (no import circle).

    def editor_screen(self, interview: str) -> Screen[Any]:
        from verbatim.tui.screens.editor import EditorScreen

        return EditorScreen(interview)

    def notes_screen(self, interview: str | None) -> Screen[Any]:
        from verbatim.tui.screens.lists import NotesScreen

        return NotesScreen(interview) if interview is not None else NotesScreen()

    def extracts_screen(self, participant: str | None) -> Screen[Any]:
        from verbatim.tui.screens.lists import ExtractsScreen

        return ExtractsScreen(participant)

    def record_screen(self, participant: str | None) -> Screen[Any]:
        from verbatim.tui.screens.record import RecordScreen

        return RecordScreen(participant=participant)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help", "Keys and how the app works", self.action_help)
        yield SystemCommand("Jobs", "Background transcriptions", self.action_jobs)
        yield from getattr(screen, "palette_commands", lambda: ())()

    # ------------------------------------------------------------ jobs

    def start_transcription(self, interview: str) -> Job | None:
        """Transcribe an interview of the study in the background; returns the job.

        A locked interview, or one without its recording, is refused at once
        with the same message the command line gives.
        """
        if self.study is None:
            self.notify("no study is open", severity="error")
            return None
        running = [j for j in self.jobs.values()
                   if j.interview == interview and j.state == "running"]
        if running:
            self.notify(f"{interview} is already being transcribed")
            return running[0]
        from verbatim.usecases.transcription import check_transcribable

        try:
            check_transcribable(self.study, interview)
        except UserError as exc:  # locked, recording missing or changed since import
            self.notify(str(exc), severity="error", timeout=10)
            return None
        job = Job(id=len(self.jobs) + 1, interview=interview)
        self.jobs[job.id] = job
        self._run_job(job)
        self.notify(f"transcribing {interview} in the background (ctrl+o: jobs)")
        return job

    def study_config(self) -> Config:
        """The config with the open study as its study (whose enrolled voices a job uses)."""
        from verbatim.voices import study_config

        return self.config if self.study is None else study_config(self.config, self.study)

    def _run_job(self, job: Job) -> None:
        self.run_worker(lambda: self._transcribe(job), thread=True, group="transcribe",
                        exit_on_error=False, name=f"job-{job.id}")

    def _transcribe(self, job: Job) -> None:
        """Worker thread: the transcription use case; reports by messages only."""
        from verbatim.usecases.transcription import (
            TranscriptionCancelled,
            resumed_note,
            transcribe_interview,
        )

        def progress(tick: Tick) -> None:
            self.post_message(JobProgress(job.id, tick))

        try:
            options = self.pipeline_options(self.study_config())
            result = transcribe_interview(self.study, job.interview, options,
                                          progress=progress, cancel=job.cancel,
                                          runner=self.job_runner)
        except TranscriptionCancelled as exc:
            self.post_message(JobFinished(job.id, job.interview, str(exc), cancelled=True))
            return
        except Exception as exc:  # every failure becomes one line on the jobs screen
            self.post_message(JobFinished(job.id, job.interview, str(exc) or type(exc).__name__,
                                          cancelled=job.cancel.is_set()))
            return
        model = str(result.document.extra.get("pipeline", {}).get("model", ""))
        self.post_message(JobFinished(job.id, job.interview, model=model,
                                      resumed=resumed_note(result.document)))

    def start_pending_batch(self) -> Job | None:
        """Transcribe every pending interview on local worker processes, as one job.

        The same use case as ``verbatim batch --pending`` (``verbatim.batch.study``).
        """
        if self.study is None:
            self.notify("no study is open", severity="error")
            return None
        job = Job(id=len(self.jobs) + 1, interview="all pending")
        self.jobs[job.id] = job

        def run() -> None:
            from verbatim.batch.study import transcribe_pending

            def report(event: Any) -> None:
                fraction = (event.done_seconds / event.total_seconds if event.total_seconds
                            else event.done_items / max(1, event.total_items))
                self.post_message(JobProgress(job.id, Tick(
                    f"{event.done_items}/{event.total_items} saved", min(fraction, CEILING))))

            try:
                summary = transcribe_pending(self.study, self.pipeline_options(self.study_config()),
                                             report=report, cancel=job.cancel)
            except Exception as exc:  # one line on the jobs screen, like any job
                self.post_message(JobFinished(job.id, job.interview, str(exc)))
                return
            failed = "; ".join(f"{k}: {v}" for k, v in summary.failed.items()) or None
            self.post_message(JobFinished(job.id, job.interview, failed,
                                          cancelled=summary.cancelled))

        self.run_worker(run, thread=True, group="transcribe", exit_on_error=False,
                        name=f"job-{job.id}")
        self.notify("transcribing all pending interviews in the background")
        return job

    def on_job_progress(self, message: JobProgress) -> None:
        job = self.jobs.get(message.job)
        tick = message.tick
        if job and job.state == "running":
            job.stage = tick.stage
            job.fraction = max(job.fraction, min(tick.fraction, 1.0))  # never backwards
            job.seconds_left = tick.seconds_left
            job.reported = time.monotonic()
        self.broadcast(message)

    def on_job_finished(self, message: JobFinished) -> None:
        job = self.jobs.get(message.job)
        if job:
            if message.cancelled:
                job.state, job.stage = "cancelled", "cancelled"
            elif message.error:
                job.state, job.error = "failed", message.error
            else:
                job.state, job.fraction, job.stage = "done", 1.0, "done"
        if message.cancelled:
            self.notify(f"{message.interview}: transcription cancelled")
        elif message.error:
            self.notify(f"{message.interview}: {message.error}", severity="error", timeout=10)
        else:
            made = f" with {message.model}" if message.model else ""
            self.notify(f"{message.interview} is transcribed{made}{message.resumed}: "
                        "open it from the study home")
        self.broadcast(message)
        self.broadcast(StudyChanged(message.interview))

    def cancel_job(self, job_id: int) -> None:
        job = self.jobs.get(job_id)
        if job and job.state == "running":
            job.cancel.set()
            job.stage = "cancelling"

    def broadcast(self, message: Any) -> None:
        """Hand an app event to every screen on the stack (those underneath refresh too)."""
        for screen in self.screen_stack:
            handler = getattr(screen, "on_app_event", None)
            if handler is not None:
                handler(message)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that died with an exception is a bug: say so plainly, keep running."""
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            err = event.worker.error
            self.notify(f"{type(err).__name__}: {err}", severity="error", timeout=10)

    # ------------------------------------------------------------ safety

    def _handle_exception(self, error: Exception) -> None:
        """A crash in the UI must not cost the recording: finish the file first."""
        self.stop_recorder_quietly()
        self._crash = error
        super()._handle_exception(error)

    def _fatal_error(self) -> None:
        """A bug: one line on the terminal, the stack frames (no locals) to the crash log.

        Textual's own report is a traceback with local variables, which can put
        a line of transcript or note text into the terminal and its scrollback.
        """
        from rich.text import Text

        from verbatim.errors import crash_line, write_crash_log

        error: BaseException = self._crash or RuntimeError("unknown")
        error = getattr(error, "error", error)  # a failed worker's own exception
        self.bell()
        line = crash_line("verbatim", error, write_crash_log(self.config.log_dir, error))
        self.panic(Text(line))

    def stop_recorder_quietly(self) -> Any:
        recorder, self.recorder = self.recorder, None
        if recorder is None:
            return None
        try:
            return recorder.stop()
        except Exception:
            return None

    async def action_quit(self) -> None:
        if self.recorder is not None:
            from verbatim.tui.screens.dialogs import ConfirmDialog

            def answer(yes: bool | None) -> None:
                if yes:
                    self.stop_recorder_quietly()
                    self.exit()

            self.push_screen(ConfirmDialog("A recording is running. Stop it and quit?"), answer)
            return
        for job in self.jobs.values():
            job.cancel.set()
        self.exit()


def _start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker while sys.stderr is still the real one.

    The pipeline's worker process is spawned from a thread while the app runs,
    and Textual's stand-in stderr has no file descriptor (fileno() is -1): a
    tracker started then fails with "bad value(s) in fds_to_keep".
    """
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()


def _pipeline_options(config: Config) -> Any:
    from verbatim.usecases.options import pipeline_options

    return pipeline_options(config)
