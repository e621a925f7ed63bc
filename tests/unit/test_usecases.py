"""The use-case room called directly: speakers, edits on a locked numbering, the CLI's lists."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from transcript.model import AudioRef, Transcript, Word
from verbatim.study import Study, StudyError
from verbatim.usecases import editing, speakers


def _doc() -> Transcript:
    tokens = ["so", "how", "did", "it", "start", "well", "it", "began", "slowly"]
    words = [Word(t, i * 0.5, i * 0.5 + 0.3, "S1" if i < 4 else "S2")
             for i, t in enumerate(tokens)]
    return Transcript(audio=AudioRef("audio/P1-1.wav"), words=tuple(words))


@pytest.fixture
def study(tmp_path: Path) -> Study:
    audio = tmp_path / "rec.wav"
    sf.write(str(audio), np.zeros(16000 * 5, dtype="float32"), 16000)
    s = Study.init(tmp_path / "study")
    s.add_participant("P1")
    s.add_interview("P1", audio)
    s.save_transcript("P1-1", _doc(), origin="pipeline")
    yield s
    s.close()


def test_rename_and_merge_speakers_save_versions(study: Study) -> None:
    renamed = speakers.rename_speaker(study, "P1-1", "S1", " Interviewer ")
    assert renamed.changed and renamed.document.speaker_label("S1") == "Interviewer"
    merged = speakers.merge_speakers(study, "P1-1", "S2", "S1")
    assert {w.speaker for w in merged.document.words} == {"S1"}
    assert [v.description for v in study.versions("P1-1")][-2:] == [
        "rename S1 to Interviewer", "merge S2 into S1"]
    assert editing.undo(study, "P1-1") == renamed.document


def test_speaker_refusals_are_one_line(study: Study) -> None:
    with pytest.raises(StudyError, match="no speaker 'S9'"):
        speakers.rename_speaker(study, "P1-1", "S9", "x")
    with pytest.raises(StudyError, match="into itself"):
        speakers.merge_speakers(study, "P1-1", "S1", "S1")


def test_a_locked_numbering_allows_a_label_but_not_a_merge(study: Study) -> None:
    study.lock("P1-1")
    lines = study.transcript("P1-1").lines
    assert speakers.rename_speaker(study, "P1-1", "S2", "P1").changed
    with pytest.raises(StudyError, match="locked"):
        speakers.merge_speakers(study, "P1-1", "S2", "S1")
    assert study.transcript("P1-1").lines == lines


def test_an_edit_that_changes_nothing_saves_nothing(study: Study) -> None:
    before = len(study.versions("P1-1"))
    result = editing.save_edit(study, "P1-1", lambda d: d, "nothing")
    assert not result.changed and len(study.versions("P1-1")) == before


def test_the_cli_choices_are_the_rooms_lists() -> None:
    from transcribe.diarize import DIARISERS
    from transcribe.engines import ENGINES
    from transcript.export import FORMATS
    from transcript.notation import PROFILES
    from verbatim import cli

    assert cli.FORMATS == FORMATS and cli.NOTATIONS == PROFILES
    assert cli.ENGINES == ENGINES and cli.DIARISERS == DIARISERS


def test_pack_names_the_interview_it_is_for_without_inventing_one(study: Study,
                                                                  tmp_path: Path) -> None:
    from verbatim.usecases.exporting import write_pack

    study.lock("P1-1")
    study.add_extract("P1-1", 1, 1)
    paths = write_pack(study, "P1", tmp_path / "pack")
    text = next(p for p in paths if p.suffix == ".md").read_text()
    assert "For the next interview with P1 (after P1-1)" in text and "P1-2" not in text


def test_no_sound_device_is_said_plainly() -> None:
    from verbatim.tui.playback import describe_output_error

    message = describe_output_error(Exception("Error querying device -1"))
    assert message.startswith("no sound output device found") and "-1" not in message


def _line_doc() -> Transcript:
    from transcript.model import Mark, MarkKind, Source

    tokens = ["it's", "-", "it's", "a", "double-edged", "thing"]
    words = tuple(Word(t, i * 0.5, i * 0.5 + 0.4, "S2") for i, t in enumerate(tokens))
    marks = (Mark(MarkKind.INAUDIBLE, 0.0, 1.4, "S2", "", Source.AUTO),
             Mark(MarkKind.PAUSE, 2.45, 2.9, "S2", "", Source.AUTO))
    return Transcript(audio=AudioRef("a"), words=words, marks=marks)


def test_editing_a_word_leaves_an_uncertainty_mark_on_its_words() -> None:
    """Finding 8: ``[it's - it's?]`` must not become ``it's - it's [a?] double-edged``."""
    from transcript.lines import number_lines

    doc = _line_doc()
    before = number_lines(doc)[0].text
    assert before.startswith("[it's - it's?] a")
    edited = editing.retype_words(0, 5, "it's - it's a double edged thing")(doc)
    after = number_lines(edited)[0].text
    assert after.startswith("[it's - it's?] a") and "double edged" in after


def test_retyping_a_line_with_its_pause_adds_no_second_pause() -> None:
    """Issue 20, 7: the line as shown ("a .. double-edged") retyped must export one pause."""
    from transcript.lines import number_lines

    doc = _line_doc()
    shown = number_lines(doc)[0].text
    assert shown.count("..") == 1
    typed = shown.replace("[", "").replace("?]", "").replace("thing", "matter")
    edited = editing.retype_words(0, 5, typed)(doc)
    assert [w.text for w in edited.words][-1] == "matter"
    assert number_lines(edited)[0].text.count("..") == 1
