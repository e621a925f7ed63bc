"""Export from the app: the dialog, then the export use case in a worker thread."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.screen import Screen

from verbatim.tui.screens.dialogs import ExportDialog


def export_dir(app: Any) -> Path:
    study = app.study
    return Path(getattr(study, "path", app.config.data_dir)) / "exports"


def open_export(screen: Screen[Any], iid: str) -> None:
    """The export dialog for one interview, then the export itself (in a thread)."""
    app: Any = screen.app
    config = app.config

    def chosen(choice: Any) -> None:
        if choice is not None:
            app.run_worker(lambda: _export(app, iid, choice), thread=True, group="export",
                           exit_on_error=False)

    app.push_screen(ExportDialog(iid, export_dir(app), notation=config.notation,
                                 width=config.width), chosen)


def _export(app: Any, iid: str, choice: Any) -> None:
    """Worker thread: the export use case (the CLI's ``export IID``), result as a notice."""
    from verbatim.usecases.exporting import export_interview

    try:
        result = export_interview(app.study, iid, choice.fmt, choice.out,
                                  profile=choice.notation, width=choice.width,
                                  pseudonymise=choice.pseudonymise, make_folder=True,
                                  timestamps=choice.timestamps)
    except Exception as exc:
        app.call_from_thread(app.notify, f"export failed: {exc}", severity="error", timeout=10)
        return
    warning = (" (plaintext of an encrypted study: keep it on encrypted storage)"
               if result.plaintext_warning else "")
    app.call_from_thread(app.notify, f"exported {iid} to {result.path}{warning}")
