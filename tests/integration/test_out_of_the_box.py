"""Out of the box: after the README's set-up, `verbatim transcribe` works with no flags.

The store is the one `make setup` provisioned from the pinned wheels (no
../shared/models), the settings are all defaults (no config file, no flags),
the recording is real speech, and the process runs in a network namespace of
its own where one is available (no interface but loopback), so nothing could
have been fetched.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.metrics import word_error_rate

REPO = Path(__file__).resolve().parents[2]
# ../shared/audio beside the test models (CI points VERBATIM_TEST_MODELS at ../shared/models)
AUDIO = (Path(os.environ["VERBATIM_TEST_MODELS"]).parent if os.environ.get("VERBATIM_TEST_MODELS")
         else REPO.parent / "shared") / "audio"
JFK = ("and so my fellow americans ask not what your country can do for you "
       "ask what you can do for your country")

pytestmark = pytest.mark.integration


def _offline_prefix() -> list[str]:
    """``unshare -rn``: a private network namespace (loopback only), when the kernel allows."""
    if shutil.which("unshare") is None:
        return []
    probe = subprocess.run(["unshare", "-rn", "true"], capture_output=True, check=False)
    return ["unshare", "-rn"] if probe.returncode == 0 else []


def test_transcribe_with_no_flags_from_the_provisioned_store(
        tmp_path: Path, provisioned_store: Path) -> None:
    recording = AUDIO / "jfk.flac"
    if not recording.is_file():
        pytest.skip(f"real speech not found: {recording}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERBATIM_")}
    env.update(PYTHONPATH=str(REPO), VERBATIM_MODELS=str(provisioned_store),
               VERBATIM_CONFIG=str(tmp_path / "no-config.toml"),
               VERBATIM_DATA=str(tmp_path / "data"))
    out = tmp_path / "t.json"
    done = subprocess.run([*_offline_prefix(), sys.executable, "-m", "verbatim", "transcribe",
                           str(recording), "--out", str(out)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["format"] == "verbatim-transcript/1"
    text = " ".join(w["text"] for w in doc["words"])
    wer = word_error_rate(JFK, text)
    print(f"[out-of-the-box] model {doc.get('pipeline', {}).get('model')}: WER {wer:.3f}",
          file=sys.stderr)
    assert wer < 0.2, text
    assert doc["speakers"] and all(w["speaker"] in doc["speakers"] for w in doc["words"])
