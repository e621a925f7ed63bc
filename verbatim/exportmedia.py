"""The recording behind an interview's export: one rule for both doors (issue 19).

``study_media`` gives the ``ExportMeta`` fields that say where the recording
is (media links in .eaf and .qdpx) and what a .qdpx should hold:

- links point at the study's stored recording (absolute path); an encrypted
  study's stored file cannot be played, so its links name the file only;
- a .qdpx holds the recording by default (decrypted, in an encrypted study);
  ``embed=False`` (``--no-media``) leaves it out; a pseudonymised export
  leaves it out unless ``embed=True`` (``--media``): a voice identifies;
- a recording deleted under the retention rule is neither linked nor held.
"""

from __future__ import annotations

from typing import Any

from verbatim.study import Study, StudyError


def study_media(study: Study, iid: str, fmt: str, *, embed: bool | None = None,
                pseudonymised: bool = False) -> dict[str, Any]:
    """``ExportMeta`` keyword arguments for ``iid``'s recording; StudyError (one line)."""
    from verbatim.vault.keys import is_encrypted

    wanted = fmt == "qdpx" and (embed if embed is not None else not pseudonymised)
    interview = study.interview(iid)
    if not interview.audio_file or interview.audio_deleted_at:
        if wanted and embed:
            raise StudyError(f"{iid} has no recording to include; export without --media")
        return {"embed_media": False}
    encrypted = is_encrypted(study.path)
    link = "" if encrypted else str((study.path / "audio" / interview.audio_file).resolve())
    source = ""
    if wanted:
        try:
            source = str(study.audio_path(iid))  # in an encrypted study: decrypted in memory
        except StudyError as exc:
            raise StudyError(f"{exc}; export with --no-media to leave the recording out") \
                from None
    return {"media_path": link, "media_source": source, "embed_media": wanted}
