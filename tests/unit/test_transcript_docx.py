"""Word export: readable size whatever the labels, labelled note comments, kept headings."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest

from tests.golden.fixture import fixture_document, synthetic_document
from transcript.export import ExportMeta, render
from transcript.export.word import READABLE_POINTS, plan_layout
from transcript.lines import number_lines
from transcript.model import Transcript

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _long_labels(doc: Transcript) -> Transcript:
    return replace(doc, speakers=(replace(doc.speakers[0], label="Research Interviewer"),
                                  replace(doc.speakers[1], label="Occupational Therapist")))


def _open(data: bytes):  # type: ignore[no-untyped-def]
    from docx import Document

    return Document(io.BytesIO(data))


def _numbered(document) -> list:  # type: ignore[no-untyped-def]
    return [p for p in document.paragraphs if p.style.name == "Verbatim Line"
            and p._p.pPr.find(f"{W}suppressLineNumbers") is None]


@pytest.mark.parametrize("width", [40, 60, 72, 80])
def test_long_labels_never_shrink_the_text_below_9_points(width: int) -> None:
    doc = _long_labels(synthetic_document(800, seed=1))
    document = _open(render(doc, "docx", width=width))
    size = document.styles["Verbatim Line"].font.size.pt
    assert size >= READABLE_POINTS
    lines = number_lines(doc, width=width)
    numbered = _numbered(document)
    assert [p.text.split()[0] for p in numbered] == [str(ln.n) for ln in lines]
    for para, line in zip(numbered, lines, strict=True):
        assert para.text.endswith(line.text)
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Occupational" in text and "Therapist:" in text


def test_at_width_80_labels_stand_above_their_turns_unnumbered() -> None:
    doc = _long_labels(fixture_document())
    document = _open(render(doc, "docx", width=80))
    body = [p for p in document.paragraphs if p.style.name == "Verbatim Line"]
    labels = [p for p in body if p._p.pPr.find(f"{W}suppressLineNumbers") is not None]
    assert [p.text.strip() for p in labels] == ["Research Interviewer:", "Occupational Therapist:",
                                                "Research Interviewer:", "Occupational Therapist:"]
    assert all(p._p.pPr.find(f"{W}keepNext") is not None for p in labels)
    assert all(p.runs[1].bold for p in labels)


def test_a_narrow_column_wraps_the_label_down_the_turn() -> None:
    layout = plan_layout(3, len("Occupational Therapist:"), 60)
    assert layout.beside and layout.column < len("Occupational Therapist:")
    assert layout.points >= READABLE_POINTS
    doc = _long_labels(fixture_document())
    document = _open(render(doc, "docx", width=60))
    numbered = _numbered(document)
    p4 = next(i for i, p in enumerate(numbered) if "for me" in p.text)
    assert "Occupational" in numbered[p4].text and "Therapist:" in numbered[p4 + 1].text
    # a one-line turn cannot hold both words: the first goes on an unnumbered line above
    body = [p for p in document.paragraphs if p.style.name == "Verbatim Line"]
    one_line = next(i for i, p in enumerate(body) if p.text.rstrip().endswith("[care?] plans"))
    assert body[one_line - 1].text.strip() == "Occupational"
    assert body[one_line].text.split()[:2] == ["6", "Therapist:"]
    assert body[one_line - 1]._p.pPr.find(f"{W}suppressLineNumbers") is not None


def test_note_comment_keeps_its_three_labelled_parts() -> None:
    document = _open(render(fixture_document(), "docx", width=40))
    (comment,) = list(document.comments)
    text = comment.text
    assert "Moment: the dual edge: his voice dropped" in text
    assert "Response: I felt uneasy about my own role" in text
    assert "Understanding: my clinical identity carries the same tension" in text


def test_a_note_heading_is_kept_with_its_text() -> None:
    document = _open(render(fixture_document(), "docx", width=40, meta=ExportMeta(title="P4-1")))
    heading = next(p for p in document.paragraphs if p.text.startswith("Note 1:"))
    assert heading.paragraph_format.keep_with_next is True


def test_one_overlong_line_is_sized_alone() -> None:
    doc = _long_labels(synthetic_document(400, seed=2))
    words = list(doc.words)
    words[30] = replace(words[30], text="-".join(["okay"] * 30))
    document = _open(render(replace(doc, words=tuple(words)), "docx", width=80))
    assert document.styles["Verbatim Line"].font.size.pt >= READABLE_POINTS
    sized = [p for p in _numbered(document) if p.runs[-1].font.size is not None]
    assert len(sized) == 1 and "okay-okay" in sized[0].text
    assert sized[0].runs[-1].font.size.pt * 0.6 * len(sized[0].text) <= 467.5
