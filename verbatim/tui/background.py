"""Study reads and writes off the UI thread, their results handed back to it.

The study sits on disk (an encrypted study decrypts every page it reads) and a
recording can be large: a screen that reads or writes on the UI thread freezes
the whole app, key presses and the recording's level meter included. Screens
call ``in_background(screen, work, then)``: ``work`` runs in a Textual thread
worker, ``then(result)`` runs on the UI thread with what it returned, and a
failure becomes one error notification (``failed`` says what was being done).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from textual.dom import DOMNode
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
