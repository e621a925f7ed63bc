"""The one hand-built fixture document every golden file is made from.

It holds every kind of mark (pause in a turn at each length, a between-speaker
gap, overlap, cut-off, stutter, inaudible, a non-verbal sound and a manner of
speaking, an unsure word), both mark sources, two speakers and a reflexive note. The words
follow the paper's Extract 1 and Extract 6.
"""

from __future__ import annotations

from transcript.model import (
    AudioRef,
    Extract,
    Mark,
    MarkKind,
    Note,
    Source,
    Speaker,
    Transcript,
    Word,
)

IV, P = "S1", "S2"

_WORDS = [
    ("so", 0.0, 0.2, IV), ("what", 0.25, 0.45, IV), ("was", 0.5, 0.65, IV),
    ("that", 0.7, 0.9, IV), ("like", 0.95, 1.15, IV), ("for", 1.2, 1.35, IV),
    ("you?", 1.4, 1.7, IV),
    ("for", 2.9, 3.1, P), ("me,", 3.1, 3.4, P), ("it's", 3.5, 3.8, P),
    ("that", 3.85, 4.0, P), ("it's", 4.6, 4.9, P), ("that", 4.95, 5.1, P),
    ("dual", 5.15, 5.4, P), ("edge", 5.45, 5.8, P), ("thing", 7.3, 7.6, P),
    ("about", 8.1, 8.4, P), ("what", 8.45, 8.6, P), ("we", 8.65, 8.75, P),
    ("do", 8.8, 9.1, P), ("and", 12.5, 12.7, P), ("it", 12.85, 13.2, P),
    ("was", 13.25, 13.4, P), ("a", 13.45, 13.5, P), ("bad", 13.55, 13.8, P),
    ("thing", 13.85, 14.2, P), ("but", 15.6, 15.8, P), ("sometimes", 15.85, 16.3, P),
    ("you're", 16.35, 16.6, P), ("so", 16.65, 16.8, P), ("busy", 16.85, 17.2, P),
    ("mm", 17.0, 17.4, IV),
    ("about", 17.5, 17.8, P), ("the", 17.85, 17.95, P), ("care", 18.0, 18.3, P),
    ("plans", 18.35, 18.9, P),
]


def fixture_document() -> Transcript:
    """Two speakers, every mark kind, one note: the source of every golden file."""
    words = tuple(Word(t, s, e, who, 0.6 if t == "mm" else 0.93) for t, s, e, who in _WORDS)
    marks = (
        Mark(MarkKind.PAUSE, 1.7, 2.9, None, "", Source.AUTO),        # gap between speakers
        Mark(MarkKind.CUTOFF, 3.85, 4.0, P, "th", Source.HUMAN),       # th-
        Mark(MarkKind.PAUSE, 4.0, 4.6, P, "", Source.AUTO),            # ..
        Mark(MarkKind.PAUSE, 5.8, 7.3, P, "", Source.AUTO),            # …
        Mark(MarkKind.PAUSE, 7.6, 8.1, P, "", Source.AUTO),            # ..
        Mark(MarkKind.PAUSE, 9.1, 12.5, P, "", Source.AUTO),           # ….
        Mark(MarkKind.STUTTER, 12.85, 13.2, P, "", Source.HUMAN),      # i-i-it
        Mark(MarkKind.INAUDIBLE, 14.3, 15.0, P, "", Source.HUMAN),     # [  ]
        Mark(MarkKind.TONE, 15.0, 15.5, P, "laughs", Source.HUMAN),    # [laughs]
        Mark(MarkKind.TONE, 15.6, 16.8, P, "quietly", Source.AUTO),    # (quietly)
        Mark(MarkKind.OVERLAP, 16.85, 17.4, None, "", Source.AUTO),    # [busy] / [mm]
        Mark(MarkKind.INAUDIBLE, 18.0, 18.3, P, "care", Source.AUTO),  # an unsure word: [care?]
    )
    note = Note(3.5, 9.1, "after", "the dual edge: his voice dropped",
                "I felt uneasy about my own role",
                "my clinical identity carries the same tension",
                "2026-11-26T10:00:00Z")
    return Transcript(
        audio=AudioRef(path="audio/P4-1.wav", sha256="ab" * 32, duration=19.0),
        speakers=(Speaker(IV, "Interviewer"), Speaker(P, "P4")),
        words=words, marks=marks, notes=(note,),
    )


