"""Marks the pipeline suggests (source ``auto``): pauses, gaps, overlaps, cut-offs,
stutters, inaudible stretches and tone.

Pauses come from measured silence (see ``transcribe.vad``), never from
Whisper's punctuation: a silence between two words of one speaker is a pause
of that speaker; between two speakers it is a gap (kind ``pause``, no
speaker, label ``gap``). Tone marks compare each utterance's loudness and
speech rate with the same speaker's own baseline, so a softly spoken person is
not marked "quietly" throughout; they are suggestions for the author.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from transcribe.diarize import SpeakerTurn, speaker_at
from transcript.model import Mark, MarkKind, Word

GAP_LABEL = "gap"
_LETTERS = re.compile(r"[^\w'-]+")
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")


@dataclass(frozen=True)
class MarkSettings:
    min_pause: float = 0.2  # shorter silences are ordinary articulation
    min_inaudible: float = 0.5  # speech with no words at least this long
    low_probability: float = 0.15  # a word this unsure is marked inaudible
    stutter_max_gap: float = 0.3  # "I I" repeated within this is a stutter
    tone_min_words: int = 3
    tone_min_utterances: int = 4  # a speaker needs this many for a baseline
    loud_db: float = 6.0
    fast_ratio: float = 1.4


def _bare(text: str) -> str:
    return _LETTERS.sub("", text.lower())


def pause_marks(words: Sequence[Word], silences: Sequence[tuple[float, float]], *,
                min_pause: float) -> list[Mark]:
    """A mark for every measured silence between two words: pause (same speaker) or gap."""
    marks = []
    mids = [(w.start + w.end) / 2 for w in words]
    i = 0
    for start, end in silences:
        if end - start < min_pause:
            continue
        centre = (start + end) / 2
        while i < len(words) and mids[i] < centre:
            i += 1
        if i == 0 or i == len(words):
            continue  # before the first word or after the last: not a pause in talk
        before, after = words[i - 1], words[i]
        if before.speaker == after.speaker:
            marks.append(Mark(MarkKind.PAUSE, start, end, before.speaker))
        else:
            marks.append(Mark(MarkKind.PAUSE, start, end, None, GAP_LABEL))
    return marks


def overlap_marks(overlaps: Sequence[SpeakerTurn]) -> list[Mark]:
    return [Mark(MarkKind.OVERLAP, t.start, t.end, None if t.speaker == "*" else t.speaker)
            for t in overlaps]


def disfluency_marks(words: Sequence[Word], *, max_gap: float) -> list[Mark]:
    """Cut-offs (``th-``) and stutters (``i-i-it``, ``I I``) in the verbatim ASR text."""
    marks: list[Mark] = []
    i = 0
    while i < len(words):
        word = words[i]
        text = word.text.strip(".,?!;:\"'")
        parts = [p for p in text.lower().split("-")]
        if len(parts) >= 3 or (len(parts) == 2 and parts[1] and parts[0]
                               and parts[1].startswith(parts[0])):
            marks.append(Mark(MarkKind.STUTTER, word.start, word.end, word.speaker, text))
            i += 1
            continue
        run = i + 1
        while (run < len(words) and words[run].speaker == word.speaker
               and words[run].start - words[run - 1].end <= max_gap
               and _bare(words[run].text).rstrip("-") == _bare(word.text).rstrip("-")
               and _bare(word.text)):
            run += 1
        if run - i >= 2:
            label = "-".join(w.text.strip(".,?!;:-") for w in words[i:run])
            marks.append(Mark(MarkKind.STUTTER, word.start, words[run - 1].end,
                              word.speaker, label))
            i = run
            continue
        if len(text) > 1 and text.endswith("-"):
            marks.append(Mark(MarkKind.CUTOFF, word.start, word.end, word.speaker, text))
        i += 1
    return marks


def inaudible_marks(words: Sequence[Word], speech: Sequence[tuple[float, float]],
                    turns: Sequence[SpeakerTurn], *, min_length: float,
                    low_probability: float) -> list[Mark]:
    """Speech the engine gave no words for, and words it was very unsure of."""
    marks = []
    starts = [w.start for w in words]
    for start, end in speech:
        if end - start < min_length:
            continue
        first = max(0, int(np.searchsorted(starts, start)) - 1)
        covered = any(w.end > start and w.start < end for w in words[first:first + 50])
        if not covered and not any(w.start >= start and w.end <= end for w in words):
            marks.append(Mark(MarkKind.INAUDIBLE, start, end, speaker_at(turns, start, end)))
    for word in words:
        if word.probability < low_probability:
            marks.append(Mark(MarkKind.INAUDIBLE, word.start, word.end, word.speaker, word.text))
    return marks


@dataclass(frozen=True)
class Utterance:
    """A speaker's stretch of words between pauses, with what tone marks need."""

    speaker: str
    start: float
    end: float
    words: int
    loudness_db: float
    syllables_per_second: float


def syllables(text: str) -> int:
    return max(1, len(_VOWEL_GROUPS.findall(_bare(text))))


def utterances(words: Sequence[Word], pauses: Sequence[Mark],
               energy_db: npt.NDArray[np.float64], hop: float) -> list[Utterance]:
    """Split the words at speaker changes and pauses; measure each piece."""
    cuts = sorted(m.start for m in pauses)
    out: list[Utterance] = []
    group: list[Word] = []

    def close() -> None:
        if not group:
            return
        start, end = group[0].start, group[-1].end
        frames = np.concatenate([energy_db[int(w.start / hop):max(int(w.start / hop) + 1,
                                                                   int(w.end / hop))]
                                 for w in group])
        loud = float(np.percentile(frames, 90)) if frames.size else -120.0
        talk = sum(w.end - w.start for w in group)
        rate = sum(syllables(w.text) for w in group) / talk if talk > 0 else 0.0
        out.append(Utterance(group[0].speaker, start, end, len(group), loud, rate))

    cut_index = 0
    for word in words:
        crossed = False
        while cut_index < len(cuts) and cuts[cut_index] <= word.start:
            cut_index += 1
            crossed = True
        if group and (crossed or word.speaker != group[-1].speaker):
            close()
            group = []
        group.append(word)
    close()
    return out


def tone_marks(pieces: Sequence[Utterance], *, settings: MarkSettings) -> list[Mark]:
    """Quiet/loud and fast/slow utterances against their own speaker's median."""
    marks: list[Mark] = []
    by_speaker: dict[str, list[Utterance]] = {}
    for piece in pieces:
        if piece.words >= settings.tone_min_words:
            by_speaker.setdefault(piece.speaker, []).append(piece)
    for speaker, own in by_speaker.items():
        if len(own) < settings.tone_min_utterances:
            continue
        loud = statistics.median(p.loudness_db for p in own)
        rate = statistics.median(p.syllables_per_second for p in own)
        for piece in own:
            labels = []
            if piece.loudness_db <= loud - settings.loud_db:
                labels.append("quietly")
            elif piece.loudness_db >= loud + settings.loud_db:
                labels.append("loudly")
            if rate > 0 and piece.syllables_per_second >= rate * settings.fast_ratio:
                labels.append("quickly")
            elif rate > 0 and piece.syllables_per_second <= rate / settings.fast_ratio:
                labels.append("slowly")
            marks.extend(Mark(MarkKind.TONE, piece.start, piece.end, speaker, label)
                         for label in labels)
    return marks
