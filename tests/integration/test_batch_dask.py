"""``verbatim batch`` on a real Dask cluster: a scheduler and two workers on loopback, TLS.

The certificates are made here with openssl (a throwaway CA and one node
certificate). Every batch runs as a real ``verbatim`` process, as a user would
start it; the study is checked afterwards through the store. Interviews are
short real clips transcribed with tiny.en and ``--diarize none`` to stay fast.
The worker-kill test goes last: it leaves the cluster with one worker.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.fixtures.dask_cluster import Cluster, ClusterUnavailable, loopback_cluster

REPO = Path(__file__).resolve().parents[2]
AUDIO = REPO.parent / "shared" / "audio"
CLIPS = ("jfk.flac", "2412-153948-0000.flac", "ES2011a.Headset-0-40s-46s.wav",
         "stereo_diarization.wav")

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


def _audio_dir() -> Path:
    for candidate in (Path(os.environ.get("VERBATIM_TEST_AUDIO", "/nonexistent")), AUDIO,
                      REPO.parent.parent / "shared" / "audio"):
        if all((candidate / clip).is_file() for clip in CLIPS):
            return candidate
    pytest.skip("real speech clips not found (set VERBATIM_TEST_AUDIO to shared/audio)")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, models_dir: Path,
            faster_whisper_tiny: Path) -> Iterator[Cluster]:
    try:
        with loopback_cluster(tmp_path_factory.mktemp("dask"), models_dir) as running:
            yield running
    except ClusterUnavailable as exc:
        pytest.skip(str(exc))


def _make_study(folder: Path, sources: Path, *, encrypted: bool = False, count: int = 4,
                key_file: Path | None = None) -> tuple[Path, list[str], dict[str, bytes]]:
    """A study of ``count`` interviews, each a real clip of at most 6 s made unique (a faint
    random dither).

    Returns the study, the interview ids and, per id, 64 bytes from the middle of the
    recording as stored (what a plaintext scan looks for).
    """
    from verbatim.study import Study

    study_dir = folder / "study"
    if encrypted:
        assert key_file is not None
        result = _verbatim({**os.environ, "PYTHONPATH": str(REPO)}, "study", "init",
                           str(study_dir), "--encrypt", "--key-file", str(key_file))
        assert result.returncode == 0, result.stderr
    else:
        Study.init(study_dir).close()
    sources.mkdir(exist_ok=True)
    rng = np.random.default_rng(time.time_ns() % 2**32)
    ids, probes = [], {}
    with Study.open(study_dir) as study:
        for n, clip in enumerate(CLIPS[:count], start=1):
            data, rate = sf.read(str(_audio_dir() / clip), dtype="float32", always_2d=True,
                                 frames=6 * sf.info(str(_audio_dir() / clip)).samplerate)
            data = data + rng.normal(0, 1e-4, data.shape).astype(np.float32)
            path = sources / f"p{n}-{folder.name}.wav"
            sf.write(str(path), np.clip(data, -1, 1), rate, subtype="PCM_16")
            raw = path.read_bytes()
            study.add_participant(f"P{n}")
            iid = study.add_interview(f"P{n}", path)
            ids.append(iid)
            probes[iid] = raw[len(raw) // 2:len(raw) // 2 + 64]
    return study_dir, ids, probes


def _verbatim(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "verbatim", *argv], text=True,
                          capture_output=True, env=env, timeout=180, stdin=subprocess.DEVNULL)


def _batch_env(study_dir: Path, models_dir: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "VERBATIM_MODELS": str(models_dir),
            "VERBATIM_STUDY": str(study_dir)}


def _batch_argv(cluster: Cluster, *ids: str) -> list[str]:
    return [sys.executable, "-m", "verbatim", "batch", *(ids or ("--pending",)),
            "--scheduler", cluster.address, *cluster.tls_flags(), "--diarize", "none",
            "--model", "tiny.en", "--threads", "1"]


def _versions(study_dir: Path, ids: list[str]) -> dict[str, list[str]]:
    """Per interview, the descriptions of its saved versions (one per save)."""
    from verbatim.study import Study

    with Study.open(study_dir) as study:
        return {iid: [v.description for v in study.versions(iid)] for iid in ids}


def _words(study_dir: Path, iid: str) -> str:
    from verbatim.study import Study

    with Study.open(study_dir) as study:
        doc = study.transcript(iid)
        assert doc is not None
        return " ".join(w.text for w in doc.words).lower()


def test_four_interviews_and_a_killed_client_resumes_with_pending(
        cluster: Cluster, tmp_path: Path, models_dir: Path) -> None:
    study_dir, ids, _ = _make_study(tmp_path, tmp_path / "sources")
    env = _batch_env(study_dir, models_dir)
    client = subprocess.Popen(_batch_argv(cluster), env=env, stderr=subprocess.PIPE,
                              stdout=subprocess.DEVNULL, text=True)
    assert client.stderr is not None
    seen = []
    for line in client.stderr:
        seen.append(line)
        if " saved " in line:
            break
    client.send_signal(signal.SIGKILL)  # the laptop's lid closes, the shell is gone
    client.wait()
    client.stderr.close()
    assert any(" saved " in line for line in seen), "".join(seen)
    assert any(line.startswith("worker tls://127.0.0.1") and ": ok" in line for line in seen)
    kept = {iid for iid, v in _versions(study_dir, ids).items() if v}
    assert kept, "the interview saved before the kill was lost"

    result = _verbatim(env, *_batch_argv(cluster)[3:])
    assert result.returncode == 0, result.stderr
    assert f"{4 - len(kept)} saved" in result.stderr
    versions = _versions(study_dir, ids)
    assert all(len(v) == 1 for v in versions.values()), versions  # each saved once
    assert all("batch on" in v[0] for v in versions.values())
    assert "fellow americans" in _words(study_dir, ids[0])


def test_encrypted_study_leaves_no_plaintext_on_the_workers(
        cluster: Cluster, tmp_path: Path, models_dir: Path, vault_runtime: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    key_file = tmp_path / "team.key"
    monkeypatch.setenv("VERBATIM_KEY_FILE", str(key_file))
    sources = tmp_path / "sources"
    started = time.time()
    study_dir, ids, probes = _make_study(tmp_path, sources, encrypted=True, count=2,
                                         key_file=key_file)
    env = {**_batch_env(study_dir, models_dir), "VERBATIM_KEY_FILE": str(key_file)}
    result = _verbatim(env, *_batch_argv(cluster)[3:])
    assert result.returncode == 0, result.stderr
    assert "2 saved" in result.stderr
    assert "fellow americans" in _words(study_dir, ids[0])

    # The decrypted recordings and the transcripts' words must be nowhere on the workers'
    # disks: their local directories and temp folders, and anything new in /tmp.
    # (Words only in the workers' own folders: another test on this machine may write
    # a transcript of the same clip into /tmp; the dithered recordings are unique.)
    audio, words = list(probes.values()), [b"fellow Americans", b"fellow americans"]
    found = [hit for place in cluster.worker_dirs
             for hit in _scan(place, audio + words, since=0, skip=())]
    found += _scan(Path("/tmp"), audio, since=started, skip=(sources,))
    assert not found, found


def _scan(root: Path, needles: list[bytes], *, since: float,
          skip: tuple[Path, ...]) -> list[str]:
    hits = []
    for folder, dirs, files in os.walk(root, onerror=lambda e: None):
        here = Path(folder)
        dirs[:] = [d for d in dirs if not any((here / d) == s for s in skip)]
        for name in files:
            path = here / name
            try:
                info = path.lstat()
                if not path.is_file() or info.st_mtime < since or info.st_size > 200 << 20:
                    continue
                data = path.read_bytes()
            except OSError:
                continue
            hits += [f"{path}: {needle[:16]!r}" for needle in needles if needle in data]
    return hits


def test_a_worker_killed_mid_task_loses_nothing_and_saves_nothing_twice(
        cluster: Cluster, tmp_path: Path, models_dir: Path) -> None:
    study_dir, ids, _ = _make_study(tmp_path, tmp_path / "sources")
    env = _batch_env(study_dir, models_dir)
    client = subprocess.Popen(_batch_argv(cluster), env=env, stderr=subprocess.PIPE,
                              stdout=subprocess.DEVNULL, text=True)
    victim = cluster.workers[0]
    deadline = time.monotonic() + 90
    while not _holds_audio(victim.pid):  # mid-task: the recording is in its memory file
        assert client.poll() is None and time.monotonic() < deadline, "no task started"
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    _, err = client.communicate(timeout=180)
    assert client.returncode == 0, err
    assert "4 saved" in err
    versions = _versions(study_dir, ids)
    assert all(len(v) == 1 for v in versions.values()), versions  # each saved once
    assert not any(f":{victim.pid}" in v[0] for v in versions.values())  # none from the dead


def _holds_audio(pid: int) -> bool:
    try:
        links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
    except OSError:
        return False
    return any("memfd:verbatim-" in link for link in links)
