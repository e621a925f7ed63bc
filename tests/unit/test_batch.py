"""``verbatim batch`` without models: the client's loop, the address rules, the guard, Slurm.

The runner is driven by an in-process backend that plays the workers
(tests/fixtures/batch_backend.py): it answers, fails, loses a worker or answers
twice, as a cluster may.
"""

from __future__ import annotations

import socket
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.batch_backend import ScriptedBackend, key_document
from transcribe.privacy import NetworkBlockedError, allow_destination, is_allowed_address
from transcript.model import Transcript
from verbatim.batch import cluster
from verbatim.batch.runner import BatchEvent, BatchItem, run_batch
from verbatim.batch.task import TaskRequest, TaskResult, check_models, model_hashes
from verbatim.errors import UserError


def _items(*keys: str) -> list[BatchItem]:
    return [BatchItem(k, 60.0, k.encode) for k in keys]


def _run(backend: ScriptedBackend, items: list[BatchItem], **kwargs: Any
         ) -> tuple[Any, dict[str, int], list[BatchEvent]]:
    saves: dict[str, int] = {}
    events: list[BatchEvent] = []

    def save(item: BatchItem, doc: Transcript, result: TaskResult) -> str:
        assert doc.words[0].text == item.key  # the right document for the right item
        saves[item.key] = saves.get(item.key, 0) + 1
        return "saved"

    options: Any = object()
    summary = run_batch(items, backend, options, save=save, report=events.append, **kwargs)
    return summary, saves, events


def test_every_item_is_saved_once_with_progress_over_the_whole_batch() -> None:
    backend = ScriptedBackend({"P1-1": ["ok"], "P2-1": ["ok"], "P3-1": ["ok"]})
    summary, saves, events = _run(backend, _items("P1-1", "P2-1", "P3-1"), in_flight=2)
    assert saves == {"P1-1": 1, "P2-1": 1, "P3-1": 1}
    assert summary.ok and summary.audio_seconds == 180.0
    done = [e for e in events if e.kind == "saved"]
    assert [e.done_seconds for e in done] == [60.0, 120.0, 180.0]
    assert all(e.total_seconds == 180.0 and e.total_items == 3 for e in done)
    assert backend.closed == "done"


def test_a_lost_worker_sends_the_running_tasks_round_again() -> None:
    backend = ScriptedBackend({"P1-1": ["lost", "ok"], "P2-1": ["ok"]})
    summary, saves, events = _run(backend, _items("P1-1", "P2-1"), in_flight=1)
    assert saves == {"P1-1": 1, "P2-1": 1} and summary.ok
    assert backend.restarts == 1
    assert [e.kind for e in events if e.key == "P1-1"] == ["started", "retry", "started",
                                                           "saved"]


def test_a_task_that_kills_its_worker_every_time_fails_alone() -> None:
    backend = ScriptedBackend({"P1-1": ["lost"] * 3, "P2-1": ["ok"]})
    summary, saves, _ = _run(backend, _items("P1-1", "P2-1"), in_flight=1)
    assert saves == {"P2-1": 1}
    assert "died" in summary.failed["P1-1"] and not summary.ok


def test_a_bad_recording_fails_with_its_one_line_and_the_rest_go_on() -> None:
    backend = ScriptedBackend({"P1-1": ["ok"], "P3-1": ["error"]})
    summary, saves, _ = _run(backend, _items("P3-1", "P1-1"))
    assert saves == {"P1-1": 1}
    assert summary.failed == {"P3-1": "cannot read P3-1.wav: not a supported audio file"}


def test_a_cluster_that_delivers_twice_still_saves_once() -> None:
    backend = ScriptedBackend({"P1-1": ["ok", "ok"]}, retries_lost=False)
    items = _items("P1-1")
    _, saves, _ = _run(backend, [items[0], items[0]])
    assert saves == {"P1-1": 1}


