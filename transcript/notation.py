"""Notation profiles: how each kind of mark is written in a rendered transcript.

One word-level document, several renderings. A profile is a frozen value that
turns a mark (with its measured duration) into text; the table it encodes is
DESIGN.md's notation table. Pause thresholds are seconds and may be overridden
per profile from the config file (``[notation.paper] long_pause = 1.2``).

Between-speaker gaps (pause marks with ``speaker=None``) are a profile choice:
``jefferson`` writes them on a line of their own, as Jefferson's conventions
do; ``paper`` and ``dresing-pehl`` omit them, because the paper's extracts and
the Dresing & Pehl rules only mark pauses inside a speaker's talk.

An inaudible mark over no words is the omission sign ('[  ]', '( )', '(unv.)');
over words the engine was unsure of, the words stay visible as a guess
('[word?]', jefferson '(word)', dresing-pehl '(word?)'), so the author sees
what to check. Jefferson writes manners around the words: °quiet°, >fast<,
<slow>, LOUD; the other profiles put '(quietly)' before them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

PROFILES = ("paper", "jefferson", "dresing-pehl")

# Seconds. short_pause: shortest pause written at all. long_pause: where the
# "long" form starts. very_long_pause (paper only): where '….' starts.
# micro_pause (jefferson only): below it a pause is '(.)' rather than timed.
_DEFAULT_THRESHOLDS: dict[str, dict[str, float]] = {
    "paper": {"short_pause": 0.3, "long_pause": 1.0, "very_long_pause": 3.0},
    "jefferson": {"short_pause": 0.1, "micro_pause": 0.2},
    "dresing-pehl": {"short_pause": 0.5, "long_pause": 3.0},
}

# Tone labels that describe a manner of speaking rather than an event. Adverbs
# ending in -ly are treated the same way ("quietly", "sarcastically").
_MANNER_WORDS = frozenset({"quiet", "soft", "loud", "fast", "slow", "whisper", "whispering",
                           "whispered", "laughing", "crying", "sighing", "smiling"})
_QUIET = frozenset({"quiet", "quietly", "soft", "softly", "whisper", "whispering", "whispered"})
_LOUD = frozenset({"loud", "loudly", "shouting", "emphatic", "emphatically"})
_FAST = frozenset({"fast", "quickly", "rapidly", "hurried"})
_SLOW = frozenset({"slow", "slowly"})


DOT_PAUSE_LIMIT = 10  # seconds from which a dot pause is written as a number


def is_manner(label: str) -> bool:
    """True when a tone label says how words were spoken, not a separate sound."""
    word = label.strip().lower()
    return word.endswith("ly") or word in _MANNER_WORDS


@dataclass(frozen=True, slots=True)
class Profile:
    """How one transcription convention writes marks.

    ``thresholds`` is read-only; build variants with ``get_profile(name, overrides)``.
    """

    name: str
    thresholds: Mapping[str, float] = field(default_factory=dict)
    cutoff_suffix: str = "-"
    inaudible: str = "[  ]"
    overlap_open: str = "["
    overlap_close: str = "]"
    uncertain: tuple[str, str] = ("[", "?]")
    gaps_on_own_line: bool = False
    dot_pauses: bool = False
    """noScribe's pause notation: one dot per second, '(..)' for two, '(12 s)' from 10 s;
    set per profile in the config (``[notation.paper] dot_pauses = true``)."""

    def threshold(self, key: str) -> float:
        return float(self.thresholds[key])

    def pause(self, seconds: float) -> str:
        """The text for a pause of this many seconds ("" when too short to write)."""
        if seconds < self.threshold("short_pause"):
            return ""
        if self.dot_pauses:
            whole = int(_round_half_up(seconds, 0))
            if whole >= DOT_PAUSE_LIMIT:
                return f"({whole} s)"
            return "(" + "." * max(1, whole) + ")"
        if self.name == "paper":
            if seconds < self.threshold("long_pause"):
                return ".."
            if seconds < self.threshold("very_long_pause"):
                return "…"
            return "…."
        if self.name == "jefferson":
            if seconds < self.threshold("micro_pause"):
                return "(.)"
            return f"({_round_half_up(seconds, 1):.1f})"
        # dresing-pehl: one dot per second up to three, then whole seconds
        if seconds <= self.threshold("long_pause"):
            dots = min(3, max(1, int(_round_half_up(seconds, 0))))
            return "(" + "." * dots + ")"
        return f"({int(_round_half_up(seconds, 0))})"

    def cutoff(self, fragment: str) -> str:
        """A word broken off: 'th' -> 'th-' (dresing-pehl 'th/')."""
        return fragment.rstrip("-/") + self.cutoff_suffix

    def tone_event(self, label: str) -> str:
        """A non-verbal sound or event: paper '[laughs]', jefferson '((laughs))'."""
        label = label.strip()
        if label[:1] in "[(":
            return label  # the author wrote the brackets themselves
        if self.name == "jefferson":
            return f"(({label}))"
        if self.name == "dresing-pehl":
            return f"({label})"
        return f"[{label}]"

    def tone_manner(self, label: str) -> str:
        """A manner of speaking written before the words: paper '(quietly)'."""
        label = label.strip()
        if label[:1] in "[(":
            return label
        if self.name == "jefferson":
            return f"(({label}))"
        return f"({label})"

    def manner_wrap(self, label: str) -> tuple[str, str] | None:
        """Jefferson writes some manners around the words ('°quiet°'); None otherwise."""
        if self.name != "jefferson":
            return None
        word = label.strip().lower()
        if word in _QUIET:
            return ("°", "°")
        if word in _FAST:
            return (">", "<")
        if word in _SLOW:
            return ("<", ">")
        return None

    def manner_upper(self, label: str) -> bool:
        """Jefferson writes loud talk in capitals."""
        return self.name == "jefferson" and label.strip().lower() in _LOUD


def _round_half_up(value: float, digits: int) -> float:
    """Round 0.25 -> 0.3 as a reader expects, not banker's rounding."""
    scale = 10 ** digits
    return math.floor(value * scale + 0.5) / scale


