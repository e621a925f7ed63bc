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

import itertools
from collections.abc import Sequence
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
    ordered = sorted(diarisation.turns)
    changes = [t for a, b in itertools.pairwise(ordered) if a.speaker != b.speaker
               for t in (a.end, b.start)]
    points = np.array(sorted(changes)) if changes else np.zeros(0)
    out = []
    for index, (start, end) in enumerate(words):
        near = points.size and np.min(np.abs(points - (start + end) / 2)) <= reach
        inside = any(o.start < end and o.end > start for o in diarisation.overlaps)
        after_pause = pause > 0 and index > 0 and start - words[index - 1][1] >= pause
        if near or inside or after_pause:
            out.append(index)
    return out


def reassign(words: Sequence[tuple[float, float]], diarisation: Diarisation,
             samples: npt.NDArray[np.float32], model: VoiceModel, *,
             reach: float = REACH, margin: float = MARGIN,
             min_window: float = MIN_WINDOW, own_span: float = OWN_SPAN,
             pause: float = PAUSE) -> dict[int, str]:
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
    spans = []
    for index in chosen:
        start, end = words[index]
        if own_span and end - start >= own_span:  # widened, it would reach into the
            spans.append((start, end))  # neighbours: at a change, the other voice
            continue
        pad = max(0.0, (min_window - (end - start)) / 2)
        spans.append((max(0.0, start - pad), min(duration, end + pad)))
    scores = model.embed_windows(samples, spans) @ matrix.T
    moved: dict[int, str] = {}
    for row, index in enumerate(chosen):
        current = speaker_at(diarisation.turns, *words[index])
        if current is None or current not in prints:
            continue
        best = int(np.argmax(scores[row]))
        if names[best] != current and (scores[row][best]
                                       - scores[row][names.index(current)]) >= margin:
            moved[index] = names[best]
    return moved


def apply(diarisation: Diarisation, words: Sequence[tuple[float, float]],
          moved: dict[int, str]) -> Diarisation:
    """Turns with each moved word's span given to its new speaker. Where the span
    shares time with a neighbouring word that does not move with it (in an overlap two
    people's words share the same time), the new edge is the middle of the shared time,
    so that each of the two words keeps most of its span on its own speaker."""
    turns = list(diarisation.turns)
    for index, speaker in sorted(moved.items()):
        start, end = shared_edges(words, index, moved, diarisation.turns)
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
                 turns: Sequence[SpeakerTurn] = ()) -> tuple[float, float]:
    """Word ``index``'s span, each end pulled to the middle of the time it shares with an
    overlapping word that stays on another speaker (a word holding the whole span is
    left alone: no edge gives both words most of their time)."""
    start, end = words[index]
    left, right = start, end
    for other, (a, b) in enumerate(words):
        if other == index or b <= start or a >= end:
            continue
        if moved.get(other, speaker_at(turns, a, b)) == moved[index]:
            continue  # it goes to the same speaker: no edge between them
        if a <= start < b < end:  # the other word starts first and ends inside this one
            left = max(left, (start + b) / 2)
        elif start < a < end <= b:  # it starts inside this one and ends after it
            right = min(right, (a + end) / 2)
    return (left, right) if left < right else (start, end)


def refine(diarisation: Diarisation, words: Sequence[tuple[float, float]],
           samples: npt.NDArray[np.float32], model: VoiceModel, **options: float,
           ) -> Diarisation:
    """``reassign`` then ``apply``: the pipeline's one call."""
    return apply(diarisation, words, reassign(words, diarisation, samples, model, **options))


def check_boundaries(samples: npt.NDArray[np.float32], diarisation: Diarisation,
                     words: Sequence[object], settings: dict | None,
                     models_dir: object) -> Diarisation:
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
    return refine(diarisation, spans, samples, model)
