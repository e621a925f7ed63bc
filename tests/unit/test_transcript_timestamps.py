"""Time stamps in exports: at each speaker change and/or every N seconds (issue 18)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.golden.fixture import fixture_document
from transcript.document import write
from transcript.export import Timestamps
from transcript.model import Line
from transcript.notation import get_profile
from verbatim.cli import main


def test_parse_accepts_turn_seconds_and_both() -> None:
    assert Timestamps.parse("turn") == Timestamps(turn=True)
    assert Timestamps.parse("60") == Timestamps(every=60.0)
    assert Timestamps.parse("60,turn") == Timestamps(turn=True, every=60.0)
    assert not Timestamps.parse("")
    assert not Timestamps.parse("none")


@pytest.mark.parametrize("text, fragment", [("often", "neither 'turn'"), ("0", "between 1")])
def test_parse_names_a_bad_value(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        Timestamps.parse(text)


LINES = (Line(1, "S1", "a", 0.0, 4.0), Line(2, "S1", "b", 4.0, 9.0), Line(3, "S1", "c", 12.0, 15.0),
         Line(4, "S2", "d", 15.5, 18.0), Line(5, "S2", "e", 18.0, 31.0),
         Line(6, "S2", "f", 31.0, 33.0))


def test_turn_stamps_each_speaker_change() -> None:
    assert Timestamps(turn=True).times(LINES) == {0: 0.0, 3: 15.5}


def test_interval_stamps_the_first_line_after_each_boundary() -> None:
    assert Timestamps(every=10).times(LINES) == {0: 0.0, 2: 12.0, 5: 31.0}
    assert Timestamps(turn=True, every=10).times(LINES) == {0: 0.0, 2: 12.0, 3: 15.5, 5: 31.0}


def test_dot_pauses_write_one_dot_per_second() -> None:
    dots = get_profile("paper", {"dot_pauses": True})
    assert [dots.pause(s) for s in (0.2, 0.6, 1.4, 2.6, 9.4, 12.2)] == [
        "", "(.)", "(.)", "(...)", "(.........)", "(12 s)"]
    assert get_profile("paper").pause(2.6) == "…"
    with pytest.raises(ValueError, match="true or false"):
        get_profile("paper", {"dot_pauses": 1})


def test_cli_export_writes_the_stamps(tmp_path: Path) -> None:
    source = tmp_path / "t.json"
    write(fixture_document(), source)
    out = tmp_path / "t.txt"
    assert main(["export", str(source), "--format", "txt", "--out", str(out),
                 "--width", "40", "--timestamps", "turn"]) == 0
    text = out.read_text()
    assert text.count("[00:00:") == 4  # four turns in the fixture
    assert "   [00:00:03]\n2  P4:" in text


def test_cli_refuses_a_bad_timestamps_value(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "t.json"
    write(fixture_document(), source)
    code = main(["export", str(source), "--format", "txt", "--out", str(tmp_path / "o.txt"),
                 "--timestamps", "sometimes"])
    assert code != 0
    assert "neither 'turn'" in capsys.readouterr().err
