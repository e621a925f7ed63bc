"""The key agent and the encryption verbs through ``verbatim.cli.main``.

The passphrase is read from standard input (not a terminal here); age's scrypt
makes each passphrase use take about a second, so only a few run.
"""

from __future__ import annotations

import io
import json
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from verbatim.vault import agent, session
from verbatim.vault.keys import StudyKeys, Vault

from .conftest import Run

PASS = "correct horse battery staple"


@pytest.fixture
def cli(cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch,
        vault_runtime: Path) -> Callable[..., Run]:
    """The unit tier's ``cli`` with ``stdin=`` text to read (the passphrase)."""

    def run(*argv: str, stdin: str = "") -> Run:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        session.forget()  # each command is a new process as far as keys go
        return cli(*argv)

    return run


def _wait_gone(path: Path, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not path.exists():
            return True
        time.sleep(0.05)
    return False


def test_agent_holds_keys_on_a_private_socket_and_forgets_them(vault_runtime: Path) -> None:
    keys = StudyKeys.generate()
    agent.start("feedc0de", keys.to_bytes(), idle_seconds=600)
    sock = agent.socket_path("feedc0de")
    assert stat.S_IMODE(sock.stat().st_mode) == 0o600
    assert stat.S_IMODE(sock.parent.stat().st_mode) == 0o700
    assert StudyKeys.from_bytes(agent.fetch("feedc0de") or b"") == keys
    assert agent.stop("feedc0de") and _wait_gone(sock)
    assert agent.fetch("feedc0de") is None


def test_agent_forgets_after_its_idle_timeout(vault_runtime: Path) -> None:
    agent.start("0ddba11", StudyKeys.generate().to_bytes(), idle_seconds=0.3)
    assert _wait_gone(agent.socket_path("0ddba11"))
    assert agent.fetch("0ddba11") is None


def test_agent_refuses_a_folder_others_can_enter(vault_runtime: Path) -> None:
    (vault_runtime / "verbatim").mkdir(mode=0o755)
    (vault_runtime / "verbatim").chmod(0o755)
    with pytest.raises(Exception, match="not a private folder"):
        agent.start("abad1dea", b"x")


def test_passphrase_flow_init_lock_wrong_unlock_export(cli, tmp_path: Path) -> None:
    study = tmp_path / "study"
    made = cli("study", "init", str(study), "--encrypt", stdin=PASS + "\n")
    assert made.code == 0, made.err
    assert "RECOVERY KEY: AGE-SECRET-KEY-1" in made.out and "cannot be opened" in made.out
    assert PASS not in made.out + made.err
    assert PASS.encode() not in b"".join(p.read_bytes() for p in study.rglob("*") if p.is_file())
    s = ("--study", str(study))
    assert cli(*s, "participant", "add", "P1").code == 0  # unlocked by init (the agent)
    wav = tmp_path / "one.wav"
    sf.write(str(wav), np.zeros(16000, dtype="float32"), 16000)
    assert cli(*s, "interview", "add", "P1", str(wav)).out.strip() == "P1-1"
    assert cli(*s, "study", "lock").code == 0
    locked = cli(*s, "participant", "list")
    assert locked.code == 1 and locked.err.count("\n") == 1 and "study unlock" in locked.err
    vault_before = (study / "vault.json").read_bytes()
    wrong = cli(*s, "study", "unlock", stdin="not the passphrase\n")
    assert (wrong.code, wrong.err) == (1, "verbatim: wrong passphrase; nothing was changed\n")
    assert (study / "vault.json").read_bytes() == vault_before
    assert cli(*s, "participant", "list").code == 1
    recovery = made.out.split("RECOVERY KEY: ")[1].split()[0]
    assert cli(*s, "study", "unlock", "--recovery", stdin=recovery + "\n").code == 0
    assert cli(*s, "participant", "list").out.startswith("P1")
    assert cli(*s, "study", "lock").code == 0
    assert cli(*s, "study", "unlock", stdin=PASS + "\n").code == 0
    assert cli(*s, "participant", "list").out.startswith("P1")
    from transcript.model import AudioRef, Transcript, Word
    from verbatim.study import Study

    session.forget()
    with Study.open(study) as opened:
        opened.save_transcript("P1-1", Transcript(audio=AudioRef(path="audio/P1-1.wav"), words=(
            Word(text="hello", start=0.0, end=0.4, speaker="S1"),)), origin="pipeline")
    exported = cli(*s, "export", "P1-1", "--format", "txt", "--out", str(tmp_path / "t.txt"))
    assert exported.code == 0 and "plaintext export of an encrypted study" in exported.err
    assert "hello" in (tmp_path / "t.txt").read_text()


def test_key_file_study_needs_no_passphrase_and_env_key_file_opens_it(
        cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    study, key = tmp_path / "study", tmp_path / "team.key"
    made = cli("study", "init", str(study), "--encrypt", "--key-file", str(key))
    assert made.code == 0 and "created the team key file" in made.out
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert [s["kind"] for s in json.loads((study / "vault.json").read_text())["slots"]] == [
        "recovery", "keyfile"]
    s = ("--study", str(study))
    assert cli(*s, "study", "lock").code == 0
    assert cli(*s, "participant", "add", "P1").code == 1
    monkeypatch.setenv("VERBATIM_KEY_FILE", str(key))
    assert cli(*s, "participant", "add", "P1").code == 0
    key.chmod(0o644)
    loose = cli(*s, "participant", "list")
    assert loose.code == 1 and "readable by others" in loose.err


def test_refusals_are_one_line(cli, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    assert cli("study", "init", str(plain)).code == 0
    for argv, expected in [
        (("--study", str(plain), "study", "unlock"), "not an encrypted study"),
        (("study", "encrypt", str(tmp_path / "nothing")), "is not a study"),
        (("study", "init", str(tmp_path / "x"), "--encrypt"), "at least 8 characters"),
    ]:
        done = cli(*argv, stdin="short\n")
        assert done.code == 1 and done.err.count("\n") == 1 and expected in done.err, done.err
    assert not (tmp_path / "x").exists()


def test_cli_encrypt_then_rekey(cli, tmp_path: Path) -> None:
    study = tmp_path / "study"
    assert cli("study", "init", str(study)).code == 0
    s = ("--study", str(study))
    assert cli(*s, "participant", "add", "P1").code == 0
    refused = cli("study", "encrypt", str(study), "--key-file", str(tmp_path / "a.key"))
    assert refused.code == 1 and "--yes" in refused.err and not (study / "vault.json").exists()
    done = cli("study", "encrypt", str(study), "--key-file", str(tmp_path / "a.key"), "--yes")
    assert done.code == 0 and "RECOVERY KEY" in done.out and "free space" in done.err
    assert (study / "study.sqlite").read_bytes()[:15] != b"SQLite format 3"
    first_id = Vault.read(study).study_id
    rekeyed = cli(*s, "study", "rekey", "--key-file", str(tmp_path / "b.key"), "--yes")
    assert rekeyed.code == 0 and "rotated" in rekeyed.out, rekeyed.err
    assert Vault.read(study).study_id == first_id
    assert cli(*s, "participant", "list").out.startswith("P1")  # the agent got the new keys
    assert cli(*s, "study", "lock").code == 0
    old = cli(*s, "study", "unlock", "--key-file", str(tmp_path / "a.key"))
    assert old.code == 1 and "does not open this study" in old.err
    assert cli(*s, "study", "unlock", "--key-file", str(tmp_path / "b.key")).code == 0
    assert os.environ.get("VERBATIM_KEY_FILE") is None
    assert cli(*s, "participant", "list").out.startswith("P1")
