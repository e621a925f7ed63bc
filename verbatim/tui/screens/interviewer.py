"""The app's "this is the interviewer", offered once per study.

When the user labels a speaker as the interviewer in the editor (``s``: Interviewer)
and the study keeps no voiceprint yet, one small question follows: remember this
voice for the study? Yes keeps the voiceprint of that speaker's audio in this
recording (``verbatim.usecases.voices.enrol_speaker``, which ``verbatim voice enrol NAME
--from-interview ID --speaker S1`` calls too), so the study's next transcriptions
name the interviewer; no is remembered and the question is not asked again. The
checks and the enrolment run on worker threads: the editor never waits on them.
"""

from __future__ import annotations

from typing import Any

from verbatim.tui.screens.dialogs import ConfirmDialog

QUESTION = ("Remember {sid}'s voice as this study's interviewer?\n"
            "Verbatim keeps a voiceprint (numbers, never audio) in the study and names the "
            "interviewer in the study's next transcriptions. Asked once.")


def after_rename(editor: Any, sid: str, label: str) -> None:
    """Called by the editor after speaker ``sid`` got ``label``: make the offer if due."""
    from verbatim.voices import is_interviewer

    if is_interviewer(label):
        editor.run_worker(lambda: _check(editor, sid, label.strip()), thread=True,
                          group="interviewer", exit_on_error=False)


def _check(editor: Any, sid: str, name: str) -> None:
    """Worker: is the offer due? then ask on the UI thread."""
    from verbatim.voices import offer_interviewer

    app = editor.app
    if app.study is None or not offer_interviewer(app.study, app.config):
        return

    def answered(yes: bool | None) -> None:
        editor.run_worker(lambda: _answer(editor, sid, name, bool(yes)), thread=True,
                          group="interviewer", exit_on_error=False)

    app.call_from_thread(app.push_screen, ConfirmDialog(QUESTION.format(sid=sid)), answered)


def _answer(editor: Any, sid: str, name: str, yes: bool) -> None:
    """Worker: keep the voiceprint, or remember the no."""
    from verbatim.errors import UserError
    from verbatim.usecases.voices import enrol_speaker
    from verbatim.voices import decline_interviewer

    app = editor.app
    if not yes:
        decline_interviewer(app.study)
        return
    try:  # the editor has saved the label itself: the use case only keeps the voice
        kept = enrol_speaker(app.study, app.config, editor.interview, sid, name=name,
                             label=False)
    except UserError as exc:
        app.call_from_thread(app.notify, str(exc), severity="error", timeout=10)
        return
    app.call_from_thread(app.notify, f"{kept.name}'s voice is remembered for this study "
                         f"({kept.seconds:.0f} s of speech): the next transcriptions name them")
