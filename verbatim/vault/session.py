"""Where an unlocked study's keys come from in this process.

In order: keys this process already holds (it unlocked or created the study),
the key agent (``verbatim study unlock``), then a team key file named by
``VERBATIM_KEY_FILE``. Otherwise the study is locked and the caller gets one
line saying how to unlock it. Nothing here writes a key anywhere.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from verbatim.vault import agent
from verbatim.vault.errors import LockedError, VaultError
from verbatim.vault.keys import StudyKeys, Vault, is_encrypted, read_key_file

KEY_FILE_ENV = "VERBATIM_KEY_FILE"

_held: dict[str, StudyKeys] = {}
_pending_vaults: dict[str, Vault] = {}
_lock = threading.Lock()


def _key(study_dir: Path) -> str:
    return str(Path(study_dir).expanduser().absolute())


def hold(study_dir: Path, keys: StudyKeys) -> None:
    """Remember ``keys`` for this study for the rest of this process."""
    with _lock:
        _held[_key(study_dir)] = keys


def forget(study_dir: Path | None = None) -> None:
    with _lock:
        if study_dir is None:
            _held.clear()
            _pending_vaults.clear()
        else:
            _held.pop(_key(study_dir), None)
            _pending_vaults.pop(_key(study_dir), None)


def prepare_new(study_dir: Path, keys: StudyKeys, vault: Vault) -> None:
    """A study about to be created encrypted: its database is keyed from the first byte."""
    with _lock:
        _held[_key(study_dir)] = keys
        _pending_vaults[_key(study_dir)] = vault


def write_pending_vault(study_dir: Path) -> None:
    """Write the vault of a study being created, before its database is opened."""
    with _lock:
        vault = _pending_vaults.pop(_key(study_dir), None)
    if vault is not None and not is_encrypted(study_dir):
        vault.write(study_dir)


def will_be_encrypted(study_dir: Path) -> bool:
    return is_encrypted(study_dir) or _key(study_dir) in _pending_vaults


def keys_for(study_dir: Path) -> StudyKeys:
    """The keys of an encrypted study; ``LockedError`` (one line) when locked."""
    with _lock:
        held = _held.get(_key(study_dir))
    if held is not None:
        return held
    vault = Vault.read(study_dir)
    payload = agent.fetch(vault.study_id)
    if payload is not None:
        keys = StudyKeys.from_bytes(payload)
        if vault.state == "rekeying" and keys.recipient != vault.recipient:
            raise LockedError(f"a key rotation of {Path(study_dir).name} was interrupted: run "
                              "'verbatim study rekey' to finish it (the old or the new "
                              "passphrase opens the study meanwhile)")
        hold(study_dir, keys)
        return keys
    key_file = os.environ.get(KEY_FILE_ENV)
    if key_file:
        try:
            keys = vault.open_with_identity(read_key_file(Path(key_file)))
        except VaultError as exc:
            raise LockedError(f"{KEY_FILE_ENV}={key_file}: {exc}") from None
        hold(study_dir, keys)
        return keys
    raise LockedError(f"{Path(study_dir).name} is encrypted and locked: run 'verbatim study "
                      f"unlock' (or set {KEY_FILE_ENV} to the team key file)")


def recipient_for(study_dir: Path) -> str:
    """The public key new recordings go to: no unlock needed to encrypt."""
    with _lock:
        held = _held.get(_key(study_dir))
    if held is not None:
        return held.recipient
    return Vault.read(study_dir).recipient
