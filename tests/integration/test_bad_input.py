"""The bad-input battery: every command, every kind of wrong input, one clear line each.

Each case runs ``verbatim.cli.main`` and must give: a non-zero exit, exactly
one line on stderr that names the thing (a path, an id, a flag), no traceback
and no "internal error", and no change to anything on disk (every file of the
workspace, the study included, is hashed before and after).

Unwritable and full destinations are real: as root (where permissions do not
bind) a read-only tmpfs and a 64 KB tmpfs filled to the brim are mounted for
the module; otherwise a folder without write permission stands in for the
first and the full-disk cases are skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import struct
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from transcript.document import dumps
from transcript.model import AudioRef, Transcript, Word
from verbatim.cli import main
from verbatim.study import Study

pytestmark = pytest.mark.integration

RATE = 16_000


@dataclass
class Workspace:
    root: Path
    study: Path
    full: Path | None

    def fill(self, text: str) -> str:
        return text.format(w=self.root, s=self.study, full=self.full or "", ro=self.root / "ro")


def _mount(folder: Path, options: str) -> bool:
    if os.getuid() != 0 or shutil.which("mount") is None:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "verbatim-test", str(folder)],
                          capture_output=True, check=False)
    return done.returncode == 0


def _words(n: int = 30) -> tuple[Word, ...]:
    return tuple(Word(text=f"word{i}", start=i * 0.5, end=i * 0.5 + 0.4,
                      speaker="S1" if i % 10 < 5 else "S2") for i in range(n))


def _make_files(w: Path) -> None:
    rng = np.random.default_rng(1)
    noise = (rng.standard_normal(RATE * 2) * 0.1).astype("float32")
    sf.write(str(w / "good.wav"), noise, RATE, subtype="PCM_16")
    sf.write(str(w / "lying.wav"), noise[:RATE], RATE, subtype="PCM_16")
    raw = bytearray((w / "lying.wav").read_bytes())  # the header promises 60 s, holds 1 s
    at = raw.find(b"data")
    struct.pack_into("<I", raw, at + 4, 60 * RATE * 2)
    struct.pack_into("<I", raw, 4, 36 + 60 * RATE * 2)
    (w / "lying.wav").write_bytes(bytes(raw))
    sf.write(str(w / "whole.flac"), np.tile(noise, 2), RATE, format="FLAC")
    flac = (w / "whole.flac").read_bytes()
    (w / "cut.flac").write_bytes(flac[: len(flac) // 2 + 7])  # cut mid-frame
    (w / "whole.flac").unlink()
    sf.write(str(w / "short.wav"), noise[: RATE // 10], RATE)
    sf.write(str(w / "six.wav"), np.tile(noise[:RATE, None], (1, 6)), RATE)
    sf.write(str(w / "f96.wav"), np.repeat(noise[:RATE], 6), 96_000, subtype="FLOAT")
    (w / "text.wav").write_text("not audio at all\n")
    doc = Transcript(audio=AudioRef(path="good.wav"), words=_words())
    (w / "t.json").write_text(dumps(doc), encoding="utf-8")
    (w / "bad.json").write_text('{"format": "verbatim-transcript/1", "words": [', "utf-8")
    newer = json.loads(dumps(doc)) | {"format": "verbatim-transcript/9"}
    (w / "newer.json").write_text(json.dumps(newer), encoding="utf-8")
    (w / "latin1.json").write_bytes(dumps(doc).replace("word1", "caf\u00e9").encode("latin-1"))
    (w / os.fsdecode(b"n\xe4me.json")).write_bytes(b"\xff\xfe not json")
    (w / "latin1-list.txt").write_bytes("Zo\u00eb = [colleague]\n".encode("latin-1"))
    (w / "afile").write_text("a file where a folder is expected\n")
    (w / "folder.json").mkdir()
    (w / "loop-a").symlink_to(w / "loop-b")
    (w / "loop-b").symlink_to(w / "loop-a")
    (w / "bad-config.toml").write_text("width = [\n")


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    root = tmp_path_factory.mktemp("bad-input")
    _make_files(root)
    study = root / "study"
    with Study.init(study) as s:
        s.add_participant("P1", attributes={"profession": "Social Worker"})
        s.add_interview("P1", root / "good.wav")
        s.save_transcript("P1-1", Transcript(audio=AudioRef("a.wav"), words=_words()))
        s.add_interview("P1", root / "good.wav")
        s.save_transcript("P1-2", Transcript(audio=AudioRef("a.wav"), words=_words()))
        s.lock("P1-2")
        s.add_extract("P1-2", 1, 2)
    for name in ("newer", "readonly"):  # copies that a case spoils
        shutil.copytree(study, root / name)
    con = sqlite3.connect(root / "newer" / "study.sqlite")
    con.execute("PRAGMA user_version = 999")
    con.close()
    ro = root / "ro"
    ro.mkdir()
    mounted: list[Path] = []
    try:
        if _mount(ro, "ro,size=1m,mode=0755"):
            mounted.append(ro)
        else:
            ro.chmod(0o500)
        readonly = root / "readonly"
        if _mount(readonly, "size=4m,mode=0755"):
            mounted.append(readonly)
            shutil.copytree(root / "study", readonly, dirs_exist_ok=True)
            subprocess.run(["mount", "-o", "remount,ro", str(readonly)], check=True)
        full: Path | None = root / "full"
        assert full is not None
        full.mkdir()
        if _mount(full, "size=64k,mode=0755"):
            mounted.append(full)
            fd = os.open(full / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                while os.write(fd, b"\0" * 512):
                    pass
            except OSError:
                pass  # ENOSPC: full to the brim
            finally:
                os.close(fd)
        else:
            full = None
        yield Workspace(root=root, study=study, full=full)
    finally:
        for folder in reversed(mounted):
            subprocess.run(["umount", "-l", str(folder)], check=False)
        if not mounted:
            ro.chmod(0o700)


# (case id, argv template, what the line must name). {w} workspace, {s} study,
# {ro} read-only folder, {full} full disk. Study commands get --study {s}.
CASES: list[tuple[str, str, str]] = [
    # export of a transcript file
    ("export: missing transcript", "export {w}/missing.json --format txt --out {w}/o.txt",
     "missing.json"),
    ("export: a folder as the transcript", "export {w}/folder.json --format txt --out {w}/o.txt",
     "folder.json"),
    ("export: invalid JSON", "export {w}/bad.json --format txt --out {w}/o.txt", "bad.json"),
    ("export: newer format", "export {w}/newer.json --format txt --out {w}/o.txt", "newer.json"),
    ("export: non-UTF-8 text", "export {w}/latin1.json --format txt --out {w}/o.txt",
     "latin1.json"),
    ("export: non-UTF-8 file name", "export {w}/n\udce4me.json --format txt --out {w}/o.txt",
     "me.json"),
    ("export: symlink loop as input", "export {w}/loop-a --format txt --out {w}/o.txt", "loop-a"),
    ("export: missing destination folder",
     "export {w}/t.json --format txt --out {w}/nowhere/o.txt", "nowhere"),
    ("export: destination is a folder", "export {w}/t.json --format txt --out {w}/folder.json",
     "folder.json"),
    ("export: a file where a folder is expected",
     "export {w}/t.json --format txt --out {w}/afile/o.txt", "afile"),
    ("export: unwritable destination", "export {w}/t.json --format docx --out {ro}/o.docx",
     "ro"),
    ("export: symlink loop as destination", "export {w}/t.json --format txt --out {w}/loop-a",
     "loop-a"),
    ("export: missing replacement list",
     "export {w}/t.json --format txt --out {w}/o.txt --replacements {w}/none.txt", "none.txt"),
    ("export: non-UTF-8 replacement list",
     "export {w}/t.json --format txt --out {w}/o.txt --replacements {w}/latin1-list.txt",
     "latin1-list.txt"),
    ("export: width too small", "export {w}/t.json --format txt --out {w}/o.txt --width 0",
     "width"),
    # transcribe: refused before any model loads
    ("transcribe: missing recording", "transcribe {w}/missing.wav --out {w}/o.json",
     "missing.wav"),
    ("transcribe: a text file as audio", "transcribe {w}/text.wav --out {w}/o.json", "text.wav"),
    ("transcribe: WAV whose header lies", "transcribe {w}/lying.wav --out {w}/o.json",
     "lying.wav"),
    ("transcribe: FLAC cut mid-frame", "transcribe {w}/cut.flac --out {w}/o.json", "cut.flac"),
    ("transcribe: 0.1 s recording", "transcribe {w}/short.wav --out {w}/o.json", "short.wav"),
    ("transcribe: 96 kHz float, one channel, by channel",
     "transcribe {w}/f96.wav --out {w}/o.json --diarize channels", "channel"),
    ("transcribe: missing destination folder",
     "transcribe {w}/good.wav --out {w}/nowhere/o.json", "nowhere"),
    ("transcribe: unknown diariser", "transcribe {w}/good.wav --out {w}/o.json --diarize magic",
     "magic"),
    ("transcribe: a folder as the model",
     "transcribe {w}/good.wav --out {w}/o.json --model {w}/folder.json", "folder.json"),
    ("transcribe: a text file as the model",
     "transcribe {w}/good.wav --out {w}/o.json --model {w}/afile", "afile"),
    ("transcribe: unknown model name",
     "transcribe {w}/good.wav --out {w}/o.json --model no-such-model", "no-such-model"),
    # recording and repair
    ("record: 6 channels", "record {w}/r.wav --channels 6 --seconds 1", "6"),
    ("recover: missing file", "recover {w}/missing.wav", "missing.wav"),
    ("recover: a text file", "recover {w}/text.wav", "text.wav"),
    # the study: opening it
    ("study: missing folder", "--study {w}/nostudy study info", "nostudy"),
    ("study: a file as the study", "--study {w}/afile study info", "afile"),
    ("study: a folder that is not a study", "--study {w}/folder.json study info", "folder.json"),
    ("study: newer schema", "--study {w}/newer study info", "newer"),
    ("study init: a file is there", "study init {w}/afile", "afile"),
    ("study init: unwritable place", "study init {ro}/new-study", "ro"),
    # the study: ids and values
    ("participant add: path characters in the id",
     "--study {s} participant add ../../etc", "../../etc"),
    ("interview add: unknown participant", "--study {s} interview add P9 {w}/good.wav", "P9"),
    ("interview add: path characters in the participant",
     "--study {s} interview add P1/../x {w}/good.wav", "P1/../x"),
    ("interview add: missing recording", "--study {s} interview add P1 {w}/missing.wav",
     "missing.wav"),
    ("interview add: a folder as the recording", "--study {s} interview add P1 {w}/folder.json",
     "folder.json"),
    ("interview add: WAV whose header lies", "--study {s} interview add P1 {w}/lying.wav",
     "lying.wav"),
    ("interview add: FLAC cut mid-frame", "--study {s} interview add P1 {w}/cut.flac",
     "cut.flac"),
    ("interview add: 0.1 s recording", "--study {s} interview add P1 {w}/short.wav",
     "short.wav"),
    ("interview add: symlink loop", "--study {s} interview add P1 {w}/loop-a", "loop-a"),
    ("transcribe: interview id with path characters", "--study {s} transcribe P1-1/../../x",
     "P1-1/../../x"),
    ("transcribe: locked interview", "--study {s} transcribe P1-2", "P1-2"),
    ("export: unknown interview", "--study {s} export P9-1 --format txt --out {w}/o.txt",
     "P9-1"),
    ("export interview: unwritable destination",
     "--study {s} export P1-1 --format txt --out {ro}/x.txt", "ro"),
    ("export interview: missing destination folder",
     "--study {s} export P1-1 --format docx --out {w}/nowhere/x.docx", "nowhere"),
    ("export interview: destination is a folder",
     "--study {s} export P1-1 --format txt --out {w}/folder.json", "folder.json"),
    ("participant table: unwritable destination",
     "--study {s} participant table --format csv --out {ro}/t.csv", "ro"),
    ("participant table: a file where a folder is expected",
     "--study {s} participant table --format csv --out {w}/afile/t.csv", "afile"),
    ("pack: a file where a folder is expected", "--study {s} pack P1 --out {w}/afile", "afile"),
    ("pack: unwritable destination", "--study {s} pack P1 --out {ro}/pack", "ro"),
    ("backup: unwritable destination", "--study {s} study backup {ro}/b", "ro"),
    ("note add: unknown interview", "--study {s} note add P9-1 --at 1-2 --phase after "
     "--moment x", "P9-1"),
    ("note add: backwards time range", "--study {s} note add P1-1 --at 20-10 --phase after "
     "--moment x", "20"),
    ("note add: a 100 KB note", "--study {s} note add P1-1 --at 1-2 --phase after --moment "
     "{big}", "moment"),
    ("lock: unknown interview", "--study {s} lock P9-1", "P9-1"),
    ("extract add: lines beyond the transcript",
     "--study {s} extract add P1-2 --lines 9000-9001", "9000"),
    ("config: broken config file", "{config} models list", "bad-config.toml"),
    # h20's write paths: read-only database, a database held by another writer, a full disk
    ("note add: read-only database", "--study {w}/readonly note add P1-1 --at 1-2 --phase "
     "after --moment x", "readonly"),
    ("note add: database held by another writer", "--study {s} note add P1-1 --at 1-2 "
     "--phase after --moment x", "{held}"),
    ("export: full disk", "export {w}/t.json --format docx --out {full}/o.docx", "full"),
    ("participant table: full disk",
     "--study {s} participant table --format csv --out {full}/t.csv", "full"),
]


def _digest(root: Path) -> dict[str, str]:
    """Every file's sha256 (symlinks by target), the SQLite side files left out."""
    out: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_symlink():
            out[rel] = "-> " + os.readlink(path)
        elif path.is_file() and not rel.endswith(("-wal", "-shm")):
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif path.is_dir():
            out[rel] = "dir"
    return out


