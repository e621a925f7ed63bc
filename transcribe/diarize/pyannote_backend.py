"""``--diarize pyannote``: pyannote.audio's speaker-diarization pipeline, from a local
folder, tuned to run on a laptop.

Loading. A pipeline folder holds ``config.yaml`` and the model checkpoints, in
either of pyannote's published layouts:
- community-1 (pyannote.audio 4.x): ``$model/segmentation``, ``$model/embedding``,
  ``$model/plda`` entries, resolved inside the folder (``plda/`` is required:
  VBx clustering needs it);
- 3.1: hub names (``pyannote/segmentation-3.0``, ...) or paths. Hub names are
  looked up as sub-folders of the pipeline folder (``segmentation-3.0/``), never
  online; relative paths are relative to the folder. pyannote 4.x would fetch a
  PLDA from the gated community-1 repository for this config (pyannote issue
  #2044) although agglomerative clustering never uses one, so a placeholder
  PLDA is given instead.
The waveform is passed in memory, so pyannote never opens the file itself.

Tuning (issue 8). The default community-1 settings cost about one real-time
hour per hour on two cores: one ResNet34 pass over each 10 s chunk for each of
3 local speakers, with a chunk every second. The tuned path (``tuned = true``,
the default) keeps pyannote's models and clustering and changes only how much
work they do:
- ``segmentation_step``: the chunk step as a fraction of the chunk (pyannote's
  default 0.1 = 1 s; tuned 0.25 = 2.5 s for segmentation-3.0, each frame still
  seen by four chunks; 0.5 is twice as fast again but moved DER by more than a
  point on pyannote's sample; the 2022 multi-label model keeps 0.1: it lost two
  points at 0.25);
- embeddings only for local speakers that are active in a chunk, and the
  ResNet trunk run once per chunk (not once per local speaker), its frames
  pooled with each speaker's mask: the same numbers pyannote computes;
- the ResNet trunk exported in memory to ONNX and run by onnxruntime (2.5x
  faster than torch on this CPU, same numbers to 1e-6), when the ``onnx``
  package is present;
- batch sizes and torch threads.
- segmentation through onnxruntime too (``segmentation_onnx = "auto"``: the
  pipeline's own model exported in memory; 4.5x faster than torch here).
Independent of tuning: ``segmentation_onnx`` may name an ONNX file (e.g. the
segmentation-3.0 export in the model store), and ``embedding = "campplus"`` or
``"ge2e"`` swaps the speaker embedding for CAM++ or the GE2E voice encoder (with
agglomerative clustering), for folders without WeSpeaker weights.

Without a pipeline folder, the pipeline is built from the model store's
segmentation-3.0 checkpoint and CAM++ (``transcribe.diarize.pyannote_campplus``):
all-real weights, nothing gated, nothing downloaded.

(Past 400 lines: folder loading, the tuned embedding step and the ONNX levers all
reach into the same pipeline object; split by stage they would share its privates.)
"""

from __future__ import annotations

import itertools
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from transcribe.audio import Audio
from transcribe.diarize import Diarisation, Progress, SpeakerTurn, pyannote_campplus

PIPELINE_DIR = "pyannote-diarization"
GE2E_MODEL = "ge2e-voice-encoder/pretrained.pt"
MODEL_FILE = "pytorch_model.bin"

DEFAULTS: dict[str, Any] = {
    "pyannote_pipeline": "",  # folder with config.yaml; default <models>/pyannote-diarization
    "tuned": True,  # false: run the pipeline exactly as its config.yaml says
    # chunk step / chunk duration (tuned only; pyannote's own is 0.1). "auto": 0.25 for
    # powerset models (segmentation-3.0: community-1, 3.1), 0.1 for multi-label ones
    "segmentation_step": "auto",
    "segmentation_batch_size": 32,  # tuned only
    "embedding_batch_size": 16,  # chunks per ResNet batch (tuned only)
    "embedding_onnx": True,  # run the ResNet trunk through onnxruntime (tuned only)
    "threads": 0,  # torch and onnxruntime threads; 0 = library default
    # "auto": export the pipeline's segmentation model to ONNX in memory (tuned only);
    # a path: that ONNX export of the same model (any mode); "off": torch
    "segmentation_onnx": "auto",
    "embedding": "pipeline",  # "pipeline", "campplus" or "ge2e"
    "ge2e_threshold": 0.5,  # agglomerative threshold with embedding = "ge2e"
    "campplus_threshold": 0.5,  # agglomerative threshold with CAM++ prints (cosine)
}


