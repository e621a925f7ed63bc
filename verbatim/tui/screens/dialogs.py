"""Small modal forms: each asks one thing and dismisses with the answer (or None on escape).

(Past 400 lines: a dozen small self-contained forms sharing one look.)"""

from __future__ import annotations

import contextlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Select, Static, TextArea
from textual.widgets.option_list import Option

from transcript.export import FORMATS as EXPORT_FORMATS
from transcript.export.layout import Timestamps
from transcript.notation import PROFILES

PHASE_CHOICES = [("during the interview", "during"), ("straight after", "after"),
                 ("during analysis", "analysis")]


class Dialog(ModalScreen[Any]):
    """A centred box: escape closes it with None, ctrl+s submits it from any field."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel"),
                                             Binding("ctrl+s", "save", "Save")]

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:
        self.submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ok":
            self.submit()
        else:
            self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    def submit(self) -> None:
        self.dismiss(True)

    def buttons(self, ok: str = "OK") -> Horizontal:
        return Horizontal(Button(ok, id="ok", variant="primary"), Button("Cancel", id="cancel"),
                          classes="buttons")


class ConfirmDialog(Dialog):
    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question, classes="question", markup=False)
            yield self.buttons("Yes")

    def on_mount(self) -> None:
        self.query_one("#ok", Button).focus()


class PromptDialog(Dialog):
    """One line of text: a label, a word, a search."""

    def __init__(self, title: str, value: str = "", *, placeholder: str = "") -> None:
        super().__init__()
        self.title_text, self.value, self.placeholder = title, value, placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            yield Input(self.value, placeholder=self.placeholder, id="value")
            yield self.buttons()

    def submit(self) -> None:
        self.dismiss(self.query_one("#value", Input).value)


class ReplaceDialog(Dialog):
    """Find and replace every whole-word occurrence."""

    def __init__(self, find: str = "") -> None:
        super().__init__()
        self.find = find

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Replace every occurrence (whole words)", classes="dialog-title")
            yield Input(self.find, placeholder="find", id="find")
            yield Input("", placeholder="replace with", id="replace")
            yield self.buttons("Replace all")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "find":
            self.query_one("#replace", Input).focus()
        else:
            self.submit()

    def submit(self) -> None:
        old = self.query_one("#find", Input).value
        if old.strip():
            self.dismiss((old, self.query_one("#replace", Input).value))


class ParticipantDialog(Dialog):
    """A new participant: id, pseudonym and Table One attributes."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("New participant", classes="dialog-title")
            yield Input(placeholder="id, e.g. P4", id="pid")
            yield Input(placeholder="pseudonym (optional)", id="pseudonym")
            yield Input(placeholder="profession, e.g. Social Worker", id="profession")
            yield Input(placeholder="other attributes: gender=Male; setting=Community", id="attrs")
            yield self.buttons("Add")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_next()

    def submit(self) -> None:
        pid = self.query_one("#pid", Input).value.strip()
        if not pid:
            self.notify("a participant needs an id", severity="error")
            return
        attrs: dict[str, str] = {}
        profession = self.query_one("#profession", Input).value.strip()
        if profession:
            attrs["profession"] = profession
        for part in self.query_one("#attrs", Input).value.split(";"):
            if "=" in part:
                key, value = part.split("=", 1)
                if key.strip():
                    attrs[key.strip()] = value.strip()
        pseudonym = self.query_one("#pseudonym", Input).value.strip() or None
        self.dismiss((pid, pseudonym, attrs))


class FieldsDialog(Dialog):
    """A few labelled one-line fields; dismisses with {key: value} of what was typed."""

    def __init__(self, title: str, fields: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.title_text, self.fields = title, fields

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            for key, label, value in self.fields:
                with Horizontal(classes="field"):
                    yield Label(label, markup=False)
                    yield Input(value, id=f"f-{key}")
            yield self.buttons("Save")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == f"f-{self.fields[-1][0]}":
            self.submit()
        else:
            self.focus_next()

    def submit(self) -> None:
        self.dismiss({key: self.query_one(f"#f-{key}", Input).value.strip()
                      for key, _label, _value in self.fields})


class InterviewDialog(Dialog):
    """Add a recording as an interview of a participant."""

    def __init__(self, pid: str, audio: str = "") -> None:
        super().__init__()
        self.pid, self.audio = pid, audio

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"New interview with {self.pid}", classes="dialog-title", markup=False)
            yield Input(self.audio, placeholder="recording: path to a WAV/FLAC file", id="audio")
            yield Input(placeholder="date YYYY-MM-DD (optional)", id="date")
            yield Input(placeholder="place (optional)", id="place")
            yield self.buttons("Add")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "place":
            self.submit()
        else:
            self.focus_next()

    def submit(self) -> None:
        audio = self.query_one("#audio", Input).value.strip()
        if not audio:
            self.notify("an interview needs its recording", severity="error")
            return
        self.dismiss({"audio": Path(audio).expanduser(),
                      "date": self.query_one("#date", Input).value.strip() or None,
                      "place": self.query_one("#place", Input).value.strip() or None})


