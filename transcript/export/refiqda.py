"""REFI-QDA project (.qdpx): the transcript for NVivo, ATLAS.ti, MAXQDA and QualCoder.

A .qdpx is a zip of ``project.qde`` (QDA-XML, namespace ``urn:QDA-XML:project:1.0``)
and a ``Sources/`` folder. The project holds:

- a TextSource: the line-numbered transcript text, with each extract and each
  reflexive note's line range as a PlainTextSelection;
- an AudioSource with the recording, whose Transcript carries one SyncPoint
  per numbered line (character position -> milliseconds) so a QDA tool can
  play the audio from any line; notes are AudioSelections too. The text is
  stored once (``Sources/<guid>.txt``); the TextSource and the Transcript
  both name that file.
- the recording itself inside the archive (``Sources/<guid>.wav``, the
  standard's ``internal://``), so the project opens with its audio on any
  machine; left out on request (``ExportMeta.embed_media``), or by default
  when pseudonymised, in which case the AudioSource names the file as
  ``transcript.export.media`` says (``relative://P4-1.wav`` beside the
  project; not pseudonymised: the path from the export's folder, which is
  the project's ``basePath``);
- the reflexive notes as project Notes (memos) referenced from those selections;
- the participant as a Case with its attributes as Variables.

GUIDs are derived from the recording's checksum (uuid5), so exporting the
same transcript twice gives the same identities and re-imports update rather
than duplicate. Validated against the official schema in the tests.
"""

from __future__ import annotations

import io
import shutil
import uuid
import zipfile
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import BinaryIO

from transcript.export.layout import Rendering, lines_touching, millis, phase_text
from transcript.export.media import media_link, media_to_embed

NS = "urn:QDA-XML:project:1.0"
_NAMESPACE = uuid.UUID("6f1c3a4e-2b8d-5e7f-9a10-7c3b5d2e8f41")


def _iso(stamp: str) -> str | None:
    try:
        parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.isoformat()


def to_qdpx(r: Rendering) -> bytes:
    buffer = io.BytesIO()
    write_qdpx(r, buffer)
    return buffer.getvalue()


