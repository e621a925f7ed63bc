"""Plain text: the line-numbered transcript with its numbers printed in the text."""

from __future__ import annotations

from transcript.export.layout import Rendering, phase_text


def to_txt(r: Rendering) -> bytes:
    parts = [r.title, r.summary()]
    if r.meta.participant_id:
        parts.append(f"Participant: {r.meta.participant_id}")
    parts.append("")
    parts.append(r.numbered_text(stamps=True).rstrip("\n"))
    if r.doc.notes:
        parts += ["", "Reflexive notes", ""]
        for i, note in enumerate(r.doc.notes, start=1):
            parts.append(f"{i}. {r.note_anchor(note)}, written {phase_text(note.phase)}"
                         + (f" ({note.written_at})" if note.written_at else ""))
            parts.append(f"   Moment: {note.moment}")
            if note.response:
                parts.append(f"   Response: {note.response}")
            if note.understanding:
                parts.append(f"   Understanding: {note.understanding}")
    if r.meta.extracts:
        parts += ["", "Extracts", ""]
        for extract in r.meta.extracts:
            parts.append(f"'{extract.text}'")
            parts.append(extract.citation)
            if extract.analysis:
                parts.append(f"Analysis: {extract.analysis}")
            parts.append("")
    return ("\n".join(parts).rstrip("\n") + "\n").encode("utf-8")
