"""The architecture's import rules, proved in fresh interpreters.

Each package is imported alone in a subprocess and the modules it dragged in
are compared with what DESIGN.md forbids it. ``test_the_check_can_fail``
shows the check is not vacuous.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

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


# ---------------------------------------------------------------- import circles

PROJECT = ("transcript", "transcribe", "capture", "verbatim")
ROOT = Path(__file__).resolve().parents[2]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Every project module -> the project modules it imports, at the top or in a function.

    Imports under ``if TYPE_CHECKING:`` do not run and are left out. A name imported
    from a package resolves to its submodule when there is one.
    """
    modules = {_module_name(p): p for package in PROJECT for p in (ROOT / package).rglob("*.py")}

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found = _imported(ast.parse(path.read_text(encoding="utf-8")), set())
        graph[name] = {m for m in map(resolve, found) if m and m != name}
    return graph


def _imported(node: ast.AST, found: set[str]) -> set[str]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
            continue
        if isinstance(child, ast.Import):
            found.update(alias.name for alias in child.names)
        elif isinstance(child, ast.ImportFrom) and child.module and not child.level:
            found.update(f"{child.module}.{alias.name}" for alias in child.names)
        _imported(child, found)
    return found


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return found


def test_no_module_imports_itself_in_a_circle() -> None:
    assert circles(import_graph()) == []


def test_no_circle_between_the_verbatim_packages() -> None:
    """verbatim.study, .vault, .tui, .commands, .usecases ...: one-way dependencies only
    (the vault knows no study; the use cases know no door)."""
    packages: dict[str, set[str]] = {}
    for module, deps in import_graph().items():
        if not module.startswith("verbatim."):
            continue
        source = ".".join(module.split(".")[:2])
        for dep in deps:
            target = ".".join(dep.split(".")[:2])
            if dep.startswith("verbatim.") and target != source:
                packages.setdefault(source, set()).add(target)
    assert circles(packages) == []
    assert not {"verbatim.tui", "verbatim.commands"} & packages.get("verbatim.usecases", set())
    assert not any(p.startswith("verbatim.study") for p in packages.get("verbatim.vault", ()))


def test_the_circle_check_can_fail() -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


# ---------------------------------------------------------------- private names

def reaches_into_the_study(tree: ast.AST) -> list[str]:
    """``study._x`` (any expression ending in ``study``): a private name of ``Study`` used
    from outside it. The store's layers share the database through ``study.ledger``."""
    found = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and ast.unparse(node.value).split(".")[-1] == "study"):
            found.append(f"{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_module_reaches_into_the_study_store() -> None:
    offenders = {}
    for package in (*PROJECT, "bench"):
        for path in (ROOT / package).rglob("*.py"):
            hits = reaches_into_the_study(ast.parse(path.read_text(encoding="utf-8")))
            if hits:
                offenders[str(path.relative_to(ROOT))] = hits
    assert offenders == {}


def test_the_private_name_check_can_fail() -> None:
    code = "with study._tx():\n    app.study._audit('x', '')\nstudy.ledger.tx()\n"
    assert reaches_into_the_study(ast.parse(code)) == ["1: study._tx", "2: app.study._audit"]
