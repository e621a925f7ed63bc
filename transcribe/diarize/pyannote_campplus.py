"""pyannote's speaker-diarization pipeline with all-real weights and no gated download:
segmentation-3.0 (pyannote's own checkpoint, from the set-up) and CAM++ voice prints.

pyannote's published pipelines use WeSpeaker ResNet34 embeddings, whose weights are
gated. ``CamppEmbedding`` puts CAM++ (``transcribe.diarize.campplus``) behind the
interface pyannote's pipeline calls for an embedding model: ``sample_rate``,
``dimension``, ``metric``, ``min_num_samples``, and a call on a batch of
(chunk waveform, local-speaker frame mask) pairs returning one vector per pair
(NaN when the speaker has too little speech in the chunk). Everything else is
pyannote's: the 10 s sliding segmentation, local speaker masks, overlap-aware
pooling masks, agglomerative clustering of the chunk-level prints (as pyannote 3.1
clusters WeSpeaker prints), and reconstruction with overlaps.

``build_pipeline(models_dir)`` assembles that pipeline from the model store; a
user's own pipeline folder (community-1, 3.1) still takes precedence in
``pyannote_backend.diarise``. ``use_campplus_embedding`` swaps CAM++ into a
loaded folder pipeline too (``embedding = "campplus"``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

SEGMENTATION_MODEL = "pyannote-segmentation-3.0/pytorch_model.bin"
# pyannote's agglomerative clustering of the chunk-level CAM++ prints: average linkage
# on cosine distance, cut at 0.5 (cosine similarity 0.5), clusters under 3 prints joined
# to their nearest. Chosen on pyannote's sample.wav and the real-voice meetings of
# bench/diarise.py; pyannote's own centroid linkage with min_cluster_size 12 (tuned for
# WeSpeaker) found one speaker in sample.wav, whose 30 s give a dozen prints.
CLUSTER_THRESHOLD = 0.5
STEP = 0.5  # chunk step (fraction of 10 s) unless set: 2x cheaper than 0.25, same DER here
MIN_CLUSTER_SIZE = 3
METHOD = "average"


class CamppEmbedding:
    """CAM++ behind pyannote's speaker-embedding interface.

    Each (waveform, mask) pair becomes the print of the masked speech (the frame
    mask stretched to samples; at most its middle 4 s, which halves the cost at
    pyannote's 10 s chunks); with under ``min_num_samples`` of it -> NaN.
    """

    sample_rate = 16_000
    dimension = 192
    metric = "cosine"
    min_num_samples = 8_000  # 0.5 s
    max_num_samples = 64_000  # 4 s: the middle of longer speech (CAM++ trained on 3 s)

    def __init__(self, model: Any) -> None:
        import torch

        self._model = model  # a voices.VoiceModel holding CAM++
        self.device = torch.device("cpu")

    def to(self, device: Any) -> CamppEmbedding:
        return self

    def __call__(self, waveforms: Any, masks: Any = None) -> np.ndarray:
        from transcribe.diarize import campplus
        from transcribe.diarize.voices import torch_threads

        audio = waveforms.detach().cpu().numpy()[:, 0, :]
        out = np.full((len(audio), self.dimension), np.nan, dtype=np.float32)
        with torch_threads(self._model.threads):
            for row, samples in enumerate(audio):
                if masks is not None:
                    mask = masks[row].detach().cpu().numpy()
                    positions = np.minimum((np.arange(len(samples)) * len(mask))
                                           // len(samples), len(mask) - 1)
                    samples = samples[mask[positions] > 0.5]
                if len(samples) < self.min_num_samples:
                    continue
                if len(samples) > self.max_num_samples:  # a chunk holds up to 10 s
                    first = (len(samples) - self.max_num_samples) // 2
                    samples = samples[first:first + self.max_num_samples]
                features = campplus.fbank(samples)
                out[row] = campplus.embed_windows(self._model.encoder, features,
                                                  [(0, len(features))])[0]
        return out


def use_campplus_embedding(pipeline: Any, model: Any, *,
                           threshold: float = CLUSTER_THRESHOLD) -> None:
    """Swap in CAM++ prints, clustered agglomeratively as pyannote 3.1 does (a PLDA
    trained for WeSpeaker vectors means nothing for CAM++ vectors, so VBx is replaced)."""
    from pyannote.audio.core.io import Audio as PyannoteAudio
    from pyannote.audio.pipelines.clustering import AgglomerativeClustering

    pipeline._embedding = CamppEmbedding(model)
    pipeline._audio = PyannoteAudio(sample_rate=CamppEmbedding.sample_rate, mono="downmix")
    clustering = AgglomerativeClustering(metric="cosine")
    clustering.instantiate({"method": METHOD, "min_cluster_size": MIN_CLUSTER_SIZE,
                            "threshold": threshold})
    pipeline.clustering = clustering
    pipeline.klustering = "AgglomerativeClustering"
    pipeline._expects_num_speakers = False


def available(models_dir: Path, *, campplus: bool = True) -> bool:
    from transcribe.diarize.voices import model_path

    return ((models_dir / SEGMENTATION_MODEL).is_file()
            and (not campplus or model_path("campplus", models_dir).is_file()))


def build_pipeline(models_dir: Path, *, threshold: float = CLUSTER_THRESHOLD,
                   campplus: bool = True, embedding_model: str | Path | None = None) -> Any:
    """pyannote's SpeakerDiarization from the store's segmentation-3.0 and CAM++
    (``campplus`` False: the caller swaps in another embedding and its clustering)."""
    import logging

    from pyannote.audio import Model
    from pyannote.audio.pipelines import SpeakerDiarization

    from transcribe.diarize import voices
    from transcribe.diarize.pyannote_backend import PipelineFolderError, _placeholder_plda

    segmentation = models_dir / SEGMENTATION_MODEL
    if not segmentation.is_file():
        raise PipelineFolderError(
            f"no pyannote pipeline folder and no {SEGMENTATION_MODEL} in {models_dir} "
            "(run `make setup`, or give diarization.pyannote_pipeline)")
    model = voices.load_voice_model("campplus", models_dir, embedding_model) if campplus else None
    logging.getLogger("lightning.pytorch.utilities.migration.utils").setLevel(logging.WARNING)
    try:
        segmenter = Model.from_pretrained(str(segmentation))
    except Exception as exc:  # a truncated or foreign checkpoint: one line
        raise PipelineFolderError(f"{segmentation} is not a pyannote segmentation "
                                  f"checkpoint ({type(exc).__name__})") from None
    if segmenter is None:
        raise PipelineFolderError(f"could not load the segmentation model {segmentation}")
    # OracleClustering at construction: pyannote would otherwise load its own (gated)
    # embedding model; the real embedding and clustering are put in place just after
    pipeline = SpeakerDiarization(segmentation=segmenter, embedding="unused",
                                  plda=_placeholder_plda(), clustering="OracleClustering",
                                  embedding_exclude_overlap=True, embedding_batch_size=16,
                                  segmentation_batch_size=32)
    if model is None:
        from pyannote.audio.core.io import Audio as PyannoteAudio

        pipeline._audio = PyannoteAudio(sample_rate=16_000, mono="downmix")
        pipeline.instantiate({"segmentation": {"min_duration_off": 0.0}, "clustering": {}})
        return pipeline
    use_campplus_embedding(pipeline, model, threshold=threshold)
    pipeline.instantiate({"segmentation": {"min_duration_off": 0.0},
                          "clustering": {"method": METHOD,
                                         "min_cluster_size": MIN_CLUSTER_SIZE,
                                         "threshold": threshold}})
    return pipeline
