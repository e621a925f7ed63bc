"""The typed config: defaults, file values, environment overrides, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from verbatim.config import Config, config_from_mapping, load_config
from verbatim.errors import UserError


def test_missing_file_gives_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERBATIM_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.delenv("VERBATIM_MODELS", raising=False)
    config = load_config()
    assert config.engine == "faster-whisper"
    assert config.notation == "paper"
    assert config.width == 80
    assert config.models_dir.name == "models"


def test_file_values_and_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "config.toml"
    path.write_text('engine = "whisper"\nwidth = 72\nstudy = "~/studies/peer"\n'
                    '[notation]\ndefault = "jefferson"\n[notation.paper]\nshort_pause = 0.25\n'
                    '[diarization]\nsegmentation_step = 0.5\n')
    monkeypatch.setenv("VERBATIM_CONFIG", str(path))
    config = load_config()
    assert config.engine == "whisper"
    assert config.width == 72
    assert config.notation == "jefferson"
    assert config.notation_thresholds == {"paper": {"short_pause": 0.25}}
    assert config.diarization == {"segmentation_step": 0.5}
    assert config.study == Path("~/studies/peer").expanduser()


def test_environment_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'models_dir = "{tmp_path / "from-file"}"\n')
    monkeypatch.setenv("VERBATIM_CONFIG", str(path))
    monkeypatch.setenv("VERBATIM_MODELS", str(tmp_path / "from-env"))
    assert load_config().models_dir == tmp_path / "from-env"


@pytest.mark.parametrize("raw, fragment", [
    ({"colour": "blue"}, "unknown setting 'colour'"),
    ({"width": 5}, "width"),
    ({"engine": 3}, "engine must be a string"),
    ({"diarization": "fast"}, "must be a table"),
    ({"playback": "vinyl"}, "playback must be"),
    ({"keys": {"rewind": "f9"}}, "unknown key action 'rewind'"),
    ({"keys": {"back_5": ""}}, "keys.back_5 must be"),
    ({"doubt_threshold": 2}, "doubt_threshold must be"),
])
def test_bad_values_are_named(raw: dict[str, object], fragment: str) -> None:
    with pytest.raises(UserError, match=fragment):
        config_from_mapping(raw)


def test_unparseable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "config.toml"
    path.write_text("engine = \n")
    monkeypatch.setenv("VERBATIM_CONFIG", str(path))
    with pytest.raises(UserError, match="config"):
        load_config()


def test_config_is_frozen() -> None:
    with pytest.raises(AttributeError):
        Config().width = 10  # type: ignore[misc]


def test_playback_mode_is_read() -> None:
    assert Config().playback == "stretch"
    assert config_from_mapping({"playback": "tape"}).playback == "tape"


def test_desk_keys_and_doubt_threshold_are_read() -> None:
    from verbatim.keys import desk_bindings, desk_help

    config = config_from_mapping({"keys": {"back_5": "f9", "forward_5": " f11 , ctrl+l "},
                                  "doubt_threshold": 0.4})
    assert config.doubt_threshold == 0.4
    bound = {action: keys for keys, action, _ in desk_bindings(config.keys)}
    assert bound["seek(-5)"] == "f9" and bound["seek(5)"] == "f11,ctrl+l"
    assert bound["next_doubtful"] == "n"
    assert "f11 ctrl+l" in desk_help(config.keys)