class PipelineFolderError(ValueError):
    """The pipeline folder is missing, incomplete, or names a model it does not hold."""


def resolve_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults overlaid with the user's values, type-checked."""
    merged = dict(DEFAULTS)
    for key, default in DEFAULTS.items():
        value = settings.get(key)
        if value is None:
            continue
        if key == "segmentation_step":
            if value != "auto" and (isinstance(value, bool)
                                    or not isinstance(value, (int, float))
                                    or not 0.01 <= value <= 1.0):
                raise ValueError("diarization setting segmentation_step must be \"auto\" "
                                 "or a number between 0.01 and 1")
            value = value if value == "auto" else float(value)
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                raise ValueError(f"diarization setting {key} must be true or false")
        elif isinstance(default, (int, float)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"diarization setting {key} must be a number, got {value!r}")
            value = type(default)(value)
        else:
            value = str(value)
        merged[key] = value
    if merged["embedding"] not in ("pipeline", "campplus", "ge2e"):
        raise ValueError("diarization setting embedding must be 'pipeline', 'campplus' "
                         "or 'ge2e'")
    return merged


# ---------------------------------------------------------------- folder loading


def _resolve_model_entry(value: Any, folder: Path, *, key: str) -> Any:
    """One segmentation/embedding/plda entry of config.yaml -> a local-only spec."""
    if isinstance(value, Mapping):
        resolved = dict(value)
        if "checkpoint" in resolved:
            inner = _resolve_model_entry(resolved["checkpoint"], folder, key=key)
            if isinstance(inner, Mapping):
                resolved.update(inner)
        resolved.pop("revision", None)
        resolved.pop("token", None)
        resolved.pop("cache_dir", None)
        return resolved
    if not isinstance(value, str):
        return value  # already an object (Model, PLDA)
    if value.startswith("$model/"):
        sub = value.split("/", 1)[1].split("@", 1)[0]
        if not (folder / sub).exists():
            raise PipelineFolderError(f"pipeline folder {folder} has no {sub}/ (config {key})")
        return {"checkpoint": str(folder), "subfolder": sub}
    path = Path(value).expanduser()
    candidates = [path] if path.is_absolute() else [folder / path]
    name = value.split("@", 1)[0]
    if "/" in name and not path.is_absolute():
        # a hub name "org/model": the user copies the model into the folder
        org, model = name.split("/", 1)
        candidates += [folder / model, folder / org / model, folder / f"{org}--{model}"]
    for candidate in candidates:
        if candidate.exists():
            return {"checkpoint": str(candidate)}
    raise PipelineFolderError(
        f"config {key} names {value!r}, which is not in the pipeline folder {folder} "
        f"(copy it to {folder / name.split('/')[-1]}/); nothing is downloaded")


