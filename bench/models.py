"""Benchmark: word error rate and real-time factor of every Whisper model in the store.

Audio: one 16 kHz file of real speech joined from ../shared/audio with 1 s of
silence between the pieces (over 3 minutes): JFK (11 s), a LibriSpeech
utterance (12 s), both speakers of faster-whisper's stereo test (5 s each), a
Common Voice phrase (2 s), the English half of the bilingual MIT-licence
reading (31 s), pyannote's two-speaker phone call (30 s) and the Apollo 11
air-to-ground radio (89 s, no reference: counted for speed only). WER is
pooled over the pieces that have a reference; the real-time factor is the
ASR time (VAD chunks, verbatim prompt, skipped-speech recovery, as the
pipeline runs it) over the whole file's duration. One run, ``nice``; the
machine is shared, so compare models within the run.

Each model's measured speed is written where ``model = "auto"`` reads it
(``speeds.json`` in the data folder) unless ``--no-record``.

    .venv/bin/python bench/models.py [--store DIR] [--audio DIR] [--no-record]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.fixtures.metrics import normalise  # noqa: E402
from transcribe.audio import Audio, load_audio  # noqa: E402
from transcribe.engines import load_engine  # noqa: E402
from transcribe.models import catalogue, list_models  # noqa: E402
from transcribe.pipeline import PipelineOptions, transcribe_audio  # noqa: E402
from transcribe.privacy import block_network  # noqa: E402

RATE = 16_000
GAP = 1.0
MIT = ("Permission is hereby granted, free of charge, to any person obtaining a copy of this "
       "software and associated documentation files (the Software), to deal in the Software "
       "without restriction, including without limitation the rights to use, copy, modify, "
       "merge, publish, distribute, sublicense, and/or sell copies of the Software, and to "
       "permit persons to whom the Software is furnished to do so, subject to the following "
       "conditions: The above copyright notice and this permission notice shall be included "
       "in all copies or substantial portions of the Software.")
STEREO = ("He began a confused complaint against the wizard, who had vanished behind the "
          "curtain on the left.", "The horizon seems extremely distant.")
JFK = ("And so my fellow Americans, ask not what your country can do for you, ask what you "
       "can do for your country.")


@dataclasses.dataclass
class Piece:
    name: str
    samples: np.ndarray
    reference: str | None


def _pyannote_sample() -> tuple[Path, str] | None:
    try:
        import pyannote.audio

        folder = Path(pyannote.audio.__file__).parent / "sample"
        text = " ".join(" ".join(line.split()[5:])
                        for line in (folder / "sample.stm").read_text().splitlines())
        return folder / "sample.wav", text
    except (ImportError, OSError):
        return None


def pieces(audio_dir: Path) -> list[Piece]:
    def mono(name: str, start: float = 0.0, end: float | None = None,
             channel: int | None = None) -> np.ndarray:
        audio = load_audio(audio_dir / name)
        samples = audio.samples[channel] if channel is not None else audio.mono
        return samples[int(start * RATE):None if end is None else int(end * RATE)]

    librispeech = dict(line.split("\t", 1) for line in
                       (audio_dir / "librispeech_transcripts.tsv").read_text().splitlines())
    found = [
        Piece("jfk", mono("jfk.flac"), JFK),
        Piece("librispeech", mono("2412-153948-0000.flac"), librispeech["2412-153948-0000"]),
        Piece("stereo-left", mono("stereo_diarization.wav", channel=0), STEREO[0]),
        Piece("stereo-right", mono("stereo_diarization.wav", channel=1), STEREO[1]),
        Piece("common-voice", mono("common_voice_en_651325.mp3"), "Every purchase is a vote."),
        Piece("mit-licence", mono("multilingual.mp3", 0.0, 31.0), MIT),
    ]
    sample = _pyannote_sample()
    if sample is not None:
        found.append(Piece("phone-call", load_audio(sample[0]).mono, sample[1]))
    found.append(Piece("apollo11", mono("apollo11.mp3"), None))
    return found


def join(parts: list[Piece]) -> tuple[Audio, list[tuple[float, float, Piece]]]:
    gap = np.zeros(int(GAP * RATE), dtype=np.float32)
    chunks, spans, at = [], [], 0.0
    for piece in parts:
        chunks += [piece.samples.astype(np.float32), gap]
        spans.append((at, at + len(piece.samples) / RATE, piece))
        at += len(piece.samples) / RATE + GAP
    return Audio(samples=np.concatenate(chunks)[None, :], path="bench-models.wav"), spans


def errors(reference: str, hypothesis: str) -> int:
    ref, hyp = normalise(reference), normalise(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        current = [i]
        for j, h in enumerate(hyp, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_store = Path(os.environ.get("VERBATIM_MODELS") or
                         Path.home() / ".local" / "share" / "verbatim" / "models")
    parser.add_argument("--store", type=Path, default=default_store)
    parser.add_argument("--audio", type=Path, default=REPO.parent / "shared" / "audio")
    parser.add_argument("--no-record", action="store_true",
                        help="do not write the measured speeds for model = auto")
    args = parser.parse_args()
    block_network()
    if not args.audio.is_dir():
        print(f"real speech not found: {args.audio} (use --audio DIR)")
        return 1
    audio, spans = join(pieces(args.audio))
    scored = sum(len(normalise(p.reference)) for _, _, p in spans if p.reference)
    print(f"audio: {audio.duration:.1f} s of real speech from {len(spans)} pieces, "
          f"{scored} reference words; {os.cpu_count()} cores, load "
          f"{os.getloadavg()[0]:.1f} (shared machine)")
    models = [e for e in list_models(args.store) if e.kind in ("faster-whisper", "whisper")]
    if not models:
        print(f"no Whisper models in {args.store}: run 'make setup'")
        return 1
    print(f"{'model':<28} {'engine':<15} {'load s':>7} {'ASR s':>7} {'RTF':>6} {'WER':>6}  "
          "per piece WER")
    for entry in models:
        engine_name = "faster-whisper" if entry.kind == "faster-whisper" else "whisper"
        started = time.perf_counter()
        engine = load_engine(engine_name, entry.path, device="cpu")
        load = time.perf_counter() - started
        options = PipelineOptions(engine=engine_name, model=str(entry.path), diarize="none",
                                  language="en", models_dir=args.store)
        doc = transcribe_audio(audio, options, engine=engine)
        timings = doc.extra["pipeline"]["timings"]
        asr = timings["asr"] + timings["recover"]
        total_errors, per_piece = 0, []
        for start, end, piece in spans:
            if piece.reference is None:
                continue
            said = " ".join(w.text for w in doc.words if start <= (w.start + w.end) / 2 < end)
            wrong = errors(piece.reference, said)
            total_errors += wrong
            per_piece.append(f"{piece.name} {wrong / len(normalise(piece.reference)):.2f}")
        rtf = asr / audio.duration
        print(f"{entry.name:<28} {engine_name:<15} {load:7.1f} {asr:7.1f} {rtf:6.3f} "
              f"{total_errors / scored:6.3f}  {', '.join(per_piece)}", flush=True)
        if not args.no_record:
            catalogue.record_speed(entry.name, audio_seconds=audio.duration, asr_seconds=asr,
                                   device="cpu")
    if not args.no_record:
        print(f"speeds written to {catalogue.speeds_path()} (model = auto reads them)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
