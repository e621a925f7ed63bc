"""``model = "auto"``: the most accurate model in the store this machine runs fast enough.

"Fast enough" is at most ``MAX_RTF`` (0.5) seconds of ASR work per second of
audio, so an hour-long interview takes at most half an hour: a user who
downloaded large-v3-turbo gets it without a flag where it runs that fast, and
a 2-core laptop is never handed a model that would take three hours. Speeds
are the ones measured on this machine (every transcription of 20 s or more
records its own, as does ``bench/models.py``), else estimates from parameter
count (``catalogue.expected_speed``). Accuracy is the catalogue's rank; a model
the catalogue does not know (a user's own conversion) ranks below every known
one. When nothing fits the limit, the fastest model is taken (and says so).

An English-only model is never chosen for another language; for ``auto``
language, multilingual models are preferred.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from transcribe.models import catalogue
from transcribe.models.store import ModelError, StoreEntry, list_models

AUTO = "auto"
MAX_RTF = 0.5
MULTILINGUAL_VOCABULARY = 51865  # English-only Whisper models have 51864 tokens


@dataclass(frozen=True)
class Choice:
    entry: StoreEntry
    rtf: float
    measured: bool
    reason: str


def english_only(path: Path) -> bool:
    """Whether a Whisper model in the store can only transcribe English."""
    known = catalogue.for_entry(path.name)
    if known is not None:
        return not known.multilingual
    vocabulary = path / "vocabulary.txt"
    if vocabulary.is_file():
        with open(vocabulary, "rb") as handle:
            return sum(1 for _ in handle) < MULTILINGUAL_VOCABULARY
    return ".en" in path.name


def check_language(path: Path, language: str) -> None:
    """Refuse, in one line, an English-only model asked for another language."""
    if language not in ("en", AUTO) and english_only(path):
        raise ModelError(f"{path.name} is an English-only model and cannot transcribe "
                         f"{language!r}: choose a multilingual one (e.g. --model base; "
                         "'verbatim models available' lists them)")


def _engine_kind(engine: str) -> str:
    return "faster-whisper" if engine == "faster-whisper" else "whisper"


def _profile(entry: StoreEntry, engine: str) -> catalogue.CatalogueModel:
    known = catalogue.for_entry(entry.name)
    if known is not None:
        return known
    params = entry.size / 2e6  # float16: two bytes a parameter
    return catalogue.CatalogueModel(entry.name, engine, entry.name, params, entry.size // 10**6,
                                    "en" if english_only(entry.path) else "99", 0, "local")


def choose_model(store: Path, *, engine: str, language: str = "en", device: str = "cpu",
                 max_rtf: float = MAX_RTF) -> Choice:
    """The model ``auto`` means for this store, engine, language and device."""
    entries = [e for e in list_models(store) if e.kind == _engine_kind(engine)]
    if language not in ("en", AUTO):
        entries = [e for e in entries if not english_only(e.path)]
    if language == AUTO and any(not english_only(e.path) for e in entries):
        entries = [e for e in entries if not english_only(e.path)]
    if not entries:
        need = "" if language in ("en", AUTO) else f" multilingual (for {language!r})"
        raise ModelError(f"model auto: no{need} {engine} model in the model store ({store}): "
                         "run 'make setup', or 'verbatim models download base'")
    scored = []
    for entry in entries:
        profile = _profile(entry, engine)
        speed = catalogue.expected_speed(profile, device=device)
        scored.append((profile.accuracy, profile.params_m, speed, entry))
    fitting = [s for s in scored if s[2].rtf <= max_rtf]
    if fitting:
        _, _, speed, entry = max(fitting, key=lambda s: (s[0], -s[2].rtf))
        how = "measured" if speed.measured else "estimated"
        reason = (f"the most accurate model in the store at {speed.rtf:.2f}x real time "
                  f"({how}; limit {max_rtf:.2f}x)")
    else:
        _, _, speed, entry = min(scored, key=lambda s: s[2].rtf)
        reason = (f"the fastest model in the store; none runs at {max_rtf:.2f}x real time "
                  "or less here")
    return Choice(entry, speed.rtf, speed.measured, reason)
