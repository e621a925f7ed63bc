"""The terminal app verb (``verbatim`` with no command).

Textual is imported here, inside the function, so ``verbatim --help`` and the
other verbs never load it (tests/unit/test_import_hygiene.py checks verbatim.cli).
"""

from __future__ import annotations

import argparse
from typing import Any

from verbatim.config import Config
from verbatim.errors import UserError


def open_study(config: Config) -> tuple[Any, str]:
    """The study to show: the configured one, else the demo study (made on first run)."""
    from verbatim.study import Study, StudyError

    if config.study is not None:
        try:
            return Study.open(config.study), ""
        except StudyError as exc:
            raise UserError(str(exc)) from None
    from verbatim.demo import DEMO_NOTE, open_demo_study

    try:
        return open_demo_study(config.data_dir), DEMO_NOTE
    except Exception as exc:  # the app still opens: the home screen says there is no study
        return None, f"demo study unavailable: {exc}"


def run_tui(args: argparse.Namespace, config: Config) -> int:
    study, note = open_study(config)
    from verbatim.tui.app import VerbatimApp

    app = VerbatimApp(config, study=study, study_note=note)
    try:
        app.run()
    finally:
        app.stop_recorder_quietly()
        if study is not None:
            study.close()
    return 0
