"""The user's settings: a typed, frozen dataclass read from one TOML file.

The file lives in the platform config directory (``~/.config/verbatim/config.toml``
on Linux) or wherever ``VERBATIM_CONFIG`` points; model files live in the platform
data directory or wherever ``VERBATIM_MODELS`` points. The config is read once at
start and passed down; nothing pulls it from a running app.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import platformdirs

from verbatim.errors import UserError

APP_NAME = "verbatim"


def default_config_path() -> Path:
    override = os.environ.get("VERBATIM_CONFIG")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME))


def default_models_dir() -> Path:
    override = os.environ.get("VERBATIM_MODELS")
    if override:
        return Path(override).expanduser()
    return default_data_dir() / "models"


@dataclass(frozen=True)
class Config:
    """Everything a user may set. Each default is what a new user should get."""

    study: Path | None = None
    """Study folder used when neither --study nor VERBATIM_STUDY is given."""
    models_dir: Path = field(default_factory=default_models_dir)
    """The model store: Whisper and diarisation models, imported or downloaded."""
    data_dir: Path = field(default_factory=default_data_dir)
    """Where the demo study and logs live."""
    engine: str = "faster-whisper"
    """ASR engine: faster-whisper (default, 2-3x faster on CPU) or whisper."""
    model: str = "auto"
    """Whisper model: "auto" (the most accurate in the store that runs at 0.5x real time or
    faster here), a store name (tiny.en, base, large-v3-turbo ...) or a path."""
    device: str = "auto"
    """Where ASR runs: auto (CUDA where one is seen, float16; else the CPU, int8), cpu, cuda."""
    diarize: str = "embedding"
    """Diariser: pyannote, channels, embedding (no account needed) or none."""
    language: str = "en"
    """Spoken language (a Whisper code such as en, de, fr), or auto to detect it once."""
    notation: str = "paper"
    """Default notation profile: paper, jefferson or dresing-pehl."""
    width: int = 80
    """Line width for numbered transcripts."""
    notation_thresholds: dict[str, dict[str, float]] = field(default_factory=dict)
    """Per-profile overrides of pause thresholds, e.g. {"paper": {"short_pause": 0.3}}."""
    diarization: dict[str, Any] = field(default_factory=dict)
    """Diariser tuning (segmentation step, batch sizes, threads); see README."""
    batch: dict[str, Any] = field(default_factory=dict)
    """``verbatim batch``: workers, TLS files (tls_ca, tls_cert, tls_key), [batch.slurm]."""

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"


_PATH_FIELDS = {"study", "models_dir", "data_dir"}
_TABLE_KEYS = {"notation": "notation_thresholds", "diarization": "diarization"}


def load_config(path: Path | None = None) -> Config:
    """Read the config file; a missing file means all defaults, a bad one a UserError."""
    path = path or default_config_path()
    if not path.exists():
        return _with_env(Config())
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"config {path}: {exc}") from exc
    return _with_env(config_from_mapping(raw, source=str(path)))


def config_from_mapping(raw: dict[str, Any], *, source: str = "config") -> Config:
    """Validate a parsed TOML mapping into a Config, naming any unknown or mistyped key."""
    known = {f.name: f for f in fields(Config)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "notation" and isinstance(value, str):
            values["notation"] = value
            continue
        name = _TABLE_KEYS.get(key, key)
        if name not in known:
            raise UserError(f"{source}: unknown setting {key!r}")
        if name in _PATH_FIELDS:
            if not isinstance(value, str):
                raise UserError(f"{source}: {key} must be a path string")
            values[name] = Path(value).expanduser()
        elif name in ("notation_thresholds", "diarization", "batch"):
            if not isinstance(value, dict):
                raise UserError(f"{source}: [{key}] must be a table")
            if name == "notation_thresholds":
                # [notation] may hold default = "paper" beside per-profile tables
                if isinstance(value.get("default"), str):
                    values["notation"] = value["default"]
                value = {k: v for k, v in value.items() if isinstance(v, dict)}
            values[name] = value
        elif name == "width":
            if not isinstance(value, int) or isinstance(value, bool) or value < 20:
                raise UserError(f"{source}: width must be a whole number of at least 20")
            values[name] = value
        else:
            if not isinstance(value, str):
                raise UserError(f"{source}: {key} must be a string")
            values[name] = value
    return Config(**values)


def _with_env(config: Config) -> Config:
    """Environment variables win over the file (tests and one-off runs use them)."""
    from dataclasses import replace

    changes: dict[str, Any] = {}
    if os.environ.get("VERBATIM_MODELS"):
        changes["models_dir"] = Path(os.environ["VERBATIM_MODELS"]).expanduser()
    if os.environ.get("VERBATIM_STUDY"):
        changes["study"] = Path(os.environ["VERBATIM_STUDY"]).expanduser()
    if os.environ.get("VERBATIM_DATA"):
        changes["data_dir"] = Path(os.environ["VERBATIM_DATA"]).expanduser()
    return replace(config, **changes) if changes else config
