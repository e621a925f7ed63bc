"""Record an interview: device, live levels, elapsed, disk left, dropouts, the schedule.

The recorder (``capture.recorder.Recorder``) runs in its own threads and is
owned by the app: this screen only polls ``latest_level()`` and ``status()``
(both non-blocking) about 15 times a second. Leaving the screen, or a crash
of the UI, does not stop the recording; the app finishes the file on exit.
Opening the recorder (which waits for the device's first audio), stopping it
(the last segment sealed in an encrypted study) and adding the recording to
the study run in workers, as does reading the schedule: keys and levels stay live.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Label, Select, SelectionList, Static

from verbatim.tui.background import in_background
from verbatim.tui.layout import format_time
from verbatim.tui.messages import StudyChanged
from verbatim.tui.screens.dialogs import PromptDialog
from verbatim.tui.widgets.level_meter import LevelMeter
from verbatim.usecases.recording import add_recording, new_recording_path, recorder_class

POLL_SECONDS = 1 / 15


def read_schedule(study: Any) -> list[str]:
    """The study's interview schedule (schedule.txt in the study folder, one per line).

    A study without one shows none: a made-up schedule nobody wrote would mislead.
    """
    if getattr(study, "path", None) is None:
        return []
    path = Path(study.path) / "schedule.txt"
    try:
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
    except OSError:
        return []
    return [ln for ln in lines if ln and not ln.startswith("#")]


def disk_text(seconds: float | None) -> str:
    if seconds is None:
        return "disk: ?"
    minutes = seconds / 60
    return f"disk: {minutes:,.0f} min left" if minutes < 6000 else "disk: >100 h left"


class RecordScreen(Screen[None]):
    """The interviewer's screen on site."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        # priority: these keys must work whichever widget has focus (the device picker too)
        Binding("space", "start_pause", "Start/pause", priority=True),
        Binding("s", "stop", "Stop", priority=True),
        Binding("m", "mark", "Mark", priority=True),
        Binding("M", "mark_text", "Mark+text", priority=True),
    ]

    def __init__(self, participant: str | None = None) -> None:
        super().__init__()
        self.participant = participant
        self._meters = 0
        self._starting = False
        self.schedule: list[str] | None = None
        """The study's schedule once read (None until then)."""

    @property
    def app_(self) -> Any:
        return self.app

    def compose(self) -> ComposeResult:
        who = f"interview with {self.participant}" if self.participant else "new recording"
        yield Label(f"Record · {who}", classes="section", markup=False)
        with Horizontal(id="record-body"):
            with Vertical(id="record-left"):
                options = self._device_options()
                yield Select(options, prompt="default input device", id="device",
                             value=self._default_device if self._default_device is not None
                             else Select.NULL)
                yield Select([("mono", 1), ("stereo (2 mics)", 2)], value=1,
                             allow_blank=False, id="channels")
                yield Vertical(id="meters")
                yield Static("idle · press space to start", id="record-state", markup=False)
                yield Static("", id="record-stats", markup=False)
                yield Static("", id="record-marks", markup=False)
            with Vertical(id="record-right"):
                yield Label("Schedule", id="schedule-title")
                yield SelectionList[int](id="schedule")
        yield Footer(compact=True)

    def _device_options(self) -> list[tuple[str, Any]]:
        lister = self.app_.device_lister
        try:
            if lister is None:
                from capture.devices import list_input_devices

                lister = list_input_devices
            devices = lister()
        except Exception as exc:
            self._device_error = str(exc)
            self._default_device = None
            return []
        self._device_error = "" if devices else "no input devices found"
        self._default_device = next((d.index for d in devices if d.is_default), None)
        return [(f"{d.index}: {d.name}"[:40], d.index) for d in devices]

    def on_mount(self) -> None:
        if self._device_error:
            self.query_one("#record-state", Static).update(
                f"no microphone: {self._device_error}")
        recorder = self.app_.recorder
        self._show_meters(recorder.channels if recorder is not None else 1)
        self.set_interval(POLL_SECONDS, self._poll)
        study = self.app_.study
        in_background(self, lambda: read_schedule(study), self._show_schedule,
                      group="record-schedule")

    def _show_schedule(self, schedule: list[str]) -> None:
        self.schedule = schedule
        self.query_one("#schedule-title", Label).update(
            "Schedule (enter ticks)" if schedule else
            "No interview schedule: write one question per line in "
            "schedule.txt in the study folder")
        self.query_one("#schedule", SelectionList).add_options(
            [(q, i) for i, q in enumerate(schedule)])

    def _show_meters(self, channels: int) -> None:
        if channels == self._meters:
            return
        box = self.query_one("#meters", Vertical)
        box.remove_children()
        names = ["L", "R"] if channels == 2 else ["in"]
        box.mount_all(LevelMeter(name.ljust(2), id=f"meter-{i}") for i, name in enumerate(names))
        self._meters = channels

    def on_select_changed(self, event: Select.Changed) -> None:
        if (event.select.id == "channels" and self.app_.recorder is None
                and isinstance(event.value, int)):
            self._show_meters(event.value)

    # ------------------------------------------------------------ polling

    def _poll(self) -> None:
        recorder = self.app_.recorder
        if recorder is None:
            return
        level = recorder.latest_level()
        if level is not None:
            for i, (rms, peak) in enumerate(zip(level.rms_dbfs, level.peak_dbfs, strict=False)):
                meters = list(self.query(LevelMeter))
                if i < len(meters):
                    meters[i].set_level(rms, peak)
        status = recorder.status()
        self.query_one("#record-state", Static).update(
            f"{status.state} · {format_time(status.elapsed)}"
            + (f" · {status.error}" if status.error else ""))
        self.query_one("#record-stats", Static).update(
            f"{disk_text(status.disk_seconds_left)} · dropouts: {status.dropouts}"
            + (f" ({status.dropped_seconds:.1f} s)" if status.dropouts else ""))
        if status.state in ("stopped", "failed") and status.error:
            self.notify(f"recording stopped: {status.error}", severity="error", timeout=15)
            self._finish()

    # ------------------------------------------------------------ keys

    def _study_dir(self) -> Path | None:
        path = getattr(self.app_.study, "path", None)
        return Path(path) if path is not None else None

    def _new_path(self) -> Path:
        return new_recording_path(self._study_dir() or self.app_.config.data_dir,
                                  self.participant)

    def action_start_pause(self) -> None:
        recorder = self.app_.recorder
        if recorder is None:
            if not self._starting:
                self._start()
            return
        state = recorder.status().state
        if state == "recording":
            recorder.pause()
        elif state == "paused":
            recorder.resume()

    def _start(self) -> None:
        device = self.query_one("#device", Select).value
        value = self.query_one("#channels", Select).value
        channels = value if isinstance(value, int) else 1
        app = self.app_
        study_dir = self._study_dir()
        path = self._new_path()
        chosen = device if isinstance(device, int) else None  # None: the default input

        def start() -> Any:
            """Worker thread: the file, the device, and its first audio (up to 5 s)."""
            factory = app.recorder_factory or recorder_class(study_dir)
            recorder = factory(path, device=chosen, channels=channels)
            recorder.start()
            return recorder

        def started(recorder: Any) -> None:
            self._starting = False
            app.recorder = recorder  # the app's, even if this screen was left meanwhile
            if self.is_attached:
                self._show_meters(channels)

        def failed(exc: Exception) -> None:
            self._starting = False
            if self.is_attached:
                self.query_one("#record-state", Static).update("idle · press space to start")
            app.notify(f"cannot record: {exc}", severity="error", timeout=10)

        self._starting = True
        self.query_one("#record-state", Static).update("opening the microphone …")
        # on the app, not this screen: a recorder once started must always reach app.recorder
        in_background(app, start, started, otherwise=failed, group="record-start")

    def action_mark(self, text: str = "") -> None:
        recorder = self.app_.recorder
        if recorder is None:
            self.notify("start recording first", severity="warning")
            return
        at = recorder.mark(text)
        shown = self.query_one("#record-marks", Static)
        line = f"mark at {format_time(at)}" + (f": {text}" if text else "")
        shown.update(line)
        self.notify(line)

    def action_mark_text(self) -> None:
        if self.app_.recorder is None:
            self.notify("start recording first", severity="warning")
            return

        def done(text: str | None) -> None:
            if text is not None:
                self.action_mark(text.strip())

        self.app.push_screen(PromptDialog("Mark this moment (a few words)"), done)

    def action_stop(self) -> None:
        if self.app_.recorder is None:
            return
        self._finish()

    def _finish(self) -> None:
        app = self.app_
        recorder, app.recorder = app.recorder, None
        if recorder is None:
            return
        for meter in self.query(LevelMeter):
            meter.set_level(-60.0, -60.0)
        self.query_one("#record-state", Static).update("stopping …")
        study = app.study
        participant = self.participant
        # on the app, not this screen: leaving the screen must not drop the recording
        app.run_worker(lambda: self._stop_and_add(recorder, study, participant), thread=True,
                       group="record", exit_on_error=False)

    def _stop_and_add(self, recorder: Any, study: Any, participant: str | None) -> None:
        """Worker thread: finish (and seal) the file, then add it to the study."""
        app = self.app_
        try:
            summary = recorder.stop()
        except Exception as exc:
            app.call_from_thread(app.notify, f"the recording did not finish cleanly: {exc}",
                                 severity="error", timeout=15)
            return
        app.call_from_thread(self._stopped, summary)
        if study is None or participant is None:
            app.call_from_thread(app.notify, f"saved {summary.path}")
            return
        app.call_from_thread(app.notify, "adding the recording to the study ...")
        self._add(study, Path(summary.path))

    def _stopped(self, summary: Any) -> None:
        if self.is_attached:
            self.query_one("#record-state", Static).update(
                f"saved {summary.path.name} · {format_time(summary.duration)}")

    def _add(self, study: Any, path: Path) -> None:
        """Worker thread: join (encrypted), copy, hash and add; then tidy recordings/."""
        app = self.app_
        try:
            added = add_recording(study, str(self.participant), path, remove_source=True)
        except Exception as exc:
            app.call_from_thread(app.notify, f"saved {path}, but not added to the study: {exc}",
                                 severity="error", timeout=15)
            return
        marks = (f" with {added.live_marks} live mark(s) as notes to complete"
                 if added.live_marks else "")
        app.call_from_thread(app.notify, f"saved as interview {added.interview}{marks}: "
                                         "press t on the study home to transcribe")
        app.call_from_thread(app.broadcast, StudyChanged(added.interview))

    def action_back(self) -> None:
        if self.app_.recorder is not None:
            self.notify("still recording in the background: r on the study home returns here")
        self.dismiss(None)
