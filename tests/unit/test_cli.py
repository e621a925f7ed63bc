"""The command line of DESIGN.md: every verb registered, errors in one line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from verbatim.cli import HANDLERS, build_parser, handler_key, main

DESIGN_VERBS = ["record", "recover", "transcribe", "export", "models", "study", "participant",
                "interview", "lock", "note", "extract", "pack"]


def test_help_names_every_design_verb(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for verb in DESIGN_VERBS:
        assert f"    {verb}" in out, f"{verb} missing from --help"


@pytest.mark.parametrize("verb", DESIGN_VERBS)
def test_each_verb_has_its_own_help(verb: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([verb, "--help"])
    assert exit_info.value.code == 0
    assert "usage: verbatim " + verb in capsys.readouterr().out


def test_every_handler_resolves_to_a_function() -> None:
    import importlib

    for key, target in HANDLERS.items():
        module_name, func = target.split(":")
        module = importlib.import_module(f"verbatim.commands.{module_name}")
        assert callable(getattr(module, func)), key


def test_interview_ids_route_to_the_study(tmp_path) -> None:  # type: ignore[no-untyped-def]
    parser = build_parser()
    assert handler_key(parser.parse_args(["transcribe", "P4-1"])) == "transcribe-interview"
    audio = tmp_path / "P4-1"
    audio.write_bytes(b"")
    args = parser.parse_args(["transcribe", str(audio), "--out", "t.json"])
    assert handler_key(args) == "transcribe"
    assert handler_key(parser.parse_args(["export", "x.json", "--format", "txt", "--out", "o"])) \
        == "export"
    assert handler_key(parser.parse_args([])) == "tui"


def test_usage_error_is_one_line() -> None:
    out = subprocess.run([sys.executable, "-m", "verbatim", "export", "x.json", "--format",
                          "pdf", "--out", "o"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "invalid choice" in lines[0]


def test_bad_config_is_one_line(tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "config.toml"
    bad.write_text("width = 'wide'\n")
    monkeypatch.setenv("VERBATIM_CONFIG", str(bad))
    assert main(["tui"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "width" in err[0]


@pytest.mark.parametrize(("argv", "words"), [
    (["record", "--seconds", "0"], "argument --seconds: must be greater than zero: '0'"),
    (["record", "--seconds", "soon"], "argument --seconds: not a number: 'soon'"),
    (["record", "--rate", "2.5"], "argument --rate: not a whole number: '2.5'"),
    (["record", "--rate", "-3"], "argument --rate: must be greater than zero: '-3'"),
])
def test_a_count_or_duration_not_above_zero_is_one_line(
        argv: list[str], words: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err == f"verbatim record: error: {words} (see verbatim record --help)\n"
