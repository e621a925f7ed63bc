"""Keys shown before they matter: encrypt and rekey interrupted at each step.

A "power cut" (an exception raised from inside the operation) stands in for
SIGKILL here, so each step is hit exactly; the real SIGKILL runs are in
tests/integration/test_kill_battery.py. Key files are used where a passphrase
is not the point (age's scrypt costs about a second per use).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.test_vault_store import fill, new_encrypted, scan
from verbatim.study import Study
from verbatim.vault import VaultError, WrongKeyError, cipherdb, ops, session
from verbatim.vault.keys import Vault, read_key_file


class PowerCut(BaseException):
    """The machine stops here."""


def _cut(*args: object, **kwargs: object) -> None:
    raise PowerCut


def test_a_refused_key_leaves_the_plain_study_as_it_was(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    with Study.init(folder) as study:
        fill(study, tmp_path)
    shown: list[ops.NewSecrets] = []

    def refuse(secrets: ops.NewSecrets) -> None:
        shown.append(secrets)
        assert (folder / "vault.json").exists()  # the key shown is already in the vault
        assert not list((folder / "audio").glob("*.age"))  # but nothing is encrypted yet
        raise VaultError("the recovery key was not confirmed")

    with pytest.raises(VaultError):
        ops.encrypt_existing(folder, passphrase=None, key_file=tmp_path / "team.key",
                             show_key=refuse)
    assert len(shown) == 1 and not (folder / "vault.json").exists()
    session.forget()
    with Study.open(folder) as study:
        assert study.verify_audio("P1-1")


def test_encrypt_cut_before_confirmation_replaces_the_unseen_key(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    with Study.init(folder) as study:
        fill(study, tmp_path)
    with pytest.raises(PowerCut):
        ops.encrypt_existing(folder, passphrase=None, key_file=tmp_path / "team.key",
                             show_key=_cut)
    unseen = Vault.read(folder)
    assert unseen.state == "encrypting" and not unseen.recovery_confirmed
    session.forget()
    keys = ops.open_vault(folder, identity_text=read_key_file(tmp_path / "team.key"))
    shown: list[ops.NewSecrets] = []
    resumed = ops.encrypt_existing(folder, passphrase=None, keys=keys, show_key=shown.append)
    assert resumed is not None and resumed.replaced_unseen and shown == [resumed]
    vault = Vault.read(folder)
    assert vault.state == "" and vault.recovery_confirmed
    assert ops.open_vault(folder, identity_text=resumed.recovery_key) == keys
    assert "the recovery key " + resumed.fingerprint in vault.ways_in()
    assert scan(folder) == []


def test_rekey_cut_mid_way_opens_with_old_and_new_keys_then_finishes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, key_file, old_recovery = new_encrypted(tmp_path)
    with Study.open(folder) as study:
        fill(study, tmp_path)
    old = session.keys_for(folder)
    shown: list[ops.NewSecrets] = []
    real_reencrypt = ops._reencrypt
    done: list[Path] = []

    def cut_after_one(stored: Path, new: object, identities: list[object]) -> None:
        if done:
            raise PowerCut  # the database and one recording are under the new key
        real_reencrypt(stored, new, identities)  # type: ignore[arg-type]
        done.append(stored)

    monkeypatch.setattr(ops, "_reencrypt", cut_after_one)
    with pytest.raises(PowerCut):
        ops.rekey(folder, old, passphrase=None, key_file=tmp_path / "new.key",
                  show_key=shown.append)
    monkeypatch.undo()
    assert len(shown) == 1 and Vault.read(folder).state == "rekeying"
    # every key the user has opens the whole study: old key file, old and new recovery keys
    session.forget()
    for identity in (read_key_file(key_file), old_recovery, shown[0].recovery_key,
                     read_key_file(tmp_path / "new.key")):
        keys = ops.open_vault(folder, identity_text=identity)
        session.hold(folder, keys)
        with Study.open(folder) as study:
            assert study.verify_audio("P1-1") and study.verify_audio("P1-2")
        session.forget()
    merged = ops.open_vault(folder, identity_text=old_recovery)
    assert ops.rekey(folder, merged, passphrase=None) is None  # resumed; the key was shown
    vault = Vault.read(folder)
    assert vault.state == "" and not vault.next_slots
    for stale in (read_key_file(key_file), old_recovery):
        with pytest.raises(WrongKeyError):
            ops.open_vault(folder, identity_text=stale)
    keys = ops.open_vault(folder, identity_text=shown[0].recovery_key)
    session.hold(folder, keys)
    with Study.open(folder) as study:
        assert study.verify_audio("P1-1") and study.verify_audio("P1-2")
    assert not list(folder.rglob("*.rekey*"))


def test_rekey_refused_key_restores_the_old_vault(tmp_path: Path) -> None:
    folder, _, _ = new_encrypted(tmp_path)
    before = (folder / "vault.json").read_bytes()
    old = session.keys_for(folder)
    def refuse(secrets: ops.NewSecrets) -> None:
        raise VaultError("the recovery key was not confirmed")

    with pytest.raises(VaultError):
        ops.rekey(folder, old, passphrase=None, key_file=tmp_path / "new.key", show_key=refuse)
    assert (folder / "vault.json").read_bytes() == before
    assert cipherdb.connect(folder / "study.sqlite", old.db_keys, timeout=1.0)


def test_rekey_needs_the_current_passphrase(tmp_path: Path) -> None:
    folder = tmp_path / "study"
    ops.prepare_new_study(folder, passphrase="a long passphrase")
    Study.init(folder).close()
    with pytest.raises(VaultError, match="current passphrase"):
        ops.rekey(folder, session.keys_for(folder), passphrase="another passphrase")


def test_cli_rekey_with_the_recovery_key_when_the_passphrase_is_forgotten(
        tmp_path: Path, vault_runtime: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import io
    import re

    from verbatim.cli import main

    study = tmp_path / "study"
    monkeypatch.setattr("sys.stdin", io.StringIO("forgotten passphrase\n"))
    assert main(["study", "init", str(study), "--encrypt"]) == 0
    recovery = re.findall(r"RECOVERY KEY: (\S+)", capsys.readouterr().out)[0]
    session.forget()
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{recovery}\nbrand new passphrase\n"))
    assert main(["--study", str(study), "study", "rekey", "--yes"]) == 0
    out = capsys.readouterr().out
    new_recovery = re.findall(r"RECOVERY KEY: (\S+)", out)[0]
    assert "opens with the passphrase, the recovery key" in out
    for wrong in ({"passphrase": "forgotten passphrase"}, {"identity_text": recovery}):
        with pytest.raises(WrongKeyError):
            ops.open_vault(study, **wrong)
    assert ops.open_vault(study, identity_text=new_recovery) == \
        ops.open_vault(study, passphrase="brand new passphrase")
