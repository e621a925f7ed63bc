"""Errors a user can act on: the CLI prints them as one line, never a traceback."""

from __future__ import annotations


class UserError(Exception):
    """Bad input or a state the user can fix; ``str(err)`` is the whole message."""

    exit_code = 1


class NotAvailableError(UserError):
    """A command that is registered but not built yet."""

    exit_code = 3
