"""The study store: participants, interviews, transcript versions, notes, extracts.

One study is one folder: ``study.sqlite`` plus ``audio/``. ``Study`` is the API
the CLI and the TUI share; it never imports textual.
"""

from verbatim.study.store import Study, StudyError
from verbatim.study.templates import WILLIG_STAGES, willig_template
from verbatim.study.values import AuditEntry, Interview, Participant, StoredNote, VersionInfo

__all__ = ["WILLIG_STAGES", "AuditEntry", "Interview", "Participant", "StoredNote", "Study",
           "StudyError", "VersionInfo", "willig_template"]
