"""The study's secrets and ``vault.json``, the one file that holds them (wrapped).

``StudyKeys`` is what an unlocked session holds: the age identities that
decrypt the recordings and the SQLCipher raw keys of the database. Both are
random (age's key generation, ``secrets.token_bytes``); the passphrase never
touches the data directly, it only unwraps ``StudyKeys`` through age's scrypt
recipient. Each way in (passphrase, recovery key, team key file) is one slot
in ``vault.json``: the same payload encrypted by age for that way in. Changing
the passphrase rewrites one slot; ``rekey`` replaces the secrets themselves.

During a key rotation the payload lists the new and the old secrets (new
first) so a crash half-way leaves every file readable; the rotation ends by
writing a payload with the new secrets only.

A long operation (``encrypt``, ``rekey``) records itself in the vault's
``state``; while it runs, the old ways in (during a rotation) and the new ones
all open the study, and the final ways in wait, already wrapped, in
``next_slots``. ``recovery_confirmed`` is false until the user has been shown
the new recovery key and confirmed it, so a run killed before that point
replaces the unseen key on its re-run instead of leaving it in the vault.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from transcript.document import write_atomic
from verbatim.vault.errors import VaultError, WrongKeyError

VAULT_NAME = "vault.json"
VAULT_FORMAT = "verbatim-vault/1"
PAYLOAD_FORMAT = "verbatim-study-keys/1"
SLOT_KINDS = ("passphrase", "recovery", "keyfile")


def is_encrypted(study_dir: Path) -> bool:
    """Whether the folder is an encrypted study (it holds ``vault.json``)."""
    return (Path(study_dir) / VAULT_NAME).is_file()


@dataclass(frozen=True)
class StudyKeys:
    """Unwrapped secrets: age identities (newest first) and SQLCipher raw keys (hex)."""

    identities: tuple[str, ...]
    db_keys: tuple[str, ...]

    @classmethod
    def generate(cls) -> StudyKeys:
        from pyrage import x25519

        return cls(identities=(str(x25519.Identity.generate()),),
                   db_keys=(secrets.token_hex(32),))

    @property
    def recipient(self) -> str:
        """The public key new recordings are encrypted to (the newest identity's)."""
        from pyrage import x25519

        return str(x25519.Identity.from_str(self.identities[0]).to_public())

    def age_identities(self) -> list[object]:
        from pyrage import x25519

        return [x25519.Identity.from_str(text) for text in self.identities]

    def merged_with(self, older: StudyKeys) -> StudyKeys:
        """New secrets first, older ones kept for files not yet re-encrypted."""
        ids = self.identities + tuple(i for i in older.identities if i not in self.identities)
        dbs = self.db_keys + tuple(k for k in older.db_keys if k not in self.db_keys)
        return StudyKeys(identities=ids, db_keys=dbs)

    def to_bytes(self) -> bytes:
        return json.dumps({"format": PAYLOAD_FORMAT, "identities": list(self.identities),
                           "db_keys": list(self.db_keys)}).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> StudyKeys:
        try:
            obj = json.loads(data.decode("utf-8"))
            if obj.get("format") != PAYLOAD_FORMAT:
                raise ValueError(obj.get("format"))
            keys = cls(identities=tuple(str(i) for i in obj["identities"]),
                       db_keys=tuple(str(k) for k in obj["db_keys"]))
        except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
            raise VaultError("the study's key payload is damaged") from None
        if not keys.identities or not keys.db_keys:
            raise VaultError("the study's key payload is damaged")
        return keys

    def __repr__(self) -> str:  # never print secrets, even in a traceback
        return f"StudyKeys(<{len(self.identities)} identities, {len(self.db_keys)} db keys>)"


@dataclass(frozen=True)
class Slot:
    kind: str
    data: bytes
    recipient: str = ""  # for recovery and keyfile slots: which public key opens it
    label: str = ""  # during a rotation: "old" or "new"

    @property
    def fingerprint(self) -> str:
        """A short, public name for a recovery key or key file (from its public key)."""
        return fingerprint(self.recipient) if self.recipient else ""

    def describe(self) -> str:
        """'the new passphrase', 'recovery key 1a2b-3c4d', … for a user."""
        age = f"{self.label} " if self.label else ""
        if self.kind == "passphrase":
            return f"the {age}passphrase"
        name = "recovery key" if self.kind == "recovery" else "key file"
        return f"the {age}{name} {self.fingerprint}"


def fingerprint(recipient: str) -> str:
    """Eight hex digits naming a key by its public part: shown with the key, safe to print."""
    digest = hashlib.sha256(recipient.encode("ascii")).hexdigest()
    return f"{digest[:4]}-{digest[4:8]}"


def _slot_json(s: Slot) -> dict[str, str]:
    obj = {"kind": s.kind, "recipient": s.recipient,
           "data": base64.b64encode(s.data).decode("ascii")}
    if s.label:
        obj["label"] = s.label
    return obj


def _slot_from(obj: dict[str, str]) -> Slot:
    return Slot(kind=obj["kind"], data=base64.b64decode(obj["data"]),
                recipient=obj.get("recipient", ""), label=obj.get("label", ""))


@dataclass(frozen=True)
class Vault:
    """The contents of ``vault.json``: public facts plus wrapped copies of the secrets."""

    study_id: str
    recipient: str
    slots: tuple[Slot, ...] = field(default_factory=tuple)
    state: str = ""  # "", or the interrupted operation: "encrypting", "rekeying"
    recovery_confirmed: bool = True
    next_slots: tuple[Slot, ...] = field(default_factory=tuple)  # a rotation's final ways in

    # ---- reading and writing -----------------------------------------------------

    @classmethod
    def read(cls, study_dir: Path) -> Vault:
        path = Path(study_dir) / VAULT_NAME
        try:
            obj = json.loads(path.read_text(encoding="utf-8"))
            if obj.get("format") != VAULT_FORMAT:
                raise ValueError("format")
            return cls(study_id=str(obj["study_id"]), recipient=str(obj["recipient"]),
                       slots=tuple(_slot_from(s) for s in obj["slots"]),
                       state=str(obj.get("state", "")),
                       recovery_confirmed=bool(obj.get("recovery_confirmed", True)),
                       next_slots=tuple(_slot_from(s) for s in obj.get("next_slots", ())))
        except FileNotFoundError:
            raise VaultError(f"{study_dir} is not an encrypted study (no {VAULT_NAME})") from None
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise VaultError(f"{path} is damaged ({type(exc).__name__}); restore it from a "
                             "backup of the study") from None

    def to_bytes(self) -> bytes:
        obj: dict[str, object] = {
            "format": VAULT_FORMAT, "study_id": self.study_id, "recipient": self.recipient,
            "slots": [_slot_json(s) for s in self.slots]}
        if self.state:
            obj["state"] = self.state
        if not self.recovery_confirmed:
            obj["recovery_confirmed"] = False
        if self.next_slots:
            obj["next_slots"] = [_slot_json(s) for s in self.next_slots]
        return (json.dumps(obj, indent=1) + "\n").encode("utf-8")

    def write(self, study_dir: Path) -> None:
        """Atomically replace ``vault.json`` (owner-only, fsync'd)."""
        write_private(Path(study_dir) / VAULT_NAME, self.to_bytes())

    # ---- building ----------------------------------------------------------------------

    @classmethod
    def create(cls, keys: StudyKeys, *, passphrase: str | None, recovery_recipient: str,
               keyfile_recipients: Sequence[str] = (), study_id: str | None = None) -> Vault:
        """A vault whose secrets open with the passphrase, the recovery key or a key file."""
        from pyrage import passphrase as age_passphrase

        payload = keys.to_bytes()
        slots = []
        if passphrase is not None:
            slots.append(Slot("passphrase", age_passphrase.encrypt(payload, passphrase)))
        for kind, recipient in ([("recovery", recovery_recipient)]
                                + [("keyfile", r) for r in keyfile_recipients]):
            slots.append(Slot(kind, wrap_to(payload, recipient), recipient))
        return cls(study_id=study_id or secrets.token_hex(8), recipient=keys.recipient,
                   slots=tuple(slots))

    def ways_in(self) -> list[str]:
        """What opens the study now, for a user: 'the passphrase', 'recovery key 1a2b-3c4d'."""
        return [slot.describe() for slot in self.slots]

    def rewrapped(self, keys: StudyKeys, *, passphrase: str | None,
                  label: str | None = None) -> tuple[Slot, ...]:
        """These ways in wrapping a new payload (a passphrase slot only with its passphrase)."""
        from pyrage import passphrase as age_passphrase

        payload = keys.to_bytes()
        slots = []
        for slot in self.slots:
            tag = slot.label if label is None else label
            if slot.kind == "passphrase":
                if passphrase is not None:
                    slots.append(Slot("passphrase", age_passphrase.encrypt(payload, passphrase),
                                      label=tag))
            else:
                slots.append(Slot(slot.kind, wrap_to(payload, slot.recipient),
                                  slot.recipient, label=tag))
        return tuple(slots)

    # ---- opening --------------------------------------------------------------------

    def open_with_passphrase(self, passphrase: str) -> StudyKeys:
        from pyrage import DecryptError
        from pyrage import passphrase as age_passphrase

        wrapped = [s for s in self.slots if s.kind == "passphrase"]
        if not wrapped:
            raise WrongKeyError("this study has no passphrase; unlock it with its key file "
                                "or recovery key")
        for slot in wrapped:
            try:
                return StudyKeys.from_bytes(age_passphrase.decrypt(slot.data, passphrase))
            except DecryptError:
                continue
        raise WrongKeyError("wrong passphrase; nothing was changed")

    def open_with_identity(self, identity_text: str) -> StudyKeys:
        """Open with a recovery key or a team key file's identity (AGE-SECRET-KEY-1…)."""
        from pyrage import DecryptError

        identity = parse_identity(identity_text)
        for slot in self.slots:
            if slot.kind == "passphrase":
                continue
            try:
                import pyrage

                return StudyKeys.from_bytes(pyrage.decrypt(slot.data, [identity]))
            except DecryptError:
                continue
        raise WrongKeyError("that key does not open this study; nothing was changed")


def wrap_to(payload: bytes, recipient: str) -> bytes:
    """``payload`` encrypted to one age X25519 recipient (a slot's wrapping)."""
    import pyrage
    from pyrage import x25519

    return pyrage.encrypt(payload, [x25519.Recipient.from_str(recipient)])


def parse_identity(text: str) -> object:
    """An age X25519 identity from a recovery key or key file (comments and blanks skipped)."""
    from pyrage import IdentityError, x25519

    lines = [line.strip() for line in text.splitlines()
             if line.strip() and not line.strip().startswith("#")]
    if len(lines) != 1 or not lines[0].upper().startswith("AGE-SECRET-KEY-1"):
        raise WrongKeyError("not a verbatim recovery key or key file (expected one line "
                            "starting AGE-SECRET-KEY-1)")
    try:
        return x25519.Identity.from_str(lines[0].upper())
    except (IdentityError, ValueError):
        raise WrongKeyError("the key is mistyped or damaged (its checksum does not match)") \
            from None


def new_identity() -> tuple[str, str]:
    """A fresh age identity and its recipient: a recovery key or a team key file."""
    from pyrage import x25519

    identity = x25519.Identity.generate()
    return str(identity), str(identity.to_public())


def recipient_of(identity_text: str) -> str:
    identity = parse_identity(identity_text)
    return str(identity.to_public())  # type: ignore[attr-defined]


def read_key_file(path: Path) -> str:
    """The identity text of a team key file; refuses a file others can read."""
    path = Path(path).expanduser()
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise VaultError(f"key file {path}: {exc.strerror or exc}") from None
    if mode & 0o077:
        raise VaultError(f"key file {path} is readable by others; chmod 600 it first")
    parse_identity(text)
    return text


def write_key_file(path: Path, identity_text: str) -> None:
    """Create a team key file (owner-only); never overwrites one."""
    path = Path(path).expanduser()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise VaultError(f"{path} already exists; a key file is never overwritten") from None
    except OSError as exc:
        raise VaultError(f"cannot write key file {path}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write("# verbatim study key file: anyone holding it can open the study\n")
        out.write(identity_text + "\n")
        out.flush()
        os.fsync(out.fileno())


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` atomically and owner-only, fsync'd (file and folder)."""
    write_atomic(path, data)
