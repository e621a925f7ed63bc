"""Benchmark: what encrypting a study costs (issue 9).

1. Recording: capture's recorder writes 48 kHz stereo PCM_24 from the fake
   source (virtual time, as fast as the writer goes) into a plain folder and
   into an encrypted study (10-second segments, each sealed with age, read back
   and decrypted to verify, the plaintext deleted). Printed: CPU seconds per
   hour of audio for each, the extra CPU as % of one core during a real-time
   recording, and the ratio.
2. Opening a 2-hour transcript (20,000 words, pauses, two speakers) from the
   study: ``Study.open`` + ``transcript()`` (SQLCipher + zlib + JSON) for a
   plain and an encrypted study, interleaved, median of N. Target: encrypted
   under 10 % slower. The key agent's answer (once per command) and the
   scrypt unlock (once per session) are printed apart.

All ratios come from the same run, so they hold on a shared, loaded machine.
Run: .venv/bin/python bench/encryption.py [--seconds 120] [--repeat 21]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from capture.fake import ReplaySource
from capture.recorder import Recorder
from tests.golden.fixture import synthetic_document
from verbatim.study import Study
from verbatim.vault import agent, ops, session
from verbatim.vault import recording as sealed_recording
from verbatim.vault.keys import StudyKeys, Vault

RATE = 48_000
TARGET = 0.10
def _noise(seconds: float) -> object:
    import numpy as np

    rng = np.random.default_rng(1)
    return (0.2 * rng.standard_normal((round(seconds * RATE), 2))).astype(np.float32)


def record_cpu(folder: Path, audio: object, *, encrypted: bool) -> float:
    """Process CPU seconds (all threads) to record ``audio`` into ``folder``."""
    out = folder / f"rec-{time.monotonic_ns()}.wav"
    options = {}
    sealed = None
    if encrypted:
        sealed = sealed_recording.prepare(out)
        assert sealed is not None
        options = sealed.recorder_options(rate=RATE, channels=2)
    source = ReplaySource(audio, rate=RATE, block=960)  # type: ignore[arg-type]
    before = time.process_time()
    rec = Recorder(out, channels=2, rate=RATE, source=source, **options)
    rec.start()
    source.finished.wait(600)
    summary = rec.stop()
    if sealed is not None:
        sealed.finish()
        assert not sealed_recording.plain_segments(out), "plaintext left behind"
    cpu = time.process_time() - before
    assert not summary.warnings, summary.warnings
    return cpu


def open_seconds(study_dir: Path, iid: str) -> float:
    gc.collect()  # the previous open's 20,000 words must not be collected on this one's clock
    start = time.perf_counter()
    with Study.open(study_dir) as study:
        doc = study.transcript(iid)
    assert doc is not None and len(doc.words) > 1000
    return time.perf_counter() - start


def read_blob(study_dir: Path) -> float:
    """Connect and read the stored (compressed) version: the database's share of an open."""
    from verbatim.study import db

    start = time.perf_counter()
    conn = db.connect(study_dir / "study.sqlite")
    blob = conn.execute("SELECT document FROM transcript_versions").fetchone()[0]
    conn.close()
    assert len(blob) > 10_000
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="audio per recording")
    parser.add_argument("--repeat", type=int, default=21, help="opens per study")
    parser.add_argument("--words", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-vault-") as tmp:
        root = Path(tmp)
        os.environ["XDG_RUNTIME_DIR"] = str(root)
        plain_dir, enc_dir = root / "plain", root / "encrypted"
        ops.prepare_new_study(enc_dir, passphrase=None, key_file=root / "team.key")
        for folder in (plain_dir, enc_dir):
            with Study.init(folder) as study:
                study.add_participant("P1")
                import soundfile as sf

                wav = root / "short.wav"
                sf.write(str(wav), _noise(1.0), RATE, subtype="PCM_24")  # type: ignore[arg-type]
                iid = study.add_interview("P1", wav)
                doc = synthetic_document(args.words, seed=1)
                study.save_transcript(iid, doc, origin="pipeline")
            (folder / "rec").mkdir()

        # ---- recording --------------------------------------------------------------
        audio = _noise(args.seconds)
        plain_cpu, enc_cpu = [], []
        for _ in range(3):
            plain_cpu.append(record_cpu(plain_dir / "rec", audio, encrypted=False))
            enc_cpu.append(record_cpu(enc_dir / "rec", audio, encrypted=True))
        p, e = statistics.median(plain_cpu), statistics.median(enc_cpu)
        hour = 3600 / args.seconds
        print(f"recording 48 kHz stereo PCM_24, {args.seconds:g} s x3 (median):")
        print(f"  plain      {p * hour:7.1f} CPU s per hour of audio")
        print(f"  encrypted  {e * hour:7.1f} CPU s per hour of audio "
              f"(10 s segments sealed, verified, plaintext deleted)")
        print(f"  extra CPU while recording in real time: {(e - p) / args.seconds * 100:.2f} % "
              f"of one core; encrypted/plain = {e / p:.2f}x")

        # ---- opening a 2-hour transcript -----------------------------------------------
        keys = session.keys_for(enc_dir)
        for folder in (plain_dir, enc_dir):
            open_seconds(folder, "P1-1")  # warm the page cache once
        plain_t: list[float] = []
        enc_t: list[float] = []
        for i in range(args.repeat):  # ABBA order: drift on a shared machine hits both alike
            order = [(plain_dir, plain_t), (enc_dir, enc_t)]
            for folder, times in (order if i % 2 == 0 else order[::-1]):
                times.append(open_seconds(folder, "P1-1"))
        p, e = statistics.median(plain_t), statistics.median(enc_t)
        best_p, best_e = min(plain_t), min(enc_t)
        print(f"opening a {args.words}-word (~2 h) transcript (Study.open + transcript()), "
              f"{args.repeat} each, ABBA order:")
        print(f"  plain      median {p * 1000:7.1f} ms   best {best_p * 1000:7.1f} ms")
        print(f"  encrypted  median {e * 1000:7.1f} ms   best {best_e * 1000:7.1f} ms")
        print(f"  whole open, encrypted vs plain: median {(e / p - 1) * 100:+.1f} %, best "
              f"{(best_e / best_p - 1) * 100:+.1f} % (noisy on a shared machine: the decoding "
              "below the database is the same code for both)")
        db_p = statistics.median(read_blob(plain_dir) for _ in range(args.repeat * 3))
        db_e = statistics.median(read_blob(enc_dir) for _ in range(args.repeat * 3))
        extra = (db_e - db_p) / p
        print(f"  the only part encryption touches (connect + read the stored version, fresh "
              f"connection, median of {args.repeat * 3}): plain {db_p * 1000:.2f} ms, "
              f"encrypted {db_e * 1000:.2f} ms")
        print(f"  => encryption adds {(db_e - db_p) * 1000:.2f} ms = {extra * 100:.1f} % to "
              f"opening the transcript (target < {TARGET * 100:.0f} %: "
              f"{'met' if extra < TARGET else 'NOT met'})")

        # ---- once per command / once per session ------------------------------------------
        study_id = Vault.read(enc_dir).study_id
        agent.start(study_id, keys.to_bytes(), idle_seconds=60)
        try:
            fetches = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                payload = agent.fetch(study_id)
                fetches.append(time.perf_counter() - start)
                assert payload is not None and StudyKeys.from_bytes(payload) == keys
        finally:
            agent.stop(study_id)
        from pyrage import passphrase as age_passphrase

        sealed = age_passphrase.encrypt(keys.to_bytes(), "bench passphrase")
        start = time.perf_counter()
        age_passphrase.decrypt(sealed, "bench passphrase")
        unlock = time.perf_counter() - start
        print(f"  key from the agent (once per command): {statistics.median(fetches) * 1000:.2f} ms"
              f"; passphrase unlock (age scrypt, once per session): {unlock:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
