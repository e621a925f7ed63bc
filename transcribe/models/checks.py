"""Does a model file load as the kind it claims? Checked at import and by ``verify``.

Each check reads the file's own structure without loading the weights into a
network, so it costs a read of the headers, not a model load:

- a CTranslate2 ``model.bin`` is walked variable by variable (name, shape,
  type, byte count) and must end exactly where its last alias does: a
  truncated or padded file fails;
- a torch checkpoint saved in the zip layout must open as a zip (a truncated
  file has lost its central directory) and hold a ``data.pkl``; the legacy
  pickle layout is loaded with ``weights_only`` (small files only use it);
- an ONNX graph must parse as an ONNX protobuf;
- a faster-whisper folder must hold every file faster-whisper reads, or it
  would reach for the network to fill the gap.
"""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path
from typing import BinaryIO

from transcribe.errors import TranscribeError

MODEL_SUFFIXES = (".pt", ".pth", ".bin", ".onnx", ".ckpt")
FASTER_WHISPER_REQUIRED = ("model.bin", "config.json", "tokenizer.json")
FASTER_WHISPER_VOCABULARY = ("vocabulary.txt", "vocabulary.json")


class ModelCheckError(TranscribeError):
    """A model file or folder that does not load as the kind it claims."""


def check_ctranslate2(path: Path) -> None:
    """Walk a CTranslate2 ``model.bin``: header, every variable, aliases, nothing after."""
    size = path.stat().st_size
    try:
        with open(path, "rb") as handle:
            version = _u(handle, "I")
            if not 1 <= version <= 10:
                raise ModelCheckError(f"{path.name} is not a CTranslate2 model "
                                      f"(format version {version})")
            if version >= 2:
                _string(handle)
                _u(handle, "I")
            for _ in range(_u(handle, "I")):
                _string(handle)
                rank = _u(handle, "B")
                for _ in range(rank):
                    _u(handle, "I")
                if version >= 4:
                    _u(handle, "B")
                    length = _u(handle, "I")
                else:
                    raise ModelCheckError(f"{path.name}: CTranslate2 format {version} is "
                                          "too old for faster-whisper")
                if handle.seek(length, 1) > size:
                    raise EOFError
            if version >= 3:
                for _ in range(_u(handle, "I")):
                    _string(handle)
                    _string(handle)
            end = handle.tell()
    except EOFError:
        raise ModelCheckError(f"{path.name} is truncated (a CTranslate2 model cut short "
                              f"at {size} bytes)") from None
    except UnicodeDecodeError:
        raise ModelCheckError(f"{path.name} is not a CTranslate2 model") from None
    if end != size:
        raise ModelCheckError(f"{path.name} has {size - end} unexpected bytes after the "
                              "CTranslate2 model (damaged or not a model)")


def _u(handle: BinaryIO, fmt: str) -> int:
    n = struct.calcsize(fmt)
    data = handle.read(n)
    if len(data) < n:
        raise EOFError
    return int(struct.unpack("<" + fmt, data)[0])


def _string(handle: BinaryIO) -> str:
    n = _u(handle, "H")
    data = handle.read(n)
    if len(data) < n:
        raise EOFError
    return data.rstrip(b"\0").decode("utf-8")


def check_torch(path: Path, *, whisper: bool = False) -> None:
    """A torch checkpoint: the zip layout with its pickle, or a legacy pickle that loads."""
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
                pickle_name = next((n for n in names if n.endswith("data.pkl")), None)
                if pickle_name is None:
                    raise ModelCheckError(f"{path.name} is a zip file but not a torch checkpoint")
                if whisper and b"dims" not in archive.read(pickle_name)[:4096]:
                    raise ModelCheckError(f"{path.name} is a torch checkpoint but not an "
                                          "openai-whisper one (no 'dims')")
        except (zipfile.BadZipFile, OSError) as exc:
            raise ModelCheckError(f"{path.name} is a damaged torch checkpoint: {exc}") from None
        return
    with open(path, "rb") as handle:
        head = handle.read(2)
    if head != b"\x80\x02" or whisper:  # torch.save's legacy layout starts with pickle protocol 2
        what = "an openai-whisper checkpoint" if whisper else "a torch checkpoint"
        raise ModelCheckError(f"{path.name} is not {what} (truncated, or another kind of file)")
    try:
        import torch

        torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many kinds for a damaged pickle
        raise ModelCheckError(f"{path.name} does not load as a torch checkpoint "
                              f"({type(exc).__name__})") from None


def check_onnx(path: Path) -> None:
    try:
        import onnx

        onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf's DecodeError and friends
        raise ModelCheckError(f"{path.name} does not load as an ONNX model "
                              f"({type(exc).__name__})") from None


def check_faster_whisper(folder: Path) -> None:
    missing = [n for n in FASTER_WHISPER_REQUIRED if not (folder / n).is_file()]
    if not any((folder / n).is_file() for n in FASTER_WHISPER_VOCABULARY):
        missing.append("vocabulary.txt")
    if missing:
        raise ModelCheckError(f"{folder.name} is an incomplete faster-whisper model: "
                              f"missing {', '.join(missing)}")
    for name in ("config.json", "tokenizer.json"):
        try:
            json.loads((folder / name).read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise ModelCheckError(f"{folder.name}/{name} is not valid JSON") from None
    check_ctranslate2(folder / "model.bin")


def check_pyannote_pipeline(folder: Path) -> None:
    try:
        import yaml

        config = yaml.safe_load((folder / "config.yaml").read_text(encoding="utf-8"))
    except Exception as exc:
        raise ModelCheckError(f"{folder.name}/config.yaml does not parse "
                              f"({type(exc).__name__})") from None
    if not isinstance(config, dict) or "pipeline" not in config:
        raise ModelCheckError(f"{folder.name}/config.yaml is not a pyannote pipeline "
                              "(no 'pipeline' section)")


def check_model_file(path: Path, *, whisper: bool = False) -> None:
    """One model file, judged by its suffix."""
    if path.stat().st_size == 0:
        raise ModelCheckError(f"{path.name} is empty")
    suffix = path.suffix.lower()
    if suffix == ".onnx":
        check_onnx(path)
    elif suffix in (".pt", ".pth", ".ckpt") or (suffix == ".bin" and path.name != "model.bin"):
        check_torch(path, whisper=whisper)
    elif suffix == ".bin":
        check_ctranslate2(path)
    else:
        raise ModelCheckError(f"{path.name} is not a model file "
                              f"(expected {', '.join(MODEL_SUFFIXES)} or a model folder)")