def resolve_pipeline_config(folder: Path) -> dict[str, Any]:
    """config.yaml of ``folder`` with every model reference made local.

    Returns the config mapping to give ``Pipeline.from_pretrained``. Raises
    PipelineFolderError with a one-line reason when something is missing.
    """
    import yaml

    config_path = folder / "config.yaml"
    if not config_path.is_file():
        raise PipelineFolderError(f"no pyannote pipeline at {folder} (config.yaml missing)")
    with open(config_path, encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    if not isinstance(config, dict) or "pipeline" not in config:
        raise PipelineFolderError(f"{config_path} is not a pyannote pipeline config")
    params = dict(config["pipeline"].get("params", {}))
    for key in ("segmentation", "embedding", "plda"):
        if key in params:
            params[key] = _resolve_model_entry(params[key], folder, key=key)
    clustering = params.get("clustering", "VBxClustering")
    if "plda" not in params:
        if clustering == "VBxClustering":
            plda_dir = folder / "plda"
            if not plda_dir.is_dir():
                raise PipelineFolderError(
                    f"pipeline folder {folder} uses VBx clustering but has no plda/ folder")
            params["plda"] = {"checkpoint": str(folder), "subfolder": "plda"}
        else:
            # pyannote 4.x loads community-1's PLDA by default even when the clustering
            # never uses it (issue #2044); an unused placeholder keeps it offline
            params["plda"] = _placeholder_plda()
    config = dict(config)
    config["pipeline"] = dict(config["pipeline"], params=params)
    return config


def _placeholder_plda() -> Any:
    from pyannote.audio.core.plda import PLDA

    return PLDA.__new__(PLDA)  # never called: only VBx clustering reads a PLDA


def pipeline_folder(settings: Mapping[str, Any], models_dir: Path) -> Path:
    configured = settings.get("pyannote_pipeline")
    return Path(configured).expanduser() if configured else models_dir / PIPELINE_DIR


def load_pipeline(folder: Path, *, tuned: bool = True) -> Any:
    """The pyannote SpeakerDiarization pipeline of ``folder``, loaded offline.

    With ``tuned`` the instance's class is our subclass with the cheaper
    embedding step (same results for the same chunks).
    """
    import logging

    from pyannote.audio import Pipeline

    # Lightning announces on stdout that it upgraded an old checkpoint in memory
    logging.getLogger("lightning.pytorch.utilities.migration.utils").setLevel(logging.WARNING)
    config = resolve_pipeline_config(folder)
    pipeline = Pipeline.from_pretrained(config)
    if pipeline is None:
        raise PipelineFolderError(f"could not load the pyannote pipeline at {folder}")
    if tuned:
        pipeline.__class__ = _tuned_class(type(pipeline))
    return pipeline


# ---------------------------------------------------------------- tuned pipeline


_TUNED: dict[type, type] = {}


def _tuned_class(base: type) -> type:
    """A subclass of the pipeline's class whose embedding step does less work."""
    if base in _TUNED:
        return _TUNED[base]
    if getattr(base, "_verbatim_tuned", False):
        return base

    class TunedSpeakerDiarization(base):
        _verbatim_tuned = True

        def get_embeddings(self, file: Any, binary_segmentations: Any,
                           exclude_overlap: bool = False, hook: Callable | None = None) -> Any:
            if self.training:
                return super().get_embeddings(file, binary_segmentations,
                                              exclude_overlap=exclude_overlap, hook=hook)
            return active_speaker_embeddings(self, file, binary_segmentations,
                                             exclude_overlap=exclude_overlap, hook=hook)

    TunedSpeakerDiarization.__name__ = f"Tuned{base.__name__}"
    _TUNED[base] = TunedSpeakerDiarization
    return TunedSpeakerDiarization


def embedding_masks(binary: np.ndarray, *, exclude_overlap: bool,
                    min_num_frames: int) -> np.ndarray:
    """pyannote's choice of pooling mask per (chunk, local speaker): the speaker's
    frames without overlap when enough remain, else all the speaker's frames.

    binary: (chunks, frames, speakers) 0/1 (NaN = 0). Returns (chunks, speakers, frames).
    """
    masks = np.nan_to_num(binary, nan=0.0).astype(np.float32)
    if not exclude_overlap:
        return np.transpose(masks, (0, 2, 1)).copy()
    clean = masks * (masks.sum(axis=2, keepdims=True) < 2)
    use_clean = clean.sum(axis=1, keepdims=True) > min_num_frames
    chosen = np.where(use_clean, clean, masks)
    return np.transpose(chosen, (0, 2, 1)).copy()


def active_speaker_embeddings(pipeline: Any, file: Any, binary_segmentations: Any, *,
                              exclude_overlap: bool, hook: Callable | None) -> np.ndarray:
    """(chunks, local speakers, dim) embeddings, NaN for speakers silent in a chunk.

    pyannote computes an embedding for every (chunk, local speaker) pair, silent
    ones included (they come out NaN or are discarded by clustering), and runs
    the whole ResNet once per pair although the pair's chunk audio is shared.
    Here only chunks with an active speaker are processed, the ResNet trunk
    runs once per chunk and its frames are pooled with each active speaker's
    mask, which is the computation pyannote's own forward() does per pair.
    """
    import math

    import torch

    data = binary_segmentations.data
    num_chunks, num_frames, num_speakers = data.shape
    chunk_window = binary_segmentations.sliding_window
    embedder = pipeline._embedding
    if exclude_overlap:
        num_samples = chunk_window.duration * embedder.sample_rate
        min_num_frames = math.ceil(num_frames * embedder.min_num_samples / num_samples)
    else:
        min_num_frames = -1
    masks = embedding_masks(data, exclude_overlap=exclude_overlap, min_num_frames=min_num_frames)
    active = masks.sum(axis=2) > 0  # (chunks, speakers)
    dimension = embedder.dimension
    embeddings = np.full((num_chunks, num_speakers, dimension), np.nan, dtype=np.float32)
    chunks = np.flatnonzero(active.any(axis=1))
    model = getattr(embedder, "model_", None)
    shared_trunk = model is not None and hasattr(model, "forward_frames")
    batch_size = max(1, int(getattr(pipeline, "embedding_batch_size", 1)))
    total = math.ceil(len(chunks) / batch_size)
    if hook is not None:
        hook("embeddings", None, total=total, completed=0)
    for done, first in enumerate(range(0, len(chunks), batch_size), 1):
        batch = chunks[first:first + batch_size]
        waveforms = torch.vstack([
            pipeline._audio.crop(file, chunk_window[int(c)], mode="pad")[0][None]
            for c in batch])  # (batch, 1, samples)
        if shared_trunk:
            assert model is not None  # shared_trunk implies it
            with torch.inference_mode():
                frames = _trunk(pipeline, model, waveforms.to(embedder.device))
                weights = torch.from_numpy(masks[batch]).to(embedder.device)
                out = model.forward_embedding(frames, weights=weights)  # (batch, speakers, dim)
            values = out.cpu().numpy()
            for row, c in enumerate(batch):
                embeddings[c, active[c]] = values[row, active[c]]
        else:
            pairs = [(row, s) for row, c in enumerate(batch) for s in np.flatnonzero(active[c])]
            pair_waveforms = torch.vstack([waveforms[row][None] for row, _ in pairs])
            pair_masks = torch.from_numpy(np.stack([masks[batch[row], s] for row, s in pairs]))
            values = embedder(pair_waveforms, masks=pair_masks)
            for (row, s), value in zip(pairs, values, strict=True):
                embeddings[batch[row], s] = value
        if hook is not None:
            hook("embeddings", None, total=total, completed=done)
    return embeddings


def _trunk(pipeline: Any, model: Any, waveforms: Any) -> Any:
    """ResNet frames of a batch of chunks: onnxruntime when exported, else torch."""
    import torch

    session = getattr(pipeline, "_verbatim_trunk", None)
    if session is None:
        return model.forward_frames(waveforms)
    fbank = model.compute_fbank(waveforms).numpy()
    return torch.from_numpy(session.run(None, {"fbank": fbank})[0])


def export_embedding_trunk(pipeline: Any, *, threads: int = 0) -> bool:
    """Export the embedding ResNet's trunk to ONNX (in memory) for onnxruntime.

    Returns False, leaving torch in charge, when the model has no separable
    trunk or the ``onnx`` exporter package is missing.
    """
    import torch

    model = getattr(getattr(pipeline, "_embedding", None), "model_", None)
    resnet = getattr(model, "resnet", None)
    if model is None or resnet is None or not hasattr(resnet, "forward_frames"):
        return False

    class Trunk(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, fbank: torch.Tensor) -> torch.Tensor:
            return self.inner.forward_frames(fbank)

    example = model.compute_fbank(torch.zeros(1, 1, int(model.hparams.sample_rate * 10)))
    exported = _export_onnx(Trunk(resnet).eval(), example, input_name="fbank",
                            output_name="frames",
                            dynamic_axes={"fbank": {0: "batch", 1: "frames"}})
    if exported is None:
        return False
    pipeline._verbatim_trunk = _session(exported, threads=threads)
    return True


# ---------------------------------------------------------------- swappable parts


def _export_onnx(module: Any, example: Any, *, input_name: str, output_name: str,
                 dynamic_axes: dict[str, dict[int, str]]) -> bytes | None:
    """ONNX bytes of ``module`` (in memory, nothing written), or None without ``onnx``."""
    import hashlib
    import importlib.util
    import io

    import torch

    if importlib.util.find_spec("onnx") is None:
        return None
    digest = hashlib.sha256(input_name.encode())
    for name, tensor in module.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    key = digest.hexdigest()
    if key in _EXPORTED:  # the same weights were exported earlier in this process
        return _EXPORTED[key]
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # the stub omits file-like targets, which torch.onnx.export documents and accepts
        torch.onnx.export(module, (example,), buffer,  # type: ignore[arg-type]
                          input_names=[input_name],
                          output_names=[output_name], dynamic_axes=dynamic_axes, dynamo=False)
    _EXPORTED[key] = buffer.getvalue()
    return _EXPORTED[key]


_EXPORTED: dict[str, bytes] = {}


def _session(source: Path | bytes, *, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads > 0:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    model = str(source) if isinstance(source, Path) else source
    return ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])


