"""Finished transcripts the study could not take (a full disk, a read-only database).

Minutes of transcription are not thrown away because the last write failed:
the document is kept in the data folder (``<data>/unsaved/``), owner-only,
sealed with age to the study's public key when the study is encrypted (no
unlock needed to seal; only the study's keys open it), and imported later with
``verbatim transcribe IID --from FILE``.
"""

from __future__ import annotations

import io
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from transcript.document import dumps, loads, write_atomic
from transcript.model import Transcript
from verbatim.study.errors import StudyError

AGE_SUFFIX = ".age"


def keep(data_dir: Path, study_dir: Path, iid: str, doc: Transcript) -> Path:
    """Write ``doc`` to ``<data_dir>/unsaved/``; returns the file (raises OSError if it can't)."""
    folder = Path(data_dir) / "unsaved"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    payload = json.dumps({"study": str(study_dir), "interview": iid,
                          "document": json.loads(dumps(doc))}).encode("utf-8")
    from verbatim.vault import is_encrypted

    if is_encrypted(study_dir):
        from verbatim.vault import agefiles, session

        path = folder / f"{iid}-{stamp}.json{AGE_SUFFIX}"
        sealed = io.BytesIO()
        agefiles.encrypt_file(io.BytesIO(payload), sealed,
                              session.recipient_for(study_dir))
        write_atomic(path, sealed.getvalue())
    else:
        path = folder / f"{iid}-{stamp}.json"
        write_atomic(path, payload)
    os.chmod(path, 0o600)
    return path


def load(path: Path, study_dir: Path, iid: str) -> Transcript:
    """A kept transcript, checked to belong to this study's interview ``iid``."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise StudyError(f"{path}: no such file")
    if path.name.endswith(AGE_SUFFIX):
        from verbatim.vault import agefiles, session

        data = agefiles.decrypt_bytes(path, session.keys_for(study_dir).age_identities())
    else:
        data = path.read_bytes()
    try:
        obj = json.loads(data.decode("utf-8"))
        kept_for = obj["interview"]
        if kept_for != iid:
            raise StudyError(f"{path} holds a transcript of {kept_for}, not {iid}")
        return loads(json.dumps(obj["document"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise StudyError(f"{path} is not a kept transcript ({type(exc).__name__})") from None
