"""Rebuild the demo recording and its transcript (run once by a developer, output committed).

    .venv/bin/python -m verbatim.demo.build            # demo.ogg from espeak-ng
    .venv/bin/python -m verbatim.demo.build --transcribe  # demo.json via the real pipeline

The speech is synthetic (espeak-ng, two voices) and the words are invented for
the demo in the style of the study's interviews: no real participant is heard.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
AUDIO = HERE / "demo.ogg"
TRANSCRIPT = HERE / "demo.json"
RATE = 16000

# espeak-ng options of the two voices: two different people as a speaker-embedding model
# hears them, a high US woman interviewing a low British man (the voices of
# tests/fixtures/synth.py). The first demo's two male variants, en-gb and en-us+m3, are
# one formant synthesiser's one man with two accents: CAM++, trained on real voices, put
# their windows 0.37 apart against 0.30 within each, so no count rule could part them
# without also splitting real single voices (JFK's own windows lie 0.39 apart); these
# two part at 0.83.
VOICES = {"interviewer": ("-v", "en-us+f3", "-p", "75"),
          "participant": ("-v", "en-gb", "-p", "30")}

# (voice, words, silence after in seconds); commas and full stops give espeak's own pauses
SCRIPT = [
    ("interviewer",
     "Thank you for coming in today. Could you tell me about your role in the team?",
     0.8),
    ("participant", "Yes. I'm a social worker. I've been with the community team for about "
     "eleven years now.", 1.6),
    ("participant", "And it's, it's that dual edge thing, about what we do.", 1.2),
    ("interviewer", "What do you mean by a dual edge?", 0.7),
    ("participant", "Wanting to understand people, and support people. And at the same time, "
     "sometimes having to do things that you wouldn't want to happen to yourself.", 2.2),
    ("interviewer", "How did that feel, the first time?", 0.9),
    ("participant", "Honestly? I really struggled with that. It felt authoritarian, quite "
     "restrictive.", 1.0),
    ("interviewer", "Thank you. Shall we take a short break?", 0.5),
]


def synthesise(voice: str, text: str, out: Path) -> np.ndarray:
    import soundfile as sf
    import soxr

    subprocess.run(["espeak-ng", *VOICES[voice], "-s", "150", "-w", str(out), text],
                   check=True)
    data, rate = sf.read(str(out), dtype="float32", always_2d=True)
    mono = data.mean(axis=1)
    return soxr.resample(mono, rate, RATE).astype(np.float32)


def build_audio(target: Path = AUDIO) -> Path:
    import soundfile as sf

    parts: list[np.ndarray] = [np.zeros(int(0.5 * RATE), np.float32)]
    with tempfile.TemporaryDirectory() as tmp:
        for i, (voice, text, gap) in enumerate(SCRIPT):
            parts.append(synthesise(voice, text, Path(tmp) / f"{i}.wav") * 0.8)
            parts.append(np.zeros(int(gap * RATE), np.float32))
    audio = np.concatenate(parts)
    sf.write(str(target), audio, RATE, format="OGG", subtype="VORBIS")
    return target


def build_transcript(models_dir: Path) -> Path:
    from transcribe.pipeline import PipelineOptions, transcribe_file
    from transcript import document

    # no speaker count given: the committed transcript shows what a user's first run finds
    options = PipelineOptions(engine="faster-whisper", model="tiny.en", diarize="embedding",
                              models_dir=models_dir)
    doc = transcribe_file(AUDIO, options)
    # the committed file names the recording, not this developer's folder
    doc = replace(doc, audio=replace(doc.audio, path=AUDIO.name))
    document.write(doc, TRANSCRIPT)
    return TRANSCRIPT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--transcribe", action="store_true")
    parser.add_argument("--models", type=Path, default=HERE.parents[2] / "shared" / "models")
    args = parser.parse_args()
    if args.transcribe:
        print(build_transcript(args.models))
    else:
        print(build_audio(), AUDIO.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