def use_onnx_segmentation(pipeline: Any, onnx_path: Path | None = None, *,
                          threads: int = 0) -> bool:
    """Run the pipeline's segmentation model through onnxruntime.

    ``onnx_path`` None exports the pipeline's own model in memory (False if the
    ``onnx`` package is missing: torch stays in charge). The pyannote model
    object stays (its specifications and receptive field describe the frames);
    only its forward pass is replaced, so a given file must be an export of
    the same model (segmentation-3.0 for community-1 and 3.1).
    """
    import torch

    model = pipeline._segmentation.model
    silence = torch.zeros(1, 1, model.audio.get_num_samples(model.specifications.duration))
    if onnx_path is not None:
        if not onnx_path.is_file():
            raise PipelineFolderError(f"segmentation ONNX model not found: {onnx_path}")
        source: Path | bytes = onnx_path
    else:
        exported = _export_onnx(model.eval(), silence, input_name="input",
                                output_name="output",
                                dynamic_axes={"input": {0: "batch", 2: "samples"},
                                              "output": {0: "batch", 1: "frames"}})
        if exported is None:
            return False
        source = exported
    session = _session(source, threads=threads)
    input_name = session.get_inputs()[0].name

    def forward(waveforms: torch.Tensor, **_: Any) -> torch.Tensor:
        array = waveforms.detach().cpu().numpy().astype(np.float32, copy=False)
        return torch.from_numpy(session.run(None, {input_name: array})[0])

    with torch.inference_mode():
        expected = tuple(model(silence).shape)
    probe = tuple(forward(silence).shape)
    if probe != expected:
        raise PipelineFolderError(
            f"{getattr(onnx_path, 'name', 'ONNX export')} gives output {probe}, the pipeline's "
            f"segmentation model {expected}: not an export of the same model")
    model.forward = forward
    return True


