"""Markdown: speaker labels in bold, line numbers kept, notes and extracts as sections."""

from __future__ import annotations

import re

from transcript.export.layout import Rendering, phase_text

_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")


def escape(text: str) -> str:
    """Escape what Markdown would read as markup ('[laughs]' must stay literal)."""
    return _SPECIAL.sub(r"\\\1", text)


def to_md(r: Rendering) -> bytes:
    out = [f"# {escape(r.title)}", "", f"*{escape(r.summary())}*", ""]
    if r.meta.participant_id or r.meta.attributes:
        facts = [f"Participant: {r.meta.participant_id}"] if r.meta.participant_id else []
        facts += [f"{k}: {v}" for k, v in r.meta.attributes.items()]
        out += [escape("; ".join(facts)), ""]
    number_w = max((len(ln.number) for ln in r.lines), default=1)
    stamps = r.stamps()
    for turn in r.turns():
        rows = []
        for i, line in enumerate(turn.lines):
            if line.number in stamps:
                rows.append(f"*{escape(stamps[line.number])}*")
            label = f"**{escape(turn.label)}:** " if i == 0 and turn.label else ""
            rows.append(f"`{line.number:>{number_w}}` {label}{escape(line.text)}")
        # a backslash at the end of a line is a hard line break in CommonMark
        out.append("\\\n".join(rows))
        out.append("")
    if r.doc.notes:
        out += ["## Reflexive notes", ""]
        for i, note in enumerate(r.doc.notes, start=1):
            heading = f"Note {i}: {r.note_anchor(note)}, {phase_text(note.phase)}"
            out += [f"### {escape(heading)}", ""]
            out.append(f"- **Moment:** {escape(note.moment)}")
            if note.response:
                out.append(f"- **Response:** {escape(note.response)}")
            if note.understanding:
                out.append(f"- **Understanding:** {escape(note.understanding)}")
            if note.written_at:
                out.append(f"- *Written:* {escape(note.written_at)}")
            out.append("")
    if r.meta.extracts:
        out += ["## Extracts", ""]
        for extract in r.meta.extracts:
            out += [f"> ‘{escape(extract.text)}’", ">", f"> {escape(extract.citation)}", ""]
            if extract.analysis:
                out += [escape(extract.analysis), ""]
    return ("\n".join(out).rstrip("\n") + "\n").encode("utf-8")
