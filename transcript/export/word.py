"""Word (.docx) through python-docx: printed line numbers and Word's own numbering.

Each numbered line is one paragraph in a monospaced font sized so the widest
line fits the page, so Word lays out exactly one line per paragraph and its
own line numbering (``w:lnNumType`` in the section, restarting never) counts
the same numbers that are printed in the text. Every other paragraph (title,
notes, extracts) carries ``w:suppressLineNumbers`` so it is not counted.

Speaker labels are bold, beside the text in a column that wraps a long label,
or on a line of their own above each turn when a label column would push the
text below 9 pt (``plan_layout``). Reflexive notes are Word comments anchored
on the lines they concern, labelled Moment/Response/Understanding, and are
also listed in a notes section at the end (for readers whose viewer hides
comments); a note's heading is kept with its text.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime

from transcript.export.layout import Rendering, phase_text

FONT = "Courier New"          # a fixed advance of 0.6 em per character
ADVANCE_EM = 0.6
PAGE_WIDTH_CM = 21.0          # A4
MARGIN_CM = 2.0
MAX_POINTS = 10.0
READABLE_POINTS = 9.0         # labels never push the text below this
MIN_POINTS = 6.0              # only a line width too wide for the page goes below 9 pt
SAFETY = 0.97                 # leave room for rounding in the layout engine
USABLE_PT = (PAGE_WIDTH_CM - 2 * MARGIN_CM) / 2.54 * 72 * SAFETY
SMALLEST_POINTS = 3.0         # a single overlong line may go this small to stay one line
MIN_LABEL_COLUMN = 10         # a narrower label column would break most labels mid-word

# children of w:pPr that must come after w:suppressLineNumbers (ECMA-376 order)
_AFTER_SUPPRESS = ("w:pBdr", "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku",
                   "w:wordWrap", "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE",
                   "w:autoSpaceDN", "w:bidi", "w:adjustRightInd", "w:snapToGrid",
                   "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents",
                   "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment",
                   "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle",
                   "w:rPr", "w:sectPr", "w:pPrChange")
# children of w:sectPr that must come after w:lnNumType
_AFTER_LNNUM = ("w:pgNumType", "w:cols", "w:formProt", "w:vAlign", "w:noEndnote",
                "w:titlePg", "w:textDirection", "w:bidi", "w:rtlGutter", "w:docGrid",
                "w:printerSettings", "w:sectPrChange")


def font_points(chars: int) -> float:
    """The largest half-point size at which ``chars`` monospaced characters fit the page."""
    size = USABLE_PT / (ADVANCE_EM * max(chars, 1))
    return max(MIN_POINTS, min(MAX_POINTS, int(size * 2) / 2))


def _suppress_numbering(paragraph: object) -> None:
    from docx.oxml import OxmlElement

    p_pr = paragraph._p.get_or_add_pPr()  # type: ignore[attr-defined]
    p_pr.insert_element_before(OxmlElement("w:suppressLineNumbers"), *_AFTER_SUPPRESS)


def _line_numbering(section: object) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    sect_pr = section._sectPr  # type: ignore[attr-defined]
    ln = OxmlElement("w:lnNumType")
    ln.set(qn("w:countBy"), "1")
    ln.set(qn("w:distance"), "283")  # 0.5 cm from the text, in twentieths of a point
    ln.set(qn("w:restart"), "continuous")
    sect_pr.insert_element_before(ln, *_AFTER_LNNUM)


def _word_date(written_at: str, r: Rendering) -> str:
    """A comment's w:date (xsd:dateTime): when the note was written, else the export time."""
    try:
        stamp = datetime.fromisoformat(written_at.replace("Z", "+00:00"))
    except ValueError:
        stamp = r.meta.created_at()
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(UTC).replace(tzinfo=None)
    return stamp.isoformat(timespec="seconds") + "Z"


@dataclass(frozen=True)
class Layout:
    """Where the speaker labels go, and the type size that follows.

    ``beside``: labels in a column left of the text, wrapped to ``column``
    characters when a label is longer (its words run down the turn's lines;
    what a one-line turn cannot hold goes on unnumbered lines just above it).
    Otherwise each label sits on an unnumbered line above its turn, so a long
    label never costs the text its size: the text stays at ``READABLE_POINTS``
    or more whenever the line width fits the page at that size.
    """

    beside: bool
    column: int
    points: float


