"""The member-check pack: a participant's extracts and draft analyses to take back.

The paper took extracts and their analyses to the second interview and asked
participants to respond, challenge or clarify. The pack is written as Markdown
and Word, pseudonymised with the study's replacement list, and names the
participant only by id.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from transcript.document import write_atomic
from transcript.lines import lines_in_range
from verbatim.errors import os_error_line
from verbatim.study import pseudo
from verbatim.study.errors import StudyError
from verbatim.study.quotes import render_lines

if TYPE_CHECKING:
    from verbatim.study.store import Study

INVITATION = ("These are extracts from our interview, with my draft analysis of each. "
              "Please respond to them: challenge or clarify my interpretations, and add "
              "anything you would like to.")
REPLACED = "Names of people and places have been replaced by descriptions in brackets."


@dataclass(frozen=True)
class PackItem:
    """One extract as the pack shows it: already pseudonymised."""

    number: int
    citation: str
    lines: tuple[str, ...]
    analysis: str


@dataclass(frozen=True)
class Pack:
    participant: str
    next_interview: str
    study: str
    prepared: str
    items: tuple[PackItem, ...]
    pseudonymised: bool = False

    @property
    def invitation(self) -> str:
        return f"{INVITATION} {REPLACED}" if self.pseudonymised else INVITATION


def build_pack(study: Study, pid: str) -> Pack:
    """Gather and pseudonymise the participant's extracts (pure data, no files)."""
    participant = study.participant(pid)
    extracts = study.extracts(pid)
    if not extracts:
        raise StudyError(f"{pid} has no extracts yet; make some with 'verbatim extract add'")
    pairs = study.replacement_pairs()
    items = []
    for extract in extracts:
        doc = study.locked_transcript(extract.interview)
        safe_doc = pseudo.pseudonymise_doc(doc, pairs)
        picked = tuple(lines_in_range(safe_doc.lines, extract.first, extract.last))
        text = render_lines(picked, safe_doc)
        items.append(PackItem(number=extract.number, citation=extract.citation,
                              lines=tuple(text.splitlines()),
                              analysis=pseudo.replace_text(extract.analysis, pairs)))
    numbers = [i.number for i in study.interviews(pid)]
    # the pack goes to the interview after the last one held; it may not exist yet
    last = max(numbers, default=0)
    next_interview = (f"the next interview with {participant.id} (after {participant.id}-{last})"
                      if last else f"the first interview with {participant.id}")
    return Pack(participant=participant.id, next_interview=next_interview,
                study=pseudo.replace_text(study.name, pairs),
                prepared=datetime.now(UTC).date().isoformat(), items=tuple(items),
                pseudonymised=bool(pairs))


def to_markdown(pack: Pack) -> str:
    out = [f"# Member check: {pack.participant}", "",
           f"For {pack.next_interview}. {pack.study}. Prepared {pack.prepared}.", "",
           pack.invitation, ""]
    for item in pack.items:
        out += [f"## Extract {item.number}", ""]
        out += [f"> {line}" if line else ">" for line in item.lines]
        out += ["", item.citation, "", "### Draft analysis", ""]
        out += [item.analysis.strip() or "(no analysis written yet)", ""]
        out += ["### Your response", "", "", ""]
    return "\n".join(out).rstrip() + "\n"


def to_docx(pack: Pack) -> bytes:
    import docx

    doc = docx.Document()
    doc.add_heading(f"Member check: {pack.participant}", level=1)
    doc.add_paragraph(f"For {pack.next_interview}. {pack.study}. "
                      f"Prepared {pack.prepared}.")
    doc.add_paragraph(pack.invitation)
    for item in pack.items:
        doc.add_heading(f"Extract {item.number}", level=2)
        for line in item.lines:
            doc.add_paragraph(line, style="Quote")
        doc.add_paragraph(item.citation)
        doc.add_heading("Draft analysis", level=3)
        for para in (item.analysis.strip() or "(no analysis written yet)").split("\n"):
            doc.add_paragraph(para)
        doc.add_heading("Your response", level=3)
        doc.add_paragraph("")
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def write_pack(study: Study, pid: str, out_dir: Path) -> list[Path]:
    """Write ``<pid>-member-check.md`` and ``.docx`` into ``out_dir``; returns both paths."""
    pack = build_pack(study, pid)
    if out_dir.exists() and not out_dir.is_dir():
        raise StudyError(f"{out_dir} is not a folder")
    try:
        out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        md = out_dir / f"{pid}-member-check.md"
        word = out_dir / f"{pid}-member-check.docx"
        write_atomic(md, to_markdown(pack))
        write_atomic(word, to_docx(pack))
    except OSError as exc:
        raise StudyError(os_error_line(exc, out_dir, action="write the pack to")) from exc
    with study.ledger.tx():
        study.ledger.audit("pack.write", pid, extracts=len(pack.items))
    return [md, word]
