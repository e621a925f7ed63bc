"""Study-level encryption operations: create, encrypt in place, unlock, lock, rekey.

Each operation is ordered so a crash at any point leaves a study that still
opens with the keys the user has: ``vault.json`` is written before anything is
encrypted under its keys, plaintext is removed only after its encrypted twin
has been read back and checked, and a key rotation keeps the old secrets in the
vault until every file has moved to the new ones.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from verbatim.vault import agefiles, agent, cipherdb, session
from verbatim.vault.errors import VaultError
from verbatim.vault.keys import (
    StudyKeys,
    Vault,
    is_encrypted,
    new_identity,
    read_key_file,
    recipient_of,
    write_key_file,
)

DB_NAME = "study.sqlite"
AUDIO_DIR = "audio"


@dataclass(frozen=True)
class NewSecrets:
    """What the user must be shown once: the recovery key (and a created key file)."""

    recovery_key: str
    key_file_created: Path | None = None


def _keyfile_recipients(key_file: Path | None) -> tuple[list[str], Path | None]:
    """The team key file's recipient; the file is created if it does not exist yet."""
    if key_file is None:
        return [], None
    key_file = Path(key_file).expanduser()
    if key_file.exists():
        return [recipient_of(read_key_file(key_file))], None
    identity, recipient = new_identity()
    write_key_file(key_file, identity)
    return [recipient], key_file


def prepare_new_study(path: Path, *, passphrase: str | None,
                      key_file: Path | None = None) -> NewSecrets:
    """Make ``Study.init(path)`` create an encrypted study (database keyed from byte one)."""
    if passphrase is None and key_file is None:
        raise VaultError("an encrypted study needs a passphrase or a key file")
    keys = StudyKeys.generate()
    recovery, recovery_recipient = new_identity()
    recipients, created = _keyfile_recipients(key_file)
    vault = Vault.create(keys, passphrase=passphrase, recovery_recipient=recovery_recipient,
                         keyfile_recipients=recipients)
    session.prepare_new(path, keys, vault)
    return NewSecrets(recovery_key=recovery, key_file_created=created)


def open_vault(study_dir: Path, *, passphrase: str | None = None,
               identity_text: str | None = None) -> StudyKeys:
    """Unwrap the study's keys and check them against the database; nothing is changed."""
    vault = Vault.read(study_dir)
    if identity_text is not None:
        keys = vault.open_with_identity(identity_text)
    elif passphrase is not None:
        keys = vault.open_with_passphrase(passphrase)
    else:
        raise VaultError("give a passphrase, a recovery key or a key file")
    db_path = Path(study_dir) / DB_NAME
    if db_path.exists() and not cipherdb.has_plain_header(db_path):
        cipherdb.connect(db_path, keys.db_keys, timeout=10.0).close()
    return keys


def unlock(study_dir: Path, keys: StudyKeys, *,
           idle_seconds: float = agent.DEFAULT_IDLE_SECONDS) -> int:
    """Hand the keys to a key agent for later commands; returns the agent's pid."""
    vault = Vault.read(study_dir)
    session.hold(study_dir, keys)
    return agent.start(vault.study_id, keys.to_bytes(), idle_seconds=idle_seconds)


def unlock_with(study_dir: Path, *, passphrase: str | None = None,
                identity_text: str | None = None,
                idle_seconds: float = agent.DEFAULT_IDLE_SECONDS) -> StudyKeys:
    """Unlock for this process and the session's later commands (a UI's unlock dialog).

    ``WrongKeyError`` (one line) on a wrong passphrase or key; nothing changes then.
    """
    keys = open_vault(study_dir, passphrase=passphrase, identity_text=identity_text)
    unlock(study_dir, keys, idle_seconds=idle_seconds)
    return keys


def lock(study_dir: Path) -> bool:
    """Forget the keys (the agent exits); whether the study was unlocked."""
    vault = Vault.read(study_dir)
    session.forget(study_dir)  # also drops the plaintext others registered (on_forget)
    return agent.stop(vault.study_id)


# ---- encrypting an existing study ------------------------------------------------------


def _recordings(db_path: Path) -> list[tuple[str, str | None]]:
    conn = sqlite3.connect(str(db_path))
    try:
        rows = conn.execute("SELECT audio_file, audio_sha256 FROM interviews WHERE "
                            "audio_file IS NOT NULL AND audio_deleted_at IS NULL").fetchall()
    except sqlite3.DatabaseError as exc:
        raise VaultError(f"{db_path} cannot be read ({exc}); nothing was changed") from None
    finally:
        conn.close()
    return [(str(r[0]), r[1]) for r in rows]


def _to_rollback_journal(db_path: Path) -> None:
    """Fold the WAL into the database and leave WAL mode, so no -wal file outlives it."""
    conn = sqlite3.connect(str(db_path), timeout=2.0, isolation_level=None)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        mode = conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
    except sqlite3.OperationalError:
        raise VaultError("the study is in use by another program (the app?); close it and "
                         "run this again; nothing was changed") from None
    finally:
        conn.close()
    if str(mode).lower() != "delete":
        raise VaultError("the study is in use by another program (the app?); close it and "
                         "run this again; nothing was changed")


