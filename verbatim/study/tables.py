"""The participant table ("Table One" of the paper) as Markdown, CSV or Word.

Columns are the participant id, the pseudonym when any participant has one,
then every study-defined attribute in the order it was first used, so the
table reads like the paper's: Participant, Gender, Profession, Work Setting…
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from verbatim.study.values import Participant

TABLE_TITLE = "Table One: Participant Details."


def heading(key: str) -> str:
    """'work_setting' -> 'Work Setting'; a key already in capitals is left as typed."""
    words = key.replace("_", " ").split()
    if key == key.lower():
        return " ".join(w[:1].upper() + w[1:] for w in words)
    return " ".join(words)


def table_rows(participants: Sequence[Participant]) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the participant table."""
    keys: list[str] = []
    for participant in participants:
        for key in participant.attributes:
            if key not in keys:
                keys.append(key)
    with_pseudonyms = any(p.pseudonym for p in participants)
    header = ["Participant", *(["Pseudonym"] if with_pseudonyms else []), *map(heading, keys)]
    rows = [[p.id, *([p.pseudonym or ""] if with_pseudonyms else []),
             *(p.attributes.get(key, "") for key in keys)] for p in participants]
    return header, rows


def to_markdown(participants: Sequence[Participant]) -> str:
    header, rows = table_rows(participants)

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(map(cell, header)) + " |",
           "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(map(cell, row)) + " |" for row in rows]
    return "\n".join(out) + f"\n\n{TABLE_TITLE}\n"


def to_csv(participants: Sequence[Participant]) -> str:
    header, rows = table_rows(participants)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def to_docx(participants: Sequence[Participant]) -> bytes:
    """A Word document holding the table and its caption."""
    import docx

    header, rows = table_rows(participants)
    doc = docx.Document()
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for row in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = text
    doc.add_paragraph(TABLE_TITLE)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