def write_qdpx(r: Rendering, out: BinaryIO) -> None:
    """Write the .qdpx zip to ``out``; the recording is copied in blocks."""
    from lxml import etree

    seed = r.doc.audio.sha256 or r.doc.audio.path or r.title

    def guid(role: str) -> str:
        return str(uuid.uuid5(_NAMESPACE, f"{seed}/{role}"))

    def el(parent: etree._Element, tag: str, **attrs: str | None) -> etree._Element:
        return etree.SubElement(parent, f"{{{NS}}}{tag}",
                                {k: v for k, v in attrs.items() if v is not None})

    created = r.meta.created_at().isoformat()
    user = guid("user")
    text = r.numbered_text()
    # character position where each numbered line starts in the text
    starts: dict[int, int] = {}
    ends: dict[int, int] = {}
    pos = 0
    for line, physical in zip(r.lines, text.splitlines(keepends=True), strict=True):
        starts[line.n] = pos
        ends[line.n] = pos + len(physical.rstrip("\n"))
        pos += len(physical)

    embedded = media_to_embed(r)
    link = media_link(r)
    audio_guid = guid("audio")
    base_path = None
    if embedded is not None:
        suffix = PurePosixPath(link.name if link else embedded.name).suffix.lower() or ".wav"
        audio_file = f"{audio_guid}{suffix}"
        audio_url = f"internal://{audio_file}"
    elif link is not None and link.absolute and r.target_dir is not None:
        audio_file, audio_url = "", f"relative://{link.relative.removeprefix('./')}"
        base_path = str(r.target_dir.resolve())
    elif link is not None:
        audio_file, audio_url = "", f"relative://{link.name}"
    else:
        audio_file, audio_url = "", f"relative://{r.title}.wav"

    root = etree.Element(f"{{{NS}}}Project", nsmap={None: NS}, name=r.title,
                         origin="Verbatim", creatingUserGUID=user, creationDateTime=created)
    if base_path is not None:
        root.set("basePath", base_path)
    users = el(root, "Users")
    el(users, "User", guid=user, name="verbatim")

    text_guid, transcript_guid = guid("text"), guid("transcript")
    attributes = dict(r.meta.attributes)
    if r.meta.participant_id:
        if attributes:
            variables = el(root, "Variables")
            for name in attributes:
                el(variables, "Variable", guid=guid(f"variable/{name}"), name=name,
                   typeOfVariable="Text")
        cases = el(root, "Cases")
        case = el(cases, "Case", guid=guid("case"), name=r.meta.participant_id)
        for name, value in attributes.items():
            vv = el(case, "VariableValue")
            el(vv, "VariableRef", targetGUID=guid(f"variable/{name}"))
            el(vv, "TextValue").text = str(value)
        el(case, "SourceRef", targetGUID=text_guid)
        el(case, "SourceRef", targetGUID=audio_guid)

    sources = el(root, "Sources")
    text_source = el(sources, "TextSource", guid=text_guid, name=f"{r.title} transcript",
                     plainTextPath=f"internal://{text_guid}.txt", creatingUser=user,
                     creationDateTime=created)
    el(text_source, "Description").text = r.summary()
    for extract in r.meta.extracts:
        if extract.first in starts and extract.last in ends:
            sel = el(text_source, "PlainTextSelection", guid=guid(f"extract/{extract.number}"),
                     name=extract.citation.strip("()"),
                     startPosition=str(starts[extract.first]),
                     endPosition=str(ends[extract.last]))
            if extract.analysis:
                el(sel, "Description").text = extract.analysis
    note_spans = [lines_touching(r.lines, n.start, n.end) for n in r.doc.notes]
    for i, span in enumerate(note_spans, start=1):
        if span is not None:
            sel = el(text_source, "PlainTextSelection", guid=guid(f"note-text/{i}"),
                     name=f"Reflexive note {i}", startPosition=str(starts[span[0]]),
                     endPosition=str(ends[span[1]]))
            el(sel, "NoteRef", targetGUID=guid(f"note/{i}"))

    audio = el(sources, "AudioSource", guid=audio_guid, name=f"{r.title} audio",
               path=audio_url, creatingUser=user, creationDateTime=created)
    # the same text file as the TextSource: stored once
    transcript = el(audio, "Transcript", guid=transcript_guid, name=f"{r.title} transcript",
                    plainTextPath=f"internal://{text_guid}.txt")
    sync_of: dict[int, str] = {}
    for line in r.lines:
        sync_of[line.n] = guid(f"sync/{line.n}")
        el(transcript, "SyncPoint", guid=sync_of[line.n], timeStamp=str(millis(line.start)),
           position=str(starts[line.n]))
    end_sync = guid("sync/end")
    if r.lines:
        last = r.lines[-1]
        el(transcript, "SyncPoint", guid=end_sync,
           timeStamp=str(millis(max(ln.end for ln in r.lines))), position=str(ends[last.n]))
    for i, span in enumerate(note_spans, start=1):
        if span is not None:
            sel = el(transcript, "TranscriptSelection", guid=guid(f"note-sync/{i}"),
                     name=f"Reflexive note {i}", fromSyncPoint=sync_of[span[0]],
                     toSyncPoint=sync_of.get(span[1] + 1, end_sync))
            el(sel, "NoteRef", targetGUID=guid(f"note/{i}"))
    for i, note in enumerate(r.doc.notes, start=1):
        begin = millis(note.start)
        sel = el(audio, "AudioSelection", guid=guid(f"note-audio/{i}"),
                 name=f"Reflexive note {i}", begin=str(begin),
                 end=str(max(begin, millis(note.end))))
        el(sel, "NoteRef", targetGUID=guid(f"note/{i}"))

    if r.doc.notes:
        notes = el(root, "Notes")
        for i, note in enumerate(r.doc.notes, start=1):
            memo = el(notes, "Note", guid=guid(f"note/{i}"),
                      name=f"Reflexive note {i} ({phase_text(note.phase)})",
                      creatingUser=user, creationDateTime=_iso(note.written_at))
            parts = [f"Anchored at {r.note_anchor(note)}, written {phase_text(note.phase)}.",
                     f"Moment: {note.moment}"]
            if note.response:
                parts.append(f"Response: {note.response}")
            if note.understanding:
                parts.append(f"Understanding: {note.understanding}")
            el(memo, "PlainTextContent").text = "\n".join(parts)

    qde = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    stamp = r.meta.created_at().astimezone(UTC)
    date_time = (max(1980, stamp.year), stamp.month, stamp.day, stamp.hour, stamp.minute,
                 stamp.second)

    def entry(name: str, compress: int) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=date_time)
        info.compress_type = compress
        info.external_attr = 0o600 << 16
        return info

    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        zf.writestr(entry("project.qde", zipfile.ZIP_DEFLATED), qde)
        zf.writestr(entry(f"Sources/{text_guid}.txt", zipfile.ZIP_DEFLATED),
                    text.encode("utf-8"))
        if embedded is not None:
            # audio is already compressed or barely compressible: stored, copied in blocks
            with embedded.open("rb") as src, \
                    zf.open(entry(f"Sources/{audio_file}", zipfile.ZIP_STORED), "w",
                            force_zip64=True) as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
