"""Diarisation speed levers of the pyannote path (issue 8): tuned vs default, ONNX.

The speakers report of issue 15 (every diariser on real voices) is bench/diarise.py.

Prints, on >= 5 minutes of two-speaker audio (synthetic interviews laid end to
end, same two voices throughout):
- real-time factor (seconds of compute per second of audio) of pyannote with
  its default settings, of the tuned pyannote path (torch and ONNX
  segmentation), of ``embedding`` and of ``channels``. pyannote runs the
  community-1 architecture with random weights: its cost does not depend on
  the weights. The machine is shared, so compare ratios within one run.
- the accuracy guard: DER of default vs tuned pyannote with the real weights
  available here (segmentation-3.0 ONNX, or the 2022 segmentation checkpoint;
  GE2E as the speaker embedding because WeSpeaker's weights are gated), on
  pyannote's sample.wav and on the long synthetic interview.

Usage: .venv/bin/python bench/diarise_levers.py [--minutes 5] [--models DIR] [--quick]
(--quick: 2 minutes of audio and no 2022-model guard, for a smoke run)
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import transcribe  # noqa: E402,F401  (privacy env before pyannote loads)
from tests.fixtures.diarise_scoring import der, read_rttm, word_speaker_accuracy  # noqa: E402
from tests.fixtures.pyannote_pipeline import build_pipeline_folder  # noqa: E402
from tests.fixtures.synth import make_interview  # noqa: E402
from transcribe.audio import Audio  # noqa: E402
from transcribe.diarize import embedding  # noqa: E402
from transcribe.diarize import pyannote_backend as backend  # noqa: E402

SAMPLE = Path(__import__("pyannote.audio").audio.__file__).parent / "sample"


def _load(path: Path) -> Audio:
    samples, rate = sf.read(path, dtype="float32", always_2d=True)
    return Audio(samples.T.copy(), rate, str(path))


def long_interview(minutes: float, *, channels: int) -> tuple[Audio, list, list]:
    """Synthetic interviews (seeds 0, 1, ...) end to end until ``minutes`` long."""
    parts, turns, words, offset, seed = [], [], [], 0.0, 0
    while offset < minutes * 60:
        interview = make_interview(channels=channels, seed=seed)
        audio = _load(interview.path)
        parts.append(audio.samples)
        turns += [(s + offset, e + offset, who) for s, e, who in interview.turns]
        words += [(w, s + offset, e + offset, who) for w, s, e, who in interview.words]
        offset += audio.duration
        seed += 1
    return Audio(np.concatenate(parts, axis=1)), turns, words


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--models", type=Path, default=REPO.parent / "shared" / "models")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    minutes = 2.0 if args.quick else args.minutes
    models = args.models
    onnx = models / "pyannote-segmentation-3.0-onnx" / "segmentation-3.0.onnx"
    seg2022 = models / "pyannote-segmentation-2022" / "pytorch_model.bin"
    ge2e = models / "ge2e-voice-encoder" / "pretrained.pt"

    mono, truth, words = long_interview(minutes, channels=1)
    stereo, _, _ = long_interview(minutes, channels=2)
    duration = mono.duration
    print(f"audio: {duration:.0f} s of two-speaker synthetic interview "
          f"({len(truth)} turns); machine shared: compare ratios within this run")

    community = build_pipeline_folder(layout="community-1")
    legacy = build_pipeline_folder(layout="3.1")
    rows: list[tuple[str, float, dict]] = []

    def speed(name: str, function, audio: Audio, **kwargs) -> object:
        result, seconds = timed(function, audio, **kwargs)
        rtf = seconds / audio.duration
        rows.append((name, rtf, getattr(result, "timings", {})))
        stages = ", ".join(f"{k} {v:.1f}s" for k, v in getattr(result, "timings", {}).items())
        print(f"  {name:<44} RTF {rtf:6.3f}  (1 h -> {rtf * 60:5.1f} min)  [{stages}]",
              flush=True)
        return result

    print("\nspeed (RTF = compute seconds / audio seconds; target: tuned <= 0.2, "
          "embedding <= 0.1)")
    speed("pyannote default (community-1, random init)", backend.diarise, mono,
          settings={"pyannote_pipeline": str(community), "tuned": False}, models_dir=models)
    speed("pyannote tuned, shipped settings", backend.diarise, mono,
          settings={"pyannote_pipeline": str(community)}, models_dir=models)
    speed("  lever off: torch instead of onnxruntime", backend.diarise, mono,
          settings={"pyannote_pipeline": str(community), "segmentation_onnx": "off",
                    "embedding_onnx": False}, models_dir=models)
    speed("  lever: segmentation_step 0.5", backend.diarise, mono,
          settings={"pyannote_pipeline": str(community), "segmentation_step": 0.5},
          models_dir=models)
    emb = speed("embedding (GE2E)", embedding.diarise, mono, models_dir=models)
    try:
        from transcribe.diarize.channels import diarise_channels

        speed("channels (2-channel recording)", diarise_channels, stereo)
    except ImportError:
        print("  channels: transcribe.diarize.channels not available")
    default_rtf, tuned_rtf = rows[0][1], rows[1][1]
    print(f"  speed-up tuned vs default: {default_rtf / tuned_rtf:.1f}x")
    print(f"  embedding on this audio: DER {der(truth, emb.turns):.3f}, words on the right "
          f"speaker {word_speaker_accuracy(words, truth, emb.turns):.3f}")

    print("\naccuracy guard: DER default vs tuned, real weights, GE2E embedding "
          "(target: tuned no more than 0.010 worse)")
    sample = _load(SAMPLE / "sample.wav")
    sample_truth = read_rttm(SAMPLE / "sample.rttm")
    guards = []
    if onnx.is_file() and ge2e.is_file():
        guards.append(("segmentation-3.0 ONNX", legacy, {"segmentation_onnx": str(onnx)}))
    if seg2022.is_file() and ge2e.is_file() and not args.quick:
        guards.append(("segmentation 2022 (torch)",
                       build_pipeline_folder(layout="3.1", segmentation=seg2022), {}))
    worst = -1.0
    for label, folder, extra in guards:
        for name, audio, reference, hint in (("sample.wav", sample, sample_truth, None),
                                             ("sample.wav --speakers 2", sample, sample_truth, 2),
                                             ("synthetic", mono, truth, None)):
            scores = []
            for tuned in (False, True):
                settings = {"pyannote_pipeline": str(folder), "tuned": tuned,
                            "embedding": "ge2e", "embedding_model": str(ge2e), **extra}
                result, seconds = timed(backend.diarise, audio, num_speakers=hint,
                                        settings=settings, models_dir=models)
                scores.append((der(reference, result.turns), len(result.speakers),
                               seconds / audio.duration))
            (d0, n0, r0), (d1, n1, r1) = scores
            worst = max(worst, d1 - d0)
            print(f"  {label:<26} {name:<24} default DER {d0:.3f} ({n0} spk, RTF {r0:.2f})"
                  f"  tuned DER {d1:.3f} ({n1} spk, RTF {r1:.2f})  diff {d1 - d0:+.3f}",
                  flush=True)
    if guards:
        print(f"  worst DER change tuned - default: {worst:+.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
