"""Second look at the words where speakers change or talk over each other.

Diarisers place a speaker change within a window hop (or a segmentation frame) of the
truth, so the first or last words of a turn often land on the wrong speaker (the
complaint of whisperX #470/#640 and noScribe #152; noScribe PR #351 re-checks
passages against speaker embeddings). Here each word within ``reach`` seconds of a
speaker change, each word inside an overlap, and the first word after a pause of
``pause`` seconds (a short turn after a pause can be swallowed by the next voice's
windows, leaving no change to look near) is embedded on its own and compared with
every speaker's centroid (voice prints of the interior of that speaker's turns, away
from the edges). A word of ``own_span`` seconds or more is embedded over its own span
only (widened, it would reach into its neighbours: at a change or in an overlap, the
other voice); a shorter one over its span widened to ``min_window``. The word moves to
another speaker only when that speaker's centroid is clearly closer (``margin``);
in an overlap this gives the word to the voice that dominates it.

The result is a new ``Diarisation`` whose turns carve out the moved words, so the
pipeline's ordinary word assignment picks them up; where a moved word shares time
with a neighbour that stays (two people's words in an overlap), the edge between them
is the middle of their shared time.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from transcribe.diarize import Diarisation, SpeakerTurn, speaker_at
from transcribe.diarize.voices import VoiceModel

REACH = 1.0  # s either side of a speaker change
MIN_WINDOW = 0.8  # s: a word's print is taken over at least this much audio
MARGIN = 0.1  # cosine: how much closer the other speaker must be
OWN_SPAN = 0.4  # s: a word this long is embedded over its own span alone
PAUSE = 0.3  # s: the first word after a pause this long is checked too
# s: the most of one word that is embedded. Whisper now and then stretches a word over a
# pause (17.1 s in a half-hour test); embedded whole, that one window held 0.25 GB of
# activations, and its middle says who spoke it as well as all of it would
MAX_SPAN = 3.0


def centroids(turns: Sequence[SpeakerTurn], samples: npt.NDArray[np.float32],
              model: VoiceModel, *, edge: float = 0.5, window: float = 1.5,
              most: int = 40) -> dict[str, npt.NDArray[np.float32]]:
    """Each speaker's unit centroid from windows inside their turns (``edge`` s away
    from each end, where a misplaced change would mix in the neighbour), at most
    ``most`` windows per speaker spread evenly over the recording (a minute of their
    speech makes a steady centroid; an hour's interview is not embedded twice)."""
    windows: list[tuple[float, float, str]] = []
    for turn in turns:
        start, end = turn.start + edge, turn.end - edge
        if end - start < 0.5:
            start, end = turn.start, turn.end
            if end - start < 0.5:
                continue
        position = start
        while position < end - 0.25:
            windows.append((position, min(end, position + window), turn.speaker))
            position += window
    kept: list[tuple[float, float, str]] = []
    for speaker in sorted({w[2] for w in windows}):
        own = [w for w in windows if w[2] == speaker]
        picks = np.linspace(0, len(own) - 1, min(most, len(own))).round().astype(int)
        kept += [own[i] for i in sorted(set(picks.tolist()))]
    windows = kept
    if not windows:
        return {}
    vectors = model.embed_windows(samples, [(s, e) for s, e, _ in windows])
    out: dict[str, npt.NDArray[np.float32]] = {}
    for speaker in {w[2] for w in windows}:
        mean = vectors[[i for i, w in enumerate(windows) if w[2] == speaker]].mean(axis=0)
        out[speaker] = mean / max(float(np.linalg.norm(mean)), 1e-8)
    return out


def candidates(words: Sequence[tuple[float, float]], diarisation: Diarisation, *,
               reach: float = REACH, pause: float = PAUSE) -> list[int]:
    """Indices of words near a speaker change, inside an overlap, or first after a
    pause of ``pause`` s (people take turns at pauses; a short turn after one can be
    swallowed by the next speaker's windows, leaving no change to look near)."""
    if not words:
        return []
    ordered = sorted(diarisation.turns)
    changes = sorted(t for a, b in itertools.pairwise(ordered) if a.speaker != b.speaker
                     for t in (a.end, b.start))
    spans = np.asarray(words, dtype=np.float64).reshape(-1, 2)
    starts, ends = spans[:, 0], spans[:, 1]
    chosen = np.zeros(len(spans), dtype=bool)
    if changes:  # the nearest change point, found by bisection (not every point per word)
        points = np.asarray(changes, dtype=np.float64)
        middles = (starts + ends) / 2
        right = np.searchsorted(points, middles).clip(0, len(points) - 1)
        left = (right - 1).clip(0, len(points) - 1)
        nearest = np.minimum(np.abs(points[right] - middles), np.abs(points[left] - middles))
        chosen |= nearest <= reach
    if diarisation.overlaps:  # some overlap starting before the word ends ends after it starts
        spells = sorted((o.start, o.end) for o in diarisation.overlaps)
        first = np.array([a for a, _ in spells])
        reach_to = np.maximum.accumulate(np.array([b for _, b in spells]))
        before = np.searchsorted(first, ends, side="left")  # overlaps with start < word end
        chosen |= (before > 0) & (reach_to[np.maximum(before - 1, 0)] > starts)
    if pause > 0:
        chosen[1:] |= starts[1:] - ends[:-1] >= pause
    return [int(i) for i in np.flatnonzero(chosen)]


def reassign(words: Sequence[tuple[float, float]], diarisation: Diarisation,
             samples: npt.NDArray[np.float32], model: VoiceModel, *,
             reach: float = REACH, margin: float = MARGIN,
             min_window: float = MIN_WINDOW, own_span: float = OWN_SPAN,
             pause: float = PAUSE, progress: Callable[[float], None] | None = None,
             ) -> dict[int, str]:
    """Word index -> speaker, for the boundary and overlap words that move."""
    if len(diarisation.speakers) < 2 or not words:
        return {}
    chosen = candidates(words, diarisation, reach=reach, pause=pause)
    if not chosen:
        return {}
    prints = centroids(diarisation.turns, samples, model)
    if len(prints) < 2:
        return {}
    names = sorted(prints)
    matrix = np.stack([prints[n] for n in names])
    duration = len(samples) / 16_000
    lookup = TurnLookup(diarisation.turns)
    # a word on no speaker, or on one without a print, cannot move: not embedded
    currents = {index: speaker for index in chosen
                if (speaker := lookup.speaker_at(*words[index])) in prints and speaker}
    chosen = [index for index in chosen if index in currents]
    if not chosen:
        return {}
    spans = []
    for index in chosen:
        start, end = words[index]
        if end - start > MAX_SPAN:  # a stretched word: its middle
            middle = (start + end) / 2
            spans.append((middle - MAX_SPAN / 2, middle + MAX_SPAN / 2))
            continue
        if own_span and end - start >= own_span:  # widened, it would reach into the
            spans.append((start, end))  # neighbours: at a change, the other voice
            continue
        pad = max(0.0, (min_window - (end - start)) / 2)
        spans.append((max(0.0, start - pad), min(duration, end + pad)))
    scores = model.embed_windows(samples, spans, progress=progress) @ matrix.T
    moved: dict[int, str] = {}
    for row, index in enumerate(chosen):
        current = currents[index]
        best = int(np.argmax(scores[row]))
        if names[best] != current and (scores[row][best]
                                       - scores[row][names.index(current)]) >= margin:
            moved[index] = names[best]
    return moved


class TurnLookup:
    """``speaker_at`` over many words: each word looks only at the turns that can touch
    it (found by bisection when the turns are exclusive and in order, as a diariser
    returns them), in the same order, so the answer is the same."""

    def __init__(self, turns: Sequence[SpeakerTurn]) -> None:
        self._turns = list(turns)
        self._starts = [t.start for t in self._turns]
        self._ends = [t.end for t in self._turns]
        self._ordered = all(a <= b for a, b in itertools.pairwise(self._starts)) and all(
            a <= b for a, b in itertools.pairwise(self._ends))

    def speaker_at(self, start: float, end: float) -> str | None:
        if not self._ordered:
            return speaker_at(self._turns, start, end)
        low = bisect.bisect_right(self._ends, start)  # turns ending after the word starts
        high = bisect.bisect_left(self._starts, end, lo=low)  # ... and starting before its end
        return speaker_at(self._turns[low:high], start, end)


def apply(diarisation: Diarisation, words: Sequence[tuple[float, float]],
          moved: dict[int, str]) -> Diarisation:
    """Turns with each moved word's span given to its new speaker. Where the span
    shares time with a neighbouring word that does not move with it (in an overlap two
    people's words share the same time), the new edge is the middle of the shared time,
    so that each of the two words keeps most of its span on its own speaker."""
    turns = list(diarisation.turns)
    spans = np.asarray(words, dtype=np.float64).reshape(-1, 2)
    for index, speaker in sorted(moved.items()):
        start, end = shared_edges(words, index, moved, diarisation.turns, spans)
        kept: list[SpeakerTurn] = []
        for turn in turns:
            if turn.end <= start or turn.start >= end:
                kept.append(turn)
                continue
            if turn.start < start:
                kept.append(SpeakerTurn(turn.start, start, turn.speaker))
            if turn.end > end:
                kept.append(SpeakerTurn(end, turn.end, turn.speaker))
        kept.append(SpeakerTurn(start, end, speaker))
        turns = sorted(kept)
    return replace(diarisation, turns=tuple(turns))


def shared_edges(words: Sequence[tuple[float, float]], index: int, moved: dict[int, str],
                 turns: Sequence[SpeakerTurn] = (),
                 spans: npt.NDArray[np.float64] | None = None) -> tuple[float, float]:
    """Word ``index``'s span, each end pulled to the middle of the time it shares with an
    overlapping word that stays on another speaker (a word holding the whole span is
    left alone: no edge gives both words most of their time). ``spans``: ``words`` as a
    (words, 2) array, when the caller asks for many words' edges."""
    start, end = words[index]
    left, right = start, end
    spans = np.asarray(words, dtype=np.float64).reshape(-1, 2) if spans is None else spans
    touching = np.flatnonzero((spans[:, 1] > start) & (spans[:, 0] < end))
    for other in touching.tolist():
        a, b = words[other]
        if other == index:
            continue
        if moved.get(other, speaker_at(turns, a, b)) == moved[index]:
            continue  # it goes to the same speaker: no edge between them
        if a <= start < b < end:  # the other word starts first and ends inside this one
            left = max(left, (start + b) / 2)
        elif start < a < end <= b:  # it starts inside this one and ends after it
            right = min(right, (a + end) / 2)
    return (left, right) if left < right else (start, end)


def refine(diarisation: Diarisation, words: Sequence[tuple[float, float]],
           samples: npt.NDArray[np.float32], model: VoiceModel, *,
           progress: Callable[[float], None] | None = None, **options: float,
           ) -> Diarisation:
    """``reassign`` then ``apply``: the pipeline's one call."""
    return apply(diarisation, words, reassign(words, diarisation, samples, model,
                                              progress=progress, **options))


def check_boundaries(samples: npt.NDArray[np.float32], diarisation: Diarisation,
                     words: Sequence[object], settings: dict | None,
                     models_dir: object, *, progress: Callable[[float], None] | None = None,
                     ) -> Diarisation:
    """The pipeline's step (``boundary_check = true``, the default): ``refine`` with the
    voice model of the store, for diarisers that guess changes from voices."""
    from pathlib import Path

    from transcribe.diarize.voices import load_voice_model

    options = settings or {}
    if (not options.get("boundary_check", True) or len(diarisation.speakers) < 2
            or diarisation.backend not in ("embedding", "pyannote")):
        return diarisation
    try:
        model = load_voice_model(str(options.get("voice_model") or "auto"), Path(str(models_dir)),
                                 options.get("embedding_model") or None)
    except (FileNotFoundError, ValueError):
        return diarisation  # no voice model here: the diariser's turns stand
    spans = [(float(w.start), float(w.end)) for w in words]  # type: ignore[attr-defined]
    return refine(diarisation, spans, samples, model, progress=progress)
