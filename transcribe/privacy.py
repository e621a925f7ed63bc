"""The privacy guard: nothing this program runs may talk to the network by itself.

Interview audio is special-category health data. pyannote.audio 4.x sends usage
telemetry by default and Hugging Face libraries reach for their hub whenever a
name is not a local path, so the environment is set before any of them can be
imported, and sockets to anything but this machine are refused for the life of
the process. Only ``verbatim models download`` lifts the block, explicitly; and
``verbatim batch --scheduler`` opens it for that one scheduler (``allow_destination``).

The socket guard only sees Python's sockets. Native libraries call libc
directly: onnxruntime (loaded by silero-vad and the pyannote path) starts
Microsoft's 1DS telemetry when it loads, looks up
``mobile.events.data.microsoft.com`` a few seconds later and writes a device id
and an event database under ``~/.cache/Microsoft/DeveloperTools``. Its Python
call ``disable_telemetry_events()`` does not stop that (checked with strace);
the environment variable ``ORT_DISABLE_TELEMETRY`` read when the library loads
does, so it is part of the environment set here, which every worker process
inherits. tests/integration/test_privacy_os.py proves the result at the level
of system calls.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import _socket  # the base class whose methods the stubs describe

# Set unconditionally (not setdefault): a user's shell must not re-enable telemetry.
PRIVACY_ENV: dict[str, str] = {
    "PYANNOTE_METRICS_ENABLED": "0",  # pyannote.audio 4.x usage telemetry
    "HF_HUB_OFFLINE": "1",  # huggingface_hub: never resolve names online
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "DO_NOT_TRACK": "1",
    # onnxruntime >= 1.2x on Linux: no 1DS telemetry (DNS lookups of
    # mobile.events.data.microsoft.com), no ~/.cache/Microsoft/DeveloperTools/
    # .onnxruntime/{deviceid,onnxruntime.db,.ses}. Read once, when the library loads.
    "ORT_DISABLE_TELEMETRY": "1",
}


class NetworkBlockedError(ConnectionRefusedError):
    """Raised when code tries to open a connection that the privacy guard forbids."""


def apply_privacy_env() -> None:
    """Put the offline, no-telemetry settings into this process's environment."""
    os.environ.update(PRIVACY_ENV)


def contain_library_files(data_dir: str | os.PathLike[str]) -> None:
    """Keep the caches our libraries write inside the program's data folder.

    Lightning (pyannote's base) imports matplotlib, which writes a font cache and
    a config folder under ``~/.cache`` and ``~/.config``: they go to
    ``<data>/cache/matplotlib`` instead (made owner-only on first use).
    """
    os.environ["MPLCONFIGDIR"] = os.path.join(os.fspath(data_dir), "cache", "matplotlib")


def is_local_address(address: Any) -> bool:
    """True for Unix sockets and loopback addresses: the only places we may connect to."""
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    if not isinstance(address, tuple) or not address:
        return True
    host = address[0]
    if isinstance(host, bytes):
        host = host.decode()
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False  # a host name: resolving it is already a network request


# Destinations the user named on purpose (a Dask scheduler for ``verbatim batch``):
# exact (ip, port) pairs, or whole networks for a Slurm cluster's compute nodes.
_allowed_pairs: set[tuple[str, int]] = set()
_allowed_networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []


def allow_destination(host: str, port: int | None = None) -> list[str]:
    """Let this process connect to ``host:port`` (or, port None, to a network like 10.0.0.0/16).

    The one narrow exception for a batch's scheduler; everything else stays
    refused. A host name is resolved here, once; returns the addresses allowed.
    """
    if port is None:
        network = ipaddress.ip_network(host, strict=False)
        _allowed_networks.append(network)
        return [str(network)]
    found = {str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)}
    _allowed_pairs.update((str(ip).split("%")[0], int(port)) for ip in found)
    return sorted(found)


def is_allowed_address(address: Any) -> bool:
    """Local, or a destination named with ``allow_destination``."""
    if is_local_address(address):
        return True
    host, port = str(address[0]).split("%")[0], address[1] if len(address) > 1 else None
    if (host, port) in _allowed_pairs:
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(ip in network for network in _allowed_networks)


_original_connect: Callable[..., Any] | None = None
_original_connect_ex: Callable[..., Any] | None = None


def block_network() -> None:
    """Refuse every socket connection except loopback and Unix sockets, process-wide."""
    global _original_connect, _original_connect_ex
    apply_privacy_env()
    if _original_connect is not None:
        return
    _original_connect = socket.socket.connect
    _original_connect_ex = socket.socket.connect_ex

    def guarded_connect(self: _socket.socket, address: Any) -> None:
        if not is_allowed_address(address):
            raise NetworkBlockedError(
                f"verbatim works offline: refused a network connection to {address!r}")
        assert _original_connect is not None
        _original_connect(self, address)

    def guarded_connect_ex(self: _socket.socket, address: Any) -> int:
        if not is_allowed_address(address):
            raise NetworkBlockedError(
                f"verbatim works offline: refused a network connection to {address!r}")
        assert _original_connect_ex is not None
        return _original_connect_ex(self, address)

    socket.socket.connect = guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = guarded_connect_ex  # type: ignore[method-assign]


def allow_network() -> None:
    """Lift the block: only for an explicit ``verbatim models download``."""
    global _original_connect, _original_connect_ex
    if _original_connect is not None:
        socket.socket.connect = _original_connect  # type: ignore[method-assign]
    if _original_connect_ex is not None:
        socket.socket.connect_ex = _original_connect_ex  # type: ignore[method-assign]
    _original_connect = _original_connect_ex = None


def network_blocked() -> bool:
    return _original_connect is not None
