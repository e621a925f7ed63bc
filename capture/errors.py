"""The one error type of the capture room: its message is the whole story, in one line."""

from __future__ import annotations


class CaptureError(Exception):
    """A recording problem the user can act on (no device, bad rate, full disk, ...)."""


class DiskFullError(CaptureError):
    """The disk (or the file size limit) ran out while recording."""