class Ge2eEmbedding:
    """The GE2E voice encoder behind pyannote's speaker-embedding interface.

    Each (waveform, mask) pair becomes one voice print of the masked speech
    (mask upsampled to samples), -30 dBFS normalised; too little speech -> NaN.
    """

    sample_rate = 16_000
    dimension = 256
    metric = "cosine"
    min_num_samples = 6_400  # 0.4 s: below it a voice print is noise

    def __init__(self, weights: Path) -> None:
        from transcribe.diarize import ge2e

        self._ge2e = ge2e
        self._encoder = ge2e.load_encoder(weights)
        import torch

        self.device = torch.device("cpu")

    def to(self, device: Any) -> Ge2eEmbedding:
        return self

    def __call__(self, waveforms: Any, masks: Any = None) -> np.ndarray:
        ge2e = self._ge2e
        audio = waveforms.detach().cpu().numpy()[:, 0, :]
        out = np.full((len(audio), self.dimension), np.nan, dtype=np.float32)
        mels, windows, gains, rows = [], [], [], []
        offset = 0
        for row, samples in enumerate(audio):
            if masks is not None:
                mask = masks[row].detach().cpu().numpy()
                positions = np.minimum((np.arange(len(samples)) * len(mask)) // len(samples),
                                       len(mask) - 1)
                samples = samples[mask[positions] > 0.5]
            if len(samples) < self.min_num_samples:
                continue
            mel = ge2e.mel_spectrogram(samples)
            mels.append(mel)
            windows.append((offset, offset + len(mel)))
            gains.append(ge2e.volume_gain(samples))
            rows.append(row)
            offset += len(mel)
        if rows:
            values = ge2e.embed_windows(self._encoder, np.concatenate(mels), windows, gains=gains)
            out[rows] = values
        return out


def use_ge2e_embedding(pipeline: Any, weights: Path, *, threshold: float) -> None:
    """Swap in GE2E voice prints, clustered agglomeratively (a PLDA trained for
    WeSpeaker vectors means nothing for GE2E vectors, so VBx is replaced)."""
    from pyannote.audio.pipelines.clustering import AgglomerativeClustering

    pipeline._embedding = Ge2eEmbedding(weights)
    clustering = AgglomerativeClustering(metric="cosine")
    clustering.instantiate({"method": "centroid", "min_cluster_size": 12,
                            "threshold": threshold})
    pipeline.clustering = clustering
    pipeline.klustering = "AgglomerativeClustering"
    pipeline._expects_num_speakers = False