def test_cancel_keeps_what_was_saved_and_names_the_rest() -> None:
    backend = ScriptedBackend({"P1-1": ["ok"], "P2-1": ["hang"], "P3-1": ["hang"]})
    cancel = threading.Event()

    def report(event: BatchEvent) -> None:
        if event.kind == "saved":
            cancel.set()

    summary = run_batch(_items("P1-1", "P2-1", "P3-1"), backend, object(),  # type: ignore[arg-type]
                        save=lambda item, doc, result: "ok", report=report, cancel=cancel,
                        in_flight=2)
    assert summary.cancelled and summary.saved == ["P1-1"]
    assert summary.not_done == ["P2-1", "P3-1"]
    assert backend.closed == "cancel"


def test_sealed_results_are_opened_only_with_the_clients_key() -> None:
    import pyrage

    from verbatim.batch.task import seal

    identity = pyrage.x25519.Identity.generate()
    sealed = seal(key_document("P1-1"), str(identity.to_public()))
    assert b"P1-1" not in sealed

    class Sealing(ScriptedBackend):
        def submit(self, request: TaskRequest) -> Any:
            assert request.seal_to == str(identity.to_public())
            future: Future[TaskResult] = Future()
            answer = seal(key_document(request.key), request.seal_to)
            future.set_result(TaskResult(request.key, answer, True, 0.1, 1.0, "w:1"))
            return future

    _, saves, _ = _run(Sealing({}), _items("P1-1"), unseal=identity)
    assert saves == {"P1-1": 1}


# ---- addresses, TLS and the privacy guard -----------------------------------------------


@pytest.mark.parametrize("text", ["tls://lab-server:8786", "tls://10.0.0.5", "tcp://127.0.0.1:8786",
                                  "tls://[::1]:9000", "tcp://localhost:8786"])
def test_accepted_scheduler_addresses(text: str) -> None:
    address = cluster.parse_scheduler(text)
    assert str(address).startswith(text.split("://")[0])
    assert address.port in (8786, 9000)


@pytest.mark.parametrize(("text", "says"), [
    ("tcp://10.0.0.5:8786", "unencrypted"), ("lab-server:8786", "protocol"),
    ("ws://lab:8786", "only tls"), ("tls://:8786", "no host"), ("tls://lab:x", "port")])
def test_refused_scheduler_addresses(text: str, says: str) -> None:
    with pytest.raises(UserError, match=says):
        cluster.parse_scheduler(text)


def test_plain_tcp_to_another_machine_only_on_purpose() -> None:
    assert cluster.parse_scheduler("tcp://10.0.0.5:8786", insecure=True).host == "10.0.0.5"


def test_tls_needs_both_files_and_they_must_exist(tmp_path: Path) -> None:
    ca, cert = tmp_path / "ca.pem", tmp_path / "c.pem"
    assert cluster.tls_files(ca=None, cert=None, key=None, section={}) is None
    with pytest.raises(UserError, match="both"):
        cluster.tls_files(ca=ca, cert=None, key=None, section={})
    with pytest.raises(UserError, match="not found"):
        cluster.tls_files(ca=ca, cert=cert, key=None, section={})
    ca.write_text("x")
    cert.write_text("x")
    files = cluster.tls_files(ca=None, cert=None, key=None,
                              section={"tls_ca": str(ca), "tls_cert": str(cert)})
    assert files == cluster.TlsFiles(ca, cert, None)


def test_a_tls_scheduler_without_certificates_is_refused_before_connecting() -> None:
    with pytest.raises(UserError, match="certificates"):
        cluster.connect(cluster.parse_scheduler("tls://192.0.2.7:8786"), None)
    assert not is_allowed_address(("192.0.2.7", 8786))  # nothing was opened


def test_the_guard_opens_for_the_named_scheduler_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from transcribe import privacy

    monkeypatch.setattr(privacy, "_allowed_pairs", set())
    monkeypatch.setattr(privacy, "_allowed_networks", [])
    assert allow_destination("192.0.2.10", 8786) == ["192.0.2.10"]
    assert is_allowed_address(("192.0.2.10", 8786))
    assert not is_allowed_address(("192.0.2.10", 22))
    assert not is_allowed_address(("192.0.2.11", 8786))
    assert is_allowed_address(("127.0.0.1", 1))
    allow_destination("10.20.0.0/16")
    assert is_allowed_address(("10.20.3.4", 40000))
    assert not is_allowed_address(("10.21.0.1", 40000))


