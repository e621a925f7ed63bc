"""pyannote backend pieces that need no model: folder resolution, output conversion."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from transcribe.diarize import SpeakerTurn
from transcribe.diarize.pyannote_backend import (
    PipelineFolderError,
    embedding_masks,
    overlap_turns,
    resolve_pipeline_config,
    resolve_settings,
    to_diarisation,
)

COMMUNITY = """\
pipeline:
  name: pyannote.audio.pipelines.SpeakerDiarization
  params:
    clustering: VBxClustering
    embedding: $model/embedding
    plda: $model/plda
    segmentation: $model/segmentation
"""

LEGACY = """\
version: 3.1.0
pipeline:
  name: pyannote.audio.pipelines.SpeakerDiarization
  params:
    clustering: AgglomerativeClustering
    embedding: pyannote/wespeaker-voxceleb-resnet34-LM
    segmentation: models/seg.bin
"""


def _folder(tmp_path: Path, config: str, dirs: tuple[str, ...]) -> Path:
    (tmp_path / "config.yaml").write_text(config, encoding="utf-8")
    for d in dirs:
        (tmp_path / d).mkdir(parents=True)
    return tmp_path


def test_community_layout_resolves_inside_the_folder(tmp_path: Path) -> None:
    folder = _folder(tmp_path, COMMUNITY, ("segmentation", "embedding", "plda"))
    params = resolve_pipeline_config(folder)["pipeline"]["params"]
    for key in ("segmentation", "embedding", "plda"):
        assert params[key] == {"checkpoint": str(folder), "subfolder": key}


def test_community_layout_without_plda_is_a_clear_error(tmp_path: Path) -> None:
    folder = _folder(tmp_path, COMMUNITY, ("segmentation", "embedding"))
    with pytest.raises(PipelineFolderError, match="plda"):
        resolve_pipeline_config(folder)


def test_legacy_layout_maps_hub_names_to_subfolders_and_needs_no_plda(tmp_path: Path) -> None:
    folder = _folder(tmp_path, LEGACY, ("wespeaker-voxceleb-resnet34-LM",))
    (folder / "models").mkdir()
    (folder / "models" / "seg.bin").write_bytes(b"x")
    params = resolve_pipeline_config(folder)["pipeline"]["params"]
    assert params["embedding"] == {"checkpoint": str(folder / "wespeaker-voxceleb-resnet34-LM")}
    assert params["segmentation"] == {"checkpoint": str(folder / "models" / "seg.bin")}
    assert type(params["plda"]).__name__ == "PLDA"  # the unused placeholder, not a hub name


def test_a_model_missing_from_the_folder_is_never_fetched(tmp_path: Path) -> None:
    folder = _folder(tmp_path, LEGACY, ())
    with pytest.raises(PipelineFolderError, match="nothing is downloaded"):
        resolve_pipeline_config(folder)


def test_no_config_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PipelineFolderError, match=r"config\.yaml"):
        resolve_pipeline_config(tmp_path)


def test_overlaps_are_the_stretches_with_two_speakers() -> None:
    turns = [SpeakerTurn(0.0, 5.0, "S1"), SpeakerTurn(4.0, 8.0, "S2"),
             SpeakerTurn(4.5, 6.0, "S3"), SpeakerTurn(9.0, 10.0, "S1")]
    assert overlap_turns(turns) == (SpeakerTurn(4.0, 6.0, "*"),)


def test_output_speakers_are_named_by_first_speech() -> None:
    exclusive = [(3.0, 6.0, "SPEAKER_00"), (0.0, 3.0, "SPEAKER_01")]
    result = to_diarisation(exclusive, exclusive, timings={"total": 1.0})
    assert result.turns == (SpeakerTurn(0.0, 3.0, "S1"), SpeakerTurn(3.0, 6.0, "S2"))
    assert result.overlaps == () and result.backend == "pyannote"


def test_embedding_masks_follow_pyannotes_clean_frame_rule() -> None:
    binary = np.zeros((1, 10, 3))
    binary[0, :6, 0] = 1  # speaker 0: 6 frames, 2 of them overlapped
    binary[0, 4:10, 1] = 1  # speaker 1: 6 frames, 2 overlapped
    binary[0, 4:5, 2] = 1  # speaker 2: 1 frame, all overlapped
    masks = embedding_masks(binary, exclude_overlap=True, min_num_frames=2)
    assert masks.shape == (1, 3, 10)
    assert masks[0, 0].sum() == 4  # clean frames only
    assert masks[0, 2].sum() == 1  # too few clean frames: all of its frames
    assert embedding_masks(binary, exclude_overlap=False, min_num_frames=2)[0, 0].sum() == 6


def test_settings_are_checked() -> None:
    assert resolve_settings({})["segmentation_step"] == "auto"
    assert resolve_settings({"segmentation_step": 0.5})["segmentation_step"] == 0.5
    with pytest.raises(ValueError, match="segmentation_step"):
        resolve_settings({"segmentation_step": 2})
    with pytest.raises(ValueError, match="embedding"):
        resolve_settings({"embedding": "xvector"})
    with pytest.raises(ValueError, match="tuned"):
        resolve_settings({"tuned": "yes"})
