"""How an extract quotes its lines: the paper's form, speaker labels only across turns."""

from __future__ import annotations

from transcript.model import Line, Transcript


def render_lines(lines: tuple[Line, ...], doc: Transcript) -> str:
    """An extract's text, one numbered line per line of text.

    A single speaker's words stand alone, as the paper quotes them; when the
    extract crosses turns, each change of speaker is labelled ("P4: …").
    """
    speakers = {line.speaker for line in lines}
    if len(speakers) <= 1:
        return "\n".join(line.text for line in lines)
    out: list[str] = []
    previous: str | None = None
    for line in lines:
        if line.speaker != previous:
            out.append(f"{doc.speaker_label(line.speaker)}: {line.text}")
        else:
            out.append(line.text)
        previous = line.speaker
    return "\n".join(out)
