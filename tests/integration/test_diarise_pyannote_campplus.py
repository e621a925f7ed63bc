"""``--diarize pyannote`` with all-real weights from the store: segmentation-3.0 + CAM++."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures import real_voices
from tests.fixtures.diarise_scoring import der, read_rttm
from transcribe.audio import load_audio
from transcribe.diarize import pyannote_campplus
from transcribe.diarize.registry import diarise

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def store(campplus_model: Path, segmentation_3_pyannote: Path,
          tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model store holding just the two real models (no pipeline folder)."""
    folder = tmp_path_factory.mktemp("store")
    (folder / "campplus-cn-en").symlink_to(campplus_model.parent)
    (folder / "pyannote-segmentation-3.0").symlink_to(segmentation_3_pyannote.parent)
    return folder


def test_runs_end_to_end_on_real_weights_without_a_pipeline_folder(store: Path) -> None:
    assert pyannote_campplus.available(store)
    sample = real_voices.sample_dir()
    result = diarise(load_audio(sample / "sample.wav"), mode="pyannote", models_dir=store)
    assert result.backend == "pyannote"
    assert len(result.speakers) == 2
    assert der(read_rttm(sample / "sample.rttm"), result.turns) <= 0.15
    assert {"segmentation", "embeddings", "clustering"} <= set(result.timings)
