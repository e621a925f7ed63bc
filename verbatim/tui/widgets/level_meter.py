"""A one-line input level meter: a bar from -60 to 0 dBFS with peak and clipping."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

FLOOR_DB = -60.0
WARN_DB = -12.0  # above this is loud; above -1 dBFS counts as clipping


def bar_cells(dbfs: float, width: int) -> int:
    """How many cells a level fills on a -60..0 dBFS scale."""
    fraction = (min(max(dbfs, FLOOR_DB), 0.0) - FLOOR_DB) / -FLOOR_DB
    return round(fraction * width)


class LevelMeter(Widget):
    """Shows one channel's RMS as a bar and its peak as a tick, updated ~15 times a second."""

    DEFAULT_CSS = """
    LevelMeter {
        height: 1;
        width: 1fr;
    }
    LevelMeter > .level-meter--bar { color: $success; }
    LevelMeter > .level-meter--loud { color: $warning; }
    LevelMeter > .level-meter--clip { color: $error; text-style: bold; }
    LevelMeter > .level-meter--empty { color: $text-muted; }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "level-meter--bar", "level-meter--loud", "level-meter--clip", "level-meter--empty"}

    rms_db: reactive[float] = reactive(FLOOR_DB)
    """RMS level in dBFS (the bar)."""
    peak_db: reactive[float] = reactive(FLOOR_DB)
    """Peak level in dBFS (the tick, and the clipping warning)."""

    def __init__(self, label: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.label = label

    def set_level(self, rms_db: float, peak_db: float) -> None:
        self.rms_db, self.peak_db = rms_db, peak_db

    def render(self) -> Text:
        label = f"{self.label} "
        # at most the scale's floor (-60), not the capture's digital silence (-120)
        readout = f" {max(self.peak_db, FLOOR_DB):6.1f} dB"
        width = max(self.size.width - len(label) - len(readout), 4)
        filled = bar_cells(self.rms_db, width)
        peak = min(bar_cells(self.peak_db, width), width - 1)
        style = self.get_component_rich_style
        loud = self.peak_db > WARN_DB
        clip = self.peak_db > -1.0
        bar_style = style("level-meter--clip" if clip else
                          "level-meter--loud" if loud else "level-meter--bar")
        text = Text(label)
        cells = ["█" if i < filled else ("│" if i == peak and self.peak_db > FLOOR_DB else "·")
                 for i in range(width)]
        for cell in cells:
            text.append(cell, bar_style if cell != "·" else style("level-meter--empty"))
        text.append(readout, style("level-meter--clip") if clip else "")
        return text
