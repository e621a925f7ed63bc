"""Words to speakers: maximum overlap with the diariser's turns, then smoothing.

Diarisers place turn boundaries a little late or early, so the first word of
a turn often lands on the previous speaker (users of aTrain and WhisperX
report exactly this). After the overlap vote, a short run of words whose
speaker differs from the rest of its sentence, with no real pause setting it
apart, is given to the sentence's speaker.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

from transcribe.diarize import SpeakerTurn
from transcribe.engines import AsrWord

SENTENCE_END = (".", "?", "!", "…")


@dataclass(frozen=True)
class SmoothingSettings:
    max_words: int = 2  # runs this short (in words)...
    max_seconds: float = 1.0  # ...and this short (in time) may be reassigned
    min_pause: float = 0.5  # unless a silence this long sets the run apart


def assign_speakers(words: Sequence[AsrWord], turns: Sequence[SpeakerTurn],
                    *, default: str = "S1") -> list[str]:
    """Each word's speaker: the turn it overlaps most, else the nearest turn."""
    if not turns:
        return [default] * len(words)
    ordered = sorted(turns)
    starts = [t.start for t in ordered]
    speakers = []
    for word in words:
        lo = max(0, bisect.bisect_right(starts, word.start) - 2)
        hi = bisect.bisect_right(starts, word.end) + 1
        best, best_overlap = None, 0.0
        totals: dict[str, float] = {}
        for turn in ordered[lo:hi]:
            overlap = min(word.end, turn.end) - max(word.start, turn.start)
            if overlap > 0:
                totals[turn.speaker] = totals.get(turn.speaker, 0.0) + overlap
        for speaker, overlap in totals.items():
            if overlap > best_overlap:
                best, best_overlap = speaker, overlap
        if best is None:
            mid = (word.start + word.end) / 2
            nearest = min(ordered, key=lambda t: min(abs(mid - t.start), abs(mid - t.end)))
            best = nearest.speaker
        speakers.append(best)
    return speakers


def sentences(words: Sequence[AsrWord]) -> list[range]:
    """Index ranges of the sentences, split after sentence-ending punctuation."""
    out, start = [], 0
    for i, word in enumerate(words):
        if word.text.endswith(SENTENCE_END) or i == len(words) - 1:
            out.append(range(start, i + 1))
            start = i + 1
    return out


def smooth_speakers(words: Sequence[AsrWord], speakers: Sequence[str], *,
                    settings: SmoothingSettings = SmoothingSettings()) -> list[str]:
    """Reassign short speaker flips inside a sentence to the sentence's main speaker."""
    result = list(speakers)
    for sentence in sentences(words):
        weight: dict[str, float] = {}
        for i in sentence:
            weight[result[i]] = weight.get(result[i], 0.0) + words[i].end - words[i].start
        if len(weight) < 2:
            continue
        main = max(weight, key=lambda s: weight[s])
        for run in _runs(result, sentence):
            speaker = result[run.start]
            if speaker == main or len(run) > settings.max_words:
                continue
            if words[run[-1]].end - words[run[0]].start > settings.max_seconds:
                continue
            if _set_apart(words, run, sentence, settings.min_pause):
                continue
            for i in run:
                result[i] = main
    return result


def _runs(speakers: Sequence[str], span: range) -> list[range]:
    runs, start = [], span.start
    for i in range(span.start + 1, span.stop + 1):
        if i == span.stop or speakers[i] != speakers[start]:
            runs.append(range(start, i))
            start = i
    return runs


def _set_apart(words: Sequence[AsrWord], run: range, sentence: range, min_pause: float) -> bool:
    """True when a real silence separates the run from the sentence on a side it touches."""
    before = run.start - 1 >= sentence.start and \
        words[run.start].start - words[run.start - 1].end >= min_pause
    after = run.stop < sentence.stop and words[run.stop].start - words[run[-1]].end >= min_pause
    return before or after
