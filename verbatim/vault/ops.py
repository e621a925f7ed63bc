"""Study-level encryption operations: create, encrypt in place, unlock, lock, rekey.

Each operation is ordered so a crash at any point leaves a study that still
opens with the keys the user has: ``vault.json`` is written before anything is
encrypted under its keys, plaintext is removed only after its encrypted twin
has been read back and checked, and a key rotation keeps the old secrets in the
vault until every file has moved to the new ones. (Past 400 lines: the operations share
these steps, and each one's crash-safe order is checked beside the others.)
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from verbatim.vault import agefiles, agent, cipherdb, session
from verbatim.vault.errors import VaultError
from verbatim.vault.keys import (
    VAULT_NAME,
    Slot,
    StudyKeys,
    Vault,
    fingerprint,
    is_encrypted,
    new_identity,
    read_key_file,
    recipient_of,
    wrap_to,
    write_key_file,
)

DB_NAME = "study.sqlite"
AUDIO_DIR = "audio"


@dataclass(frozen=True)
class NewSecrets:
    """What the user must be shown once: the recovery key (and a created key file)."""

    recovery_key: str
    key_file_created: Path | None = None
    fingerprint: str = ""  # the key's public name, as 'study info' lists it
    replaced_unseen: bool = False  # it replaces a key an interrupted run never had confirmed


# Shows the new recovery key to the user and returns once they have confirmed it
# (raises to refuse: nothing has been encrypted under the new keys yet).
ShowKey = Callable[[NewSecrets], None]


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
                     keys: StudyKeys | None = None,
                     show_key: ShowKey | None = None) -> NewSecrets | None:
    """Encrypt a plain study in place; returns the recovery key made (None on a resume
    that kept the one already shown).

    The order keeps every way in the user has: ``vault.json`` is written
    first (state "encrypting"), ``show_key`` then shows the recovery key and
    may refuse (nothing is encrypted then and the vault is removed), and only
    after it returns is a byte encrypted. ``keys`` resumes an interrupted run;
    a recovery key the interrupted run never had confirmed is replaced by a
    new one, shown the same way.
    """
    study_dir = Path(study_dir).expanduser().absolute()
    db_path = study_dir / DB_NAME
    if not db_path.is_file():
        raise VaultError(f"{study_dir} is not a study (no {DB_NAME})")
    if is_encrypted(study_dir):
        vault = Vault.read(study_dir)
        if vault.state != "encrypting" and not cipherdb.has_plain_header(db_path):
            raise VaultError(f"{study_dir} is already encrypted")
        if keys is None:
            raise VaultError("an earlier 'study encrypt' was interrupted; run it again with the "
                             "same passphrase to finish")
        refuse_if_open(study_dir)
        secrets_out = _confirm_recovery(study_dir, vault, keys, show_key)
    else:
        _recordings(db_path)  # readable at all?
        refuse_if_open(study_dir)
        _room_for_copies(study_dir, every_file=True)
        _to_rollback_journal(db_path)
        keys = StudyKeys.generate()
        recovery, recovery_recipient = new_identity()
        recipients, created = _keyfile_recipients(key_file)
        vault = Vault.create(keys, passphrase=passphrase, recovery_recipient=recovery_recipient,
                             keyfile_recipients=recipients)
        vault = replace(vault, state="encrypting", recovery_confirmed=False)
        vault.write(study_dir)  # before anything is encrypted under these keys
        secrets_out = NewSecrets(recovery_key=recovery, key_file_created=created,
                                 fingerprint=fingerprint(recovery_recipient))
        try:
            if show_key is not None:
                show_key(secrets_out)
        except (Exception, KeyboardInterrupt):  # refused or Ctrl-C (not a power cut)
            _remove(study_dir / VAULT_NAME)  # not a byte was encrypted: back to plain
            raise
        replace(vault, recovery_confirmed=True).write(study_dir)
    session.hold(study_dir, keys)
    _sweep_leftovers(study_dir)
    if cipherdb.has_plain_header(db_path):
        _encrypt_contents(study_dir, keys)
    for suffix in ("-wal", "-shm", "-journal"):
        _remove(db_path.with_name(DB_NAME + suffix))
    work = study_dir / ".work"
    if work.is_dir():
        for item in work.iterdir():
            _remove(item)
    _fsync_dir(study_dir)
    replace(Vault.read(study_dir), state="").write(study_dir)
    return secrets_out


def _encrypt_contents(study_dir: Path, keys: StudyKeys) -> None:
    """Recordings first (each verified before its plaintext goes), the database last."""
    db_path = study_dir / DB_NAME
    recordings = _recordings(db_path)
    _to_rollback_journal(db_path)
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


def _confirm_recovery(study_dir: Path, vault: Vault, keys: StudyKeys,
                      show_key: ShowKey | None,
                      next_keys: StudyKeys | None = None) -> NewSecrets | None:
    """On a resume: a recovery key never confirmed is replaced by a new one, shown now."""
    if vault.recovery_confirmed:
        return None
    recovery, recipient = new_identity()

    def swap(slots: tuple[Slot, ...], payload: StudyKeys) -> tuple[Slot, ...]:
        return tuple(Slot("recovery", wrap_to(payload.to_bytes(), recipient), recipient,
                          label=s.label) if s.kind == "recovery" and s.label != "old" else s
                     for s in slots)

    vault = replace(vault, slots=swap(vault.slots, keys),
                    next_slots=swap(vault.next_slots, next_keys or keys))
    vault.write(study_dir)  # the unseen key no longer opens anything
    secrets_out = NewSecrets(recovery_key=recovery, fingerprint=fingerprint(recipient),
                             replaced_unseen=True)
    if show_key is not None:
        show_key(secrets_out)
    replace(vault, recovery_confirmed=True).write(study_dir)
    return secrets_out


def _room_for_copies(study_dir: Path, *, every_file: bool) -> None:
    """Fail in a second, before any change, when the disk cannot hold the new copies.

    Encrypting keeps each plaintext until its sealed twin is verified and the
    database until its encrypted copy is complete (``every_file``: the whole
    study, to be safe); a rotation needs room for the database and the
    largest recording at a time.
    """
    from verbatim.storage import preflight

    sizes = [p.stat().st_size for p in study_dir.rglob("*") if p.is_file()]
    database = (study_dir / DB_NAME).stat().st_size
    need = sum(sizes) if every_file else database + max(sizes, default=0)
    preflight(study_dir, need_bytes=need, database=study_dir / DB_NAME)


def _sweep_leftovers(study_dir: Path) -> None:
    """Half-written copies a killed encrypt or rekey left: never the only copy of anything."""
    for pattern in (f".{DB_NAME}.encrypting", f".{DB_NAME}.rekey", f".{VAULT_NAME}.*.tmp",
                    "**/.*.age.partial",
                    "**/.*.age.rekey", "**/.*.age.rekey.partial"):
        for path in study_dir.glob(pattern):
            _remove(path)


def refuse_if_open(study_dir: Path) -> None:
    """Refuse while another process has the study's database open (the app, a command)."""
    db_path = (Path(study_dir) / DB_NAME).resolve()
    names = {str(db_path)} | {str(db_path) + s for s in ("-wal", "-shm", "-journal")}
    me = os.getpid()
    for proc in Path("/proc").glob("[0-9]*"):
        if int(proc.name) == me:
            continue
        try:
            links = {os.readlink(fd) for fd in (proc / "fd").iterdir()}
        except OSError:
            continue
        if links & names:
            raise VaultError(f"the study is open in another program (process {proc.name}; the "
                             "app?); close it and run this again; nothing was changed")


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
          key_file: Path | None = None, old_passphrase: str | None = None,
          passphrase_forgotten: bool = False,
          show_key: ShowKey | None = None) -> NewSecrets | None:
    """New secrets for everything: database re-keyed, every recording re-encrypted.

    While it runs, the old ways in (passphrase, recovery key, key files) and
    the new ones all open the study (a payload of new and old secrets); the
    new recovery key is shown (``show_key``) before anything is re-encrypted;
    only when every file has moved and been verified does the vault keep the
    new ways in alone. ``old_passphrase`` keeps the old passphrase working
    meanwhile (needed when the study has one, unless ``passphrase_forgotten``:
    the user opened it with the recovery key, and the old passphrase stops
    working at once). A re-run after a kill resumes
    (``old`` is then the payload any current way in opens) and returns None
    unless it had to replace a recovery key that was never confirmed.
    """
    study_dir = Path(study_dir).expanduser().absolute()
    vault = Vault.read(study_dir)
    if vault.state == "encrypting":
        raise VaultError("an earlier 'study encrypt' was interrupted; run it again to finish "
                         "before rotating the keys")
    refuse_if_open(study_dir)
    if vault.state == "rekeying":
        merged = old
        new = StudyKeys(identities=merged.identities[:1], db_keys=merged.db_keys[:1])
        if new.recipient != vault.recipient:
            raise VaultError("these keys are from before the interrupted rotation; unlock the "
                             "study again (old or new passphrase) and run 'study rekey' again")
        secrets_out = _confirm_recovery(study_dir, vault, merged, show_key, next_keys=new)
    else:
        if passphrase is None and key_file is None:
            raise VaultError("the rotated study needs a passphrase or a key file")
        if old_passphrase is None and not passphrase_forgotten \
                and any(s.kind == "passphrase" for s in vault.slots):
            raise VaultError("give the current passphrase: it keeps opening the study until "
                             "the rotation is complete")
        _room_for_copies(study_dir, every_file=False)
        new = StudyKeys.generate()
        merged = new.merged_with(old)
        recovery, recovery_recipient = new_identity()
        recipients, created = _keyfile_recipients(key_file)

        def ways_in(keys: StudyKeys, label: str = "") -> tuple[Slot, ...]:
            built = Vault.create(keys, passphrase=passphrase,
                                 recovery_recipient=recovery_recipient,
                                 keyfile_recipients=recipients, study_id=vault.study_id)
            return tuple(replace(slot, label=label) for slot in built.slots)

        during = Vault(study_id=vault.study_id, recipient=new.recipient,
                       slots=ways_in(merged, "new")
                       + vault.rewrapped(merged, passphrase=old_passphrase, label="old"),
                       state="rekeying", recovery_confirmed=False, next_slots=ways_in(new))
        during.write(study_dir)  # old and new both open everything meanwhile
        _hand_to_agent(vault.study_id, merged)
        secrets_out = NewSecrets(recovery_key=recovery, key_file_created=created,
                                 fingerprint=fingerprint(recovery_recipient))
        try:
            if show_key is not None:
                show_key(secrets_out)
        except (Exception, KeyboardInterrupt):  # refused or Ctrl-C (not a power cut)
            vault.write(study_dir)  # nothing was re-encrypted: the old vault as it was
            _hand_to_agent(vault.study_id, old)
            raise
        replace(during, recovery_confirmed=True).write(study_dir)
    session.hold(study_dir, merged)
    _sweep_leftovers(study_dir)
    try:
        cipherdb.export_rekeyed(study_dir / DB_NAME, merged.db_keys, new.db_keys[0])
    except sqlite3.OperationalError:
        raise VaultError("the study is in use by another program (the app?); close it and "
                         "run 'study rekey' again to finish") from None
    identities = merged.age_identities()
    for stored in sorted(study_dir.rglob("*" + agefiles.AGE_SUFFIX)):
        # every sealed file of the study: stored recordings, set-aside ones, and
        # recordings (segments, sidecars) not imported yet
        if stored.is_file() and (not stored.name.startswith(".")
                                 or stored.name.startswith(".orphan-")):
            _reencrypt(stored, new, identities)
    during = Vault.read(study_dir)
    Vault(study_id=vault.study_id, recipient=new.recipient,
          slots=during.next_slots).write(study_dir)
    session.hold(study_dir, new)
    _hand_to_agent(vault.study_id, new)
    return secrets_out


def _hand_to_agent(study_id: str, keys: StudyKeys) -> None:
    """A running key agent gets these keys, so later commands open what is on disk now."""
    if agent.status(study_id) is not None:
        agent.start(study_id, keys.to_bytes())


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
