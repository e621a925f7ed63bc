"""CLI actions of encrypted studies: study init --encrypt, encrypt, unlock, lock, rekey.

Called from ``verbatim.commands.study_cmds.run_study``. Secrets are read with
``verbatim.vault.prompt`` (never from argv), shown once (the recovery key, on
stdout, for the user to write down), and never logged.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from verbatim.config import Config
from verbatim.errors import UserError
from verbatim.vault import ops, prompt, session
from verbatim.vault.errors import VaultError
from verbatim.vault.keys import Vault, is_encrypted, read_key_file

VAULT_ACTIONS = ("encrypt", "unlock", "lock", "rekey")

RECOVERY_NOTE = ("Write this recovery key down and keep it apart from the laptop (a sealed "
                 "envelope, the team's safe).\nIt opens the study if the passphrase is "
                 "forgotten. If both are lost, the study cannot be opened by anyone: "
                 "there is no back door.")


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")


def _show_secrets(secrets: ops.NewSecrets) -> None:
    _out("")
    if secrets.replaced_unseen:
        _out("The recovery key of the interrupted run was never confirmed, so it has been "
             "replaced; it no longer opens the study. This one does:")
    fingerprint = f"   (fingerprint {secrets.fingerprint})" if secrets.fingerprint else ""
    _out(f"RECOVERY KEY: {secrets.recovery_key}{fingerprint}")
    _out(RECOVERY_NOTE)
    if secrets.key_file_created is not None:
        _out(f"created the team key file {secrets.key_file_created} (owner-only); share it "
             "only by a secure channel")
    sys.stdout.flush()


def _key_shower(args: argparse.Namespace) -> ops.ShowKey:
    """Show a new recovery key before anything is encrypted under it; confirm unless --yes."""
    def show(secrets: ops.NewSecrets) -> None:
        _show_secrets(secrets)
        if not getattr(args, "yes", False):
            prompt.confirm_recovery_key(secrets.recovery_key)
    return show


def _require_confirmable(args: argparse.Namespace) -> None:
    """Before any change: a person at a terminal, or --yes from a script."""
    if not getattr(args, "yes", False) and not prompt.can_confirm():
        raise UserError("the new recovery key must be confirmed before anything is encrypted: "
                        "run this in a terminal, or add --yes in a script (the key is printed "
                        "on stdout first); nothing was changed")


def _opens_with(path: Path) -> str:
    return "it opens with " + ", ".join(Vault.read(path).ways_in())


def _study_dir(config: Config) -> Path:
    if config.study is None:
        raise UserError("no study: give --study DIR or set VERBATIM_STUDY")
    path = Path(config.study).expanduser().absolute()
    if not path.is_dir():
        raise UserError(f"{path}: no such study folder")
    return path


def _require_encrypted(path: Path) -> None:
    if not is_encrypted(path):
        raise UserError(f"{path} is not an encrypted study (see 'verbatim study encrypt')")


def run_init_encrypted(args: argparse.Namespace) -> int:
    """``study init DIR --encrypt``: the database and recordings are encrypted from the start."""
    from verbatim.study import Study

    if args.key_file is not None and not args.encrypt:
        raise UserError("--key-file goes with --encrypt")
    path = Path(args.dir).expanduser().absolute()
    if (path / "study.sqlite").exists():
        raise UserError(f"{path} is already a study")
    if path.is_dir() and any(path.iterdir()):
        raise UserError(f"{path} is not empty; a new study needs an empty or new folder")
    passphrase = None if args.key_file is not None else prompt.ask_new_passphrase()
    secrets = ops.prepare_new_study(path, passphrase=passphrase, key_file=args.key_file)
    try:
        with Study.init(path, name=args.name) as study:
            _out(f"created encrypted study {study.name!r} in {study.path}")
            keys = session.keys_for(study.path)
    except BaseException:
        session.forget(path)
        raise
    ops.unlock(path, keys)
    _out(f"use it with --study {path} or VERBATIM_STUDY={path}; it stays unlocked for this "
         "session until 'verbatim study lock' or 30 idle minutes")
    _show_secrets(secrets)
    return 0


def run_vault_action(args: argparse.Namespace, config: Config) -> int:
    if args.action == "encrypt":
        return _encrypt(args)
    path = _study_dir(config)
    _require_encrypted(path)
    if args.action == "unlock":
        return _unlock(path, args)
    if args.action == "lock":
        was = ops.lock(path)
        _out(f"{path.name} is locked" + ("" if was else " (it was not unlocked)"))
        return 0
    if args.action == "rekey":
        return _rekey(path, args)
    raise UserError(f"unknown study action {args.action!r}")


def _open_keys(path: Path, *, key_file: Path | None = None, recovery: bool = False) -> object:
    if key_file is not None:
        return ops.open_vault(path, identity_text=read_key_file(key_file))
    if recovery:
        return ops.open_vault(path, identity_text=prompt.ask_recovery_key())
    vault = Vault.read(path)
    if not any(slot.kind == "passphrase" for slot in vault.slots):
        raise UserError("this study opens with its key file: unlock --key-file FILE "
                        "(or --recovery)")
    return ops.open_vault(path, passphrase=prompt.ask_passphrase())


def _unlock(path: Path, args: argparse.Namespace) -> int:
    keys = _open_keys(path, key_file=args.key_file, recovery=args.recovery)
    ops.unlock(path, keys, idle_seconds=args.timeout * 60)  # type: ignore[arg-type]
    _out(f"{path.name} is unlocked until 'verbatim study lock' or {args.timeout:g} idle "
         "minutes")
    return 0


def _encrypt(args: argparse.Namespace) -> int:
    path = Path(args.dir).expanduser().absolute()
    if not (path / "study.sqlite").is_file():
        raise UserError(f"{path} is not a study (no study.sqlite)")
    from verbatim.vault import cipherdb

    resuming = is_encrypted(path)
    if resuming and Vault.read(path).state != "encrypting" \
            and not cipherdb.has_plain_header(path / "study.sqlite"):
        raise UserError(f"{path} is already encrypted")
    _require_confirmable(args)
    if resuming:  # an interrupted run: finish it with the same keys
        keys = _open_keys(path, key_file=args.key_file)
        ops.encrypt_existing(path, passphrase=None, keys=keys,  # type: ignore[arg-type]
                             show_key=_key_shower(args))
        _out(f"finished encrypting {path} (an earlier run was interrupted); "
             f"{_opens_with(path)}")
    else:
        passphrase = None if args.key_file is not None else prompt.ask_new_passphrase()
        ops.encrypt_existing(path, passphrase=passphrase, key_file=args.key_file,
                             show_key=_key_shower(args))
        _out(f"encrypted {path}: database and recordings; plaintext copies deleted; "
             f"{_opens_with(path)}")
    _err("note: deleted plaintext may survive in the disk's free space until overwritten; "
         "keep studies on an encrypted volume as well")
    keys = session.keys_for(path)
    ops.unlock(path, keys)
    return 0


def _rekey(path: Path, args: argparse.Namespace) -> int:
    vault = Vault.read(path)
    _require_confirmable(args)
    if vault.state == "rekeying":  # an interrupted rotation: finish it
        try:
            keys = session.keys_for(path)
        except VaultError:  # locked, or an agent holding the keys from before the rotation
            keys = _open_keys(path)  # type: ignore[assignment]
        ops.rekey(path, keys, passphrase=None, show_key=_key_shower(args))
        ops.unlock(path, session.keys_for(path))  # the new keys, for this session's commands
        _out(f"finished rotating the keys of {path.name} (an earlier run was interrupted); "
             f"{_opens_with(path)}; the old ones no longer do")
        return 0
    old_passphrase = None
    forgotten = False
    if any(slot.kind == "passphrase" for slot in vault.slots):
        answer = prompt.ask_passphrase("Current passphrase (or the recovery key if it is "
                                       "forgotten): ")
        if answer.strip().upper().startswith("AGE-SECRET-KEY-1"):
            old = ops.open_vault(path, identity_text=answer)  # the old passphrase is lost
            forgotten = True
        else:
            old_passphrase = answer
            old = ops.open_vault(path, passphrase=old_passphrase)
    else:
        try:
            old = session.keys_for(path)
        except VaultError:
            old = _open_keys(path)  # type: ignore[assignment]
    passphrase = None if args.key_file is not None else prompt.ask_new_passphrase()
    ops.rekey(path, old, passphrase=passphrase, key_file=args.key_file,
              old_passphrase=old_passphrase, passphrase_forgotten=forgotten,
              show_key=_key_shower(args))
    ops.unlock(path, session.keys_for(path))  # the new keys, for this session's commands
    _out(f"rotated the keys of {path.name}: database re-keyed, recordings re-encrypted; "
         f"{_opens_with(path)}; the old passphrase, recovery key and key files no longer do")
    return 0


def describe_vault(study_dir: Path) -> list[str]:
    """Lines for 'study info': which keys open the study, and an interrupted operation."""
    vault = Vault.read(study_dir)
    lines = [f"opens with {', '.join(vault.ways_in())}"]
    if vault.state == "rekeying":
        lines.append("a key rotation was interrupted: run 'verbatim study rekey' to finish it "
                     "(until then the old and the new keys both open the study)")
    return lines


def warn_if_exposed(study_dir: Path) -> None:
    """On a terminal, one warning when a plain study is not on an encrypted volume."""
    if os.environ.get("VERBATIM_NO_VOLUME_WARNING") or not sys.stderr.isatty():
        return
    from verbatim.vault.volume import WARNING, on_encrypted_volume

    if is_encrypted(study_dir) or on_encrypted_volume(study_dir):
        return
    _err(WARNING.format(path=study_dir))


def export_notice(study_dir: Path, out: Path) -> None:
    """Exports of an encrypted study are plaintext: say so every time."""
    if is_encrypted(study_dir):
        _err(f"note: {out} is a plaintext export of an encrypted study; keep it on "
             "encrypted storage and delete it when done")
