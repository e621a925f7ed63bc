"""Reaching a Dask cluster safely: address rules, TLS, the privacy guard, models, Slurm.

Rules a batch keeps whatever the user types:

- a scheduler on loopback may use ``tcp://`` or ``tls://``;
- a scheduler on another machine needs ``tls://`` with the team's certificates
  (Dask's ``Security``; ``require_encryption``), or ``--insecure`` on purpose;
- the privacy guard stays on and is opened for that scheduler's address only
  (``transcribe.privacy.allow_destination``); the client never talks to the
  workers directly (``direct_to_workers=False``), so nothing else is reached;
- every worker checks the requested models by sha256 in its own store and
  answers in one line; a batch does not start while any worker lacks them.

``[batch.slurm]`` in the config starts a ``dask_jobqueue.SLURMCluster`` (an
optional dependency, imported only then) whose scheduler runs in this
process; its workers are Slurm jobs on the cluster's compute nodes.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from verbatim.errors import UserError

if TYPE_CHECKING:  # pragma: no cover
    from transcribe.pipeline import PipelineOptions

DEFAULT_PORT = 8786
SLURM_KEYS = {"jobs", "queue", "account", "cores", "memory", "processes", "walltime",
              "job_extra_directives", "job_script_prologue", "local_directory", "python",
              "interface", "allow_network", "worker_models"}


@dataclass(frozen=True)
class SchedulerAddress:
    protocol: str
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.protocol}://{host}:{self.port}"

    @property
    def loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def parse_scheduler(text: str, *, insecure: bool = False) -> SchedulerAddress:
    """``tls://host:8786`` checked against the rules above; a UserError says what is wrong."""
    if "://" not in text:
        raise UserError(f"--scheduler {text!r}: give the protocol too, e.g. tls://{text}")
    parts = urlsplit(text)
    protocol = parts.scheme.lower()
    if protocol not in ("tls", "tcp"):
        raise UserError(f"--scheduler {text!r}: only tls:// (or tcp:// on this machine) "
                        "is supported")
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise UserError(f"--scheduler {text!r}: the port is not a number") from None
    if not parts.hostname:
        raise UserError(f"--scheduler {text!r}: no host")
    address = SchedulerAddress(protocol, parts.hostname, port)
    if protocol == "tcp" and not address.loopback and not insecure:
        raise UserError(f"--scheduler {text}: plain tcp to another machine would send "
                        "interview audio unencrypted; use tls:// with the team's certificates "
                        "(or --insecure, on purpose, on a network you trust)")
    return address


@dataclass(frozen=True)
class TlsFiles:
    ca: Path
    cert: Path
    key: Path | None = None


def tls_files(*, ca: Path | None, cert: Path | None, key: Path | None,
              section: dict[str, Any]) -> TlsFiles | None:
    """The certificate files from flags over ``[batch]`` (tls_ca, tls_cert, tls_key)."""
    def pick(flag: Path | None, name: str) -> Path | None:
        if flag is not None:
            return Path(flag).expanduser()
        value = section.get(name)
        return Path(str(value)).expanduser() if value else None

    ca_file, cert_file, key_file = (pick(ca, "tls_ca"), pick(cert, "tls_cert"),
                                    pick(key, "tls_key"))
    if ca_file is None and cert_file is None:
        return None
    if ca_file is None or cert_file is None:
        raise UserError("TLS needs both the team's CA certificate and this client's certificate "
                        "(--tls-ca and --tls-cert, or tls_ca and tls_cert under [batch])")
    for path in (ca_file, cert_file, key_file):
        if path is not None and not path.is_file():
            raise UserError(f"TLS file not found: {path}")
    return TlsFiles(ca_file, cert_file, key_file)


def security(files: TlsFiles | None) -> Any:
    """Dask's ``Security`` for the client: TLS required, the team's CA trusted."""
    from distributed.security import Security

    if files is None:
        return Security()
    return Security(tls_ca_file=str(files.ca), tls_client_cert=str(files.cert),
                    tls_client_key=str(files.key) if files.key else None,
                    require_encryption=True)