ANSWERS: dict[str, str] = {}


@pytest.mark.parametrize(("case", "template", "names"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_gives_one_line_and_changes_nothing(
        ws: Workspace, case: str, template: str, names: str,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        request: pytest.FixtureRequest) -> None:
    if "{full}" in template and ws.full is None:
        pytest.skip("no small file system to fill here (needs root and tmpfs)")
    if "readonly" in template and not os.path.ismount(ws.root / "readonly"):
        pytest.skip("no read-only file system here (needs root and tmpfs)")
    monkeypatch.chdir(ws.root)
    if template.startswith("transcribe "):  # a model must be found before the audio is judged
        models = request.getfixturevalue("models_dir")  # skips without real models
        monkeypatch.setenv("VERBATIM_MODELS", str(models))
    argv = ws.fill(template.replace("{big}", "BIG").replace("{config}", "")).split()
    argv = ["x" * 102_400 if a == "BIG" else a for a in argv]
    if template.startswith("{config}"):
        monkeypatch.setenv("VERBATIM_CONFIG", str(ws.root / "bad-config.toml"))
    holder = None
    if names == "{held}":  # another program holds the write lock
        holder = sqlite3.connect(ws.study / "study.sqlite", timeout=1, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        names = "in use"
        monkeypatch.setattr("verbatim.study.db.BUSY_TIMEOUT_MS", 300, raising=False)
    before = _digest(ws.root)
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own usage errors
        code = int(exc.code or 0)
    finally:
        if holder is not None:
            holder.execute("ROLLBACK")
            holder.close()
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    ANSWERS[case] = err.strip()
    assert code != 0, f"{case}: exit 0"
    assert len(lines) == 1, f"{case}: {len(lines)} lines:\n{err}"
    assert "Traceback" not in err and "internal error" not in err, err
    assert names in lines[0], f"{case}: the line does not name {names!r}: {lines[0]}"
    assert _digest(ws.root) == before, f"{case}: something changed on disk"


def test_battery_size() -> None:
    assert len(CASES) >= 40
    print(f"\nbad-input battery: {len(CASES)} cases, {len(ANSWERS)} answered")
    for case, line in ANSWERS.items():
        print(f"  {case:<52} {line[:150]}")
