"""The app records into an encrypted study through the vault's sealing recorder."""

from __future__ import annotations

from pathlib import Path

import pytest

from verbatim.commands.tui_cmds import recorder_factory_for
from verbatim.study import Study
from verbatim.vault import ops

pytestmark = pytest.mark.usefixtures("vault_runtime")


def test_plain_study_and_no_study_use_the_plain_recorder(tmp_path: Path) -> None:
    assert recorder_factory_for(None) is None
    with Study.init(tmp_path / "plain") as study:
        assert recorder_factory_for(study) is None


def test_encrypted_study_records_through_the_sealing_recorder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "sealed"
    key_file = tmp_path / "team.key"
    ops.prepare_new_study(folder, passphrase=None, key_file=key_file)
    Study.init(folder).close()
    monkeypatch.setenv("VERBATIM_KEY_FILE", str(key_file))
    with Study.open(folder) as study:
        factory = recorder_factory_for(study)
    assert factory is not None
    from capture.recorder import Recorder

    assert isinstance(factory, type) and issubclass(factory, Recorder)
