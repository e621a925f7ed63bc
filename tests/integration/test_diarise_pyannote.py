"""The ``pyannote`` diariser: offline loading of both folder layouts (random-init
models of the real architectures), the tuned path's exactness, and the tuned
path on real audio with the real segmentation-3.0 (ONNX) and GE2E weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.fixtures.diarise_scoring import boundary_errors, der, word_speaker_accuracy
from tests.fixtures.pyannote_pipeline import build_pipeline_folder
from tests.fixtures.synth import make_interview
from transcribe.audio import Audio
from transcribe.diarize import pyannote_backend as backend

pytestmark = pytest.mark.integration

SAMPLE = Path(__import__("pyannote.audio").audio.__file__).parent / "sample" / "sample.wav"


def _load(path: Path, seconds: float | None = None) -> Audio:
    samples, rate = sf.read(path, dtype="float32", always_2d=True)
    if seconds:
        samples = samples[: int(seconds * rate)]
    return Audio(samples.T.copy(), rate, str(path))


@pytest.fixture(scope="module")
def community() -> Path:
    return build_pipeline_folder(layout="community-1")


@pytest.fixture(scope="module")
def legacy() -> Path:
    return build_pipeline_folder(layout="3.1")


def test_community_folder_runs_offline_with_the_tuned_path(community: Path, tmp_path: Path,
                                                          ) -> None:
    stages: list[str] = []
    result = backend.diarise(_load(SAMPLE), settings={"pyannote_pipeline": str(community)},
                             models_dir=tmp_path, progress=lambda s, f: stages.append(s))
    assert result.backend == "pyannote"
    for a, b in zip(result.turns, result.turns[1:], strict=False):
        assert a.end <= b.start + 1e-6  # exclusive
    assert {"load", "segmentation", "embeddings", "clustering", "total"} <= set(result.timings)
    assert "segmentation" in stages and "embeddings" in stages


def test_default_location_is_the_model_store(community: Path, tmp_path: Path) -> None:
    with pytest.raises(backend.PipelineFolderError, match="pyannote-diarization"):
        backend.diarise(_load(SAMPLE, 12), models_dir=tmp_path)


def test_legacy_31_folder_loads_without_reaching_the_hub(legacy: Path) -> None:
    pipeline = backend.load_pipeline(legacy, tuned=True)
    assert type(pipeline).__name__.startswith("Tuned")
    assert pipeline.klustering == "AgglomerativeClustering"
    result = backend.run_pipeline(pipeline, _load(SAMPLE, 12))
    assert result.backend == "pyannote"


def test_tuned_embeddings_are_pyannotes_own_numbers(community: Path) -> None:
    import torch

    pipeline = backend.load_pipeline(community, tuned=False)
    pipeline.instantiate(pipeline.default_parameters())
    audio = _load(SAMPLE, 12)
    file = {"waveform": torch.from_numpy(audio.mono)[None], "sample_rate": 16_000, "uri": "x"}
    segmentations = pipeline.get_segmentations(file)
    reference = pipeline.get_embeddings(file, segmentations, exclude_overlap=True)
    tuned = backend.active_speaker_embeddings(pipeline, file, segmentations,
                                              exclude_overlap=True, hook=None)
    active = ~np.isnan(tuned).any(axis=2)
    assert active.any()
    assert np.allclose(tuned[active], reference[active], atol=1e-4)
    silent = segmentations.data.sum(axis=1) == 0
    assert np.array_equal(~active, silent)


def test_onnx_exports_give_torchs_numbers(community: Path) -> None:
    import torch

    pipeline = backend.load_pipeline(community, tuned=True)
    chunks = torch.from_numpy(_load(SAMPLE, 20).mono[: 2 * 160_000].reshape(2, 1, -1).copy())
    model = pipeline._segmentation.model
    embedder = pipeline._embedding.model_
    with torch.inference_mode():
        segmentation = model(chunks).numpy()
        frames = embedder.forward_frames(chunks).numpy()
    assert backend.use_onnx_segmentation(pipeline)
    assert backend.export_embedding_trunk(pipeline)
    with torch.inference_mode():
        assert np.allclose(model(chunks).numpy(), segmentation, atol=1e-4)
        assert np.allclose(backend._trunk(pipeline, embedder, chunks).numpy(), frames,
                           atol=1e-4)


@pytest.fixture(scope="module")
def interview():
    return make_interview(channels=1, seed=0)


@pytest.mark.parametrize("speakers", [None, 2])
def test_tuned_path_with_real_weights_on_the_synthetic_interview(
        legacy: Path, segmentation_3_onnx: Path, ge2e_encoder: Path, interview,
        speakers: int | None) -> None:
    settings = {"pyannote_pipeline": str(legacy), "segmentation_onnx": str(segmentation_3_onnx),
                "embedding": "ge2e", "embedding_model": str(ge2e_encoder)}
    result = backend.diarise(_load(interview.path), num_speakers=speakers, settings=settings,
                             models_dir=ge2e_encoder.parent.parent)
    assert len(result.speakers) == 2
    assert word_speaker_accuracy(interview.words, interview.turns, result.turns) >= 0.95
    errors = boundary_errors(interview.turns, result.turns)
    assert max(errors) <= 0.5, errors
    assert der(interview.turns, result.turns) <= 0.30


def test_tuned_step_depends_on_the_segmentation_model(community: Path,
                                                      segmentation_2022: Path) -> None:
    settings = backend.resolve_settings({})
    powerset = backend.load_pipeline(community)
    backend.apply_tuning(powerset, settings)
    assert powerset._segmentation.step == pytest.approx(2.5)  # 0.25 of 10 s
    multilabel = backend.load_pipeline(
        build_pipeline_folder(layout="3.1", segmentation=segmentation_2022))
    backend.apply_tuning(multilabel, settings)
    assert multilabel._segmentation.step == pytest.approx(0.5)  # pyannote's 0.1 of 5 s


def test_an_onnx_file_of_another_model_is_refused(segmentation_2022: Path,
                                                  segmentation_3_onnx: Path) -> None:
    folder = build_pipeline_folder(layout="3.1", segmentation=segmentation_2022)
    pipeline = backend.load_pipeline(folder)
    with pytest.raises(backend.PipelineFolderError, match="not an export of the same model"):
        backend.use_onnx_segmentation(pipeline, segmentation_3_onnx)
    with pytest.raises(backend.PipelineFolderError, match="not found"):
        backend.use_onnx_segmentation(pipeline, folder / "missing.onnx")