@dataclass(frozen=True)
class NoteForm:
    phase: str
    moment: str
    response: str
    understanding: str


NOTE_PARTS = ("moment", "response", "understanding")

# Drafts are read and written off the UI thread, one at a time and in order, so
# a draft saved on escape is on disk before the next dialog on it reads it back.
_DRAFTS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="note-draft")


def read_draft(draft: Path) -> dict[str, str]:
    """The parts of a note draft, or {} when there is none (or it does not read)."""
    try:
        data = json.loads(draft.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: str(data.get(k, "")) for k in (*NOTE_PARTS, "phase")}


class NoteDialog(Dialog):
    """A reflexive note in Berger's three parts, anchored to the selected lines.

    What is typed is kept as a draft file (owner-only, beside the study; in
    RAM for an encrypted study) half a second after each change, so a crash or
    a stray escape loses nothing: the next note opened on this interview
    starts from the draft. Saving the note deletes the draft. The draft is
    read and written on a background thread, never the UI's.
    """

    def __init__(self, anchor: str, *, draft: Path | None = None) -> None:
        super().__init__()
        self.anchor_text, self.draft = anchor, draft
        self._timer: Any = None
        self._draft_lock = threading.Lock()
        self.restored: dict[str, str] | None = None if draft is not None else {}
        """The draft found when the dialog opened (None while it is being read)."""

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide"):
            yield Label(f"Reflexive note · {self.anchor_text}", classes="dialog-title",
                        markup=False, id="note-title")
            yield Select(PHASE_CHOICES, value="analysis", allow_blank=False, id="phase")
            yield Label("The moment and its emotional impact")
            yield TextArea("", id="moment", classes="note-part")
            yield Label("The response it evoked in you")
            yield TextArea("", id="response", classes="note-part")
            yield Label("Your understanding of that response")
            yield TextArea("", id="understanding", classes="note-part")
            yield self.buttons("Save (ctrl+s)")

    def on_mount(self) -> None:
        self.query_one("#moment", TextArea).focus()
        draft, app = self.draft, self.app
        if draft is not None:
            _DRAFTS.submit(lambda: app.call_from_thread(self._restore, read_draft(draft)))

    def _restore(self, restored: dict[str, str]) -> None:
        """UI thread: fill the form from the draft, unless typing has already begun."""
        if not self.is_attached or self.restored is not None:
            return
        self.restored = restored
        if not restored or any(self.query_one(f"#{k}", TextArea).text for k in NOTE_PARTS):
            return
        self.query_one("#note-title", Label).update(
            f"Reflexive note · {self.anchor_text} · draft restored")
        if restored.get("phase"):
            with contextlib.suppress(Exception):  # a phase this version does not know
                self.query_one("#phase", Select).value = restored["phase"]
        for part in NOTE_PARTS:
            self.query_one(f"#{part}", TextArea).text = restored.get(part, "")

    def _values(self) -> dict[str, str]:
        values = {k: self.query_one(f"#{k}", TextArea).text for k in NOTE_PARTS}
        values["phase"] = str(self.query_one("#phase", Select).value)
        return values

    def on_text_area_changed(self) -> None:
        if self.draft is not None:  # debounce: one write half a second after typing pauses
            if self._timer is not None:
                self._timer.stop()
            self._timer = self.set_timer(0.5, self.save_draft, name="note-draft")

    def save_draft(self) -> None:
        """Write what is typed so far (atomic, owner-only) in the background; nothing if
        the form is empty or the draft has not been read back yet (it would be lost)."""
        if self.draft is None or not self.is_mounted or self.restored is None:
            return
        values = self._values()
        if not any(values[k].strip() for k in NOTE_PARTS):
            return
        _DRAFTS.submit(self._write_draft, self.draft, values)

    def _write_draft(self, draft: Path, values: dict[str, str]) -> None:
        """Draft thread: write unless the note was saved meanwhile (its draft then goes)."""
        from transcript.document import write_atomic

        with self._draft_lock:
            if self.draft is None:
                return
            try:
                draft.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                write_atomic(draft, json.dumps(values, ensure_ascii=False))
            except OSError as exc:
                with contextlib.suppress(RuntimeError):  # the app may have closed
                    self.app.call_from_thread(self.app.notify, f"note draft not kept: {exc}",
                                              severity="warning")

    def action_cancel(self) -> None:
        self.save_draft()
        self.dismiss(None)

    def submit(self) -> None:
        values = self._values()
        moment = values["moment"].strip()
        if not moment:
            self.notify("write the moment first", severity="error")
            return
        with self._draft_lock:  # no draft write can land after the caller deletes it
            self.draft = None  # the caller deletes the draft once the note is safely stored
        self.dismiss(NoteForm(phase=values["phase"], moment=moment,
                              response=values["response"].strip(),
                              understanding=values["understanding"].strip()))


