"""The store's fourth layer: what the researcher writes on transcripts, notes and extracts.

Reflexive notes (moment, response, understanding; during, after or in
analysis) are anchored to a time range and, once the transcript is locked, to
its lines. Extracts number a line range of a locked transcript, so a citation
("P4, Social Worker, lines 10-12") resolves against that version forever; the
quoted text is stored with the extract when it is made (the locked version
never changes), so listing extracts never decodes a transcript.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace

from transcript.lines import lines_in_range
from transcript.model import Extract, Note
from verbatim.study.errors import StudyError
from verbatim.study.ledger import now
from verbatim.study.quotes import render_lines
from verbatim.study.transcripts import TranscriptStore
from verbatim.study.values import StoredNote

PHASES = ("during", "after", "analysis")

# A part of a reflexive note is a paragraph or a page, not a document: 20,000
# characters (about 3,000 words) leaves room and stops a pasted file.
MAX_NOTE_PART = 20_000


class NoteStore(TranscriptStore):
    """An open study's reflexive notes and numbered extracts."""

    # ---- reflexive notes ------------------------------------------------------

    def add_note(self, iid: str, note: Note, *, first_line: int | None = None,
                 last_line: int | None = None, source: str = "author",
                 to_complete: bool = False) -> StoredNote:
        """Add a three-part reflexive note anchored to ``note.start``..``note.end``."""
        self.interview(iid)
        check_note(note)
        written_at = note.written_at or now()
        with self.ledger.tx() as conn:
            cursor = conn.execute(
                "INSERT INTO notes (interview_id, start, \"end\", first_line, last_line, phase,"
                " moment, response, understanding, written_at, source, to_complete)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (iid, note.start, note.end, first_line, last_line, note.phase, note.moment,
                 note.response, note.understanding, written_at, source, int(to_complete)))
            note_id = int(cursor.lastrowid or 0)
            self.ledger.audit("note.add", iid, note=note_id, phase=note.phase)
        return self.note(note_id)

    def add_note_at_lines(self, iid: str, first: int, last: int, *, phase: str, moment: str,
                          response: str = "", understanding: str = "") -> StoredNote:
        """A note anchored to lines of the locked transcript (times taken from the lines)."""
        picked = self.lines(iid, first, last)
        note = Note(start=picked[0].start, end=picked[-1].end, phase=phase, moment=moment,
                    response=response, understanding=understanding)
        return self.add_note(iid, note, first_line=first, last_line=last)

    def note(self, note_id: int) -> StoredNote:
        rows = self.ledger.rows("SELECT * FROM notes WHERE id = ?", (note_id,))
        if not rows:
            raise StudyError(f"no note {note_id}")
        return _stored_note(rows[0])

    def notes(self, iid: str | None = None) -> list[StoredNote]:
        """Notes of one interview (or all), in recording order."""
        if iid is None:
            rows = self.ledger.rows("SELECT * FROM notes ORDER BY interview_id, start, id")
        else:
            self.interview(iid)
            rows = self.ledger.rows("SELECT * FROM notes WHERE interview_id = ? "
                                    "ORDER BY start, id", (iid,))
        return [_stored_note(r) for r in rows]

    def update_note(self, note_id: int, *, moment: str | None = None,
                    response: str | None = None, understanding: str | None = None,
                    phase: str | None = None) -> StoredNote:
        """Rewrite parts of a note; a live mark counts as complete once it has a response."""
        current = self.note(note_id)
        updated = replace(current,
                          moment=current.moment if moment is None else moment,
                          response=current.response if response is None else response,
                          understanding=(current.understanding if understanding is None
                                         else understanding),
                          phase=current.phase if phase is None else phase)
        check_note(updated)
        complete = bool(updated.response or updated.understanding)
        with self.ledger.tx() as conn:
            conn.execute("UPDATE notes SET moment = ?, response = ?, understanding = ?, "
                         "phase = ?, to_complete = ? WHERE id = ?",
                         (updated.moment, updated.response, updated.understanding,
                          updated.phase, int(current.to_complete and not complete), note_id))
            self.ledger.audit("note.update", current.interview, note=note_id)
        return self.note(note_id)

    def delete_note(self, note_id: int) -> None:
        current = self.note(note_id)
        with self.ledger.tx() as conn:
            conn.execute("DELETE FROM notes WHERE id = ?", (note_id,))
            self.ledger.audit("note.delete", current.interview, note=note_id)

    # ---- extracts -------------------------------------------------------------

    def add_extract(self, iid: str, first: int, last: int, *, analysis: str = "") -> Extract:
        """Number a line range of the locked transcript as the study's next extract."""
        interview = self.interview(iid)
        picked = self.lines(iid, first, last)  # refuses an unlocked transcript or bad range
        text = render_lines(picked, self.locked_transcript(iid))
        with self.ledger.tx() as conn:
            number = int(conn.execute("SELECT coalesce(max(number), 0) + 1 FROM extracts")
                         .fetchone()[0])
            conn.execute("INSERT INTO extracts (number, interview_id, version, first_line,"
                         " last_line, analysis, created_at, text) VALUES (?,?,?,?,?,?,?,?)",
                         (number, iid, interview.locked_version, first, last, analysis, now(),
                          text))
            self.ledger.audit("extract.add", iid, extract=number, first=first, last=last)
        return self.extract(number)

    def extract(self, number: int) -> Extract:
        found = self._extracts("e.number = ?", (number,))
        if not found:
            raise StudyError(f"no extract {number} in this study")
        return found[0]

    def extracts(self, pid: str | None = None, *,
                 interview: str | None = None) -> list[Extract]:
        """The study's extracts in number order (of one participant or interview if given)."""
        if interview is not None:
            self.interview(interview)
            return self._extracts("e.interview_id = ?", (interview,))
        if pid is not None:
            self.participant(pid)
            return self._extracts("i.participant_id = ?", (pid,))
        return self._extracts("1", ())

    def _extracts(self, where: str, params: tuple[object, ...]) -> list[Extract]:
        """Extracts with their participant, in one read; the text as stored with each."""
        rows = self.ledger.rows(
            "SELECT e.*, i.participant_id FROM extracts e JOIN interviews i "
            f"ON e.interview_id = i.id WHERE {where} ORDER BY e.number", params)
        people = {p.id: p for p in self.participants()}
        texts = self._quote_missing([r for r in rows if r["text"] is None])
        out = []
        for row in rows:
            participant = people[row["participant_id"]]
            out.append(Extract(number=row["number"], interview=row["interview_id"],
                               participant=participant.id, role=participant.role,
                               first=row["first_line"], last=row["last_line"],
                               text=row["text"] if row["text"] is not None
                               else texts[row["number"]],
                               analysis=row["analysis"]))
        return out

    def _quote_missing(self, rows: list[sqlite3.Row]) -> dict[int, str]:
        """Extracts made before their text was stored: quoted once now, and kept."""
        texts: dict[int, str] = {}
        for row in rows:
            doc = self.transcript_version(row["interview_id"], row["version"])
            picked = lines_in_range(doc.lines, row["first_line"], row["last_line"])
            texts[row["number"]] = render_lines(tuple(picked), doc)
        if texts:
            with self.ledger.tx() as conn:
                conn.executemany("UPDATE extracts SET text = ? WHERE number = ? AND text IS NULL",
                                 [(text, number) for number, text in texts.items()])
        return texts

    def set_extract_analysis(self, number: int, analysis: str) -> Extract:
        extract = self.extract(number)
        with self.ledger.tx() as conn:
            conn.execute("UPDATE extracts SET analysis = ? WHERE number = ?", (analysis, number))
            self.ledger.audit("extract.analysis", extract.interview, extract=number)
        return self.extract(number)


def check_note(note: Note) -> None:
    """StudyError unless ``note`` has a known phase, a forward time range and sane sizes."""
    if note.phase not in PHASES:
        raise StudyError(f"phase must be one of {', '.join(PHASES)}, not {note.phase!r}")
    if note.start < 0 or note.end < note.start:
        raise StudyError(f"a note's time range must run forwards from 0 "
                         f"(got {note.start}-{note.end})")
    for part in ("moment", "response", "understanding"):
        size = len(getattr(note, part))
        if size > MAX_NOTE_PART:
            raise StudyError(f"the note's {part} is {size:,} characters; a part may hold "
                             f"{MAX_NOTE_PART:,}: shorten it or split it into several notes")


def _stored_note(row: sqlite3.Row) -> StoredNote:
    return StoredNote(start=row["start"], end=row["end"], phase=row["phase"],
                      moment=row["moment"], response=row["response"],
                      understanding=row["understanding"], written_at=row["written_at"],
                      id=row["id"], interview=row["interview_id"], first_line=row["first_line"],
                      last_line=row["last_line"], source=row["source"],
                      to_complete=bool(row["to_complete"]))
