"""Speaker labels: rename a diarised speaker, or merge two the diariser split.

``verbatim speaker rename|merge`` and the editor's ``s`` / ``S`` keys both call
these. A rename only changes a label, so it is allowed on a locked transcript;
a merge changes whose words a line holds, so a locked numbering refuses it.
"""

from __future__ import annotations

from transcript import edits
from verbatim.study import Study
from verbatim.usecases.editing import EditResult, save_edit


def rename_speaker(study: Study, iid: str, speaker: str, label: str) -> EditResult:
    """Give speaker ``speaker`` (S1) the label ``label`` (Interviewer, P4)."""
    label = label.strip()
    return save_edit(study, iid, lambda d: edits.rename_speaker(d, speaker, label),
                     f"rename {speaker} to {label}", allow_locked=True)


def merge_speakers(study: Study, iid: str, source: str, target: str) -> EditResult:
    """Fold speaker ``source`` into ``target`` (every word and mark of it)."""
    source, target = source.strip(), target.strip()
    return save_edit(study, iid, lambda d: edits.merge_speakers(d, source, target),
                     f"merge {source} into {target}")
