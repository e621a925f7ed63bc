"""The terminal app verb (``verbatim`` with no command).

Textual is imported here, inside the function, so ``verbatim --help`` and the
other verbs never load it (tests/unit/test_import_hygiene.py checks verbatim.cli).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from verbatim.config import Config
from verbatim.errors import UserError


def open_study(config: Config, *, ask: Callable[[str], str] | None = None) -> tuple[Any, str]:
    """The study to show: the configured one, else the demo study (made on first run).

    An encrypted study that this session has not unlocked asks for its passphrase
    here, in the plain terminal before the app starts (three tries).
    """
    from verbatim.study import Study, StudyError

    if config.study is not None:
        try:
            return Study.open(config.study), ""
        except StudyError as exc:
            if type(exc).__name__ != "LockedError":
                raise UserError(str(exc)) from None
            return _unlock_and_open(config.study, ask or _ask_passphrase, exc), ""
    from verbatim.demo import DEMO_NOTE, open_demo_study

    try:
        return open_demo_study(config.data_dir), DEMO_NOTE
    except Exception as exc:  # the app still opens: the home screen says there is no study
        return None, f"demo study unavailable: {exc}"


def _ask_passphrase(prompt: str) -> str:
    import getpass

    return getpass.getpass(prompt)


def _unlock_and_open(path: Path, ask: Callable[[str], str], locked: Exception) -> Any:
    from verbatim.study import Study
    from verbatim.vault.errors import WrongKeyError
    from verbatim.vault.ops import unlock_with

    for _attempt in range(3):
        try:
            passphrase = ask(f"{locked}\nPassphrase for {path.name}: ")
        except (EOFError, KeyboardInterrupt):
            break
        try:
            unlock_with(path, passphrase=passphrase)
        except WrongKeyError as exc:
            print(exc)
            continue
        return Study.open(path)
    raise UserError(f"{path} stays locked; unlock it with 'verbatim study unlock'")


def recorder_factory_for(study: Any) -> Callable[..., Any] | None:
    """The recorder the record screen should use for this study.

    An encrypted study records through the vault's recorder, which seals each
    short segment as it closes, so plaintext audio never outlives one segment;
    any other study (or none) uses the plain capture recorder (None here).
    """
    if study is None:
        return None
    from verbatim.vault.recording import recorder_factory

    return recorder_factory(Path(study.path))


def run_tui(args: argparse.Namespace, config: Config) -> int:
    study, note = open_study(config)
    from verbatim.tui.app import VerbatimApp

    app = VerbatimApp(config, study=study, study_note=note,
                      recorder_factory=recorder_factory_for(study))
    try:
        app.run()
    finally:
        app.stop_recorder_quietly()
        if study is not None:
            study.close()
    return 70 if app.return_code == 1 else int(app.return_code or 0)
