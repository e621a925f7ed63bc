"""Errors a user can act on: the CLI prints them as one line, never a traceback."""

from __future__ import annotations


class UserError(Exception):
    """Bad input or a state the user can fix; ``str(err)`` is the whole message."""

    exit_code = 1


class StudyError(UserError):
    """A study that cannot be opened or an operation it refuses; one line for the user.

    Defined here, below both ``verbatim.study`` and ``verbatim.vault``, so the
    vault's errors can be study errors without the vault knowing the study.
    """