def test_the_guard_still_refuses_other_hosts_after_opening_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from transcribe import privacy

    monkeypatch.setattr(privacy, "_allowed_pairs", {("192.0.2.10", 8786)})
    monkeypatch.setattr(privacy, "_original_connect", None)
    monkeypatch.setattr(privacy, "_original_connect_ex", None)
    privacy.block_network()
    try:
        with socket.socket() as sock, pytest.raises(NetworkBlockedError):
            sock.connect(("192.0.2.99", 8786))
    finally:
        privacy.allow_network()


# ---- models and Slurm ----------------------------------------------------------------


def test_workers_say_in_one_line_which_models_they_lack(tmp_path: Path) -> None:
    client_store, worker_store = tmp_path / "client", tmp_path / "worker"
    for store in (client_store, worker_store):
        (store / "faster-whisper-tiny.en").mkdir(parents=True)
        (store / "faster-whisper-tiny.en" / "model.bin").write_bytes(b"weights")
    wanted = {"faster-whisper-tiny.en": model_hashes(client_store / "faster-whisper-tiny.en"),
              "ge2e-voice-encoder": {"pretrained.pt": "0" * 64}}
    line = check_models(wanted, worker_store)
    assert line.startswith("missing ge2e-voice-encoder")
    (worker_store / "faster-whisper-tiny.en" / "model.bin").write_bytes(b"other weights")
    del wanted["ge2e-voice-encoder"]
    assert "sha256 differs: model.bin" in check_models(wanted, worker_store)
    assert check_models(wanted, client_store).startswith("ok")


def test_slurm_section_is_checked_and_dask_jobqueue_is_optional(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    with pytest.raises(UserError, match="unknown setting"):
        cluster.slurm_cluster({"queues": "x", "allow_network": "10.0.0.0/8"})
    with pytest.raises(UserError, match="allow_network"):
        cluster.slurm_cluster({"jobs": 2})
    real_import = builtins.__import__

    def no_jobqueue(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "dask_jobqueue":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_jobqueue)
    with pytest.raises(UserError, match="pip install dask-jobqueue"):
        cluster.slurm_cluster({"jobs": 2, "allow_network": "10.0.0.0/8"})


def test_local_workers_fit_this_machine() -> None:
    assert cluster.local_workers(3) == 3
    assert 1 <= cluster.local_workers(None) <= max(1, (len(__import__("os").sched_getaffinity(0))
                                                        // 2))


def test_batch_config_section_is_read(tmp_path: Path) -> None:
    from verbatim.config import config_from_mapping

    config = config_from_mapping({"batch": {"workers": 2, "slurm": {"jobs": 4}}})
    assert config.batch == {"workers": 2, "slurm": {"jobs": 4}}
    with pytest.raises(UserError, match="table"):
        config_from_mapping({"batch": "tls://x"})


def test_workers_progress_moves_the_bar_before_anything_is_saved() -> None:
    class Reporting(ScriptedBackend):
        progress_channel: str | None = "local"

        def __init__(self) -> None:
            super().__init__({"P1-1": ["hang"]})
            self.reports = [("P1-1", "asr", 0.5), ("P9-9", "asr", 0.9)]  # P9-9: not ours

        def progress(self) -> list[tuple[str, str, float]]:
            found, self.reports = self.reports, []
            return found

    backend = Reporting()
    cancel = threading.Event()
    events: list[BatchEvent] = []

    def report(event: BatchEvent) -> None:
        events.append(event)
        if event.kind == "progress":
            cancel.set()

    options: Any = object()
    run_batch(_items("P1-1"), backend, options, save=lambda item, doc, result: "",
              report=report, cancel=cancel)
    moving = [e for e in events if e.kind == "progress"]
    assert len(moving) == 1 and moving[0].key == "P1-1"
    assert moving[0].done_seconds == pytest.approx(60 * (0.05 + 0.05 + 0.2 + 0.65 * 0.5))


def test_stage_fractions_add_up_and_never_claim_done() -> None:
    from verbatim.batch.runner import stage_fraction

    assert stage_fraction("load", 0.0) == 0.0
    assert stage_fraction("asr", 0.0) == pytest.approx(0.3)
    assert stage_fraction("marks", 1.0) == 0.99  # only a saved interview is done
    assert stage_fraction("unknown", 0.5) == 0.0
