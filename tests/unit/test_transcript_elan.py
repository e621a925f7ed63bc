"""ELAN: utterances per turn (sentences in a long turn), marks and line numbers on own tiers,
media links that resolve, and a file that validates against EAF 3.0's schema."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote, urlparse

from lxml import etree

from tests.golden.fixture import fixture_document, synthetic_document
from transcript.export import ExportMeta, export, render
from transcript.export.elan import LONG_TURN
from transcript.lines import lock, number_lines
from transcript.model import AudioRef, Mark, MarkKind, Speaker, Transcript, Word
from transcript.pseudonymise import Replacements

SCHEMA = etree.XMLSchema(etree.parse(str(Path(__file__).parents[1] / "data" / "EAFv3.0.xsd")))


def _tiers(data: bytes) -> dict[str, list[tuple[int, int, str]]]:
    root = etree.fromstring(data)
    slots = {s.get("TIME_SLOT_ID"): int(s.get("TIME_VALUE")) for s in root.iter("TIME_SLOT")}
    return {tier.get("TIER_ID"): [(slots[a.get("TIME_SLOT_REF1")], slots[a.get("TIME_SLOT_REF2")],
                                   a.findtext("ANNOTATION_VALUE"))
                                  for a in tier.iter("ALIGNABLE_ANNOTATION")]
            for tier in root.iter("TIER")}


def _long_turn() -> Transcript:
    """One speaker talking for 40 s in four sentences; an overlap runs across the second end."""
    text = ("I think the team was really good. We had a plan for every case. "
            "But then the money went and the partnership. It was never the same again.")
    words, t = [], 0.0
    for token in text.split():
        words.append(Word(token, round(t, 2), round(t + 1.2, 2), "S2"))
        t += 1.5
    words.insert(0, Word("so?", 0.0, 0.0, "S1"))
    marks = (Mark(MarkKind.OVERLAP, 20.0, 21.5, None),  # 'case.' | 'But' held together
             Mark(MarkKind.TONE, 6.0, 9.0, "S2", "quietly"))
    return Transcript(audio=AudioRef("audio/P1-1.wav"),
                      speakers=(Speaker("S1", "Interviewer"), Speaker("S2", "P1")),
                      words=tuple(words[1:]), marks=marks)


def test_eaf_validates_against_eaf_3_0() -> None:
    for doc in (fixture_document(), synthetic_document(2000, seed=2), _long_turn(),
                lock(fixture_document(), width=40, profile="jefferson")):
        root = etree.fromstring(render(doc, "eaf", meta=ExportMeta(interview_id="P4-1")))
        assert SCHEMA.validate(root), SCHEMA.error_log.last_error
        assert root.get("VERSION") == "3.0"


def test_speaker_tiers_name_their_participant() -> None:
    root = etree.fromstring(render(fixture_document(), "eaf"))
    who = {t.get("TIER_ID"): t.get("PARTICIPANT") for t in root.iter("TIER")}
    assert who["P4"] == who["P4 lines"] == "P4"
    assert who["Interviewer"] == "Interviewer" and who["marks"] is None


def test_elan_continues_annotation_ids_after_ours() -> None:
    root = etree.fromstring(render(fixture_document(), "eaf"))
    ids = [int(a.get("ANNOTATION_ID")[1:]) for a in root.iter("ALIGNABLE_ANNOTATION")]
    last = root.find(".//PROPERTY[@NAME='lastUsedAnnotation']")
    assert last is not None and int(last.text) == max(ids)


def test_one_annotation_per_turn() -> None:
    doc = fixture_document()
    tiers = _tiers(render(doc, "eaf", width=40))
    assert [v for _, _, v in tiers["P4"]] == [
        "for me, it's th- .. it's that dual edge … thing .. about what we do …. and i-i-it was "
        "a bad thing [  ] [laughs] (quietly) but sometimes you're so [busy]",
        "about the [care?] plans"]
    assert [v for _, _, v in tiers["Interviewer"]] == ["so what was that like for you?", "[mm]"]
    # the line numbers, each at its own line's time, on a tier of their own
    lines = number_lines(doc, width=40)
    numbered = sorted(tiers["P4 lines"] + tiers["Interviewer lines"])
    assert [int(v) for _, _, v in numbered] == [ln.n for ln in lines]
    assert [a for a, _, _ in numbered] == [round(ln.start * 1000) for ln in lines]


def test_a_long_turn_is_cut_at_sentence_ends_but_never_inside_a_mark() -> None:
    doc = _long_turn()
    assert doc.words[-1].end - doc.words[0].start > LONG_TURN
    spoken = [v for _, _, v in _tiers(render(doc, "eaf"))["P1"]]
    assert spoken == [
        "I think the team (quietly) was really good.",
        "We had a plan for every [case. But] then the money went and the partnership.",
        "It was never the same again."]


def test_an_unsure_word_is_not_a_question() -> None:
    doc = _long_turn()
    unsure = Mark(MarkKind.INAUDIBLE, 3.0, 4.2, "S2", "team")  # '[team?]' in paper
    doc = replace(doc, marks=(*doc.marks, unsure))
    for profile in ("paper", "dresing-pehl", "jefferson"):
        first = _tiers(render(doc, "eaf", profile=profile))["P1"][0][2]
        assert first.startswith("I think") and first.endswith("good."), (profile, first)


def test_no_mark_is_cut_across_two_annotations() -> None:
    doc = synthetic_document(3000, seed=11)
    words = list(doc.words)
    for i in range(0, len(words), 9):  # sentences everywhere, so long turns are cut often
        words[i] = replace(words[i], text=words[i].text + ".")
    doc = replace(doc, words=tuple(words))
    tiers = _tiers(render(doc, "eaf"))
    for name in ("Interviewer", "P4"):
        for _, _, value in tiers[name]:
            assert value.count("[") == value.count("]"), value
            assert value.count("(") == value.count(")"), value
    turns = sum(1 for a, b in itertools.pairwise(doc.words) if a.speaker != b.speaker) + 1
    assert len(tiers["P4"]) + len(tiers["Interviewer"]) > turns  # long turns were cut


def test_tiers_never_overlap_on_a_long_transcript() -> None:
    for name, spans in _tiers(render(synthetic_document(3000, seed=5), "eaf")).items():
        for (a0, a1, _), (b0, _, _) in itertools.pairwise(sorted(spans)):
            assert a0 < a1 <= b0, name


def test_media_urls_resolve_from_where_the_eaf_is_written(tmp_path: Path) -> None:
    study = tmp_path / "study"
    (study / "audio").mkdir(parents=True)
    wav = study / "audio" / "P4-1.wav"
    wav.write_bytes(b"RIFF")
    exports = tmp_path / "exports" / "elan"
    exports.mkdir(parents=True)
    out = exports / "P4-1.eaf"
    export(fixture_document(), "eaf", out, meta=ExportMeta(media_path=str(wav)))
    media = etree.parse(str(out)).find(".//MEDIA_DESCRIPTOR")
    assert media is not None
    url = media.get("MEDIA_URL")
    assert url == wav.as_uri() and Path(unquote(urlparse(url).path)) == wav
    relative = media.get("RELATIVE_MEDIA_URL")
    assert relative == "../../study/audio/P4-1.wav"
    assert (out.parent / relative).resolve() == wav
    # saved in the study folder itself: a path down into audio/
    export(fixture_document(), "eaf", study / "P4-1.eaf", meta=ExportMeta(media_path=str(wav)))
    media = etree.parse(str(study / "P4-1.eaf")).find(".//MEDIA_DESCRIPTOR")
    assert media is not None and media.get("RELATIVE_MEDIA_URL") == "./audio/P4-1.wav"


def test_pseudonymised_eaf_names_the_recording_by_interview_id_only(tmp_path: Path) -> None:
    wav = tmp_path / "Sarah Smith 2026-11-20.wav"
    wav.write_bytes(b"RIFF")
    out = tmp_path / "x.eaf"
    export(fixture_document(), "eaf", out, replacements=Replacements.from_pairs([("a", "[b]")]),
           meta=ExportMeta(interview_id="P4-1", media_path=str(wav)))
    text = out.read_text(encoding="utf-8")
    assert "Sarah" not in text and str(tmp_path) not in text
    media = etree.parse(str(out)).find(".//MEDIA_DESCRIPTOR")
    assert media is not None
    assert (media.get("MEDIA_URL"), media.get("RELATIVE_MEDIA_URL")) == ("P4-1.wav", "./P4-1.wav")


def test_pympi_reads_it_back(tmp_path: Path) -> None:
    from pympi.Elan import Eaf

    out = tmp_path / "t.eaf"
    export(lock(fixture_document(), width=40), "eaf", out)
    eaf = Eaf(str(out))
    assert {"Interviewer", "P4", "P4 lines", "marks", "notes"} <= set(eaf.get_tier_names())
    assert len(eaf.get_annotation_data_for_tier("marks")) == len(fixture_document().marks)