# Measured with real weights on pyannote's sample.wav (DER, default step 0.1 -> tuned):
# segmentation-3.0 (10 s powerset) 0.113 -> 0.106 at 0.25; the 2022 model (5 s,
# multi-label) 0.097 -> 0.103 at 0.15, 0.118 at 0.25, 0.389 at 0.5. So the larger
# step is only taken for powerset models.
POWERSET_STEP = 0.25


def tuned_step(pipeline: Any, setting: float | str) -> float:
    """The chunk step (fraction of a chunk) the tuned path uses for this pipeline."""
    if setting != "auto":
        return float(setting)
    if pipeline._segmentation.model.specifications.powerset:
        return POWERSET_STEP
    return float(pipeline.segmentation_step)


def apply_tuning(pipeline: Any, options: Mapping[str, Any]) -> None:
    """Step and batch sizes of the tuned path."""
    duration = pipeline._segmentation.duration
    step = tuned_step(pipeline, options["segmentation_step"])
    pipeline.segmentation_step = step
    pipeline._segmentation.step = step * duration
    pipeline.segmentation_batch_size = options["segmentation_batch_size"]
    pipeline.embedding_batch_size = options["embedding_batch_size"]


# ---------------------------------------------------------------- output


def overlap_turns(turns: Sequence[SpeakerTurn]) -> tuple[SpeakerTurn, ...]:
    """Stretches where two or more speakers talk at once, as speaker "*" (several:
    the convention the channels diariser and the overlap marks share)."""
    bounds = sorted({t.start for t in turns} | {t.end for t in turns})
    stretches: list[SpeakerTurn] = []
    for start, end in itertools.pairwise(bounds):
        speaking = {t.speaker for t in turns if t.start < end and t.end > start}
        if len(speaking) < 2:
            continue
        if stretches and abs(stretches[-1].end - start) < 1e-9:
            stretches[-1] = SpeakerTurn(stretches[-1].start, end, "*")
        else:
            stretches.append(SpeakerTurn(start, end, "*"))
    return tuple(stretches)


def _annotation_turns(annotation: Any) -> list[tuple[float, float, str]]:
    return [(float(seg.start), float(seg.end), str(label))
            for seg, _, label in annotation.itertracks(yield_label=True)]


def to_diarisation(exclusive: list[tuple[float, float, str]],
                   overlapped: list[tuple[float, float, str]], *,
                   timings: dict[str, float]) -> Diarisation:
    """pyannote labels -> S1, S2 ... in order of first speech."""
    names: dict[str, str] = {}
    for _, _, label in sorted(exclusive):
        names.setdefault(label, f"S{len(names) + 1}")
    for _, _, label in sorted(overlapped):
        names.setdefault(label, f"S{len(names) + 1}")
    turns = tuple(sorted(SpeakerTurn(round(s, 3), round(e, 3), names[label])
                         for s, e, label in exclusive if e > s))
    full = [SpeakerTurn(round(s, 3), round(e, 3), names[label]) for s, e, label in overlapped]
    return Diarisation(turns=turns, overlaps=overlap_turns(full), backend="pyannote",
                       timings=timings)


class _StageClock:
    """pyannote's hook -> per-stage seconds and the caller's progress callback."""

    ORDER = ("segmentation", "speaker_counting", "embeddings", "discrete_diarization")

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.start = time.perf_counter()
        self.last: dict[str, float] = {}

    def __call__(self, step: str, artefact: Any, file: Any = None,
                 total: int | None = None, completed: int | None = None) -> None:
        self.last[step] = time.perf_counter()
        if self.progress is not None:
            fraction = 1.0 if total is None else (completed or 0) / max(total, 1)
            self.progress(step, fraction)

    def timings(self) -> dict[str, float]:
        marks = {k: self.last[k] for k in self.ORDER if k in self.last}
        result: dict[str, float] = {}
        if "segmentation" in marks:
            result["segmentation"] = marks["segmentation"] - self.start
        if "embeddings" in marks:
            result["embeddings"] = marks["embeddings"] - marks.get(
                "speaker_counting", marks.get("segmentation", self.start))
        if "discrete_diarization" in marks and "embeddings" in marks:
            result["clustering"] = marks["discrete_diarization"] - marks["embeddings"]
        return result