def fixture_extract() -> Extract:
    return Extract(number=1, interview="P4-1", participant="P4", role="Social Worker",
                   first=2, last=3, text="for me, it's th- .. it's that dual edge …",
                   analysis="Caregiving as the core of the clinician position.")


_VOCAB = ("i", "think", "it's", "the", "service", "users", "we", "were", "really", "about",
          "care", "plan", "you", "know", "team", "and", "that", "was", "quite", "difficult",
          "peer", "worker", "meeting", "discharge", "risk", "felt", "like", "um", "so", "but",
          "partnership", "clinician", "supervision", "sessions", "anxious", "medication")
_TONES = ("laughs", "sighs", "quietly", "pause for thought", "slowly")


def synthetic_document(n_words: int = 20_000, *, seed: int = 0) -> Transcript:
    """A long interview built by rule: alternating turns, pauses and every mark kind.

    20,000 words come to about two hours of talk. Used by the benchmark and by
    tests that need many lines (Word's own numbering against the printed one).
    """
    import random

    rng = random.Random(seed)
    words: list[Word] = []
    marks: list[Mark] = []
    notes: list[Note] = []
    t = 0.5
    speaker = IV
    while len(words) < n_words:
        turn_len = rng.randint(4, 20) if speaker == IV else rng.randint(30, 220)
        for _ in range(min(turn_len, n_words - len(words))):
            duration = rng.uniform(0.12, 0.27)
            text = rng.choice(_VOCAB)
            words.append(Word(text, round(t, 3), round(t + duration, 3), speaker,
                              round(rng.uniform(0.4, 1.0), 3)))
            start, t = t, t + duration
            roll = rng.random()
            if roll < 0.02:
                marks.append(Mark(MarkKind.CUTOFF, round(start, 3), round(t, 3), speaker,
                                  text[:2]))
            elif roll < 0.03:
                marks.append(Mark(MarkKind.STUTTER, round(start, 3), round(t, 3), speaker))
            elif roll < 0.035:
                marks.append(Mark(MarkKind.TONE, round(start, 3), round(t, 3), speaker,
                                  rng.choice(_TONES), Source.HUMAN))
            gap = rng.choice((0.05, 0.08, 0.1, 0.12, 0.5, 1.4, 3.5)) if rng.random() < 0.12 \
                else rng.uniform(0.03, 0.12)
            if gap >= 0.3:
                marks.append(Mark(MarkKind.PAUSE, round(t, 3), round(t + gap, 3), speaker))
            elif rng.random() < 0.004:
                marks.append(Mark(MarkKind.INAUDIBLE, round(t, 3), round(t + 0.6, 3), speaker))
                gap = 0.7
            t += gap
        gap = rng.uniform(0.2, 1.8)
        marks.append(Mark(MarkKind.PAUSE, round(t, 3), round(t + gap, 3), None))
        if rng.random() < 0.1 and words:
            marks.append(Mark(MarkKind.OVERLAP, round(t - 0.4, 3), round(t + 0.2, 3), None))
        t += gap
        if len(notes) < int(t // 600):
            notes.append(Note(round(t - 30, 3), round(t - 5, 3), "after", "a moment",
                              "a response", "an understanding", "2026-11-26T10:00:00Z"))
        speaker = P if speaker == IV else IV
    return Transcript(
        audio=AudioRef(path="audio/P4-1.wav", sha256="cd" * 32, duration=round(t, 3)),
        speakers=(Speaker(IV, "Interviewer"), Speaker(P, "P4")),
        words=tuple(words), marks=tuple(marks), notes=tuple(notes),
    )
