"""The model store: one folder of named entries, listed, verified, imported, downloaded.

Entries use the names of the shared model folder (``faster-whisper-tiny.en/``,
``whisper-tiny.en.pt``, ``ge2e-voice-encoder/`` ...), so a USB stick holding
those can be imported as it is. ``.manifest.json`` records the sha256 of every
file when it enters the store; ``verify`` re-hashes against it and, for
openai-whisper checkpoints, against the checksum OpenAI publishes in its own
download URL. Nothing is fetched unless the user runs ``models download``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from transcribe.errors import TranscribeError
from transcribe.models import checks

MANIFEST = ".manifest.json"
FASTER_WHISPER_FILES = ("config.json", "model.bin", "tokenizer.json", "vocabulary.txt")


class ModelError(TranscribeError):
    """A model that is missing, malformed, or for the other engine."""


@dataclass(frozen=True)
class StoreEntry:
    name: str
    path: Path
    kind: str  # faster-whisper, whisper, onnx, torch, folder, file
    size: int


@dataclass(frozen=True)
class VerifyResult:
    name: str
    ok: bool
    detail: str


def model_kind(path: Path) -> str:
    """What a model file or folder holds, judged from its layout (never by loading it)."""
    if path.is_dir():
        if (path / "model.bin").is_file() and (path / "config.json").is_file():
            return "faster-whisper"
        if (path / "config.yaml").is_file():
            return "pyannote-pipeline"
        if path.name.startswith("faster-whisper-") or (path / "model.bin").is_file():
            return "faster-whisper"  # an incomplete one: check_entry says what is missing
        return "folder"
    suffix = path.suffix.lower()
    if suffix == ".onnx":
        return "onnx"
    if suffix in (".pt", ".pth", ".bin"):
        if path.name.startswith("whisper-") or _looks_like_whisper_checkpoint(path):
            return "whisper"
        return "torch"
    return "file"


def _looks_like_whisper_checkpoint(path: Path) -> bool:
    """openai-whisper checkpoints are torch zip files whose pickle names 'dims'."""
    try:
        with zipfile.ZipFile(path) as archive:
            pickle_name = next((n for n in archive.namelist() if n.endswith("data.pkl")), None)
            return pickle_name is not None and b"dims" in archive.read(pickle_name)[:4096]
    except (OSError, zipfile.BadZipFile):
        return False


def store_name(engine: str, model: str) -> str:
    """The store entry for a short model name: ("whisper", "tiny.en") -> whisper-tiny.en.pt."""
    return f"faster-whisper-{model}" if engine == "faster-whisper" else f"whisper-{model}.pt"


def _looks_like_path(text: str) -> bool:
    return os.sep in text or text.startswith(".") or text.endswith((".pt", ".bin"))


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


def check_model_format(engine: str, path: Path) -> None:
    """Refuse a model that the chosen engine cannot load, naming the one that can."""
    kind = model_kind(path)
    if engine == "faster-whisper" and kind != "faster-whisper":
        if kind == "whisper":
            raise ModelError(f"{path} is an openai-whisper checkpoint: use --engine whisper, "
                             "or a faster-whisper (CTranslate2) model folder")
        raise ModelError(f"{path} is not a faster-whisper model folder "
                         "(expected model.bin and config.json inside)")
    if engine == "whisper" and kind != "whisper":
        if kind == "faster-whisper":
            raise ModelError(f"{path} is a faster-whisper (CTranslate2) model folder: use "
                             "--engine faster-whisper, or an openai-whisper .pt file")
        raise ModelError(f"{path} is not an openai-whisper checkpoint (.pt)")


def _files(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(models_dir: Path) -> dict[str, dict]:
    try:
        return json.loads((models_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write_manifest(models_dir: Path, manifest: dict[str, dict]) -> None:
    tmp = models_dir / f"{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    tmp.replace(models_dir / MANIFEST)


def _record(models_dir: Path, name: str, source: str, *,
            files: dict[str, str] | None = None, hashes: dict[str, str] | None = None) -> None:
    """Write an entry's sha256 per file and where it came from into the manifest.

    ``files`` maps a file of the entry to its own origin (``package==version:member``)
    when the entry was assembled from several places (provisioning from wheels).
    """
    entry = models_dir / name
    if hashes is None:  # (provisioning passes the hashes it has just checked)
        hashes = {str(f.relative_to(entry)) if entry.is_dir() else f.name: sha256_file(f)
                  for f in _files(entry)}
    manifest = read_manifest(models_dir)
    manifest[name] = {"sha256": hashes, "source": source,
                      "added": datetime.now(UTC).isoformat(timespec="seconds")}
    if files:
        manifest[name]["files"] = files
    _write_manifest(models_dir, manifest)


def list_models(models_dir: Path) -> list[StoreEntry]:
    if not models_dir.is_dir():
        return []
    return [StoreEntry(p.name, p, model_kind(p), sum(f.stat().st_size for f in _files(p)))
            for p in sorted(models_dir.iterdir())
            if not p.name.startswith(".") and p.suffix.lower() not in (".md", ".txt")]


def check_entry(path: Path) -> str:
    """The entry's kind, after checking that it loads as that kind; else ModelError.

    A folder of loose files (``ge2e-voice-encoder/pretrained.pt``) must hold at
    least one model file, and every model file in it must pass its own check.
    """
    kind = model_kind(path)
    try:
        if kind == "faster-whisper":
            checks.check_faster_whisper(path)
        elif kind == "pyannote-pipeline":
            checks.check_pyannote_pipeline(path)
        elif kind == "folder":
            inside = [f for f in _files(path) if f.suffix.lower() in checks.MODEL_SUFFIXES]
            if not inside:
                raise ModelError(f"{path.name} holds no model file "
                                 f"({', '.join(checks.MODEL_SUFFIXES)})")
            for model_file in inside:
                checks.check_model_file(model_file)
        else:
            checks.check_model_file(path, whisper=kind == "whisper")
    except checks.ModelCheckError as exc:
        raise ModelError(str(exc)) from None
    return kind


def _is_collection(path: Path) -> bool:
    """A folder of model entries (a USB stick, another store), not one model folder."""
    return (path.is_dir() and model_kind(path) == "folder"
            and any(p.is_dir() and not p.name.startswith(".") for p in path.iterdir()))


@dataclass(frozen=True)
class ImportReport:
    imported: tuple[StoreEntry, ...]
    refused: tuple[tuple[str, str], ...]  # (name, one-line reason)


def import_models(source: Path, models_dir: Path, *, name: str | None = None) -> ImportReport:
    """Import one model, or every model entry of a folder of them (a USB stick).

    Of a folder of entries, each one that loads as its kind is imported; the rest
    (a README, a damaged file, a name already in the store) are refused, each with
    its reason, and nothing of them lands in the store.
    """
    source = Path(source).expanduser()
    if not source.exists():
        raise ModelError(f"nothing to import: {source} does not exist")
    if not _is_collection(source):
        return ImportReport((import_model(source, models_dir, name=name),), ())
    if name is not None:
        raise ModelError(f"{source} is a folder of several models: --name applies to one")
    imported: list[StoreEntry] = []
    refused: list[tuple[str, str]] = []
    for child in sorted(source.iterdir()):
        if child.name.startswith("."):
            continue  # another store's manifest, editor files
        try:
            imported.append(import_model(child, models_dir))
        except ModelError as exc:
            refused.append((child.name, str(exc)))
    return ImportReport(tuple(imported), tuple(refused))


def import_model(source: Path, models_dir: Path, *, name: str | None = None) -> StoreEntry:
    """Copy a model file or folder into the store (from a USB stick, say); never overwrite.

    The copy is checked to load as the kind it claims before it enters the store.
    """
    source = Path(source).expanduser()
    if not source.exists():
        raise ModelError(f"nothing to import: {source} does not exist")
    name = name or source.name
    if "/" in name or name.startswith("."):
        raise ModelError(f"not a usable store name: {name!r}")
    target = models_dir / name
    if target.exists():
        raise ModelError(f"{name!r} is already in the model store ({target})")
    models_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".import-", dir=models_dir))
    try:
        staged = staging / name
        if source.is_dir():
            shutil.copytree(source, staged)
        else:
            shutil.copy2(source, staged)
        check_entry(staged)
        for copied in _files(staged):
            copied.chmod(0o600)
        staged.replace(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _record(models_dir, name, f"import:{source}")
    return _entry(models_dir, name)


def _entry(models_dir: Path, name: str) -> StoreEntry:
    path = models_dir / name
    return StoreEntry(name, path, model_kind(path), sum(f.stat().st_size for f in _files(path)))


def _published_sha256(name: str) -> str | None:
    """OpenAI publishes each checkpoint's sha256 in its download URL."""
    import whisper  # heavy, but only `models verify` comes here

    url = whisper._MODELS.get(name.removeprefix("whisper-").removesuffix(".pt"))
    return url.split("/")[-2] if url else None


