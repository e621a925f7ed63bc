"""The best-effort encrypted-volume check behind the plain-study warning."""

from __future__ import annotations

from pathlib import Path

import pytest

from verbatim.vault import commands, volume

MOUNTS = """\
/dev/mapper/vg-root / ext4 rw,relatime 0 0
/dev/sda1 /boot ext4 rw 0 0
/home/me/.Private /home/me ecryptfs rw 0 0
tmpfs /home/me/scratch tmpfs rw 0 0
"""


@pytest.mark.parametrize(("path", "kind"), [
    ("/", "ext4"), ("/boot/grub", "ext4"), ("/home/me/study", "ecryptfs"),
    ("/home/me/scratch/x", "tmpfs"), ("/home/meat", "ext4"),
])
def test_the_deepest_mount_decides(path: str, kind: str) -> None:
    assert volume._mount_type(Path(path), MOUNTS) == kind


def test_luks_under_lvm_counts_as_encrypted(tmp_path: Path) -> None:
    lvm, luks = tmp_path / "dm-1", tmp_path / "dm-0"
    for dev, uuid in ((lvm, "LVM-abc"), (luks, "CRYPT-LUKS2-123-luks")):
        (dev / "dm").mkdir(parents=True)
        (dev / "dm" / "uuid").write_text(uuid)
    (lvm / "slaves").mkdir()
    (lvm / "slaves" / "dm-0").symlink_to(luks)
    assert volume._dm_is_crypt(lvm) and not volume._dm_is_crypt(tmp_path / "sda1")


def test_the_warning_stays_quiet_off_a_terminal(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    commands.warn_if_exposed(tmp_path)
    assert capsys.readouterr().err == ""
