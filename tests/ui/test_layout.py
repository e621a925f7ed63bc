"""The editor's screen rows, computed without a terminal (pure functions)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from transcript.model import AudioRef, Line, Mark, MarkKind, Note, Source, Speaker, Transcript
from verbatim.tui.decorations import line_flags
from verbatim.tui.layout import (
    first_rows,
    fold,
    format_time,
    layout_rows,
    line_at_time,
    turn_labels,
)


def test_fold_breaks_on_spaces_and_splits_only_words_that_cannot_fit() -> None:
    text = "it's that dual edge thing"
    assert [text[a:b] for a, b in fold(text, 10)] == ["it's that", "dual edge", "thing"]
    long = "abcdefghij xy"
    assert [long[a:b] for a, b in fold(long, 4)] == ["abcd", "efgh", "ij", "xy"]
    assert fold("", 10) == [(0, 0)]


@given(st.lists(st.text(alphabet="abc .…", min_size=1, max_size=12), min_size=1, max_size=12)
       .map(" ".join), st.integers(min_value=1, max_value=30))
def test_fold_keeps_every_character_but_the_breaking_spaces(text: str, width: int) -> None:
    spans = fold(text, width)
    assert all(b - a <= width for a, b in spans)
    rebuilt = "".join(text[a:b] for a, b in spans)
    assert rebuilt.replace(" ", "") == text.replace(" ", "")
    assert spans[0][0] == 0 and spans[-1][1] == len(text)


def lines() -> tuple[Line, ...]:
    return (Line(1, "S1", "short", 0.0, 1.0), Line(2, "S2", "a b c d e f g h", 1.5, 4.0),
            Line(3, "S2", "tail", 4.2, 5.0))


def test_labels_only_where_a_turn_starts_and_rows_fold_long_lines() -> None:
    doc = Transcript(audio=AudioRef("a"), speakers=(Speaker("S1", "Interviewer"),
                                                    Speaker("S2", "P4")))
    labels = turn_labels(lines(), doc)
    assert labels == ["Interviewer", "P4", ""]
    rows = layout_rows(lines(), labels, 8)
    assert [(r.line, r.label) for r in rows] == [(0, "Interviewer"), (1, "P4"), (1, ""),
                                                 (2, "")]
    assert first_rows(rows) == [0, 1, 3]


def test_line_at_time_and_clock() -> None:
    assert line_at_time(lines(), 0.5) == 0
    assert line_at_time(lines(), 1.2) == 0  # the silence after a line belongs to it
    assert line_at_time(lines(), 4.5) == 2
    assert line_at_time((), 1.0) is None
    assert format_time(65.3) == "1:05.3"
    assert format_time(3725.0) == "1:02:05.0"


def test_line_flags_mark_notes_and_unconfirmed_auto_marks() -> None:
    doc = Transcript(audio=AudioRef("a"), marks=(
        Mark(MarkKind.PAUSE, 2.0, 2.5, "S2", "", Source.AUTO),
        Mark(MarkKind.TONE, 4.3, 4.3, "S2", "laughs", Source.HUMAN)))
    notes = [Note(start=0.2, end=1.6, phase="after", moment="m")]
    assert line_flags(lines(), doc, notes) == [(True, False), (True, True), (False, False)]


def test_notation_of_marks_is_picked_out_of_a_line_in_every_profile() -> None:
    from rich.style import Style

    from verbatim.tui.widgets.transcript_view import notation_segments

    plain, mark = Style(), Style(italic=True)
    text = "it's th- .. it's that … thing [laughs] (.) (0.5) ((sighs)) °quiet° //ja// (unv.)"
    picked = [seg.text for seg in notation_segments(text, plain, mark) if seg.style == mark]
    assert picked == ["..", "…", "[laughs]", "(.)", "(0.5)", "((sighs))", "°quiet°", "//", "//",
                      "(unv.)"]
    rebuilt = "".join(seg.text for seg in notation_segments(text, plain, mark))
    assert rebuilt == text


@given(st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(
    ["x", "two words", "", "a-very-long-hyphenated-replacement-word", "I I", "..."])),
    min_size=1, max_size=6), st.sampled_from(["paper", "jefferson"]))
@settings(max_examples=10, deadline=None)
def test_renumbering_only_the_edited_turn_equals_numbering_it_all(
        edits_made: list[tuple[int, str]], profile: str) -> None:
    """The editor's fast path (issue 13): a splice of the edited turn is the full numbering."""
    from transcript.edits import replace_words
    from verbatim.tui.layout import numbered_lines, renumber_edit

    doc = _long_doc()
    lines = numbered_lines(doc, profile=profile)
    for index, text in edits_made:
        k = index % len(doc.words)
        word = doc.words[k]
        doc = replace_words(doc, k, k, text)
        lines = renumber_edit(lines, doc, (word.start, word.end), profile=profile)
        assert lines == numbered_lines(doc, profile=profile)


def _long_doc() -> Transcript:
    from tests.golden.fixture import synthetic_document

    return synthetic_document(3_000, seed=7)


