"""ELAN (.eaf, EAF 3.0) through pympi-ling: utterances per speaker, marks, line numbers, notes.

ELAN users annotate utterances, not printed lines, so each speaker's tier
holds one annotation per turn, written in the export's notation; a long turn
(over ``LONG_TURN`` seconds) is cut at sentence ends, but never inside a
mark: no overlap, manner of speaking or unsure stretch is ever split between
two annotations. Beside them:

- "<speaker> lines": the citable line numbers ('12'), each aligned to its
  line's time, so a reader can go from a citation to the moment;
- "marks": every pause, overlap, cut-off, stutter, inaudible stretch and
  tone as an annotation at its own time ('P4: pause 0.6 s (auto)');
- "notes": the reflexive notes, three parts labelled.

An ELAN tier may not hold overlapping annotations, so overlapping ones spill
onto "marks 2", "notes 2" and so on. The media descriptor follows
``transcript.export.media``: an absolute file:// URL and a path relative to
where the .eaf is saved (pseudonymised: the interview id's file name only).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from transcript.export.layout import Rendering, millis, phase_text
from transcript.export.media import media_link
from transcript.model import Mark, MarkKind
from transcript.render import GAP_SPEAKER, Token, render_turns

LONG_TURN = 20.0  # seconds; a longer turn is cut at sentence ends
_SENTENCE_END = (".", "?", "!")
_CLOSERS = "])}°<>/\"'’”"

# linguistic types: what each tier holds
UTTERANCE, MARK, LINE, NOTE = "utterance", "mark", "line-number", "note"


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


def _layered(eaf: object, base: str, ling: str, items: Iterable[tuple[int, int, str]],
             participant: str | None = None) -> None:
    """Put annotations on tier ``base``, spilling overlaps onto 'base 2', 'base 3'..."""
    ends: list[int] = []  # last end time on each layer
    for start, end, value in sorted(items):
        layer = next((i for i, last_end in enumerate(ends) if start >= last_end), len(ends))
        tier = base if layer == 0 else f"{base} {layer + 1}"
        if layer == len(ends):
            ends.append(0)
            eaf.add_tier(tier, ling=ling, part=participant)  # type: ignore[attr-defined]
        ends[layer] = end
        eaf.add_annotation(tier, start, end, value)  # type: ignore[attr-defined]


def _sequential(items: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """One tier's annotations in order, each ending no later than the next begins."""
    items = sorted(items)
    out: list[tuple[int, int, str]] = []
    for i, (start, end, value) in enumerate(items):
        if i + 1 < len(items):
            end = min(end, items[i + 1][0])
        if out:
            start = max(start, out[-1][1])
        out.append((start, max(end, start + 1), value))
    return out


def _sentence_end(token: Token, unsure_close: str) -> bool:
    """A word ending a sentence ('good.', 'saying?'); an unsure word's '[you?]' is not one."""
    text = token.text
    if unsure_close and text.endswith(unsure_close):
        text = text[:-len(unsure_close)]
    text = text.rstrip(_CLOSERS)
    return text.endswith(_SENTENCE_END) and any(ch.isalpha() for ch in text)


def _held_together(marks: Sequence[Mark], speaker: str, a: Token, b: Token) -> bool:
    """True when a mark covers both sides of the boundary between tokens a and b."""
    for mark in marks:
        if mark.kind is MarkKind.PAUSE or mark.speaker not in (None, speaker):
            continue
        if mark.start < a.end - 1e-6 and mark.end > b.start + 1e-6:
            return True
    return False


def utterances(r: Rendering) -> list[tuple[str, float, float, str]]:
    """(speaker id, start, end, text): one per turn, long turns cut at sentence ends."""
    out: list[tuple[str, float, float, str]] = []
    turns = render_turns(r.doc, r.profile) if r.doc.words else ()
    if not turns:  # a locked transcript with no words: its turns of lines
        for lines in r.turns():
            if lines.speaker != GAP_SPEAKER:
                out.append((lines.speaker, lines.start, lines.end, lines.text))
        return out
    marks = sorted(r.doc.marks, key=lambda m: m.start)
    for turn in turns:
        if turn.speaker == GAP_SPEAKER:
            continue  # a between-speaker gap is on the marks tier
        piece: list[Token] = []
        long_turn = turn.end - turn.start > LONG_TURN
        for i, token in enumerate(turn.tokens):
            piece.append(token)
            following = turn.tokens[i + 1] if i + 1 < len(turn.tokens) else None
            if (following is not None and long_turn
                    and _sentence_end(token, r.profile.uncertain[1])
                    and not _held_together(marks, turn.speaker, token, following)):
                out.append(_utterance(turn.speaker, piece))
                piece = []
        if piece:
            out.append(_utterance(turn.speaker, piece))
    return out