def plan_layout(number_w: int, label_w: int, text_w: int) -> Layout:
    """Choose label placement and size for these column widths (characters)."""
    fits_readable = int(USABLE_PT / (ADVANCE_EM * READABLE_POINTS))
    room = fits_readable - (number_w + 2 + 2 + text_w)
    if label_w == 0:
        return Layout(False, 0, font_points(number_w + 2 + text_w))
    if label_w <= room or room >= MIN_LABEL_COLUMN:
        column = min(label_w, max(room, MIN_LABEL_COLUMN))
        return Layout(True, column, font_points(number_w + 2 + column + 2 + text_w))
    return Layout(False, 0, font_points(number_w + 2 + text_w))


def _label_pieces(label: str, column: int) -> list[str]:
    """'Occupational Therapist:' in a 13-character column: ['Occupational', 'Therapist:']."""
    from transcript.lines import wrap_words

    pieces: list[str] = []
    for words in wrap_words(label.split(), column):
        piece = " ".join(words)
        while len(piece) > column:  # one word longer than the column: cut it
            pieces.append(piece[:column])
            piece = piece[column:]
        pieces.append(piece)
    return pieces


def _add_numbered_lines(document: object, r: Rendering, rows: list[tuple[str, str, str]],
                        number_w: int, layout: Layout) -> dict[int, object]:
    """Append one paragraph per numbered line; returns each line's text run (for comments).

    Label lines (above a turn, or a wrapped label's overflow) are unnumbered
    paragraphs kept with the turn's first line. The paragraphs are built as
    one XML fragment and parsed once: python-docx's per-paragraph API looks
    the style up by walking every style each time, which made a two-hour
    transcript take seconds.
    """
    from xml.sax.saxutils import escape

    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls
    from docx.text.paragraph import Paragraph
    from docx.text.run import Run

    style_id = document.styles["Verbatim Line"].style_id  # type: ignore[attr-defined]
    before = int(layout.points * 0.6 * 20)  # twentieths of a point
    column = layout.column
    fits = int(USABLE_PT / (ADVANCE_EM * layout.points))  # characters per line at this size

    def bold(text: str, small: str = "") -> str:
        return (f"<w:r><w:rPr><w:b/>{small}</w:rPr>"
                f"<w:t xml:space=\"preserve\">{escape(text)}</w:t></w:r>")

    def label_line(text: str, first: bool) -> str:
        spacing = f'<w:spacing w:before="{before}"/>' if first else ""
        indent = " " * (number_w + 2)
        return (f'<w:p><w:pPr><w:pStyle w:val="{style_id}"/><w:keepNext/>'
                f'<w:suppressLineNumbers/>{spacing}</w:pPr>'
                f'<w:r><w:t xml:space="preserve">{indent}</w:t></w:r>{bold(text)}</w:p>')

    # rows grouped into turns: a label starts a turn
    turns: list[list[tuple[str, str, str]]] = []
    for row in rows:
        if row[1] or not turns:
            turns.append([])
        turns[-1].append(row)
    parts = [f"<w:body {nsdecls('w')}>"]
    numbered: list[bool] = []
    for turn in turns:
        label = turn[0][1]
        pieces = _label_pieces(label, column) if (label and layout.beside) else []
        if label and not layout.beside:
            parts.append(label_line(label, True))
            numbered.append(False)
        overflow = max(0, len(pieces) - len(turn))
        for k in range(overflow):
            parts.append(label_line(pieces[k], k == 0))
            numbered.append(False)
        pieces = pieces[overflow:]
        for i, (n, _, text) in enumerate(turn):
            first = i == 0 and bool(label) and layout.beside and not overflow
            spacing = f'<w:spacing w:before="{before}"/>' if first else ""
            # a line longer than the page holds at this size (a very long word, or a
            # locked line written in a wordier notation) gets a size of its own, so
            # it still takes one laid-out line and Word's number stays its number
            chars = number_w + 2 + (column + 2 if layout.beside else 0) + len(text)
            small = ""
            if chars > fits:
                half_points = max(2 * SMALLEST_POINTS, int(2 * USABLE_PT / (ADVANCE_EM * chars)))
                small = f'<w:sz w:val="{half_points}"/><w:szCs w:val="{half_points}"/>'
            rpr = f"<w:rPr>{small}</w:rPr>" if small else ""
            cell = ""
            if layout.beside:
                piece = pieces[i] if i < len(pieces) else ""
                pad = " " * (column - len(piece) + 2)
                cell = (bold(piece, small) if piece else "") + \
                    f'<w:r>{rpr}<w:t xml:space="preserve">{pad}</w:t></w:r>'
            parts.append(
                f'<w:p><w:pPr><w:pStyle w:val="{style_id}"/>{spacing}{rpr}</w:pPr>'
                f'<w:r>{rpr}<w:t xml:space="preserve">{n:>{number_w}}  </w:t></w:r>{cell}'
                f'<w:r>{rpr}<w:t xml:space="preserve">{escape(_xml_safe(text))}</w:t></w:r></w:p>')
            numbered.append(True)
    parts.append("</w:body>")
    fragment = parse_xml("".join(parts))
    body = document.element.body  # type: ignore[attr-defined]
    paragraphs = list(fragment)
    for p in paragraphs:
        body._insert_p(p)
    lines_ps = [p for p, is_line in zip(paragraphs, numbered, strict=True) if is_line]
    runs: dict[int, object] = {}
    for line, p in zip(r.lines, lines_ps, strict=True):
        runs[line.n] = Run(p[-1], Paragraph(p, document._body))  # type: ignore[attr-defined]
    return runs


