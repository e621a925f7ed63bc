"""The study home: participants, their interviews and where each one stands.

What the home shows is read in one worker (``load_home``) and kept as a
``HomeData`` snapshot: moving between participants redraws from it, and
every change (a new participant, consent details) is written in a worker and
followed by a fresh load, so the UI thread never waits on the database.
(Just past 400 lines: the two tables, their loading worker and the participant and
consent forms are one screen.)
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label, Static

from verbatim.tui.background import fill_table, in_background
from verbatim.tui.messages import JobFinished, StudyChanged
from verbatim.tui.screens.dialogs import (
    FieldsDialog,
    InterviewDialog,
    ParticipantDialog,
)
from verbatim.tui.screens.export import open_export


def interview_status(interview: Any, running: set[str]) -> str:
    """recorded, transcribing, transcribed or locked: what to do next at a glance."""
    if interview.id in running:
        return "transcribing"
    if interview.locked_version is not None:
        return "locked"
    if interview.current_version is not None:
        return "transcribed"
    return "recorded" if interview.audio_file else "no audio"


def consent_of(interview: Any) -> str:
    form = getattr(interview, "consent_form", None)
    day = getattr(interview, "consent_date", None)
    if not form and not day:
        return "—"
    return " ".join(x for x in (form, day) if x)


@dataclass(frozen=True)
class HomeData:
    """Everything the home screen shows, read at once off the UI thread."""

    name: str = ""
    participants: tuple[Any, ...] = ()
    interviews: tuple[Any, ...] = ()
    notes: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Per interview: (notes, of them live marks still to write)."""

    def interview(self, iid: str) -> Any | None:
        return next((i for i in self.interviews if i.id == iid), None)

    def participant(self, pid: str) -> Any | None:
        return next((p for p in self.participants if p.id == pid), None)


def load_home(study: Any) -> HomeData:
    """Worker thread: the study's name, participants, interviews and note counts."""
    notes: dict[str, tuple[int, int]] = {}
    for note in study.notes():
        count, todo = notes.get(note.interview, (0, 0))
        notes[note.interview] = (count + 1, todo + bool(getattr(note, "to_complete", False)))
    return HomeData(name=study.name, participants=tuple(study.participants()),
                    interviews=tuple(study.interviews()), notes=notes)


def recording_warnings(study: Any) -> list[str]:
    """Worker thread: missing, changed or half-imported recordings, one line each."""
    from verbatim.study.integrity import summary_lines

    try:
        return list(summary_lines(study))
    except Exception:  # a check must never keep the app from opening
        return []


PARTICIPANT_COLUMNS = ("ID", "Pseudonym", "Role", "Interviews")
INTERVIEW_COLUMNS = ("Interview", "Date", "Length", "Status", "Consent", "Notes")