def _utterance(speaker: str, tokens: Sequence[Token]) -> tuple[str, float, float, str]:
    return (speaker, tokens[0].start, max(t.end for t in tokens),
            " ".join(t.text for t in tokens))


def _tier_names(r: Rendering) -> dict[str, str]:
    names: dict[str, str] = {}
    used: set[str] = set()
    ids = [s.id for s in r.doc.speakers] + [ln.speaker for ln in r.lines]
    ids += [w.speaker for w in r.doc.words]
    for speaker_id in dict.fromkeys(ids):
        if speaker_id == GAP_SPEAKER:
            continue
        name = r.label(speaker_id) or speaker_id
        if name in used or name in ("marks", "notes"):
            name = f"{name} ({speaker_id})"
        used.add(name)
        names[speaker_id] = name
    return names


def to_eaf(r: Rendering) -> bytes:
    from xml.etree import ElementTree

    from pympi.Elan import Eaf, to_adocument

    eaf = Eaf(author="verbatim")
    eaf.adocument.update({
        "DATE": r.meta.created_at().isoformat(), "VERSION": "3.0", "FORMAT": "3.0",
        "xsi:noNamespaceSchemaLocation": "http://www.mpi.nl/tools/elan/EAFv3.0.xsd"})
    eaf.remove_tier("default")
    for ling in (UTTERANCE, MARK, LINE, NOTE):
        eaf.add_linguistic_type(ling)
    link = media_link(r)
    if link is not None:
        eaf.add_linked_file(link.url, relpath=link.relative, mimetype=link.mime)

    names = _tier_names(r)
    spoken: dict[str, list[tuple[int, int, str]]] = {}
    for speaker, start, end, text in utterances(r):
        spoken.setdefault(speaker, []).append((*_span(start, end), text))
    numbers: dict[str, list[tuple[int, int, str]]] = {}
    for line in r.lines:
        numbers.setdefault(line.speaker, []).append((*_span(line.start, line.end), str(line.n)))
    # each speaker's tiers name their participant (ELAN's tier attribute), as labelled
    for speaker, name in names.items():
        if speaker in spoken:
            _layered(eaf, name, UTTERANCE, _sequential(spoken[speaker]), r.label(speaker))
    for speaker, name in names.items():
        if speaker in numbers:
            _layered(eaf, f"{name} lines", LINE, _sequential(numbers[speaker]),
                     r.label(speaker))
    if GAP_SPEAKER in numbers:  # jefferson numbers between-speaker gaps too
        _layered(eaf, "gap lines", LINE, _sequential(numbers[GAP_SPEAKER]))
    if r.doc.marks:
        _layered(eaf, "marks", MARK,
                 [(*_span(m.start, m.end), mark_value(r, m)) for m in r.doc.marks])
    if r.doc.notes:
        notes = []
        for n in r.doc.notes:
            parts = [f"Written {phase_text(n.phase)}. Moment: {n.moment}"]
            if n.response:
                parts.append(f"Response: {n.response}")
            if n.understanding:
                parts.append(f"Understanding: {n.understanding}")
            notes.append((*_span(n.start, n.end), " | ".join(parts)))
        _layered(eaf, "notes", NOTE, notes)
    # ELAN numbers the annotations a user adds from here: never reuse one of ours
    eaf.properties = [(k, v) for k, v in eaf.properties if k != "lastUsedAnnotation"]
    eaf.properties.append(("lastUsedAnnotation", eaf.maxaid))
    root = to_adocument(eaf, pretty=True)
    # serialised as text and encoded once: ElementTree's byte output resets a codec for
    # every write, which was most of a two-hour transcript's export time
    text = ElementTree.tostring(root, encoding="unicode")
    return ("<?xml version='1.0' encoding='UTF-8'?>\n" + text).encode("utf-8")
