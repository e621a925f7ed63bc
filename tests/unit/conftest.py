"""Fixtures of the unit tier: the command line run in this process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from verbatim.cli import main


@dataclass
class Run:
    """One ``verbatim`` command: its exit code and what it printed."""

    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> Callable[..., Run]:
    """``cli("study", "info")`` runs ``verbatim study info`` from ``tmp_path``."""
    monkeypatch.chdir(tmp_path)

    def run(*argv: str) -> Run:
        code = main(list(argv))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run
