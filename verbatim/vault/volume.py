"""Best-effort check that a plain study sits on an encrypted volume.

Looks at the block device under the folder: a device-mapper target whose uuid
starts with ``CRYPT-`` (LUKS/dm-crypt, also under LVM), an eCryptfs mount, or
a folder with the fscrypt flag. Anything it cannot tell counts as "not known to
be encrypted"; the caller only warns, never refuses.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

FS_ENCRYPT_FL = 0x00000800
FS_IOC_GETFLAGS = 0x80086601


def _mount_type(path: Path, mounts_text: str) -> str:
    best, kind = "", ""
    target = str(path)
    for line in mounts_text.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        point = parts[1].replace("\\040", " ")
        if (target == point or target.startswith(point.rstrip("/") + "/")) \
                and len(point) >= len(best):
            best, kind = point, parts[2]
    return kind


def _dm_is_crypt(sys_block: Path, seen: set[Path] | None = None) -> bool:
    seen = seen or set()
    if sys_block in seen:
        return False
    seen.add(sys_block)
    with contextlib.suppress(OSError):
        if (sys_block / "dm" / "uuid").read_text().startswith("CRYPT-"):
            return True
    slaves = sys_block / "slaves"
    if slaves.is_dir():
        for slave in slaves.iterdir():
            if _dm_is_crypt(slave.resolve(), seen):
                return True
    return False


def _has_fscrypt_flag(path: Path) -> bool:
    with contextlib.suppress(OSError, ImportError):
        import array
        import fcntl

        fd = os.open(path, os.O_RDONLY)
        try:
            buf = array.array("l", [0])
            fcntl.ioctl(fd, FS_IOC_GETFLAGS, buf, True)
            return bool(buf[0] & FS_ENCRYPT_FL)
        finally:
            os.close(fd)
    return False


def on_encrypted_volume(path: Path) -> bool:
    path = Path(path).expanduser().absolute()
    probe = path if path.exists() else path.parent
    with contextlib.suppress(OSError):
        if _mount_type(probe, Path("/proc/mounts").read_text()) == "ecryptfs":
            return True
    with contextlib.suppress(OSError):
        dev = probe.stat().st_dev
        block = Path(f"/sys/dev/block/{os.major(dev)}:{os.minor(dev)}")
        if block.exists() and _dm_is_crypt(block.resolve()):
            return True
    return _has_fscrypt_flag(probe)


WARNING = ("verbatim: warning: this study is not encrypted and {path} is not on an "
           "encrypted volume; interview recordings are health data "
           "(see 'verbatim study encrypt')")
