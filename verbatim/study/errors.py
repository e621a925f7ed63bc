"""The study's one error type: a user-fixable problem, printed as one line."""

from __future__ import annotations

from verbatim.errors import UserError


class StudyError(UserError):
    """A study that cannot be opened or an operation it refuses; one line for the user."""
