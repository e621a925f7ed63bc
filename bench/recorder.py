"""Benchmark: the recorder's CPU use and dropped frames while a transcription runs.

A private PulseAudio null sink plays a stereo tone; the recorder (its own
process, 48 kHz stereo PCM_24, the default settings) records the sink's
monitor twice: once on a quiet machine, once while faster-whisper tiny.en
transcribes speech in a loop on both cores (cpu_threads=2; a numpy burn on
two processes if the model is absent). Target: 0 dropped frames under load.

Printed per phase: recorder CPU (process time of all its threads / wall
time, in % of one core), dropped frames (silence the recorder had to fill,
from its sidecar), PortAudio overflow flags, discontinuities in the
recorded tone (these also count underruns of the player, which runs under
the same load), and the load's own CPU use. Ratios loaded/quiet are from the
same run, so they hold on a shared machine.

Run: .venv/bin/python bench/recorder.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.integration.pulse import PrivatePulse, missing_tools  # noqa: E402

RATE = 48000
TONE_HZ = (1000.0, 1500.0)
MODEL = REPO.parent / "shared" / "models" / "faster-whisper-tiny.en"

RECORDER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from capture.recorder import Recorder
    path, seconds = Path(sys.argv[1]), float(sys.argv[2])
    rec = Recorder(path, channels=2, rate=48000)
    rec.start()
    cpu0, wall0 = time.process_time(), time.monotonic()
    while time.monotonic() - wall0 < seconds:
        time.sleep(0.1)
        rec.latest_level(); rec.status()   # what a display does, 10 times a second
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    summary = rec.stop()
    print(json.dumps({"cpu": cpu, "wall": wall, "frames": summary.frames,
                      "dropouts": summary.dropouts,
                      "dropped_frames": round(summary.dropped_seconds * 48000)}))
""")

WHISPER_LOAD = textwrap.dedent("""
    import sys, time
    from transcribe.privacy import block_network
    block_network()
    import numpy as np, soundfile as sf
    from faster_whisper import WhisperModel
    model = WhisperModel(sys.argv[1], device="cpu", compute_type="int8", cpu_threads=2)
    try:
        import pyannote.audio, os
        sample = os.path.join(os.path.dirname(pyannote.audio.__file__), "sample", "sample.wav")
        audio, rate = sf.read(sample, dtype="float32")
        audio = audio if rate == 16000 else np.zeros(16000 * 30, np.float32)
    except Exception:
        audio = np.random.default_rng(0).standard_normal(16000 * 30).astype(np.float32) * 0.1
    print("ready", flush=True)
    while True:
        for _ in model.transcribe(audio, beam_size=5, language="en")[0]:
            pass
""")

BURN = textwrap.dedent("""
    import numpy as np
    print("ready", flush=True)
    a = np.random.default_rng(0).standard_normal((400, 400))
    while True:
        a = np.tanh(a @ a.T / 400)
""")


def start_load() -> tuple[list[subprocess.Popen[str]], str]:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    if (MODEL / "model.bin").exists():
        procs = [subprocess.Popen([sys.executable, "-c", WHISPER_LOAD, str(MODEL)], cwd=REPO,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                  env=dict(os.environ))]
        name = "faster-whisper tiny.en transcription, cpu_threads=2"
    else:
        procs = [subprocess.Popen([sys.executable, "-c", BURN], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True, env=env)
                 for _ in range(2)]
        name = "numpy burn x2 (faster-whisper model not found)"
    for proc in procs:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise SystemExit("the CPU load did not start")
    return procs, name


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a running process (and its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tone_discontinuities(path: Path) -> int:
    """Breaks in the recorded sine: x[n+1] + x[n-1] = 2 cos(w) x[n] holds for a clean tone."""
    data, rate = sf.read(path, always_2d=True)
    breaks = 0
    for channel, freq in enumerate(TONE_HZ):
        x = data[:, channel]
        k = 2 * np.cos(2 * np.pi * freq / rate)
        residual = np.abs(x[2:] + x[:-2] - k * x[1:-1])
        bad = residual > 0.02  # a clean 0.4-amplitude tone stays ~1e-6 (24-bit)
        breaks += int(np.count_nonzero(bad[1:] & ~bad[:-1]) + (1 if bad[0] else 0))
    return breaks


def record_phase(pulse: PrivatePulse, folder: Path, name: str, seconds: float) -> dict:
    path = folder / f"{name}.wav"
    out = subprocess.run([sys.executable, "-c", RECORDER, str(path), str(seconds)],
                         env=pulse.env(), cwd=REPO, capture_output=True, text=True,
                         timeout=seconds + 60)
    if out.returncode != 0:
        raise SystemExit(f"recorder failed: {out.stderr.strip()[-400:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    side = json.loads((folder / f"{name}.capture.json").read_text())
    result["overflows"] = len(side["overflows"])
    result["loadavg"] = os.getloadavg()[0]  # teammates share the machine: say how busy it was
    result["tone_breaks"] = tone_discontinuities(path)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each phase")
    args = parser.parse_args()
    missing = missing_tools()
    if missing:
        print(f"skipped: cannot start a private PulseAudio (missing {', '.join(missing)})")
        return 0
    with tempfile.TemporaryDirectory() as tmp, PrivatePulse(Path(tmp) / "pulse") as pulse:
        folder = Path(tmp)
        t = np.arange(round((3 * args.seconds + 120) * RATE)) / RATE
        tone = np.stack([0.4 * np.sin(2 * np.pi * f * t) for f in TONE_HZ], axis=1)
        player = pulse.play(tone.astype(np.float32))
        try:
            time.sleep(1.0)
            quiet = record_phase(pulse, folder, "quiet", args.seconds)
            procs, load_name = start_load()
            try:
                load_cpu0 = sum(cpu_seconds(p.pid) for p in procs)
                load_t0 = time.monotonic()
                loaded = record_phase(pulse, folder, "loaded", args.seconds)
                load_cpu = ((sum(cpu_seconds(p.pid) for p in procs) - load_cpu0)
                            / (time.monotonic() - load_t0))
            finally:
                for proc in procs:
                    proc.kill()
                    proc.wait()
        finally:
            player.kill()
            player.wait()
    print(f"recorder bench: 48 kHz stereo PCM_24, {args.seconds:.0f} s per phase, "
          f"{os.cpu_count()} cores; load: {load_name} ({100 * load_cpu:.0f}% CPU)")
    print(f"{'phase':8} {'rec CPU %':>9} {'frames':>8} {'dropped':>8} {'dropouts':>8} "
          f"{'overflows':>9} {'tone breaks':>11} {'load avg':>8}")
    for name, r in (("quiet", quiet), ("loaded", loaded)):
        print(f"{name:8} {100 * r['cpu'] / r['wall']:9.2f} {r['frames']:8d} "
              f"{r['dropped_frames']:8d} {r['dropouts']:8d} {r['overflows']:9d} "
              f"{r['tone_breaks']:11d} {r['loadavg']:8.1f}")
    ratio = (loaded["cpu"] / loaded["wall"]) / max(1e-9, quiet["cpu"] / quiet["wall"])
    print(f"recorder CPU loaded/quiet: {ratio:.2f}x")
    verdict = "met" if loaded["dropped_frames"] == 0 else "MISSED"
    print(f"target 0 dropped frames under load: {verdict} ({loaded['dropped_frames']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