class HomeScreen(Screen[None]):
    """Participants above, the selected participant's interviews below."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", show=False),
        Binding("o", "open", "Open"),
        Binding("r", "record", "Record"),
        Binding("t", "transcribe", "Transcribe"),
        Binding("a", "add_participant", "Participant", show=False),
        Binding("i", "add_interview", "Interview", show=False),
        Binding("n", "notes", "Notes"),
        Binding("x", "extracts", "Extracts"),
        Binding("e", "export", "Export", show=False),
        Binding("p", "edit_participant", "Edit participant", show=False),
        Binding("c", "edit_interview", "Consent/details", show=False),
        Binding("ctrl+o", "app.jobs", "Jobs"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.data = HomeData()
        """The last load of the study (empty until the first one lands)."""
        self.loads = 0
        """How many loads have landed (tests wait on it)."""
        self._select: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self._title(), id="study-title", markup=False)
        yield Label("Participants  (a: add)", classes="section")
        yield DataTable(id="participants", cursor_type="row", zebra_stripes=True)
        yield Label("Interviews", id="interviews-title", classes="section")
        yield DataTable(id="interviews", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)

    def _title(self) -> str:
        study = self.app.study  # type: ignore[attr-defined]
        if study is None:
            return "No study open: run 'verbatim study init DIR' and 'verbatim --study DIR'"
        note = self.app.study_note  # type: ignore[attr-defined]
        name = self.data.name or Path(study.path).name
        return f"Study: {name}" + (f"  ·  {note}" if note else "")

    def on_mount(self) -> None:
        people = self.query_one("#participants", DataTable)
        fill_table(people, PARTICIPANT_COLUMNS, [])
        fill_table(self.query_one("#interviews", DataTable), INTERVIEW_COLUMNS, [])
        self.reload()
        people.focus()
        self._warn_about_recordings()

    def _warn_about_recordings(self) -> None:
        """Missing, changed or half-imported recordings, said once when the study opens."""
        if self.study is None:
            return
        study = self.study

        def said(lines: list[str]) -> None:
            for line in lines:
                self.notify(line, severity="warning", timeout=15)

        in_background(self, lambda: recording_warnings(study), said, group="home-check")

    # ------------------------------------------------------------ data

    @property
    def study(self) -> Any:
        return self.app.study  # type: ignore[attr-defined]

    def reload(self, *, select: str | None = None) -> None:
        """Read the study again in a worker; the tables are redrawn when it lands.

        ``select`` moves the cursor to that participant once loaded (one just added).
        """
        if select is not None:
            self._select = select
        if self.study is None:
            return
        study = self.study
        in_background(self, lambda: load_home(study), self._show, group="home-load",
                      exclusive=True, failed="cannot read the study: ")

    def _show(self, data: HomeData) -> None:
        self.data = data
        self.query_one("#study-title", Static).update(self._title())
        people = self.query_one("#participants", DataTable)
        keep = self._select or self.selected_participant()
        self._select = None
        counts: dict[str, int] = {}
        for interview in data.interviews:
            counts[interview.participant_id] = counts.get(interview.participant_id, 0) + 1
        fill_table(people, PARTICIPANT_COLUMNS, [
            (p.id, (Text(p.id), Text(p.pseudonym or ""), Text(p.role or ""),
                    str(counts.get(p.id, 0)))) for p in data.participants])
        if keep is not None:
            with contextlib.suppress(Exception):  # the row may be gone
                people.move_cursor(row=people.get_row_index(keep))
        self.show_interviews()
        self.loads += 1

    def selected_participant(self) -> str | None:
        people = self.query_one("#participants", DataTable)
        if people.row_count == 0:
            return None
        key = people.coordinate_to_cell_key(people.cursor_coordinate).row_key
        return str(key.value)

    def selected_interview(self) -> str | None:
        talks = self.query_one("#interviews", DataTable)
        if talks.row_count == 0:
            return None
        key = talks.coordinate_to_cell_key(talks.cursor_coordinate).row_key
        return str(key.value)

    def show_interviews(self) -> None:
        """The selected participant's interviews, from the last load (no study read)."""
        talks = self.query_one("#interviews", DataTable)
        keep = self.selected_interview()
        pid = self.selected_participant()
        self.query_one("#interviews-title", Label).update(
            f"Interviews of {pid}  (i: add · enter: open · t: transcribe · e: export)"
            if pid else "Interviews")
        running = {j.interview for j in self.app.jobs.values()  # type: ignore[attr-defined]
                   if j.state == "running"}
        rows = []
        for interview in self.data.interviews:
            if interview.participant_id != pid or self.study is None:
                continue
            length = interview.audio_duration
            count, todo = self.data.notes.get(interview.id, (0, 0))
            note_text = f"{count}" + (f" ({todo} to write)" if todo else "") if count else ""
            rows.append((interview.id, (
                Text(interview.id), Text(interview.date or ""),
                f"{int(length // 60)}:{int(length % 60):02d}" if length else "",
                interview_status(interview, running), Text(consent_of(interview)), note_text)))
        fill_table(talks, INTERVIEW_COLUMNS, rows)
        if pid is None:
            return
        if keep is not None:
            with contextlib.suppress(Exception):  # the row may be gone
                talks.move_cursor(row=talks.get_row_index(keep))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "participants":
            self.show_interviews()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "participants":
            self.query_one("#interviews", DataTable).focus()
        else:
            self.action_open()

    def on_app_event(self, message: Any) -> None:
        if isinstance(message, (StudyChanged, JobFinished)):
            self.reload()

    def on_screen_resume(self) -> None:
        self.reload()

    def palette_commands(self) -> list[SystemCommand]:
        return [SystemCommand("Open interview", "The selected interview in the editor",
                              self.action_open),
                SystemCommand("Transcribe interview", "The selected interview, in the background",
                              self.action_transcribe),
                SystemCommand("Export interview", "Word, text, QDA ... of the selected interview",
                              self.action_export),
                SystemCommand("Record an interview", "Open the recorder", self.action_record),
                SystemCommand("Add participant", "A new participant", self.action_add_participant),
                SystemCommand("Add interview", "A recording for the selected participant",
                              self.action_add_interview),
                SystemCommand("Notes", "Reflexive notes of the study", self.action_notes),
                SystemCommand("Extracts", "Extracts and citations", self.action_extracts)]

    # ------------------------------------------------------------ actions

    def _need(self, what: str | None, message: str) -> bool:
        if what is None:
            self.notify(message, severity="warning")
            return False
        return True

    def action_open(self) -> None:
        iid = self.selected_interview()
        if not self._need(iid, "select an interview first"):
            return
        assert iid is not None
        interview = self.data.interview(iid)
        if interview is None or interview.current_version is None:
            self.notify(f"{iid} has no transcript yet: press t to transcribe it",
                        severity="warning")
            return
        self.app.push_screen(self.app.editor_screen(iid))  # type: ignore[attr-defined]

    def action_record(self) -> None:
        self.app.push_screen(self.app.record_screen(  # type: ignore[attr-defined]
            self.selected_participant()))

    def action_transcribe(self) -> None:
        iid = self.selected_interview()
        if self._need(iid, "select an interview first"):
            self.app.start_transcription(iid)  # type: ignore[attr-defined]
            self.show_interviews()

    def action_add_participant(self) -> None:
        if self.study is None:
            return

        def added(result: tuple[str, str | None, dict[str, str]] | None) -> None:
            if result is None:
                return
            pid, pseudonym, attrs = result
            study = self.study
            in_background(self, lambda: study.add_participant(pid, pseudonym=pseudonym,
                                                              attributes=attrs),
                          lambda _: self.reload(select=pid), group="home-write")

        self.app.push_screen(ParticipantDialog(), added)

    def action_add_interview(self, audio: str = "") -> None:
        pid = self.selected_participant()
        if not self._need(pid, "add a participant first (a)"):
            return
        assert pid is not None

        def added(result: dict[str, Any] | None) -> None:
            if result is not None:
                self.notify(f"adding {Path(result['audio']).name} ...")
                self.app.run_worker(lambda: self._add_interview(pid, result), thread=True,
                                    group="add", exit_on_error=False)

        self.app.push_screen(InterviewDialog(pid, audio), added)

    def _add_interview(self, pid: str, result: dict[str, Any]) -> None:
        """Worker thread: the CLI's ``interview add`` (copy, checksum, live marks)."""
        from verbatim.usecases.recording import add_recording

        app: Any = self.app
        try:
            added = add_recording(self.study, pid, Path(result["audio"]),
                                  details={"date": result["date"], "place": result["place"]})
        except Exception as exc:
            app.call_from_thread(app.notify, str(exc), severity="error")
            return
        app.call_from_thread(app.notify, f"added {added.interview}: press t to transcribe it")
        app.call_from_thread(app.broadcast, StudyChanged(added.interview))

    def action_edit_participant(self) -> None:
        pid = self.selected_participant()
        if not self._need(pid, "add a participant first (a)"):
            return
        assert pid is not None
        person = self.data.participant(pid)
        if person is None:
            return
        attrs = person.attributes
        extra = "; ".join(f"{k}={v}" for k, v in attrs.items() if k != "profession")
        fields = [("pseudonym", "pseudonym", person.pseudonym or ""),
                  ("profession", "profession", attrs.get("profession", "")),
                  ("attrs", "other (k=v; ...)", extra)]

        def done(values: dict[str, str] | None) -> None:
            if values is None:
                return
            new = {"profession": values["profession"]}
            for part in values["attrs"].split(";"):
                if "=" in part:
                    key, value = part.split("=", 1)
                    new[key.strip()] = value.strip()
            for key in attrs:  # an attribute left out of the form is removed
                new.setdefault(key, "")
            study = self.study
            in_background(self, lambda: study.update_participant(
                pid, pseudonym=values["pseudonym"] or None, attributes=new),
                lambda _: self.reload(), group="home-write")

        self.app.push_screen(FieldsDialog(f"Participant {pid}", fields), done)

    def action_edit_interview(self) -> None:
        iid = self.selected_interview()
        if not self._need(iid, "select an interview first"):
            return
        assert iid is not None
        interview = self.data.interview(iid)
        if interview is None:
            return
        keys = [("date", "date"), ("place", "place"), ("consent_form", "consent form"),
                ("consent_date", "consent date"), ("consent_scope", "consent scope"),
                ("retention_date", "keep audio until")]
        fields = [(key, label, getattr(interview, key) or "") for key, label in keys]

        def done(values: dict[str, str] | None) -> None:
            if values is None:
                return
            changed = {k: v or None for k, v in values.items()
                       if (getattr(interview, k) or "") != v}
            if not changed:
                return
            study = self.study
            in_background(self, lambda: study.update_interview(iid, **changed),
                          lambda _: self.reload(), group="home-write")

        self.app.push_screen(FieldsDialog(f"Interview {iid}: details and consent", fields), done)

    def action_notes(self) -> None:
        self.app.push_screen(self.app.notes_screen(None))  # type: ignore[attr-defined]

    def action_extracts(self) -> None:
        self.app.push_screen(self.app.extracts_screen(  # type: ignore[attr-defined]
            self.selected_participant()))

    def action_export(self) -> None:
        iid = self.selected_interview()
        if self._need(iid, "select an interview first"):
            assert iid is not None
            open_export(self, iid)
