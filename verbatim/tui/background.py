"""Study reads and writes off the UI thread, their results handed back to it.

The study sits on disk (an encrypted study decrypts every page it reads) and a
recording can be large: a screen that reads or writes on the UI thread freezes
the whole app, key presses and the recording's level meter included. Screens
call ``in_background(screen, work, then)``: ``work`` runs in a Textual thread
worker, ``then(result)`` runs on the UI thread with what it returned, and a
failure becomes one error notification (``failed`` says what was being done).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from rich.text import Text
from textual.dom import DOMNode
from textual.widgets import DataTable
from textual.worker import Worker, get_current_worker

T = TypeVar("T")


def in_background(node: DOMNode, work: Callable[[], T],
                  then: Callable[[T], None] | None = None, *, group: str,
                  failed: str = "", exclusive: bool = False,
                  otherwise: Callable[[Exception], None] | None = None) -> Worker[None]:
    """Run ``work`` in a thread worker of ``node``; ``then(result)`` back on the UI thread.

    ``exclusive`` cancels the group's earlier worker, whose result is then dropped
    (a newer load supersedes it). An exception from ``work`` is shown as
    ``failed + message``, or handed to ``otherwise`` on the UI thread; an
    exception from ``then`` is a bug and crashes loudly.
    """
    app = node.app

    def run() -> None:
        try:
            result = work()
        except Exception as exc:
            if get_current_worker().is_cancelled:
                return
            if otherwise is not None:
                app.call_from_thread(_land, node, otherwise, exc)
            else:
                app.call_from_thread(app.notify, f"{failed}{exc}", severity="error",
                                     timeout=10)
            return
        if then is not None and not get_current_worker().is_cancelled:
            app.call_from_thread(_land, node, then, result)

    return node.run_worker(run, thread=True, group=group, exclusive=exclusive,
                           exit_on_error=False, name=group)


def _land(node: DOMNode, then: Callable[[Any], None], result: Any) -> None:
    # a screen may have closed while the worker ran; the app itself is never "attached"
    if node is node.app or node.is_attached:
        then(result)


def fill_table(table: DataTable, labels: Sequence[str], rows: Iterable[tuple[str, Sequence[Any]]]
               ) -> None:
    """Replace ``table``'s columns and rows, each column as wide as its widest cell.

    Rows that arrive from a worker land after the table's first paint, and
    DataTable widens auto-width columns only on its next idle, after cells may
    already have been drawn (and cached) at the header's width ("Soci" for
    "Social Worker"). Columns of a fixed, measured width are drawn right at once.
    ``rows`` are (key, cells); a cell is a ``rich.text.Text`` or a plain string.
    """
    rows = list(rows)
    table.clear(columns=True)
    for index, label in enumerate(labels):
        width = max([Text(label).cell_len,
                     *(_cell_width(cells[index]) for _, cells in rows if index < len(cells))])
        table.add_column(label, width=width, key=label)
    for key, cells in rows:
        table.add_row(*cells, key=key)


def _cell_width(cell: Any) -> int:
    return cell.cell_len if isinstance(cell, Text) else Text(str(cell)).cell_len