class MarksDialog(Dialog):
    """The marks on the current line: confirm an auto suggestion, remove one, or add one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Close"), Binding("c", "confirm", "Confirm"),
                Binding("d", "remove", "Remove"), Binding("a", "add", "Add")]

    def __init__(self, where: str, marks: list[tuple[int, Any]]) -> None:
        super().__init__()
        self.where, self.marks = where, marks

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(f"Marks · {self.where}", classes="dialog-title", markup=False)
            options = [Option(text, id=str(i)) for i, text in self.marks]
            yield OptionList(*options, id="marks")
            yield Static("c confirm   d remove   a add a mark   escape close", classes="hint")
            yield Input(placeholder="add: kind label, e.g. 'tone laughs' or 'pause'", id="new")

    def on_mount(self) -> None:
        self.query_one("#marks" if self.marks else "#new").focus()

    def _selected(self) -> int | None:
        option_list = self.query_one("#marks", OptionList)
        if option_list.highlighted is None or not self.marks:
            return None
        return self.marks[option_list.highlighted][0]

    def action_confirm(self) -> None:
        index = self._selected()
        if index is not None:
            self.dismiss(("confirm", index))

    def action_remove(self) -> None:
        index = self._selected()
        if index is not None:
            self.dismiss(("remove", index))

    def action_add(self) -> None:
        self.query_one("#new", Input).focus()

    def submit(self) -> None:
        text = self.query_one("#new", Input).value.strip()
        if text:
            kind, _, label = text.partition(" ")
            self.dismiss(("add", kind, label.strip()))


@dataclass(frozen=True)
class ExportChoice:
    fmt: str
    notation: str
    width: int
    pseudonymise: bool
    out: Path
    timestamps: Timestamps = field(default_factory=Timestamps)
    """The option the CLI's --timestamps builds ('turn', '60', 'turn,60')."""


# Word first: it is what the team exports most (the rest as in transcript.export.FORMATS)
FORMATS = ("docx", *(f for f in EXPORT_FORMATS if f != "docx"))
NOTATIONS = PROFILES


class ExportDialog(Dialog):
    """Export one interview: format, notation, width, pseudonymise, where."""

    def __init__(self, interview: str, out_dir: Path, *, notation: str = "paper",
                 width: int = 80) -> None:
        super().__init__()
        self.interview, self.out_dir = interview, out_dir
        self.notation, self.width = notation, width

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(f"Export {self.interview}", classes="dialog-title", markup=False)
            with Horizontal(classes="row"):
                yield Select([(f, f) for f in FORMATS], value="docx", allow_blank=False,
                             id="format")
                yield Select([(n, n) for n in NOTATIONS], value=self.notation,
                             allow_blank=False, id="notation")
            with Horizontal(classes="row"):
                yield Label("width")
                yield Input(str(self.width), id="width", type="integer")
                yield Label("pseudonymise")
                yield Select([("yes", True), ("no", False)], value=True, allow_blank=False,
                             id="pseudo")
            with Horizontal(classes="row"):
                yield Label("timestamps")
                yield Input("", id="timestamps", placeholder="turn, 60 or turn,60")
            yield Input(str(self.out_dir / f"{self.interview}.docx"), id="out")
            yield self.buttons("Export")

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "format":
            out = self.query_one("#out", Input)
            path = Path(out.value)
            from transcript.export import SUFFIXES

            suffix = SUFFIXES.get(str(event.value), f".{event.value}")
            out.value = str(path.with_suffix(suffix))

    def submit(self) -> None:
        try:
            width = int(self.query_one("#width", Input).value)
        except ValueError:
            self.notify("width must be a whole number", severity="error")
            return
        try:
            stamps = Timestamps.parse(self.query_one("#timestamps", Input).value)
        except ValueError as exc:
            self.notify(str(exc), severity="error")
            return
        self.dismiss(ExportChoice(timestamps=stamps,
                                  fmt=str(self.query_one("#format", Select).value),
                                  notation=str(self.query_one("#notation", Select).value),
                                  width=width,
                                  pseudonymise=bool(self.query_one("#pseudo", Select).value),
                                  out=Path(self.query_one("#out", Input).value).expanduser()))


class TextDialog(Dialog):
    """A longer text (an extract's analysis note); ctrl+s saves, escape discards."""

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text, self.text = title, text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            yield TextArea(self.text, id="text", classes="long-text")
            yield self.buttons("Save (ctrl+s)")

    def on_mount(self) -> None:
        self.query_one("#text", TextArea).focus()

    def submit(self) -> None:
        self.dismiss(self.query_one("#text", TextArea).text)


class ExtractDialog(Dialog):
    """An extract just made: its quotation and citation, ready to copy."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Close"), Binding("c", "copy", "Copy citation")]

    def __init__(self, citation: str, text: str) -> None:
        super().__init__()
        self.citation, self.text = citation, text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label("Extract", classes="dialog-title")
            with VerticalScroll(classes="quote"):
                yield Static(self.text, markup=False)
            yield Static(self.citation, id="citation", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Copy citation (c)", id="ok", variant="primary")
                yield Button("Close", id="cancel")

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.citation)
        self.notify("citation copied")

    def submit(self) -> None:
        self.action_copy()
