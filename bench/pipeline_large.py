"""Large models on this machine: our pipeline against faster-whisper's plain call.

For each architecture (large-v3-turbo, distil-large-v3; random weights of the
published shape, see bench/whisper_arch.py) and on the same few minutes of real
speech built from ``../shared/audio``, in one run, each in a fresh process
(so its peak resident memory is its own):

- ``ours``: ``transcribe_file`` as a user gets it (the VAD's speech packed into
  30 s windows with long pauses shortened, decoded batched, verbatim prompt, int8,
  the product's beam), diarisation ``none`` (the plain call does none either);
- ``plain-b1`` / ``plain-b5``: ``WhisperModel.transcribe(path, vad_filter=True,
  word_timestamps=True, beam_size=1|5)``, the settings noScribe and aTrain use.

Fairness with random weights, the same on both sides: every decode is capped at
``TOKENS_PER_SECOND`` new tokens per second of audio it hears (30 s windows: 90);
the plain call's temperature fallback and our loop/second-reading guard are both
turned off (random text would set them off on every window; a real model rarely
does), and so is our pass that re-decodes speech no word touches (random word
times leave most speech "untouched": 14 extra windows, 504 of 717 s, measured).
Wall time on this shared machine follows the load; CPU time is printed beside it.
Model loading is timed apart and left out of the real-time factor.

Measured (session 4, 180 s of which the VAD finds 114.5 s speech, CPU seconds
under load 3-7): the encoder is nearly all of the cost, 14.5-17 CPU s per 30 s
window whatever the beam, so the figure that matters is the window count.
Before packing ours took 7 windows (the pauses inside each chunk were decoded)
against the plain call's 6-7 (its own VAD joins speech too) and was no faster
(turbo 0.96x / 0.93x vs plain b1 / b5 in CPU time); packed it takes 5: turbo
1.49x / 1.35x, distil 1.14x / 1.20x. Threads 2 instead of CTranslate2's 4: the
same CPU time (turbo 1.37x / 1.34x); ``--group 4``: 81.5 CPU s against 76 and
peak 2011 MB against 1633 MB. 2x against the plain call's 7 windows would need
3.5 here, and 114.5 s of speech fills at least 4: against a plain call that
skips silence too, what is left to gain is in how tightly speech is packed, not
in decoding.

    nice .venv/bin/python bench/pipeline.py --large [--minutes 3] [--arch turbo,distil]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TOKENS_PER_SECOND = 3.0
AUDIO = next((p / "shared" / "audio" for p in (REPO.parent, REPO.parent.parent)
              if (p / "shared" / "audio").is_dir()), REPO.parent / "shared" / "audio")
SPEECH_FILES = ("apollo11.mp3", "multilingual.mp3", "2412-153948-0000.flac", "jfk.flac",
                "ES2011a.Headset-0-40s-46s.wav", "stereo_diarization.wav",
                "common_voice_en_651325.mp3")
RUNS = ("ours", "ours-b1", "plain-b1", "plain-b5")  # ours-b1: our pipeline at beam 1


def real_speech(minutes: float, out: Path) -> Path:
    """The shared real recordings, mono 16 kHz, 1 s apart, looped to ``minutes``."""
    from transcribe.audio import load_audio

    path = out / f"real-speech-{minutes:g}min.wav"
    if path.exists():
        return path
    gap = np.zeros(16_000, dtype=np.float32)
    pieces = [piece for name in SPEECH_FILES if (AUDIO / name).exists()
              for piece in (load_audio(AUDIO / name).mono.astype(np.float32), gap)]
    if not pieces:
        raise SystemExit(f"no real speech in {AUDIO}")
    one = np.concatenate(pieces)
    want = int(minutes * 60 * 16_000)
    sf.write(path, np.tile(one, math.ceil(want / len(one)))[:want], 16_000, subtype="PCM_16")
    return path


def _cap_tokens() -> dict[str, int]:
    """Cap every decode at TOKENS_PER_SECOND of the audio it hears; count the calls."""
    from faster_whisper import BatchedInferencePipeline, WhisperModel

    counts = {"windows": 0, "calls": 0}
    plain, batched = WhisperModel.transcribe, BatchedInferencePipeline.transcribe
    encode = WhisperModel.encode

    def plain_call(self: Any, audio: Any, *args: Any, **kwargs: Any) -> Any:
        seconds = min(30.0, len(audio) / 16_000) if not isinstance(audio, str) else 30.0
        kwargs.setdefault("max_new_tokens", math.ceil(TOKENS_PER_SECOND * seconds))
        kwargs["temperature"] = 0.0  # no fallback: random text would always fall back
        counts["calls"] += 1
        return plain(self, audio, *args, **kwargs)

    def batched_call(self: Any, audio: Any, *args: Any, **kwargs: Any) -> Any:
        clips = kwargs.get("clip_timestamps") or []
        longest = max((c["end"] - c["start"] for c in clips), default=30.0)
        kwargs.setdefault("max_new_tokens", math.ceil(TOKENS_PER_SECOND * min(30.0, longest)))
        counts["calls"] += 1
        return batched(self, audio, *args, **kwargs)

    def counted_encode(self: Any, features: Any, *args: Any, **kwargs: Any) -> Any:
        counts["windows"] += 1 if features.ndim == 2 else int(features.shape[0])
        return encode(self, features, *args, **kwargs)

    WhisperModel.transcribe = plain_call  # type: ignore[method-assign]
    BatchedInferencePipeline.transcribe = batched_call  # type: ignore[method-assign]
    WhisperModel.encode = counted_encode  # type: ignore[method-assign]
    return counts


def _cpu() -> float:
    """CPU seconds this process has used (all its threads): unlike wall time, the same
    on a busy machine as on a quiet one."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(kind: str, model: Path, audio: Path, threads: int, beam: int | None,
          group: int | None) -> dict[str, Any]:
    """One timed run in this process; its figures as a dict."""
    from transcribe import engines, repetition
    from transcribe.privacy import block_network

    block_network()
    counts = _cap_tokens()
    clock = time.perf_counter()
    cpu_clock = 0.0
    if kind.startswith("ours"):
        beam = int(kind.removeprefix("ours-b")) if kind != "ours" else beam
        from transcribe.engines import load_engine
        from transcribe.pipeline import PipelineOptions, transcribe_file
        from transcribe.vad import _silero_model

        # random text would set the loop guard off on every chunk (see the docstring)
        engines.suspect = repetition.suspect = lambda words, seconds: False  # type: ignore[assignment]
        engines.without_loops = list  # type: ignore[assignment]
        engine = load_engine("faster-whisper", model, threads=threads)
        _silero_model()
        loaded = time.perf_counter() - clock
        # random words land anywhere in a chunk, so the pass that re-decodes speech no
        # word touches ran on most of it (measured: 14 extra windows, 504 s of 717 s)
        options = PipelineOptions(model=str(model), diarize="none", beam_size=beam,
                                  threads=threads, recover_skipped=False,
                                  **({"asr_group": group} if group else {}))
        clock, cpu_clock = time.perf_counter(), _cpu()
        doc = transcribe_file(audio, options, engine=engine)
        words, timings = len(doc.words), doc.extra["pipeline"]["timings"]
        beam_used = beam or engines.DEFAULT_BEAM["faster-whisper"]
    else:
        from faster_whisper import WhisperModel

        fw = WhisperModel(str(model), device="cpu", compute_type="int8", cpu_threads=threads)
        loaded = time.perf_counter() - clock
        beam_used = int(kind.removeprefix("plain-b"))
        clock, cpu_clock = time.perf_counter(), _cpu()
        segments, _ = fw.transcribe(str(audio), language="en", beam_size=beam_used,
                                    vad_filter=True, word_timestamps=True)
        words = sum(len(s.words or ()) for s in segments)
        timings = {}
    seconds, cpu = time.perf_counter() - clock, _cpu() - cpu_clock
    return {"kind": kind, "seconds": round(seconds, 2), "cpu": round(cpu, 1),
            "load": round(loaded, 2), "loadavg": round(os.getloadavg()[0], 2),
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
            "words": words, "beam": beam_used, "timings": timings, **counts}


