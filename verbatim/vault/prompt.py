"""Reading a passphrase or recovery key without echoing, logging or storing it.

On a terminal: ``getpass`` (no echo), asked twice when a new passphrase is
chosen. Not on a terminal (scripts, tests): one line is read from standard
input, like ``cryptsetup --key-file=-``; it is never taken from the command
line, where other users could see it in the process list.
"""

from __future__ import annotations

import getpass
import sys

from verbatim.vault.errors import VaultError

MIN_PASSPHRASE = 8


def _read(prompt: str) -> str:
    if sys.stdin is not None and sys.stdin.isatty():
        try:
            return getpass.getpass(prompt, stream=sys.stderr)
        except EOFError:
            return ""
    line = sys.stdin.readline() if sys.stdin is not None else ""
    return line.rstrip("\r\n")


def ask_passphrase(prompt: str = "Passphrase: ") -> str:
    value = _read(prompt)
    if not value:
        raise VaultError("no passphrase given; nothing was changed")
    return value


def ask_new_passphrase() -> str:
    """A new passphrase, confirmed on a terminal; refuses short ones."""
    value = _read("New passphrase (not shown): ")
    if len(value) < MIN_PASSPHRASE:
        raise VaultError(f"a passphrase needs at least {MIN_PASSPHRASE} characters; "
                         "nothing was changed")
    if sys.stdin is not None and sys.stdin.isatty() \
            and _read("Type it again: ") != value:
        raise VaultError("the two passphrases differ; nothing was changed")
    return value


def ask_recovery_key() -> str:
    value = _read("Recovery key (AGE-SECRET-KEY-1…, not shown): ").strip()
    if not value:
        raise VaultError("no recovery key given; nothing was changed")
    return value


def can_confirm() -> bool:
    """Whether a person can answer here (standard input is a terminal)."""
    return sys.stdin is not None and sys.stdin.isatty()


def confirm_recovery_key(recovery_key: str, *, tries: int = 3) -> None:
    """Make the user type the key's last four characters back; ``VaultError`` if they do not.

    Proves the key was read (and, usually, written down) before anything is
    encrypted under it.
    """
    tail = recovery_key.strip()[-4:].upper()
    for _ in range(tries):
        sys.stderr.write("Type the recovery key's last 4 characters to confirm you have "
                         "written it down: ")
        sys.stderr.flush()
        line = sys.stdin.readline() if sys.stdin is not None else ""
        if not line:
            break
        if line.strip().upper() == tail:
            return
        sys.stderr.write("that does not match the key's last 4 characters\n")
    raise VaultError("the recovery key was not confirmed; nothing was encrypted under it")
