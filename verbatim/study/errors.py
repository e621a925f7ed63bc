"""The study's one error type: a user-fixable problem, printed as one line."""

from __future__ import annotations

from verbatim.errors import StudyError

__all__ = ["StudyError"]
