"""Benchmark: ``verbatim batch`` throughput, local processes against a loopback Dask cluster.

Eight interviews of real voices (``../shared/audio`` clips joined with short
silences, resampled to 16 kHz mono, each a different order) are transcribed
three ways, each into a fresh study with ``verbatim batch --pending``:
local with 1 process (all cores to it), local with 2 processes (1 thread
each), and a TLS Dask cluster on loopback with 2 single-threaded workers
(scheduler and workers started here, warm before the clock starts, as a lab
server's would be). Reported: audio hours per hour for each, from the
runner's own clock (first submission to last save) and from the whole
command (start-up, model check and connection included), and Dask's
overhead against local with the same number of workers (target <= 1.05).

    nice .venv/bin/python bench/batch.py [--interviews 8] [--minutes 5] [--model tiny.en]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.fixtures.dask_cluster import loopback_cluster  # noqa: E402

RATE = 16000
CLIPS = ("jfk.flac", "2412-153948-0000.flac", "ES2011a.Headset-0-40s-46s.wav",
         "stereo_diarization.wav", "apollo11.mp3")
TARGET_OVERHEAD = 1.05
SUMMARY = re.compile(r"(\d+) saved.*?of audio in (\d+):(\d\d):(\d\d)")


def _shared(name: str) -> Path:
    """../shared/NAME beside the checkout (main) or two levels up (a work tree)."""
    for base in (REPO.parent, REPO.parent.parent):
        if (base / "shared" / name).is_dir():
            return base / "shared" / name
    return REPO.parent / "shared" / name


def _clips(audio_dir: Path) -> list[np.ndarray]:
    import soxr

    clips = []
    for name in CLIPS:
        path = audio_dir / name
        if not path.is_file():
            continue
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
        mono = data.mean(axis=1)
        clips.append(soxr.resample(mono, rate, RATE).astype(np.float32) if rate != RATE
                     else mono)
    pyannote_sample = _pyannote_sample()
    if pyannote_sample is not None:
        clips.append(pyannote_sample)
    if not clips:
        raise SystemExit(f"no real speech clips in {audio_dir}")
    return clips


def _pyannote_sample() -> np.ndarray | None:
    try:
        import pyannote.audio
    except ImportError:
        return None
    path = Path(pyannote.audio.__file__).parent / "sample" / "sample.wav"
    if not path.is_file():
        return None
    data, rate = sf.read(str(path), dtype="float32")
    return data if rate == RATE else None


def make_interviews(folder: Path, clips: list[np.ndarray], count: int,
                    minutes: float) -> list[Path]:
    """``count`` WAVs of ``minutes`` each: the clips in a different shuffled order each."""
    rng = np.random.default_rng(17)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(1, count + 1):
        parts: list[np.ndarray] = []
        total = 0
        while total < minutes * 60 * RATE:
            for index in rng.permutation(len(clips)):
                gap = np.zeros(int(rng.uniform(0.4, 2.0) * RATE), dtype=np.float32)
                parts += [clips[index], gap]
                total += len(clips[index]) + len(gap)
        audio = np.concatenate(parts)[: int(minutes * 60 * RATE)]
        path = folder / f"interview-{n}.wav"
        sf.write(str(path), audio, RATE, subtype="PCM_16")
        paths.append(path)
    return paths


def make_study(folder: Path, recordings: list[Path]) -> Path:
    from verbatim.study import Study

    study_dir = folder / "study"
    with Study.init(study_dir) as study:
        for n, path in enumerate(recordings, start=1):
            study.add_participant(f"P{n}")
            study.add_interview(f"P{n}", path)
    return study_dir


def run(label: str, study_dir: Path, models: Path, flags: list[str],
        audio_seconds: float) -> dict[str, float | str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "VERBATIM_MODELS": str(models),
           "VERBATIM_STUDY": str(study_dir)}
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "verbatim", "batch", "--pending", *flags],
                            capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
    command_seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{label} failed:\n{result.stderr}")
    match = SUMMARY.search(result.stderr)
    if match is None:
        raise SystemExit(f"{label}: no summary in\n{result.stderr}")
    hours, mins, secs = (int(g) for g in match.groups()[1:])
    batch_seconds = hours * 3600 + mins * 60 + secs
    row: dict[str, float | str] = {
        "run": label, "saved": int(match.group(1)), "audio_s": round(audio_seconds, 1),
        "batch_s": batch_seconds, "command_s": round(command_seconds, 1),
        "audio_h_per_h": round(audio_seconds / batch_seconds, 2),
        "audio_h_per_h_command": round(audio_seconds / command_seconds, 2)}
    print(f"{label:<22} {row['audio_h_per_h']:>6} audio h/h (batch clock {batch_seconds} s), "
          f"{row['audio_h_per_h_command']:>6} with start-up ({row['command_s']} s)", flush=True)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interviews", type=int, default=8)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--diarize", default="none")
    parser.add_argument("--models", type=Path, default=_shared("models"))
    parser.add_argument("--audio", type=Path, default=_shared("audio"))
    args = parser.parse_args()
    common = ["--model", args.model, "--diarize", args.diarize]
    with tempfile.TemporaryDirectory(prefix="verbatim-bench-batch-") as tmp:
        root = Path(tmp)
        recordings = make_interviews(root / "audio", _clips(args.audio), args.interviews,
                                     args.minutes)
        audio_seconds = args.interviews * args.minutes * 60
        print(f"{args.interviews} interviews x {args.minutes:g} min of real voices "
              f"({audio_seconds / 3600:.2f} h), {args.model}, diarize {args.diarize}, "
              f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}", flush=True)
        rows = [run("local, 1 process", make_study(root / "l1", recordings), args.models,
                    [*common, "--local", "1"], audio_seconds),
                run("local, 2 processes", make_study(root / "l2", recordings), args.models,
                    [*common, "--local", "2"], audio_seconds)]
        with loopback_cluster(root / "dask", args.models, workers=2) as cluster:
            rows.append(run("dask TLS, 2 workers", make_study(root / "d2", recordings),
                            args.models, [*common, "--scheduler", cluster.address,
                                          *cluster.tls_flags(), "--threads", "1"],
                            audio_seconds))
    local2, dask2 = rows[1], rows[2]
    overhead = float(dask2["batch_s"]) / float(local2["batch_s"])
    overhead_command = float(dask2["command_s"]) / float(local2["command_s"])
    verdict = "meets" if overhead <= TARGET_OVERHEAD else "misses"
    print(f"Dask overhead against local, 2 workers each: {overhead:.3f} (batch clock), "
          f"{overhead_command:.3f} (whole command); {verdict} the target <= {TARGET_OVERHEAD}")
    print(json.dumps({"rows": rows, "dask_overhead": round(overhead, 3),
                      "dask_overhead_command": round(overhead_command, 3)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
