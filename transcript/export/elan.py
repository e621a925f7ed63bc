"""ELAN (.eaf) through pympi-ling: one tier per speaker, plus marks and notes tiers.

Each numbered line is an annotation on its speaker's tier, so ELAN shows the
same lines that are cited. Marks and notes go on their own tiers; an ELAN tier
may not hold overlapping annotations, so overlapping ones spill onto
"marks 2", "notes 2" and so on.
"""

from __future__ import annotations

from collections.abc import Iterable

from transcript.export.layout import Rendering, millis, phase_text
from transcript.model import Mark, MarkKind

_MIMES = {"wav": "audio/x-wav", "mp3": "audio/mpeg", "flac": "audio/flac", "ogg": "audio/ogg",
          "m4a": "audio/mp4", "mp4": "video/mp4"}


def mark_value(r: Rendering, mark: Mark) -> str:
    """'P4: pause 0.6 s (auto)', 'P4: tone laughs (human)'."""
    who = f"{r.label(mark.speaker)}: " if mark.speaker else ""
    what = str(mark.kind)
    if mark.label:
        what += f" {mark.label}"
    if mark.kind is MarkKind.PAUSE:
        what += f" {mark.duration:.1f} s"
    return f"{who}{what} ({mark.source})"


def _span(start: float, end: float) -> tuple[int, int]:
    a = millis(start)
    return a, max(a + 1, millis(end))


def _layered(eaf: object, base: str, items: Iterable[tuple[int, int, str]]) -> None:
    """Put annotations on tier ``base``, spilling overlaps onto 'base 2', 'base 3'..."""
    ends: list[int] = []  # last end time on each layer
    for start, end, value in sorted(items):
        layer = next((i for i, last_end in enumerate(ends) if start >= last_end), len(ends))
        tier = base if layer == 0 else f"{base} {layer + 1}"
        if layer == len(ends):
            ends.append(0)
            eaf.add_tier(tier)  # type: ignore[attr-defined]
        ends[layer] = end
        eaf.add_annotation(tier, start, end, value)  # type: ignore[attr-defined]


def _sequential(items: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """A speaker's lines in order, each ending no later than the next begins."""
    items = sorted(items)
    out: list[tuple[int, int, str]] = []
    for i, (start, end, value) in enumerate(items):
        if i + 1 < len(items):
            end = min(end, items[i + 1][0])
        if out:
            start = max(start, out[-1][1])
        out.append((start, max(end, start + 1), value))
    return out


def to_eaf(r: Rendering) -> bytes:
    from xml.etree import ElementTree

    from pympi.Elan import Eaf, to_adocument

    eaf = Eaf(author="verbatim")
    eaf.adocument["DATE"] = r.meta.created_at().isoformat()
    eaf.remove_tier("default")
    if r.doc.audio.path:
        suffix = r.doc.audio.path.rsplit(".", 1)[-1].lower()
        eaf.add_linked_file(r.doc.audio.path, relpath=r.doc.audio.path,
                            mimetype=_MIMES.get(suffix, "audio/x-wav"))
    tiers: dict[str, str] = {}
    used: set[str] = set()
    for speaker in r.doc.speakers:
        name = speaker.label or speaker.id
        if name in used:
            name = f"{name} ({speaker.id})"
        used.add(name)
        tiers[speaker.id] = name
    by_tier: dict[str, list[tuple[int, int, str]]] = {}
    for line in r.lines:
        if not line.speaker:
            continue  # a between-speaker gap is on the marks tier already
        name = tiers.setdefault(line.speaker, line.speaker)
        by_tier.setdefault(name, []).append((*_span(line.start, line.end), line.text))
    for name in dict.fromkeys(tiers.values()):
        if name in by_tier:
            _layered(eaf, name, _sequential(by_tier[name]))
    if r.doc.marks:
        _layered(eaf, "marks", [(*_span(m.start, m.end), mark_value(r, m)) for m in r.doc.marks])
    if r.doc.notes:
        notes = []
        for n in r.doc.notes:
            parts = [f"{phase_text(n.phase)}: {n.moment}"]
            parts += [p for p in (n.response, n.understanding) if p]
            notes.append((*_span(n.start, n.end), " | ".join(parts)))
        _layered(eaf, "notes", notes)
    root = to_adocument(eaf, pretty=True)
    return ElementTree.tostring(root, encoding="UTF-8", xml_declaration=True)