def _xml_safe(text: str) -> str:
    """Drop control characters XML 1.0 cannot hold (a stray one must not break the file)."""
    return "".join(ch for ch in text if ch >= " " or ch == "\t") if any(
        ch < " " for ch in text) else text


def to_docx(r: Rendering) -> bytes:
    from docx import Document
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    document = Document()
    props = document.core_properties
    props.title = r.title
    props.author = "verbatim"
    props.created = props.modified = r.meta.created_at().replace(tzinfo=None)
    section = document.sections[0]
    section.page_width, section.page_height = Cm(PAGE_WIDTH_CM), Cm(29.7)
    section.left_margin = section.right_margin = Cm(MARGIN_CM)
    _line_numbering(section)

    rows = list(r.numbered_rows())
    number_w = max((len(n) for n, _, _ in rows), default=1)
    label_w = max((len(lb) for _, lb, _ in rows), default=0)
    # the size follows the line width; a longer line (a very long word, or a locked line
    # written in a wordier notation) is sized alone, so the rest keeps its size
    layout = plan_layout(number_w, label_w, r.width)
    size = Pt(layout.points)

    style = document.styles.add_style("Verbatim Line", WD_STYLE_TYPE.PARAGRAPH)
    style.font.name = FONT
    style.font.size = size
    fmt = style.paragraph_format
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.line_spacing = 1.0
    fmt.widow_control = False

    def plain(text: str, style_name: str | None = None) -> object:
        paragraph = document.add_paragraph(text, style=style_name)
        _suppress_numbering(paragraph)
        return paragraph

    heading = document.add_heading(r.title, level=1)
    _suppress_numbering(heading)
    plain(r.summary())
    if r.meta.participant_id:
        facts = [f"Participant: {r.meta.participant_id}"]
        facts += [f"{k}: {v}" for k, v in r.meta.attributes.items()]
        plain("; ".join(facts))

    text_runs = _add_numbered_lines(document, r, rows, number_w, layout)

    for i, note in enumerate(r.doc.notes, start=1):
        span = r.note_lines(note)
        if span is None:
            continue
        body = [f"Note {i}, written {phase_text(note.phase)}", f"Moment: {note.moment}"]
        body += [f"{name}: {part}" for name, part in (("Response", note.response),
                                                       ("Understanding", note.understanding))
                 if part]
        comment = document.add_comment(
            [text_runs[span[0]], text_runs[span[1]]],  # type: ignore[list-item]
            text="\n".join(body), author="verbatim", initials="V")
        # the note's own time, not the export's: a re-export must not change it
        comment._comment_elm.set(qn("w:date"), _word_date(note.written_at, r))

    if r.doc.notes:
        _suppress_numbering(document.add_heading("Reflexive notes", level=2))
        for i, note in enumerate(r.doc.notes, start=1):
            title = plain("")
            title.add_run(f"Note {i}: {r.note_anchor(note)}, "  # type: ignore[attr-defined]
                          f"{phase_text(note.phase)}").bold = True
            # a note's heading never sits alone at the foot of a page
            title.paragraph_format.keep_with_next = True  # type: ignore[attr-defined]
            for name, value in (("Moment", note.moment), ("Response", note.response),
                                ("Understanding", note.understanding),
                                ("Written", note.written_at)):
                if value:
                    para = plain("")
                    para.add_run(f"{name}: ").italic = True  # type: ignore[attr-defined]
                    para.add_run(value)  # type: ignore[attr-defined]

    if r.meta.extracts:
        _suppress_numbering(document.add_heading("Extracts", level=2))
        for extract in r.meta.extracts:
            plain(f"‘{extract.text}’")
            plain(extract.citation)
            if extract.analysis:
                plain(extract.analysis)

    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
