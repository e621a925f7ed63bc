"""A model setting (``auto``, a short name, a store entry, a path) -> the model's path.

Apart from ``store`` because ``auto`` reads the store: resolving needs both, and
the store itself needs neither (no import circle).
"""

from __future__ import annotations

from pathlib import Path

from transcribe.models.store import (
    ModelError,
    _looks_like_path,
    check_model_format,
    store_name,
)


def resolve_model(name_or_path: str | Path, *, engine: str, models_dir: Path,
                  language: str = "en", device: str = "cpu") -> Path:
    """The local path of an ASR model, checked to be in ``engine``'s format and able to
    transcribe ``language``.

    ``name_or_path`` is ``auto`` (the most accurate model in the store that runs fast
    enough here, see ``transcribe.models.auto``), a short name (``tiny.en``,
    ``large-v3-turbo-fast``), a store entry name (``faster-whisper-tiny.en``) or a
    path to a model file or folder.
    """
    from transcribe.models import auto, catalogue

    text = str(name_or_path)
    if text == auto.AUTO:
        return auto.choose_model(models_dir, engine=engine, language=language,
                                 device=device).entry.path
    known = catalogue.find(text, engine)
    candidates = [Path(text).expanduser()] if _looks_like_path(text) else [
        models_dir / text, models_dir / store_name(engine, text),
        *([models_dir / known.entry] if known else [])]
    found = next((c for c in candidates if c.exists()), None)
    if found is None:
        if _looks_like_path(text):
            raise ModelError(f"model not found: {text}")
        raise ModelError(
            f"model {text!r} for {engine} is not in the model store ({models_dir}): run "
            f"'verbatim models import PATH' or 'verbatim models download "
            f"{(known.name if engine == 'faster-whisper' else known.entry) if known else text}'")
    check_model_format(engine, found)
    auto.check_language(found, language)
    return found


