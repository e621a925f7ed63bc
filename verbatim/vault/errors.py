"""Vault errors: each is one line a user can act on (a ``StudyError``)."""

from __future__ import annotations

from verbatim.errors import StudyError


class VaultError(StudyError):
    """An encrypted study that cannot be opened or changed as asked."""


class LockedError(VaultError):
    """The study is encrypted and this session has not unlocked it."""


class WrongKeyError(VaultError):
    """A passphrase, recovery key or key file that does not open this study."""
