"""The app's export door follows the CLI's media rule: a .qdpx holds the study's recording."""

from __future__ import annotations

import zipfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from lxml import etree

from verbatim.study import Study
from verbatim.tui.screens.dialogs import ExportChoice
from verbatim.tui.screens.home import _export


def _app(study: Study) -> Any:
    said: list[str] = []
    return SimpleNamespace(study=study, said=said,
                           call_from_thread=lambda f, *a, **k: f(*a, **k),
                           notify=lambda text, **_: said.append(text))


def test_app_export_puts_the_recording_in_the_qdpx_and_links_eaf(study: Study,
                                                                 tmp_path: Path) -> None:
    app = _app(study)
    stored = (Path(study.path) / "audio" / study.interview("P1-1").audio_file).resolve()
    qdpx = tmp_path / "out" / "P1-1.qdpx"
    _export(app, "P1-1", ExportChoice("qdpx", "paper", 80, False, qdpx))
    assert app.said[-1].startswith("exported"), app.said
    with zipfile.ZipFile(qdpx) as zf:
        audio = [n for n in zf.namelist() if n.startswith("Sources/") and not n.endswith(".txt")]
        assert len(audio) == 1 and zf.read(audio[0]) == stored.read_bytes()
    eaf = tmp_path / "out" / "P1-1.eaf"
    _export(app, "P1-1", ExportChoice("eaf", "paper", 80, False, eaf))
    media = etree.parse(str(eaf)).find(".//MEDIA_DESCRIPTOR")
    assert media is not None and media.get("MEDIA_URL") == stored.as_uri()
    _export(app, "P1-1", ExportChoice("eaf", "paper", 80, True, eaf))  # pseudonymised
    media = etree.parse(str(eaf)).find(".//MEDIA_DESCRIPTOR")
    assert media is not None and media.get("MEDIA_URL") == "P1-1" + stored.suffix
