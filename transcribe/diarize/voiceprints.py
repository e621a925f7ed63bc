"""Recurring voices: enrolled voiceprints, and naming the diarised speakers that match.

A voiceprint is one CAM++ (or GE2E) vector of a person's voice and nothing else:
never audio. ``enrol`` computes it from a recording and writes
``<folder>/voices/<name>.json``; with a study's age recipient it is sealed with the
vault's own helper (``verbatim.vault.agefiles.encrypt_file``) as ``<name>.json.age``,
readable only with the study unlocked. Without a study, the user's data folder holds
it, owner-only.

``identify`` compares each diarised speaker's centroid (voice prints of its own
turns) with every voiceprint: a speaker is named when the best match reaches
``threshold`` and beats the runner-up by ``margin`` (and each name goes to one
speaker at most); unsure speakers keep their S1, S2 ids.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from transcribe.diarize import Diarisation
from transcribe.diarize.voices import SAMPLE_RATE, VoiceModel

FORMAT = "verbatim-voiceprint/1"
# cosine similarity of a speaker's centroid to a voiceprint: measured here with CAM++,
# the same real voice in another recording 0.6-0.9, different voices below 0.3
THRESHOLD = 0.5
MARGIN = 0.1
MIN_SECONDS = 2.0  # less speech than this gives no trustworthy voiceprint


def _slug(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", name.strip()).strip("-")
    if not slug:
        raise ValueError(f"a voice needs a name of letters or digits, got {name!r}")
    return slug


def voiceprint(model: VoiceModel, samples: npt.NDArray[np.float32],
               regions: Sequence[tuple[float, float]]) -> npt.NDArray[np.float32]:
    """One unit vector for the speech ``regions`` of ``samples`` (3 s windows, averaged)."""
    windows: list[tuple[float, float]] = []
    for start, end in regions:
        position = start
        while end - position > 0.5:
            windows.append((position, min(end, position + 3.0)))
            position += 3.0
    if not windows:
        raise ValueError("no speech long enough for a voiceprint")
    vectors = model.embed_windows(samples, windows)
    weights = np.array([e - s for s, e in windows], dtype=np.float32)
    mean = (vectors * weights[:, None]).sum(axis=0)
    return (mean / max(float(np.linalg.norm(mean)), 1e-8)).astype(np.float32)


def enrol(name: str, samples: npt.NDArray[np.float32], model: VoiceModel, folder: Path, *,
          recipient: str | None = None,
          regions: Sequence[tuple[float, float]] | None = None) -> Path:
    """Keep ``name``'s voiceprint from ``samples`` (16 kHz mono) in ``folder/voices``:
    from the speech silero-vad finds, or from ``regions`` (seconds) when given (one
    speaker's turns in a recording of several)."""
    slug = _slug(name)
    if regions is None:
        from transcribe.diarize.embedding import speech_regions

        regions = speech_regions(samples, sample_rate=SAMPLE_RATE)
    speech = sum(e - s for s, e in regions)
    if speech < MIN_SECONDS:
        raise ValueError(f"only {speech:.1f} s of speech: a voiceprint needs at least "
                         f"{MIN_SECONDS:.0f} s")
    vector = voiceprint(model, samples, regions)
    record = {"format": FORMAT, "name": name.strip(), "voice_model": model.name,
              "speech_seconds": round(speech, 1), "vector": [round(float(v), 6) for v in vector]}
    data = (json.dumps(record) + "\n").encode()
    voices = folder / "voices"
    voices.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = voices / (f"{slug}.json.age" if recipient else f"{slug}.json")
    tmp = target.with_name(f".{target.name}.partial")
    fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w+b") as out:
            if recipient:
                from verbatim.vault.agefiles import encrypt_file

                encrypt_file(io.BytesIO(data), out, recipient)
            else:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    other = target.with_name(f"{slug}.json" if recipient else f"{slug}.json.age")
    other.unlink(missing_ok=True)  # one voiceprint per name
    return target


def load(folder: Path, *, identities: Sequence[object] = ()) -> list[dict[str, Any]]:
    """Every voiceprint in ``folder/voices`` (sealed ones need ``identities``)."""
    voices = folder / "voices"
    found: list[dict[str, Any]] = []
    if not voices.is_dir():
        return found
    for path in sorted(voices.iterdir()):
        if path.name.startswith("."):
            continue
        if path.name.endswith(".json.age"):
            if not identities:
                continue
            from verbatim.vault.agefiles import decrypt_bytes

            record = json.loads(decrypt_bytes(path, identities))
        elif path.name.endswith(".json"):
            record = json.loads(path.read_text(encoding="utf-8"))
        else:
            continue
        if isinstance(record, dict) and record.get("format") == FORMAT:
            found.append(record)
    return found


def identify(diarisation: Diarisation, samples: npt.NDArray[np.float32], model: VoiceModel,
             prints: Sequence[Mapping[str, Any]], *, threshold: float = THRESHOLD,
             margin: float = MARGIN) -> dict[str, str]:
    """Speaker id -> enrolled name, for the speakers that match a voiceprint surely."""
    usable = [p for p in prints if p.get("voice_model") == model.name
              and len(p.get("vector", ())) == model.dimension]
    if not usable or not diarisation.turns:
        return {}
    names = [str(p["name"]) for p in usable]
    matrix = np.array([p["vector"] for p in usable], dtype=np.float32)
    scores: dict[str, npt.NDArray[np.float32]] = {}
    for speaker in diarisation.speakers:
        regions = [(t.start, t.end) for t in diarisation.turns if t.speaker == speaker]
        if sum(e - s for s, e in regions) < 1.0:
            continue
        scores[speaker] = matrix @ voiceprint(model, samples, regions)
    found: dict[str, str] = {}
    pairs = sorted(((float(row[i]), speaker, i) for speaker, row in scores.items()
                    for i in range(len(names))), reverse=True)
    for score, speaker, index in pairs:
        if score < threshold or speaker in found or names[index] in found.values():
            continue
        runner_up = max((float(v) for j, v in enumerate(scores[speaker]) if j != index),
                        default=-1.0)
        if score - runner_up >= margin:
            found[speaker] = names[index]
    return found


def name_speakers(samples: npt.NDArray[np.float32], diarisation: Diarisation,
                  settings: Mapping[str, Any], models_dir: Path) -> dict[str, str]:
    """The pipeline's step: names for the speakers matching ``settings["voiceprints"]``
    (records as ``load`` returns them, put there by the door that ran the job)."""
    prints = settings.get("voiceprints") or ()
    if not prints or not diarisation.turns:
        return {}
    from transcribe.diarize.voices import load_voice_model

    wanted = {p.get("voice_model") for p in prints}
    name = "campplus" if "campplus" in wanted else "ge2e"
    try:
        model = load_voice_model(name, models_dir)
    except FileNotFoundError:
        return {}  # the model the voices were enrolled with is gone: nobody is named
    return identify(diarisation, samples, model, prints,
                    threshold=float(settings.get("voice_threshold", THRESHOLD)))
