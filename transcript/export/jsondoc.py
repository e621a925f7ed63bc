"""JSON: the ``verbatim-transcript/1`` contract with ``lines`` filled in.

``lines`` holds the numbered rendering under the chosen profile and width, or
the locked lines. ``numbering`` records which profile and width made them, so
the file says how its numbers were produced. Reading the file back gives a
document whose lines are these (it counts as locked: the numbering a reader
cites from the file can never drift).
"""

from __future__ import annotations

import json
from dataclasses import replace

from transcript.document import to_dict
from transcript.export.layout import Rendering


def to_json(r: Rendering) -> bytes:
    doc = replace(r.doc, lines=r.lines)
    data = to_dict(doc)
    numbering = {"profile": r.profile.name, "width": r.width, "locked": r.doc.locked}
    existing = data.get("numbering")
    if not (r.doc.locked and isinstance(existing, dict)):
        data["numbering"] = numbering
    return (json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
