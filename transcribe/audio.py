"""Audio in: every recording becomes one ``Audio`` value at the pipeline's rate.

(The loader is built in the transcription issue; the type is shared now so the
engines and diarisers agree on it.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# Whisper, silero-vad and pyannote all work at 16 kHz.
SAMPLE_RATE = 16_000


@dataclass(frozen=True, eq=False)
class Audio:
    """Float32 samples in [-1, 1], shape (channels, frames), at ``sample_rate``.

    Channels are kept so a two-microphone recording can be diarised by channel;
    ``mono`` is what the ASR engines and VAD consume.
    """

    samples: npt.NDArray[np.float32]
    sample_rate: int = SAMPLE_RATE
    path: str = ""

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration(self) -> float:
        return self.samples.shape[1] / self.sample_rate

    @property
    def mono(self) -> npt.NDArray[np.float32]:
        if self.channels == 1:
            return self.samples[0]
        return self.samples.mean(axis=0).astype(np.float32)
