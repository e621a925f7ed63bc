"""Words the engine split off ('-hearted', '-line', '.e.'): written, wrapped, cited, found whole."""

from __future__ import annotations

import pytest

from transcript.citation import cite
from transcript.edits import find, replace_text
from transcript.export import FORMATS, render
from transcript.joining import continues, word_groups
from transcript.lines import lines_in_range, lock, number_lines, text_of
from transcript.model import AudioRef, Mark, MarkKind, Speaker, Transcript, Word
from transcript.pseudonymise import Replacements

# as faster-whisper gives them (its text stripped): 'cold' '-hearted', '42' '-line', 'i' '.e.'
_WORDS = [("he", 0.0, 0.2), ("was", 0.25, 0.4), ("cold", 0.45, 0.7), ("-hearted,", 0.7, 1.1),
          ("the", 1.2, 1.3), ("42", 1.35, 1.7), ("-line", 1.7, 2.0), ("Bible,", 2.05, 2.4),
          ("i", 2.5, 2.6), (".e.", 2.6, 2.8), ("in", 2.85, 2.95), ("lower", 3.0, 3.3),
          ("-case", 3.3, 3.6), ("and", 3.7, 3.8), ("it", 3.85, 3.95), ("'s", 3.95, 4.05),
          ("'cause", 4.1, 4.4), ("Jean", 4.5, 4.7), ("-Paul", 4.7, 5.0), ("said", 5.1, 5.3),
          ("-", 5.35, 5.4), ("so", 5.45, 5.6)]


def _doc(marks: tuple[Mark, ...] = ()) -> Transcript:
    words = tuple(Word(t, s, e, "S1") for t, s, e in _WORDS)
    return Transcript(audio=AudioRef("audio/P1-1.wav"), speakers=(Speaker("S1", "P1"),),
                      words=words, marks=marks)


@pytest.mark.parametrize("text, expected", [
    ("-hearted", True), ("-line", True), (".e.", True), ("'s", True), ("’re", True),
    ("'ll,", True), ("-19", True), (".5", True),
    ("'cause", False), ("'em", False), ("-", False), ("--", False), ("...", False),
    ("..", False), ("hearted", False), ("th-", False), ("", False),
])
def test_which_words_continue_the_one_before(text: str, expected: bool) -> None:
    assert continues(text) is expected


def test_split_words_are_written_whole() -> None:
    text = number_lines(_doc(), width=200)[0].text
    assert text == ("he was cold-hearted, the 42-line Bible, i.e. in lower-case and it's "
                    "'cause Jean-Paul said - so")


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f not in ("docx", "qdpx")])
def test_no_format_writes_a_split_word_with_a_space(fmt: str) -> None:
    data = render(_doc(), fmt, width=30).decode("utf-8")
    for broken in ("cold -hearted", "42 -line", "i .e.", "lower -case", "it 's"):
        assert broken not in data, f"{fmt}: {broken!r}"
    assert "cold-hearted" in data or '"-hearted,"' in data  # json keeps the engine's words too


def test_wrapping_never_breaks_a_joined_word() -> None:
    for width in range(10, 40):
        for line in number_lines(_doc(), width=width):
            assert not continues(line.text.split()[0]), (width, line.text)
            assert not line.text.endswith((" cold", " 42", " i", " lower", " Jean")), width


def test_a_citation_quotes_the_joined_word() -> None:
    locked = lock(_doc(), width=24)
    picked = lines_in_range(locked.lines, 1, 2)
    quote = text_of(picked)
    assert "cold-hearted" in quote and "cold -hearted" not in quote
    assert cite(1, "P1", "", 1, 2) == "(Extract 1. P1. 1-2)"


def test_search_and_replace_see_one_word() -> None:
    doc = _doc()
    assert [(m.first, m.last) for m in find(doc, "cold-hearted")] == [(2, 3)]
    assert [(m.first, m.last) for m in find(doc, "i.e.")] == [(8, 9)]
    assert find(doc, "hearted") == ()  # not a word of its own any more
    assert len(find(doc, "the 42-line bible")) == 1
    kinder = replace_text(doc, "cold-hearted", "kind")
    assert number_lines(kinder, width=200)[0].text.startswith("he was kind, the 42-line")


def test_a_split_name_is_pseudonymised_whole() -> None:
    reps = Replacements.from_pairs([("Jean-Paul", "[colleague]")])
    text = render(_doc(), "txt", width=200, replacements=reps).decode()
    assert "'cause [colleague] said" in text and "Paul" not in text
    json_text = render(_doc(), "json", width=200, replacements=reps).decode()
    assert "Paul" not in json_text


def test_a_mark_between_the_halves_keeps_them_apart() -> None:
    pause = Mark(MarkKind.PAUSE, 0.7, 0.7, "S1", "")
    tone = Mark(MarkKind.TONE, 0.7, 0.7, "S1", "laughs")
    assert "cold [laughs] -hearted" in number_lines(_doc((tone,)), width=200)[0].text
    assert "cold-hearted" in number_lines(_doc((pause,)), width=200)[0].text  # 0 s: not written


def test_another_speakers_word_is_never_joined() -> None:
    doc = _doc()
    words = list(doc.words)
    words[3] = Word("-hearted", 0.7, 1.1, "S2")
    doc = Transcript(audio=doc.audio, words=tuple(words))
    groups = word_groups(doc.words)
    assert (2, 3) not in groups and (2, 2) in groups
