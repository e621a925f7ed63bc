"""How much recording fits: free space and the process's file size limit, in seconds."""

from __future__ import annotations

import os
import resource
import shutil
from dataclasses import dataclass
from pathlib import Path

# Warn before starting when less than this much recording fits.
WARN_BELOW_SECONDS = 60 * 60
# Refuse to start when not even this much fits.
REFUSE_BELOW_SECONDS = 3


@dataclass(frozen=True)
class DiskCheck:
    """Free bytes where the recording goes and how many seconds of audio that is."""

    folder: Path
    free_bytes: int
    bytes_per_second: int

    @property
    def seconds_left(self) -> float:
        return self.free_bytes / self.bytes_per_second if self.bytes_per_second else 0.0

    @property
    def minutes_left(self) -> float:
        return self.seconds_left / 60

    @property
    def low(self) -> bool:
        return self.seconds_left < WARN_BELOW_SECONDS

    def warning(self) -> str:
        """One line for the user, e.g. 'only 12 minutes of recording fit on /data'."""
        return (f"only {self.minutes_left:.0f} minutes of recording fit in {self.folder} "
                f"({self.free_bytes / 1e6:.0f} MB free)")


def bytes_per_second(*, rate: int, channels: int, sample_bytes: int = 3) -> int:
    return rate * channels * sample_bytes


def file_size_limit() -> int | None:
    """RLIMIT_FSIZE in bytes, or None when unlimited."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    return None if soft == resource.RLIM_INFINITY else int(soft)


def check_disk(folder: Path, *, rate: int, channels: int, sample_bytes: int = 3,
               written: int = 0) -> DiskCheck:
    """Room left for the recording in ``folder`` (``written``: bytes of the current file)."""
    free = shutil.disk_usage(folder).free
    limit = file_size_limit()
    if limit is not None:
        free = min(free, max(0, limit - written))
    # a non-root user cannot use the blocks reserved for root
    if hasattr(os, "statvfs") and os.geteuid() != 0:
        stats = os.statvfs(folder)
        free = min(free, stats.f_bavail * stats.f_frsize)
    return DiskCheck(folder=Path(folder), free_bytes=int(free),
                     bytes_per_second=bytes_per_second(rate=rate, channels=channels,
                                                       sample_bytes=sample_bytes))