def run_all(args: argparse.Namespace) -> int:
    from bench.whisper_arch import SHORT, build

    out = Path("/tmp/verbatim-bench")
    out.mkdir(parents=True, exist_ok=True)
    audio = real_speech(args.minutes, out)
    duration = sf.info(str(audio)).duration
    print(f"audio: {duration:.0f} s of real speech from {AUDIO} (looped); "
          f"{os.cpu_count()} cores; load average {os.getloadavg()}")
    print(f"cap: {TOKENS_PER_SECOND:g} new tokens per second heard, both sides; "
          "no temperature fallback, no loop guard (random weights)")
    summary = []
    for short in args.arch.split(","):
        name = SHORT.get(short, short)
        model = build(name, Path("/tmp/verbatim-arch"))
        print(f"\n== {name} (random weights, CTranslate2 int8), threads {args.threads or 'auto'}")
        results = {}
        for kind in args.runs.split(","):
            command = [sys.executable, __file__, "--child", kind, "--model", str(model),
                       "--audio", str(audio), "--threads", str(args.threads)]
            if args.beam:
                command += ["--beam", str(args.beam)]
            if args.group:
                command += ["--group", str(args.group)]
            done = subprocess.run(command, capture_output=True, text=True,
                                  env={**os.environ, "PYTHONPATH": str(REPO)})
            if done.returncode:
                print(f"  {kind}: failed\n{done.stderr[-2000:]}")
                continue
            result = json.loads(done.stdout.strip().splitlines()[-1])
            results[kind] = result
            stages = " ".join(f"{k} {v:.1f}" for k, v in result["timings"].items() if v >= 0.05)
            print(f"  {kind:<9} beam {result['beam']}  {result['seconds']:7.1f} s  "
                  f"RTF {result['seconds'] / duration:.3f}  CPU {result['cpu']:6.1f} s "
                  f"(CPU/2 cores RTF {result['cpu'] / 2 / duration:.3f})  "
                  f"peak {result['peak_mb']:5d} MB  loadavg {result['loadavg']:.1f}  "
                  f"load {result['load']:.1f} s  encoder windows {result['windows']} "
                  f"({result['cpu'] / max(1, result['windows']):.1f} CPU s each)  "
                  f"words {result['words']}" + (f"  [{stages}]" if stages else ""))
        if "ours" in results and len(results) > 1:
            ours = results["ours"]["seconds"]
            ratios = {k: r["seconds"] / ours for k, r in results.items() if k.startswith("plain")}
            print("  ours is " + ", ".join(f"{v:.2f}x faster than {k}" for k, v in ratios.items())
                  + "  (targets: RTF <= 0.5, >= 2x)")
            cpu = results["ours"]["cpu"]
            print("  in CPU time: " + ", ".join(f"{r['cpu'] / cpu:.2f}x vs {k}"
                                                for k, r in results.items() if k != "ours"))
            summary.append(f"{name}: RTF {ours / duration:.3f}, "
                           + ", ".join(f"{v:.2f}x vs {k}" for k, v in ratios.items()))
    print(f"\nload average at the end {os.getloadavg()}")
    print("summary: " + "; ".join(summary))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--arch", default="turbo,distil")
    parser.add_argument("--runs", default=",".join(RUNS))
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--beam", type=int, default=None, help="our beam (default: product's)")
    parser.add_argument("--group", type=int, default=None, help="our chunks per engine call")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--model", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--audio", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.model, args.audio, args.threads, args.beam,
                               args.group)))
        return 0
    return run_all(args)


if __name__ == "__main__":
    raise SystemExit(main())
