"""Willig's six stages of Foucauldian discourse analysis: the default analysis template.

The paper analysed its extracts with these stages (Willig, 2008), paying
particular attention to the last three; the template offers them as headings
for an extract's analysis note.
"""

from __future__ import annotations

WILLIG_STAGES: tuple[tuple[str, str], ...] = (
    ("Discursive objects", "References to specific discursive objects in the text."),
    ("Discourses", "The different discourses drawn upon to construct these objects."),
    ("Action orientation", "What the participant achieves by constructing the objects so."),
    ("Positionings", "The subject positions offered by the discourses."),
    ("Practice", "The practices permitted and prohibited by these subject positions."),
    ("Subjectivity", "The subjectivity made available within these subject positions."),
)


def willig_template(first_thoughts: str = "") -> str:
    """An analysis note laid out under Willig's six stages, ready to fill in."""
    parts = [first_thoughts.strip(), ""] if first_thoughts.strip() else []
    for n, (title, prompt) in enumerate(WILLIG_STAGES, start=1):
        parts.append(f"{n}. {title}: ({prompt})")
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"
