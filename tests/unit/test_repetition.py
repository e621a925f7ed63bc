"""Decoding loops: found in word lists, real repetitions left alone, long loops collapsed."""

from __future__ import annotations

from dataclasses import dataclass

from transcribe.repetition import (
    better,
    collapse_loops,
    compression_ratio,
    find_loops,
    is_suspect_text,
    looped_words,
    suspect,
)

# The loop faster-whisper base wrote on apollo11.mp3: a 4-word phrase whose copies are
# separated by a dash word, which the old 1-4 word check counted as a fifth word.
APOLLO = ("Okay, well, we're like - " + "I don't think that's - " * 13
          + "I think one has got one right there.").split()


@dataclass(frozen=True)
class W:
    text: str
    start: float = 0.0
    end: float = 0.0
    probability: float = 0.9


def split(text: str) -> list[str]:
    return text.split()


def words(text: str) -> list[W]:
    return [W(t, i * 0.3, i * 0.3 + 0.2) for i, t in enumerate(text.split())]


def test_the_apollo_loop_is_found_with_its_phrase_and_copies() -> None:
    loops = find_loops(APOLLO)
    assert [(loop.phrase, loop.copies) for loop in loops] == [("i don't think that's", 13)]
    loop = loops[0]
    assert APOLLO[loop.start:loop.first_end] == ["I", "don't", "think", "that's", "-"]
    assert APOLLO[loop.end] == "I" and APOLLO[loop.end + 1] == "think"  # the real text after
    assert loop.collapsible
    assert looped_words(APOLLO) == 12 * 5


def test_phrases_up_to_ten_words_and_the_shortest_period_win() -> None:
    long = ("one two three four five six seven eight nine ten " * 3).split()
    assert [(x.phrase.count(" ") + 1, x.copies) for x in find_loops(long)] == [(10, 3)]
    assert [(x.phrase, x.copies) for x in find_loops(split("a a a a a a"))] == [("a", 6)]
    assert find_loops(split("no, no, no! I see"))[0].copies == 3


def test_ordinary_and_verbatim_speech_is_not_a_loop_to_collapse() -> None:
    assert find_loops(split("I was thinking that we should talk about the plan")) == []
    assert not find_loops(split("I- I was, uh, thinking that we- we should"))
    # a real triple repetition is suspect (decode again) but never collapsed
    stutter = find_loops(split("no, no, no, not that one"))
    assert stutter and not any(loop.collapsible for loop in stutter)
    kept, collapsed = collapse_loops(words("right, right, right, right, okay"))
    assert collapsed == [] and len(kept) == 5


def test_compression_ratio_flags_repetitive_text_that_is_no_run() -> None:
    repetitive = "the cat sat on the mat and the dog sat on the mat " * 6
    assert compression_ratio(repetitive) > 2.4
    assert compression_ratio("Ask not what your country can do for you.") < 2.4
    assert compression_ratio("") == 0.0
    assert is_suspect_text(repetitive.split())
    assert not is_suspect_text(split("And so my fellow Americans, ask not what your country "
                                     "can do for you, ask what you can do for your country."))


def test_collapse_keeps_one_doubtful_copy_and_the_words_around_it() -> None:
    reading = words(" ".join(APOLLO))
    kept, loops = collapse_loops(reading)
    assert len(loops) == 1
    text = " ".join(w.text for w in kept)
    assert text == ("Okay, well, we're like - I don't think that's - "
                    "I think one has got one right there.")
    copy = kept[5:10]
    assert [w.text for w in copy] == ["I", "don't", "think", "that's", "-"]
    assert all(w.probability < 0.5 for w in copy)  # doubtful: the editor leads the author there
    assert all(w.probability == 0.9 for w in kept[:5] + kept[10:])


def test_a_second_reading_with_fewer_looped_words_wins_even_if_shorter() -> None:
    looped = words(" ".join(APOLLO))
    plain = words("Okay, well, I just want to go on the air now. I think one has got one.")
    assert better(looped, plain) == plain  # the old rule kept the loop: it had more words
    assert better(plain, looped) == plain
    fewer = words("Okay, well, I just want")
    assert better(plain, fewer) == plain  # no loops either side: more words wins
    assert better(plain, []) == plain


def test_suspect_readings() -> None:
    assert suspect(words(" ".join(APOLLO)), 25.0)
    assert suspect(words("a few words"), 20.0)  # far too few words for 20 s
    assert not suspect(words("a few words"), 2.0)
    assert not suspect(words("Ask not what your country can do for you"), 4.0)