_BASE: dict[str, Profile] = {
    "paper": Profile("paper"),
    "jefferson": Profile("jefferson", inaudible="( )", uncertain=("(", ")"),
                         gaps_on_own_line=True),
    "dresing-pehl": Profile("dresing-pehl", cutoff_suffix="/", inaudible="(unv.)",
                            overlap_open="//", overlap_close="//", uncertain=("(", "?)")),
}


def default_thresholds(name: str) -> dict[str, float]:
    """A copy of a profile's built-in thresholds (for documentation and config UIs)."""
    _check_name(name)
    return dict(_DEFAULT_THRESHOLDS[name])


def get_profile(name: str, overrides: Mapping[str, float] | None = None) -> Profile:
    """The named profile, with any threshold overrides from the config applied.

    Raises ValueError for an unknown profile, an unknown threshold key (a typo in
    the config must not be silently ignored) or a negative value.
    """
    _check_name(name)
    thresholds = dict(_DEFAULT_THRESHOLDS[name])
    dots = False
    for key, value in (overrides or {}).items():
        if key == "dot_pauses":
            if not isinstance(value, bool):
                raise ValueError(f"dot_pauses for notation {name!r} must be true or false")
            dots = value
            continue
        if key not in thresholds:
            known = ", ".join(sorted(thresholds))
            raise ValueError(f"unknown threshold {key!r} for notation {name!r} "
                             f"(known: {known})")
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ValueError(f"threshold {key!r} for notation {name!r} must be a "
                             f"non-negative number of seconds")
        thresholds[key] = float(value)
    return replace(_BASE[name], thresholds=MappingProxyType(thresholds), dot_pauses=dots)


def resolve_profile(profile: str | Profile) -> Profile:
    """Accept a profile or its name (functions take either)."""
    return profile if isinstance(profile, Profile) else get_profile(profile)


def _check_name(name: str) -> None:
    if name not in _BASE:
        raise ValueError(f"unknown notation {name!r} (choose from {', '.join(PROFILES)})")
