"""Speakers on real voices, every diariser, from one run (issue 15).

For each diariser (``embedding`` with CAM++ and with GE2E, ``pyannote`` with
all-real weights: segmentation-3.0 + CAM++ and + GE2E, ``channels`` where a file
has one voice per channel) and each case, prints DER (no collar), the share of
words on the right speaker, the speakers found against the truth, and the
diarisation real-time factor (wall seconds / audio seconds, and CPU seconds per
audio second, which a busy shared machine inflates less). Where the truth has word
times, ``+chk`` is the share of words on the right speaker after the pipeline's
boundary re-check (``transcribe.diarize.boundaries``, run on the truth's word spans as
the pipeline runs it on the ASR's), ``chkRTF`` its cost, and ``best`` what any diariser
of exclusive turns could reach: the truth itself with each overlap split at its best
point (in an overlap two people's words share the same time, and an exclusive turn can
give that time to one of them only).

Cases, all real human speech:
- the real-voice meetings of ``tests/fixtures/real_voices.py``: 2, 3, 4 and 6 real
  speakers joined with silences and, at every third change, 0.5 s of overlap
  (seeds 0 and 1), and two-speaker ones without overlap (an interview);
- every real multi-speaker file in ../shared/audio: the AMI meeting cut (truth from
  ami_cuts.json), stereo_diarization.wav mixed to mono (truth: each channel's
  speech), apollo11.mp3 (no truth: speakers found only);
- pyannote's sample.wav (sample.rttm; words from sample.stm spread evenly over each
  segment).
Then the RTF on all meetings laid end to end (about 4 minutes).

Usage: .venv/bin/python bench/diarise.py [--models DIR] [--quick] [--seeds N ...]
(default: the store `make setup` provisioned; it must hold campplus-cn-en/,
pyannote-segmentation-3.0/ and ge2e-voice-encoder/;
--quick: seed 0 only, no GE2E rows)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import transcribe  # noqa: E402,F401  (privacy env before pyannote loads)
from tests.fixtures import real_voices  # noqa: E402
from tests.fixtures.diarise_scoring import der, read_rttm, word_speaker_accuracy  # noqa: E402
from transcribe.audio import Audio, load_audio  # noqa: E402
from transcribe.diarize.registry import diarise  # noqa: E402


@dataclass
class Case:
    name: str
    audio: Audio
    turns: list[tuple[float, float, str]] | None
    words: list[tuple[str, float, float, str]] | None
    speakers: int | None
    overlaps: list[tuple[float, float]] | None = None


def exclusive_best(case: Case) -> float | None:
    """Words on the right speaker for the truth made exclusive, each overlap split at the
    point (10 ms grid) that keeps most words right: the ceiling of exclusive turns."""
    if not case.words or not case.turns or case.overlaps is None:
        return None
    turns: list[list[Any]] = [list(t) for t in sorted(case.turns)]
    for start, end in case.overlaps:
        ending = next((t for t in turns if t[0] < start < t[1] + 1e-6), None)
        starting = next((t for t in turns if abs(t[0] - start) < 1e-3), None)
        if ending is None or starting is None:
            continue
        was = ending[1]
        scores = []
        for split in np.arange(start, end + 1e-6, 0.01):
            ending[1], starting[0] = min(was, split), split
            scores.append((word_speaker_accuracy(case.words, case.turns,
                                                 [tuple(t) for t in turns]), -split))
        best_split = -max(scores)[1]
        ending[1], starting[0] = min(was, best_split), best_split
    return word_speaker_accuracy(case.words, case.turns, [tuple(t) for t in turns])


def checked(result: Any, case: Case, settings: dict[str, Any], models: Path,
            ) -> tuple[Any, float]:
    """The pipeline's boundary re-check on the truth's word spans, and its wall time."""
    from types import SimpleNamespace

    from transcribe.diarize.boundaries import check_boundaries

    words = [SimpleNamespace(start=s, end=e) for _, s, e, _ in case.words or ()]
    clock = time.perf_counter()
    out = check_boundaries(case.audio.mono, result, words, settings, models)
    return out, time.perf_counter() - clock


def _spread(segments: list[tuple[float, float, str, str]]) -> list[tuple[str, float, float, str]]:
    """Words of (start, end, speaker, text) segments, spread evenly over each segment."""
    words = []
    for start, end, speaker, text in segments:
        tokens = text.split()
        step = (end - start) / max(1, len(tokens))
        words += [(w, start + i * step, start + (i + 1) * step, speaker)
                  for i, w in enumerate(tokens)]
    return words


def real_files() -> list[Case]:
    audio_dir, sample = real_voices.AUDIO, real_voices.sample_dir()
    cases = []
    truth = read_rttm(sample / "sample.rttm")
    stm = [line.split(maxsplit=6) for line in (sample / "sample.stm").read_text().splitlines()
           if line.strip() and not line.startswith(";;")]
    segments = [(float(p[3]), float(p[4]), p[2], p[6] if len(p) > 6 else "")
                for p in stm if len(p) >= 5]
    # the transcript names the callers, the RTTM numbers them: pair them by overlap
    names = {name: max({t[2] for t in truth}, key=lambda label: sum(
        max(0.0, min(b, t[1]) - max(a, t[0])) for a, b, n, _ in segments if n == name
        for t in truth if t[2] == label)) for name in {seg[2] for seg in segments}}
    words = _spread([(a, b, names[n], text) for a, b, n, text in segments])
    cases.append(Case("pyannote sample.wav", load_audio(sample / "sample.wav"), truth,
                      words or None, 2))
    cut = json.loads((audio_dir / "ami_cuts.json").read_text())[0]
    segments = [(s["start"], s["start"] + s["duration"], s["speaker"], s["text"])
                for s in cut["supervisions"]]
    cases.append(Case("AMI ES2011a 6 s", load_audio(audio_dir / cut["recording"]["id"]),
                      [(a, b, who) for a, b, who, _ in segments], _spread(segments), 2))
    stereo = load_audio(audio_dir / "stereo_diarization.wav")
    from transcribe.diarize.embedding import speech_regions

    turns = [(a, b, f"ch{c}") for c in (0, 1)
             for a, b in speech_regions(stereo.samples[c], sample_rate=stereo.sample_rate)]
    cases.append(Case("stereo_diarization (mono mix)", stereo, turns, None, 2))
    cases.append(Case("apollo11 (no truth)", load_audio(audio_dir / "apollo11.mp3"),
                      None, None, None))
    return cases


def meetings(seeds: tuple[int, ...]) -> list[Case]:
    cases = []
    for count in (2, 3, 4, 6):
        for seed in seeds:
            m = real_voices.make_mixture(count, seed=seed)
            cases.append(Case(f"meeting {count} voices s{seed}", m.audio(), m.turns, m.words,
                              count, m.overlaps))
    for seed in seeds:
        m = real_voices.make_mixture(2, seed=seed, overlap_every=10**6)
        cases.append(Case(f"interview 2 voices s{seed}, no overlap", m.audio(), m.turns,
                          m.words, 2, m.overlaps))
    return cases


def run(mode: str, settings: dict[str, Any], case: Case, models: Path,
        ) -> tuple[Any, float, float]:
    clock, cpu = time.perf_counter(), time.process_time()
    result = diarise(case.audio, mode=mode, settings=settings, models_dir=models)
    return result, time.perf_counter() - clock, time.process_time() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    from verbatim.config import default_models_dir

    parser.add_argument("--models", type=Path,  # the store `make setup` provisioned
                        default=Path(os.environ.get("VERBATIM_TEST_MODELS")
                                     or default_models_dir()))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seeds", type=int, nargs="+", default=None,
                        help="mixture seeds (default 0 1; --quick: 0)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    models = args.models
    diarisers = [("embedding CAM++", "embedding", {"voice_model": "campplus"}),
                 ("pyannote seg-3.0+CAM++", "pyannote", {}),
                 ("embedding GE2E", "embedding", {"voice_model": "ge2e"}),
                 ("pyannote seg-3.0+GE2E", "pyannote", {"embedding": "ge2e"})]
    if args.quick:
        diarisers = diarisers[:2]
    seeds = tuple(args.seeds or ((0,) if args.quick else (0, 1)))
    cases = meetings(seeds) + real_files()
    for _, mode, settings in diarisers:  # load every model once before timing anything
        run(mode, settings, cases[0], models)
    print(f"models: {models}; machine: {os.cpu_count()} cores, load "
          f"{os.getloadavg()[0]:.1f} (shared: read RTF as an upper bound)\n")
    started_load = os.getloadavg()[0]
    print(f"{'case':<34} {'diariser':<24} {'spk':>5} {'words':>6} {'+chk':>6} {'best':>6} "
          f"{'DER':>6} {'RTF':>6} {'cpu/s':>6} {'chkRTF':>6}")
    totals: dict[str, list[float]] = {}
    for case in cases:
        ceiling = exclusive_best(case)
        best = f"{ceiling:.3f}" if ceiling is not None else "-"
        for label, mode, settings in diarisers:
            result, wall, cpu = run(mode, settings, case, models)
            found = len(result.speakers)
            count = f"{found}/{case.speakers}" if case.speakers else f"{found}/?"
            words = (f"{word_speaker_accuracy(case.words, case.turns, result.turns):.3f}"
                     if case.words and case.turns else "-")
            after, check_wall = checked(result, case, settings, models)
            rechecked = (f"{word_speaker_accuracy(case.words, case.turns, after.turns):.3f}"
                         if case.words and case.turns else "-")
            error = f"{der(case.turns, result.turns):.3f}" if case.turns else "-"
            totals.setdefault(label, [0.0, 0.0, 0.0])
            totals[label][0] += wall
            totals[label][1] += cpu
            totals[label][2] += case.audio.duration
            print(f"{case.name:<34} {label:<24} {count:>5} {words:>6} {rechecked:>6} {best:>6} "
                  f"{error:>6} {wall / case.audio.duration:6.3f} "
                  f"{cpu / case.audio.duration:6.3f} {check_wall / case.audio.duration:6.3f}",
                  flush=True)
        if case.name.startswith("stereo"):
            result, wall, cpu = run("channels", {}, case, models)
            print(f"{case.name:<34} {'channels':<24} {len(result.speakers)}/2 {'-':>6} "
                  f"{'-':>6} {'-':>6} {der(case.turns, result.turns):6.3f} "
                  f"{wall / case.audio.duration:6.3f} {cpu / case.audio.duration:6.3f}")

    print("\nall cases, per diariser: RTF = total wall / total audio")
    for label, (wall, cpu, seconds) in totals.items():
        print(f"  {label:<24} RTF {wall / seconds:.3f}  cpu/s {cpu / seconds:.3f}  "
              f"({seconds:.0f} s of audio)")
    long = Audio(np.concatenate([c.audio.mono for c in cases
                                 if c.name.startswith(("meeting", "interview"))])[None])
    print(f"\nall meetings end to end ({long.duration:.0f} s), one run each:")
    for label, mode, settings in diarisers:
        result, wall, cpu = run(mode, settings, Case("long", long, None, None, None), models)
        print(f"  {label:<24} RTF {wall / long.duration:.3f}  cpu/s {cpu / long.duration:.3f}"
              f"  speakers {len(result.speakers)}", flush=True)
    print(f"\nload average: {started_load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