def verify_models(models_dir: Path) -> list[VerifyResult]:
    """Re-hash every entry against the manifest (and OpenAI's published checksum), and
    check that it still loads as its kind: a damaged file is never reported ok."""
    manifest = read_manifest(models_dir)
    results = []
    for entry in list_models(models_dir):
        recorded = manifest.get(entry.name, {}).get("sha256")
        files = _files(entry.path)
        actual = {str(f.relative_to(entry.path)) if entry.path.is_dir() else f.name:
                  sha256_file(f) for f in files}
        if recorded is not None and recorded != actual:
            changed = sorted(k for k in set(recorded) | set(actual)
                             if recorded.get(k) != actual.get(k))
            results.append(VerifyResult(entry.name, False,
                                        f"changed since it was stored: {', '.join(changed)}"))
            continue
        try:
            check_entry(entry.path)
        except ModelError as exc:
            results.append(VerifyResult(entry.name, False, f"does not load: {exc}"))
            continue
        published = _published_sha256(entry.name) if entry.kind == "whisper" else None
        if published is not None and actual.get(entry.path.name) == published:
            results.append(VerifyResult(entry.name, True, "matches OpenAI's published sha256"))
        else:
            state = ("unchanged since it was stored" if recorded is not None
                     else "no checksum recorded (copied in by hand)")
            note = "; not OpenAI's published file (a conversion?)" if published else ""
            results.append(VerifyResult(entry.name, True, state + note))
    return results
