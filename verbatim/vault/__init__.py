"""Encrypted studies (issue 9): keys, the key agent, age files and the SQLCipher door.

A study is encrypted when its folder holds ``vault.json``. Recordings are age
files encrypted to the study's X25519 recipient; the database is SQLCipher
with a random 256-bit raw key. Both secrets live only inside ``vault.json``,
wrapped by age for the passphrase (scrypt), the printed recovery key and any
team key file. Nothing here invents cryptography: age and SQLCipher do it.
"""

from verbatim.vault.errors import LockedError, VaultError, WrongKeyError
from verbatim.vault.keys import VAULT_NAME, StudyKeys, Vault, is_encrypted

__all__ = ["VAULT_NAME", "LockedError", "StudyKeys", "Vault", "VaultError", "WrongKeyError",
           "is_encrypted"]
