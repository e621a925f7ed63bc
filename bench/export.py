"""Benchmark: export a two-hour, 20,000-word transcript to every format.

Target (issue 3): under 2 s in total on this kind of machine. Prints the
seconds per format, the total, and each format's share of the total (shares
are measured in the same run, so they hold even on a loaded machine).
Run: .venv/bin/python bench/export.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.golden.fixture import synthetic_document
from transcript.export import FORMATS, SUFFIXES, ExportMeta, export
from transcript.lines import number_lines
from transcript.pseudonymise import Replacements

TARGET_SECONDS = 2.0


def main() -> int:
    doc = synthetic_document(20_000, seed=1)
    hours = doc.audio.duration / 3600
    meta = ExportMeta(title="P4-1", participant_id="P4", attributes={"profession": "Nurse"})
    # warm the lazy imports (python-docx, lxml, pympi) so the figure is the export work
    small = synthetic_document(200, seed=2)
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in FORMATS:
            export(small, fmt, Path(tmp) / f"warm{SUFFIXES[fmt]}", meta=meta)
        t0 = time.perf_counter()
        lines = number_lines(doc)
        numbering = time.perf_counter() - t0
        timings: dict[str, float] = {}
        sizes: dict[str, int] = {}
        for fmt in FORMATS:
            out = Path(tmp) / f"t{SUFFIXES[fmt]}"
            start = time.perf_counter()
            export(doc, fmt, out, meta=meta)
            timings[fmt] = time.perf_counter() - start
            sizes[fmt] = out.stat().st_size
        reps = Replacements.from_pairs([("peer", "[role]"), ("team", "[place]")])
        start = time.perf_counter()
        export(doc, "txt", Path(tmp) / "p.txt", replacements=reps)
        pseudo = time.perf_counter() - start
    total = sum(timings.values()) + numbering
    print(f"document: {len(doc.words)} words, {len(doc.marks)} marks, {hours:.2f} h, "
          f"{len(lines)} lines at width 80")
    for fmt in FORMATS:
        print(f"  {fmt:7s} {timings[fmt]:7.3f} s  {timings[fmt] / total:5.1%}  "
              f"{sizes[fmt] / 1024:8.0f} KiB")
    print(f"  numbering {numbering:5.3f} s  {numbering / total:5.1%}  "
          "(once, shared by every format)")
    print(f"total   {total:7.3f} s including the numbering  (target < {TARGET_SECONDS} s: "
          f"{'met' if total < TARGET_SECONDS else 'NOT met'}; "
          f"{total / TARGET_SECONDS:.0%} of budget)")
    print(f"txt with pseudonymisation: {pseudo:.3f} s "
          f"({pseudo / timings['txt']:.1f}x plain txt)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