def connect(address: SchedulerAddress, files: TlsFiles | None, *, timeout: float = 20.0) -> Any:
    """A Dask client of the scheduler at ``address``, the privacy guard opened for it alone."""
    if address.protocol == "tls" and files is None:
        raise UserError(f"{address}: TLS needs the team's certificates (--tls-ca, --tls-cert, "
                        "--tls-key, or tls_ca/tls_cert/tls_key under [batch] in the config)")
    if not address.loopback:
        from transcribe.privacy import allow_destination

        try:
            allow_destination(address.host, address.port)
        except OSError as exc:
            raise UserError(f"{address}: cannot resolve the scheduler's host ({exc})") from None
    from distributed import Client

    try:
        return Client(str(address), security=security(files), timeout=timeout,
                      direct_to_workers=False, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise UserError(f"cannot reach the Dask scheduler at {address}: "
                        f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
                        ) from None


# ---- models ----------------------------------------------------------------------------


def wanted_models(options: PipelineOptions) -> tuple[PipelineOptions, dict[str, dict[str, str]]]:
    """The options as a worker sees them (model by store name) and the models to check.

    The ASR model is resolved in this machine's store and every file hashed;
    diarisation models of the chosen mode that this store holds are added.
    """
    import dataclasses

    from transcribe.models import resolve_model
    from verbatim.batch.task import model_hashes

    try:
        path = resolve_model(options.model, engine=options.engine, models_dir=options.models_dir)
    except Exception as exc:
        raise UserError(str(exc)) from None
    wanted = {path.name: model_hashes(path)}
    prefixes = {"embedding": ("ge2e-", "campplus-"), "pyannote": ("pyannote-",)}
    for prefix in prefixes.get(options.diarize, ()):
        store = Path(options.models_dir)
        for entry in sorted(store.glob(f"{prefix}*")) if store.is_dir() else []:
            wanted[entry.name] = model_hashes(entry)
    return dataclasses.replace(options, model=path.name), wanted


def check_workers(client: Any, wanted: dict[str, dict[str, str]]) -> list[str]:
    """One line per worker: ``<address>: ok …`` or ``<address>: missing …``."""
    from verbatim.batch.task import check_models

    answers = client.run(check_models, wanted)
    return [f"{worker}: {line}" for worker, line in sorted(answers.items())]


# ---- Slurm (dask-jobqueue) -------------------------------------------------------------


def slurm_cluster(section: dict[str, Any]) -> tuple[Any, str]:
    """Start a SLURMCluster from ``[batch.slurm]``; returns (cluster, description).

    Its scheduler lives in this process and listens on the cluster's network
    (``interface``); the compute nodes' network (``allow_network``, e.g.
    ``10.20.0.0/16``) must be named, since the scheduler talks to the workers.
    Scheduler and workers use Dask's temporary TLS credentials (``Security.temporary``).
    """
    unknown = sorted(set(section) - SLURM_KEYS)
    if unknown:
        raise UserError(f"[batch.slurm]: unknown setting(s) {', '.join(unknown)} "
                        f"(known: {', '.join(sorted(SLURM_KEYS))})")
    network = section.get("allow_network")
    if not network:
        raise UserError("[batch.slurm] needs allow_network: the compute nodes' network "
                        "(e.g. \"10.20.0.0/16\"), the one place the privacy guard then allows")
    try:
        import dask_jobqueue
    except ImportError:
        raise UserError("[batch.slurm] needs dask-jobqueue on this machine: "
                        "pip install dask-jobqueue") from None
    from distributed.security import Security

    from transcribe.privacy import allow_destination

    try:
        allow_destination(str(network))
    except ValueError:
        raise UserError(f"[batch.slurm] allow_network {network!r} is not a network") from None
    jobs = int(section.get("jobs", 1))
    options = {k: v for k, v in section.items()
               if k not in ("jobs", "allow_network", "worker_models")}
    env = [f"export VERBATIM_MODELS={section['worker_models']}"] \
        if section.get("worker_models") else []
    options["job_script_prologue"] = [*options.get("job_script_prologue", []), *env]
    options.setdefault("cores", 4)
    options.setdefault("memory", "16GB")
    try:
        cluster = dask_jobqueue.SLURMCluster(security=Security.temporary(), **options)
    except Exception as exc:
        raise UserError(f"cannot start the Slurm cluster: {exc}") from None
    cluster.scale(jobs=jobs)
    return cluster, f"Slurm: {jobs} job{'s' if jobs != 1 else ''} ({options['cores']} cores, " \
                    f"{options['memory']} each)"


def cores() -> int:
    """The cores this process may use (its CPU affinity, where the OS tells)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def local_workers(requested: int | None) -> int:
    """N worker processes for this machine: the request, or what cores and memory allow.

    Each process holds a model and a recording (about 1.5 GB with a small model
    and an hour of audio); at least one process, at most one per two cores.
    """
    if requested:
        return int(requested)
    try:
        available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        available = 0
    by_memory = int(available // (1.5 * 1024**3)) if available else cores()
    return max(1, min(cores() // 2 or 1, by_memory))
