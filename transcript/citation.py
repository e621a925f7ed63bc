"""Citations of transcript extracts, in the paper's style.

The end of a line range drops the leading digits it shares with the start,
as the paper prints them: 505-507 -> '505-7', 978-981 -> '978-81',
54-57 -> '54-7', 1099-1102 -> '1099-102'. As in British usage, the teens of
each hundred keep both digits, so a range never reads as running backwards:
10-14 (not '10-4'), 115-18, 1111-18. ``expand_range`` reverses it.
"""

from __future__ import annotations

import re

_RANGE = re.compile(r"^\s*(\d+)\s*(?:[-–]\s*(\d+))?\s*$")


def abbreviate_range(first: int, last: int) -> str:
    """'978-81' for lines 978 to 981; a single line is just its number."""
    _check(first, last)
    if first == last:
        return str(first)
    a, b = str(first), str(last)
    if len(a) != len(b):
        return f"{a}-{b}"
    shared = 0
    while shared < len(a) - 1 and a[shared] == b[shared]:
        shared += 1
    if len(b) >= 2 and len(b) - shared < 2 and b[-2] == "1":
        shared = len(b) - 2  # 10-19 of a hundred: '10-14', '115-18', never '10-4'
    return f"{a}-{b[shared:]}"


def expand_range(text: str) -> tuple[int, int]:
    """Read '978-81' (or '978-981', or '978') back into (978, 981)."""
    match = _RANGE.match(text)
    if not match:
        raise ValueError(f"not a line range: {text!r} (expected e.g. 10-12)")
    first = int(match.group(1))
    if match.group(2) is None:
        return first, first
    tail = match.group(2)
    head = str(first)
    last = int(head[: max(0, len(head) - len(tail))] + tail)
    if last < first:
        raise ValueError(f"line range {text!r} runs backwards")
    return first, last


def cite(number: int, participant_id: str, role: str, first: int, last: int) -> str:
    """The full citation: '(Extract 4. P1, Occupational Therapist. 978-81)'."""
    who = f"{participant_id}, {role}" if role else participant_id
    return f"(Extract {number}. {who}. {abbreviate_range(first, last)})"


def short_cite(participant_id: str, first: int, last: int) -> str:
    """The short citation for a quotation in running text: '(P1.971-2)'."""
    return f"({participant_id}.{abbreviate_range(first, last)})"


def _check(first: int, last: int) -> None:
    if first < 1 or last < first:
        raise ValueError(f"not a line range: {first}-{last}")