def diarise(audio: Audio, *, num_speakers: int | None = None,
            settings: Mapping[str, Any] = {},
            models_dir: Path, progress: Progress | None = None) -> Diarisation:
    """Who spoke when, by pyannote's pipeline from a local folder (see module docstring)."""
    import torch

    options = resolve_settings(settings)
    if options["threads"] > 0:
        torch.set_num_threads(options["threads"])
    clock = time.perf_counter()
    folder = pipeline_folder(settings, models_dir)
    ge2e = options["embedding"] == "ge2e"
    built = (not settings.get("pyannote_pipeline") and not (folder / "config.yaml").is_file()
             and pyannote_campplus.available(models_dir, campplus=not ge2e))
    if built:  # no pipeline folder of the user's: segmentation-3.0 + CAM++ from the store
        pipeline = pyannote_campplus.build_pipeline(
            models_dir, threshold=options["campplus_threshold"], campplus=not ge2e,
            embedding_model=None if ge2e else settings.get("embedding_model") or None)
        if options["tuned"]:
            pipeline.__class__ = _tuned_class(type(pipeline))
            if options["segmentation_step"] == "auto":
                options["segmentation_step"] = pyannote_campplus.STEP
    else:
        pipeline = load_pipeline(folder, tuned=options["tuned"])
    onnx_setting = options["segmentation_onnx"]
    if onnx_setting not in ("", "off", "auto"):
        use_onnx_segmentation(pipeline, Path(onnx_setting).expanduser(),
                              threads=options["threads"])
    elif onnx_setting == "auto" and options["tuned"]:
        use_onnx_segmentation(pipeline, threads=options["threads"])
    if options["embedding"] == "ge2e":
        weights = Path(settings.get("embedding_model") or models_dir / GE2E_MODEL).expanduser()
        use_ge2e_embedding(pipeline, weights, threshold=options["ge2e_threshold"])
    elif options["embedding"] == "campplus" and not built:
        from transcribe.diarize import voices

        pyannote_campplus.use_campplus_embedding(
            pipeline, voices.load_voice_model("campplus", models_dir,
                                              settings.get("embedding_model") or None),
            threshold=options["campplus_threshold"])
    if options["tuned"]:
        apply_tuning(pipeline, options)
        if options["embedding_onnx"] and options["embedding"] == "pipeline" and not built:
            export_embedding_trunk(pipeline, threads=options["threads"])
    load_seconds = time.perf_counter() - clock
    bounds = {key: int(settings[key]) for key in ("min_speakers", "max_speakers")
              if settings.get(key) and num_speakers is None}
    return run_pipeline(pipeline, audio, num_speakers=num_speakers, progress=progress,
                        extra_timings={"load": load_seconds}, **bounds)


def run_pipeline(pipeline: Any, audio: Audio, *, num_speakers: int | None = None,
                 min_speakers: int | None = None, max_speakers: int | None = None,
                 progress: Progress | None = None,
                 extra_timings: Mapping[str, float] | None = None) -> Diarisation:
    """Apply a loaded pipeline to in-memory audio and convert its output."""
    import torch

    waveform = torch.from_numpy(np.ascontiguousarray(audio.mono))[None]
    stage_clock = _StageClock(progress)
    with warnings.catch_warnings():
        # pyannote warns about its own internals (empty clusters on near-silent input,
        # std of one frame); the result is still valid, and the caller cannot act on them
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", UserWarning)
        output = pipeline({"waveform": waveform, "sample_rate": audio.sample_rate,
                           "uri": "audio"}, num_speakers=num_speakers,
                          min_speakers=min_speakers, max_speakers=max_speakers,
                          hook=stage_clock)
    total = time.perf_counter() - stage_clock.start
    timings = dict(extra_timings or {})
    timings.update(stage_clock.timings())
    timings["total"] = total
    exclusive = getattr(output, "exclusive_speaker_diarization", None)
    overlapped = getattr(output, "speaker_diarization", output)
    if exclusive is None:  # legacy pipelines return one Annotation
        exclusive = overlapped
    return to_diarisation(_annotation_turns(exclusive), _annotation_turns(overlapped),
                          timings=timings)
