"""An encrypted, locked study asks for its passphrase before the app starts."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from verbatim.cli import main
from verbatim.commands.tui_cmds import open_study
from verbatim.config import Config
from verbatim.errors import UserError
from verbatim.vault import session

PASS = "correct horse battery staple"


def test_locked_study_is_unlocked_with_the_passphrase(vault_runtime: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    study_dir = tmp_path / "study"
    monkeypatch.setattr("sys.stdin", io.StringIO(PASS + "\n"))
    assert main(["study", "init", str(study_dir), "--encrypt"]) == 0
    assert main(["--study", str(study_dir), "participant", "add", "P1"]) == 0
    assert main(["--study", str(study_dir), "study", "lock"]) == 0
    session.forget()
    config = Config(study=study_dir, data_dir=tmp_path / "data")
    answers = iter(["not it", PASS])
    prompts: list[str] = []

    def ask(prompt: str) -> str:
        prompts.append(prompt)
        return next(answers)

    study, _note = open_study(config, ask=ask)
    try:
        assert [p.id for p in study.participants()] == ["P1"]
    finally:
        study.close()
    assert len(prompts) == 2 and "Passphrase for study" in prompts[0]

    assert main(["--study", str(study_dir), "study", "lock"]) == 0
    session.forget()

    def give_up(prompt: str) -> str:
        raise EOFError

    with pytest.raises(UserError, match="stays locked"):
        open_study(config, ask=give_up)