@given(st.integers(0, 2_999), st.sampled_from(["x", "", "two more words here", "w " * 30]))
@settings(max_examples=8, deadline=None)
def test_splicing_screen_rows_equals_laying_them_all_out(index: int, text: str) -> None:
    """The view folds only an edit's lines; the rows must be those of a full layout."""
    from transcript.edits import replace_words
    from verbatim.tui.layout import (
        first_rows,
        layout_rows,
        numbered_lines,
        renumber_splice,
        splice_rows,
    )

    doc = _long_doc()
    lines = numbered_lines(doc)
    labels = turn_labels(lines, doc)
    rows = layout_rows(lines, labels, 40)
    word = doc.words[index]
    new = replace_words(doc, index, index, text)
    spliced, first, removed, added = renumber_splice(lines, new, (word.start, word.end))
    new_labels = turn_labels(spliced, new)
    got = splice_rows(rows, first_rows(rows), first, removed,
                      spliced[first:first + added], new_labels[first:first + added], 40)
    assert got == layout_rows(spliced, new_labels, 40)


async def test_the_view_splices_rows_and_first_rows_as_a_full_layout_would() -> None:
    from textual.app import App, ComposeResult

    from transcript.edits import replace_words
    from verbatim.tui.layout import numbered_lines, renumber_splice
    from verbatim.tui.widgets.transcript_view import TranscriptView

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield TranscriptView(id="a")
            yield TranscriptView(id="b")

    doc = _long_doc()
    lines = numbered_lines(doc)
    async with Host().run_test(size=(60, 20)) as pilot:
        spliced_view, full_view = pilot.app.query(TranscriptView)
        spliced_view.set_lines(lines, turn_labels(lines, doc))
        for index, text in ((40, "a much longer replacement than before " * 3), (900, ""),
                            (2500, "x")):
            word = doc.words[index]
            doc = replace_words(doc, index, index, text)
            lines, first, removed, added = renumber_splice(lines, doc, (word.start, word.end))
            labels = turn_labels(lines, doc)
            spliced_view.splice_lines(lines, labels, [(False, False)] * len(lines),
                                      first, removed, added)
        full_view.set_lines(lines, turn_labels(lines, doc))
        assert spliced_view._rows == full_view._rows
        assert spliced_view._line_row == full_view._line_row


@given(st.floats(0, 3_000), st.floats(0, 30))
@settings(max_examples=40, deadline=None)
def test_marks_touching_a_span_are_those_the_edits_module_finds(start: float,
                                                               length: float) -> None:
    from transcript.edits import marks_between
    from verbatim.tui.layout import marks_touching

    doc = _long_doc()
    assert tuple(marks_touching(doc.marks, start, start + length)) == marks_between(
        doc, start, start + length)


def _doubtful_doc() -> Transcript:
    """The long document with every seventh word under the doubt threshold."""
    from dataclasses import replace

    doc = _long_doc()
    words = tuple(replace(w, probability=0.2 if i % 7 == 0 else 0.95, confirmed=False)
                  for i, w in enumerate(doc.words))
    return replace(doc, words=words)


@given(st.lists(st.tuples(st.integers(0, 2_999), st.sampled_from(
    ["x", "", "two more words", "a-very-long-hyphenated-replacement-word", "CONFIRM"])),
    min_size=1, max_size=5))
@settings(max_examples=10, deadline=None)
def test_an_edits_doubt_and_flags_equal_working_them_out_for_every_line(
        edits_made: list[tuple[int, str]]) -> None:
    """The editor's fast path (issue 13): after an edit only the renumbered lines' doubtful
    words and gutter flags are worked out again; the result is the whole computation's."""
    from transcript.doubt import confirm_word
    from transcript.edits import replace_words
    from verbatim.tui.decorations import doubt_of, doubt_spliced, flags_spliced
    from verbatim.tui.layout import numbered_lines, renumber_splice, spliced_span

    doc = _doubtful_doc()
    lines = numbered_lines(doc)
    notes = [Note(start=w.start, end=w.end + 3.0, phase="after", moment="m")
             for w in doc.words[::400]]
    doubt = doubt_of(doc, lines, 0.5)
    flags = line_flags(lines, doc, notes)
    for index, text in edits_made:
        k = index % len(doc.words)
        word = doc.words[k]
        new = confirm_word(doc, k) if text == "CONFIRM" else replace_words(doc, k, k, text)
        spliced, first, removed, added = renumber_splice(lines, new, (word.start, word.end))
        span = spliced_span(lines, first, removed)
        doubt = doubt_spliced(doubt, doc, new, spliced, first, removed, added, span, 0.5)
        flags = flags_spliced(flags, spliced, new, notes, first, removed, added)
        doc, lines = new, spliced
        assert doubt == doubt_of(doc, lines, 0.5)
        assert flags == line_flags(lines, doc, notes)
    assert doubt.count == sum(1 for w in doc.words if w.probability < 0.5 and not w.confirmed)
