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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from verbatim.config import Config
from verbatim.tui.messages import JobFinished, JobProgress, StudyChanged

# Share of a transcription's time each pipeline stage takes (measured roughly on this kind
# of CPU: ASR dominates, then diarisation); turns per-stage progress into one bar.
STAGE_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("load", 0.05), ("vad", 0.10), ("asr", 0.55), ("diarise", 0.25), ("marks", 0.05))


def overall_fraction(stage: str, fraction: float) -> float:
    """How far the whole job is, from the pipeline's (stage, fraction-of-stage) report."""
    done = 0.0
    for name, weight in STAGE_WEIGHTS:
        if name == stage:
            return min(done + weight * max(0.0, min(fraction, 1.0)), 1.0)
        done += weight
    return max(0.0, min(fraction, 1.0))  # a stage this version does not know


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
    started: float = field(default_factory=time.monotonic)
    cancel: threading.Event = field(default_factory=threading.Event)

    def eta_seconds(self, now: float) -> float | None:
        """A simple linear estimate of the time left, once there is progress to go on."""
        if self.state != "running" or self.fraction < 0.02:
            return None
        elapsed = now - self.started
        return elapsed * (1.0 - self.fraction) / self.fraction


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

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help", "Keys and how the app works", self.action_help)
        yield SystemCommand("Jobs", "Background transcriptions", self.action_jobs)
        yield from getattr(screen, "palette_commands", lambda: ())()

    # ------------------------------------------------------------ jobs

    def start_transcription(self, interview: str) -> Job | None:
        """Transcribe an interview of the study in the background; returns the job."""
        if self.study is None:
            self.notify("no study is open", severity="error")
            return None
        running = [j for j in self.jobs.values()
                   if j.interview == interview and j.state == "running"]
        if running:
            self.notify(f"{interview} is already being transcribed")
            return running[0]
        job = Job(id=len(self.jobs) + 1, interview=interview)
        self.jobs[job.id] = job
        self._run_job(job)
        self.notify(f"transcribing {interview} in the background (ctrl+o: jobs)")
        return job

    def _run_job(self, job: Job) -> None:
        self.run_worker(lambda: self._transcribe(job), thread=True, group="transcribe",
                        exit_on_error=False, name=f"job-{job.id}")

    def _transcribe(self, job: Job) -> None:
        """Worker thread: run the pipeline, save the result, report by messages only."""
        try:
            audio = Path(self.study.audio_path(job.interview))
            runner = self.job_runner or _default_job_runner()
            options = self.pipeline_options(self.config)
            out_dir = _job_dir(self.study, self.config)
            out = out_dir / f"{job.interview}.json"

            def progress(stage: str, fraction: float) -> None:
                self.post_message(JobProgress(job.id, stage, overall_fraction(stage, fraction)))

            doc = runner(audio, options, out, progress=progress, cancel=job.cancel)
            model = str(doc.extra.get("pipeline", {}).get("model", ""))
            self.study.save_transcript(job.interview, doc, origin="pipeline",
                                       description="transcribed in the app"
                                       + (f" with {model}" if model else ""))
            out.unlink(missing_ok=True)
        except Exception as exc:  # every failure becomes one line on the jobs screen
            cancelled = job.cancel.is_set() or type(exc).__name__ == "JobCancelled"
            self.post_message(JobFinished(job.id, job.interview, str(exc) or type(exc).__name__,
                                          cancelled=cancelled))
            return
        self.post_message(JobFinished(job.id, job.interview, model=model))

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
                self.post_message(JobProgress(job.id, f"{event.done_items}/{event.total_items}"
                                              " saved", fraction))

            try:
                summary = transcribe_pending(self.study, self.pipeline_options(self.config),
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
        if job and job.state == "running":
            job.stage = message.stage
            job.fraction = max(job.fraction, min(message.fraction, 1.0))  # never backwards
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
            self.notify(f"{message.interview} is transcribed{made}: open it from the study home")
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


def _default_job_runner() -> JobRunner:
    from transcribe.jobs import run_transcription_job

    return run_transcription_job


def _pipeline_options(config: Config) -> Any:
    try:
        from transcribe.pipeline import PipelineOptions
    except ImportError:
        raise RuntimeError("transcription is not available in this installation") from None
    from verbatim.voices import diarization_settings

    return PipelineOptions(engine=config.engine, model=config.model, diarize=config.diarize,
                           language=config.language, models_dir=config.models_dir,
                           device=config.device, diarization=diarization_settings(config))


def _job_dir(study: Any, config: Config) -> Path:
    base = getattr(study, "path", None) or config.data_dir
    out = Path(base) / "jobs"
    out.mkdir(parents=True, exist_ok=True)
    return out


def with_study(config: Config, study: Any) -> Config:
    """The config with the open study recorded (for screens that show where it lives)."""
    path = getattr(study, "path", None)
    return replace(config, study=Path(path)) if path else config
