"""The study home: participants, their interviews and where each one stands."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label, Static

from verbatim.tui.messages import JobFinished, StudyChanged
from verbatim.tui.screens.dialogs import (
    ExportDialog,
    FieldsDialog,
    InterviewDialog,
    ParticipantDialog,
)


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

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self._title(), id="study-title", markup=False)
        yield Label("Participants  (a: add)", classes="section")
        yield DataTable(id="participants", cursor_type="row", zebra_stripes=True)
        yield Label("Interviews  (i: add · enter: open · t: transcribe)", classes="section")
        yield DataTable(id="interviews", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)

    def _title(self) -> str:
        study = self.app.study  # type: ignore[attr-defined]
        if study is None:
            return "No study open: run 'verbatim study init DIR' and 'verbatim --study DIR'"
        note = self.app.study_note  # type: ignore[attr-defined]
        return f"Study: {study.name}" + (f"  ·  {note}" if note else "")

    def on_mount(self) -> None:
        people = self.query_one("#participants", DataTable)
        people.add_columns("ID", "Pseudonym", "Role", "Interviews")
        talks = self.query_one("#interviews", DataTable)
        talks.add_columns("Interview", "Date", "Length", "Status", "Consent", "Notes")
        self.reload()
        people.focus()
        self._warn_about_recordings()

    def _warn_about_recordings(self) -> None:
        """Missing, changed or half-imported recordings, said once when the study opens."""
        if self.study is None:
            return
        from verbatim.study.integrity import summary_lines

        with contextlib.suppress(Exception):  # a check must never keep the app from opening
            for line in summary_lines(self.study):
                self.notify(line, severity="warning", timeout=15)

    # ------------------------------------------------------------ data

    @property
    def study(self) -> Any:
        return self.app.study  # type: ignore[attr-defined]

    def reload(self) -> None:
        people = self.query_one("#participants", DataTable)
        keep = self.selected_participant()
        people.clear()
        if self.study is None:
            return
        counts: dict[str, int] = {}
        for interview in self.study.interviews():
            counts[interview.participant_id] = counts.get(interview.participant_id, 0) + 1
        for p in self.study.participants():
            people.add_row(Text(p.id), Text(p.pseudonym or ""), Text(p.role or ""),
                           str(counts.get(p.id, 0)), key=p.id)
        if keep is not None:
            with contextlib.suppress(Exception):  # the row may be gone
                people.move_cursor(row=people.get_row_index(keep))
        self.show_interviews()

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
        talks = self.query_one("#interviews", DataTable)
        keep = self.selected_interview()
        talks.clear()
        pid = self.selected_participant()
        if pid is None or self.study is None:
            return
        running = {j.interview for j in self.app.jobs.values()  # type: ignore[attr-defined]
                   if j.state == "running"}
        notes: dict[str, list[Any]] = {}
        for note in self.study.notes():
            notes.setdefault(note.interview, []).append(note)
        for interview in self.study.interviews(pid):
            length = interview.audio_duration
            mine = notes.get(interview.id, [])
            todo = sum(1 for n in mine if getattr(n, "to_complete", False))
            note_text = f"{len(mine)}" + (f" ({todo} to write)" if todo else "") if mine else ""
            talks.add_row(Text(interview.id), Text(interview.date or ""),
                          f"{int(length // 60)}:{int(length % 60):02d}" if length else "",
                          interview_status(interview, running), Text(consent_of(interview)),
                          note_text, key=interview.id)
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
        return [SystemCommand("Record an interview", "Open the recorder", self.action_record),
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
        if self.study.transcript(iid) is None:
            self.notify(f"{iid} has no transcript yet: press t to transcribe it",
                        severity="warning")
            return
        from verbatim.tui.screens.editor import EditorScreen

        self.app.push_screen(EditorScreen(iid))

    def action_record(self) -> None:
        from verbatim.tui.screens.record import RecordScreen

        self.app.push_screen(RecordScreen(participant=self.selected_participant()))

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
            try:
                self.study.add_participant(pid, pseudonym=pseudonym, attributes=attrs)
            except Exception as exc:
                self.notify(str(exc), severity="error")
                return
            self.reload()
            people = self.query_one("#participants", DataTable)
            people.move_cursor(row=people.get_row_index(pid))

        self.app.push_screen(ParticipantDialog(), added)

    def action_add_interview(self, audio: str = "") -> None:
        pid = self.selected_participant()
        if not self._need(pid, "add a participant first (a)"):
            return
        assert pid is not None

        def added(result: dict[str, Any] | None) -> None:
            if result is None:
                return
            try:
                iid = self.study.add_interview(pid, result["audio"], date=result["date"],
                                               place=result["place"])
            except Exception as exc:
                self.notify(str(exc), severity="error")
                return
            self.notify(f"added {iid}: press t to transcribe it")
            self.show_interviews()

        self.app.push_screen(InterviewDialog(pid, audio), added)

    def action_edit_participant(self) -> None:
        pid = self.selected_participant()
        if not self._need(pid, "add a participant first (a)"):
            return
        assert pid is not None
        person = self.study.participant(pid)
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
            try:
                self.study.update_participant(pid, pseudonym=values["pseudonym"] or None,
                                              attributes=new)
            except Exception as exc:
                self.notify(str(exc), severity="error")
                return
            self.reload()

        self.app.push_screen(FieldsDialog(f"Participant {pid}", fields), done)

    def action_edit_interview(self) -> None:
        iid = self.selected_interview()
        if not self._need(iid, "select an interview first"):
            return
        assert iid is not None
        interview = self.study.interview(iid)
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
            try:
                self.study.update_interview(iid, **changed)
            except Exception as exc:
                self.notify(str(exc), severity="error")
                return
            self.show_interviews()

        self.app.push_screen(FieldsDialog(f"Interview {iid}: details and consent", fields), done)

    def action_notes(self) -> None:
        from verbatim.tui.screens.lists import NotesScreen

        self.app.push_screen(NotesScreen())

    def action_extracts(self) -> None:
        from verbatim.tui.screens.lists import ExtractsScreen

        self.app.push_screen(ExtractsScreen(self.selected_participant()))

    def action_export(self) -> None:
        iid = self.selected_interview()
        if self._need(iid, "select an interview first"):
            assert iid is not None
            open_export(self, iid)


def export_dir(app: Any) -> Path:
    study = app.study
    return Path(getattr(study, "path", app.config.data_dir)) / "exports"


def open_export(screen: Screen[Any], iid: str) -> None:
    """The export dialog for one interview, then the export itself (in a thread)."""
    app: Any = screen.app
    config = app.config

    def chosen(choice: Any) -> None:
        if choice is not None:
            app.run_worker(lambda: _export(app, iid, choice), thread=True, group="export",
                           exit_on_error=False)

    app.push_screen(ExportDialog(iid, export_dir(app), notation=config.notation,
                                 width=config.width), chosen)


def _export(app: Any, iid: str, choice: Any) -> None:
    """Worker thread: export with the interview's notes, extracts and Table One facts."""
    from dataclasses import replace

    from transcript.export import ExportMeta, export
    from transcript.model import Note

    study = app.study
    try:
        doc = study.transcript(iid)
        if doc is None:
            raise ValueError(f"{iid} has no transcript yet")
        interview = study.interview(iid)
        if interview.locked and not doc.lines:
            doc = study.locked_transcript(iid)  # cite the frozen numbering
        notes = tuple(Note(start=n.start, end=n.end, phase=n.phase, moment=n.moment,
                           response=n.response, understanding=n.understanding,
                           written_at=n.written_at) for n in study.notes(iid))
        participant = study.participant(interview.participant_id)
        from verbatim.exportmedia import study_media

        meta = ExportMeta(title=f"{study.name}: {iid}", participant_id=participant.id,
                          interview_id=iid, attributes=dict(participant.attributes),
                          extracts=tuple(study.extracts(interview=iid)),
                          **study_media(study, iid, choice.fmt,
                                        pseudonymised=bool(choice.pseudonymise)))
        choice.out.parent.mkdir(parents=True, exist_ok=True)
        replacements = study.replacements() if choice.pseudonymise else None
        export(replace(doc, notes=notes), choice.fmt, choice.out, profile=choice.notation,
               width=choice.width, replacements=replacements, meta=meta,
               pseudonymised=bool(choice.pseudonymise))
    except Exception as exc:
        app.call_from_thread(app.notify, f"export failed: {exc}", severity="error", timeout=10)
        return
    app.call_from_thread(app.notify, f"exported {iid} to {choice.out}")
