"""The architecture's import rules, proved in fresh interpreters.

Each package is imported alone in a subprocess and the modules it dragged in
are compared with what DESIGN.md forbids it. ``test_the_check_can_fail``
shows the check is not vacuous.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

HEAVY = ("torch", "whisper", "faster_whisper", "pyannote", "sounddevice", "textual",
         "ctranslate2", "onnxruntime")

RULES: dict[str, tuple[str, ...]] = {
    # the transcript document is pure Python
    "transcript": ("torch", "whisper", "faster_whisper", "pyannote", "sounddevice", "textual",
                   "capture", "transcribe", "verbatim", "numpy"),
    # capture: no UI, no ML
    "capture": ("textual", "torch", "transcribe", "verbatim", "pyannote", "whisper"),
    # transcribe: no UI, and no heavy ML until a function asks for it
    "transcribe": ("textual", "torch", "whisper", "faster_whisper", "pyannote", "verbatim",
                   "capture", "ctranslate2", "onnxruntime"),
    # the CLI starts fast: no ML and no UI just to parse arguments
    "verbatim.cli": ("torch", "whisper", "faster_whisper", "pyannote", "textual"),
}


def imported_top_level(module: str, extra: str = "") -> set[str]:
    code = textwrap.dedent(f"""
        import json, sys
        {extra}
        import {module}
        print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))
    """)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True, timeout=120)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("package", sorted(RULES))
def test_package_imports_nothing_forbidden(package: str) -> None:
    loaded = imported_top_level(package)
    broken = sorted(set(RULES[package]) & loaded)
    assert not broken, f"importing {package} pulled in forbidden modules: {broken}"


def test_every_submodule_of_pure_packages_is_clean() -> None:
    """Not just the package __init__: every module in transcript and capture."""
    code = textwrap.dedent("""
        import importlib, json, pkgutil, sys
        import transcript, capture
        for pkg in (transcript, capture):
            for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
                importlib.import_module(info.name)
        print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))
    """)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True, timeout=120)
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert not ({"torch", "textual", "whisper", "pyannote", "transcribe", "verbatim"} & loaded)


def test_the_check_can_fail() -> None:
    """Importing textual first must show up: the probe really sees sys.modules."""
    loaded = imported_top_level("transcript", extra="import textual")
    assert "textual" in loaded


def test_privacy_env_is_set_by_importing_transcribe() -> None:
    code = ("import os, transcribe; print(os.environ['PYANNOTE_METRICS_ENABLED'], "
            "os.environ['HF_HUB_OFFLINE'], os.environ['HF_HUB_DISABLE_TELEMETRY'])")
    env = {"PATH": "/usr/bin:/bin", "PYANNOTE_METRICS_ENABLED": "1"}
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True, env=env, timeout=60)
    assert out.stdout.split() == ["0", "1", "1"]
