"""Speaker-count flags: --speakers, --min-speakers, --max-speakers, --voice-model."""

from __future__ import annotations

import pytest

from transcribe.diarize.registry import DiarisationError, speaker_settings
from verbatim.cli import build_parser
from verbatim.commands.transcribe_cmds import pipeline_options
from verbatim.config import Config
from verbatim.errors import UserError


def test_flags_lay_over_the_config_table() -> None:
    table = {"max_speakers": 6, "window": 1.5}
    merged = speaker_settings(table, min_speakers=3, voice_model="ge2e")
    assert merged == {"max_speakers": 6, "window": 1.5, "min_speakers": 3,
                      "voice_model": "ge2e"}
    assert table == {"max_speakers": 6, "window": 1.5}  # the config itself is untouched
    assert speaker_settings(table, max_speakers=2)["max_speakers"] == 2


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"min_speakers": 5, "max_speakers": 3}, "--min-speakers 5 is more than --max-speakers 3"),
    ({"speakers": 9, "max_speakers": 4}, "--speakers 9 is outside"),
    ({"voice_model": "wespeaker"}, "unknown voice model 'wespeaker'"),
])
def test_contradictions_are_one_line_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(DiarisationError, match=message):
        speaker_settings({}, **kwargs)


def test_cli_flags_reach_the_pipeline_options() -> None:
    args = build_parser().parse_args(["transcribe", "a.wav", "--out", "t.json",
                                      "--min-speakers", "3", "--max-speakers", "6",
                                      "--voice-model", "campplus"])
    options = pipeline_options(args, Config())
    assert options.diarization["min_speakers"] == 3
    assert options.diarization["max_speakers"] == 6
    assert options.diarization["voice_model"] == "campplus"
    bad = build_parser().parse_args(["transcribe", "a.wav", "--min-speakers", "4",
                                     "--max-speakers", "2"])
    with pytest.raises(UserError, match="more than --max-speakers"):
        pipeline_options(bad, Config())