def encrypt_existing(study_dir: Path, *, passphrase: str | None, key_file: Path | None = None,
                     keys: StudyKeys | None = None) -> NewSecrets | None:
    """Encrypt a plain study in place; returns the new recovery key (None on a resume).

    ``keys`` resumes an interrupted run (the vault already exists).
    """
    study_dir = Path(study_dir).expanduser().absolute()
    db_path = study_dir / DB_NAME
    if not db_path.is_file():
        raise VaultError(f"{study_dir} is not a study (no {DB_NAME})")
    if not cipherdb.has_plain_header(db_path) and is_encrypted(study_dir):
        raise VaultError(f"{study_dir} is already encrypted")
    secrets_out: NewSecrets | None = None
    if keys is None:
        if is_encrypted(study_dir):
            raise VaultError("an earlier 'study encrypt' was interrupted; run it again with the "
                             "same passphrase to finish")
        recordings = _recordings(db_path)
        _to_rollback_journal(db_path)
        keys = StudyKeys.generate()
        recovery, recovery_recipient = new_identity()
        recipients, created = _keyfile_recipients(key_file)
        vault = Vault.create(keys, passphrase=passphrase, recovery_recipient=recovery_recipient,
                             keyfile_recipients=recipients)
        vault.write(study_dir)  # before anything is encrypted under these keys
        secrets_out = NewSecrets(recovery_key=recovery, key_file_created=created)
    else:
        recordings = _recordings(db_path)
        _to_rollback_journal(db_path)
    session.hold(study_dir, keys)
    identities = keys.age_identities()
    audio = study_dir / AUDIO_DIR
    for name, sha in recordings:
        _encrypt_recording(audio / name, keys.recipient, identities, sha)
    for leftover in sorted(audio.glob(".orphan-*")):
        if not leftover.name.endswith(agefiles.AGE_SUFFIX):
            _encrypt_recording(leftover, keys.recipient, identities, None)
    for partial in audio.glob(".import-*.partial"):
        _remove(partial)
    for loose in _loose_recordings(study_dir):  # e.g. recordings/ not imported yet
        _encrypt_recording(loose, keys.recipient, identities, None)
    staging = study_dir / f".{DB_NAME}.encrypting"
    _remove(staging)
    cipherdb.export_encrypted(db_path, staging, keys.db_keys[0])
    os.replace(staging, db_path)
    for suffix in ("-wal", "-shm", "-journal"):
        _remove(db_path.with_name(DB_NAME + suffix))
    work = study_dir / ".work"
    if work.is_dir():
        for item in work.iterdir():
            _remove(item)
    _fsync_dir(study_dir)
    return secrets_out


RECORDING_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".m4a", ".opus")


def _loose_recordings(study_dir: Path) -> list[Path]:
    """Recordings and capture sidecars elsewhere in the study folder than audio/."""
    found = []
    for path in study_dir.rglob("*"):
        relative = path.relative_to(study_dir)
        if relative.parts[0] in (AUDIO_DIR, ".work") or not path.is_file():
            continue
        if path.suffix.lower() in RECORDING_SUFFIXES or path.name.endswith(".capture.json"):
            found.append(path)
    return sorted(found)


def _encrypt_recording(plain: Path, recipient: str, identities: list[object],
                       sha: str | None) -> None:
    target = plain.with_name(plain.name + agefiles.AGE_SUFFIX)
    if not plain.exists():
        return  # done by an earlier, interrupted run (or deleted under retention)
    plain_sha = agefiles.encrypt_path(plain, target, recipient, identities=identities)
    if sha and plain_sha != sha:
        raise VaultError(f"{plain.name} no longer matches its checksum; it was encrypted as "
                         "it is and the original kept beside it")
    target.chmod(0o400)
    _remove(plain)


# ---- rotating the keys -----------------------------------------------------------------


def rekey(study_dir: Path, old: StudyKeys, *, passphrase: str | None,
          key_file: Path | None = None) -> NewSecrets:
    """New secrets for everything: database re-keyed, every recording re-encrypted.

    After it, only the new passphrase, the new recovery key and the key file
    given here (if any) open the study; old key files and the old recovery key
    no longer do.
    """
    study_dir = Path(study_dir).expanduser().absolute()
    vault = Vault.read(study_dir)
    if passphrase is None and key_file is None:
        raise VaultError("the rotated study needs a passphrase or a key file")
    new = StudyKeys.generate()
    merged = new.merged_with(old)
    recovery, recovery_recipient = new_identity()
    recipients, created = _keyfile_recipients(key_file)

    def build(keys: StudyKeys) -> Vault:
        built = Vault.create(keys, passphrase=passphrase, recovery_recipient=recovery_recipient,
                             keyfile_recipients=recipients, study_id=vault.study_id)
        return built

    build(merged).write(study_dir)  # old and new both open everything meanwhile
    session.hold(study_dir, merged)
    conn = cipherdb.connect(study_dir / DB_NAME, merged.db_keys, timeout=10.0)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("COMMIT")
        cipherdb.rekey(conn, new.db_keys[0])
    except sqlite3.OperationalError:
        raise VaultError("the study is in use by another program (the app?); close it and "
                         "run this again") from None
    finally:
        conn.close()
    identities = merged.age_identities()
    for stored in sorted(study_dir.rglob("*" + agefiles.AGE_SUFFIX)):
        # every sealed file of the study: stored recordings, set-aside ones, and
        # recordings (segments, sidecars) not imported yet
        if stored.is_file() and not stored.name.endswith(".partial"):
            _reencrypt(stored, new, identities)
    build(new).write(study_dir)
    session.hold(study_dir, new)
    if agent.status(vault.study_id) is not None:
        agent.start(vault.study_id, new.to_bytes())
    return NewSecrets(recovery_key=recovery, key_file_created=created)


def _reencrypt(stored: Path, new: StudyKeys, identities: list[object]) -> None:
    with agefiles.decrypt_to_memory(stored, identities) as plain:
        tmp = stored.with_name(f".{stored.name}.rekey")
        _remove(tmp)
        agefiles.encrypt_path(agefiles.memory_path(plain), tmp, new.recipient,
                              identities=new.age_identities())
    tmp.chmod(0o400)
    os.replace(tmp, stored)


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.chmod(0o600)
        path.unlink()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
