"""The demo study: a short synthetic interview and its transcript, for a first look.

On first run without a study the app opens ``<data_dir>/demo-study``, made
here from ``demo.ogg`` (espeak-ng, two voices, ~49 s) and ``demo.json`` (its
transcript, made once by the project's own pipeline; see ``build.py``), so a
newcomer sees every screen with no microphone and no model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEMO_AUDIO = HERE / "demo.ogg"
DEMO_TRANSCRIPT = HERE / "demo.json"
DEMO_DIR_NAME = "demo-study"
DEMO_NOTE = "a demo (synthetic voices); your own: verbatim study init DIR"


def demo_study_path(data_dir: Path) -> Path:
    return Path(data_dir) / DEMO_DIR_NAME


def open_demo_study(data_dir: Path) -> Any:
    """Open the demo study under ``data_dir``, creating it on first use."""
    from verbatim.study import Study

    path = demo_study_path(data_dir)
    if (path / "study.sqlite").exists():
        return Study.open(path)
    study = Study.init(path, name="Demo study")
    try:
        _fill(study)
    except BaseException:
        study.close()
        raise
    return study


def _fill(study: Any) -> None:
    from transcript import document

    study.add_participant("P1", pseudonym="Sam",
                          attributes={"profession": "Social Worker", "gender": "Male",
                                      "setting": "Community team"})
    iid = study.add_interview("P1", DEMO_AUDIO, date="2024-03-14", place="Clinic room")
    if DEMO_TRANSCRIPT.exists():
        study.save_transcript(iid, document.read(DEMO_TRANSCRIPT), origin="pipeline",
                              description="demo transcript made by the pipeline")
    (Path(study.path) / "schedule.txt").write_text(
        "# one question per line: the record screen shows them as a checklist\n"
        "Your role and how long you have worked in the team\n"
        "What user involvement means in your work\n"
        "A time you worked with a peer support worker\n"
        "What was difficult about it\n"
        "What you would change\n", encoding="utf-8")
