"""The key agent: holds one study's unlocked keys in memory between CLI commands.

``verbatim study unlock`` starts it; every later command asks it for the keys
over a Unix socket in ``$XDG_RUNTIME_DIR/verbatim/`` (a private folder; else
``/tmp/verbatim-<uid>/``, checked to be ours and 0700). The socket is 0600 and
the agent also checks the caller's uid (SO_PEERCRED). It exits, forgetting the
keys, on ``verbatim study lock``, after an idle timeout (30 minutes by
default), or at logout when the runtime folder goes. The keys are never written
anywhere: they reach the agent through a pipe, the agent refuses core dumps
and debugger attachment (PR_SET_DUMPABLE 0), and they leave it only down the
socket to the same user. Like ssh-agent, it protects against a lost laptop and
other users, not against malware running as you.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

from verbatim.vault.errors import VaultError

DEFAULT_IDLE_SECONDS = 30 * 60
_MAX_MESSAGE = 1 << 16


def socket_dir() -> Path:
    """The private folder for agent sockets; created 0700 and checked to be ours."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    base = Path(runtime) / "verbatim" if runtime and Path(runtime).is_dir() \
        else Path("/tmp") / f"verbatim-{os.getuid()}"
    try:
        base.mkdir(mode=0o700, exist_ok=True)
        info = base.lstat()
    except OSError as exc:
        raise VaultError(f"cannot use {base} for the key agent: {exc.strerror or exc}") from None
    if info.st_uid != os.getuid() or info.st_mode & 0o077 or not base.is_dir() \
            or base.is_symlink():
        raise VaultError(f"{base} is not a private folder of yours; the key agent will not "
                         "use it")
    return base


def socket_path(study_id: str) -> Path:
    return socket_dir() / f"{study_id}.sock"


# ---- the client side ------------------------------------------------------------------


def _request(path: Path, message: dict[str, object], *, timeout: float = 5.0) -> dict | None:
    """One request to an agent; None when no agent is listening there."""
    if not path.exists():
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(str(path))
        sock.sendall(json.dumps(message).encode("utf-8") + b"\n")
        data = b""
        while not data.endswith(b"\n") and len(data) < _MAX_MESSAGE:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    except (ConnectionRefusedError, FileNotFoundError):
        with contextlib.suppress(OSError):
            path.unlink()  # a stale socket left by an agent that died
        return None
    except OSError:
        return None
    finally:
        sock.close()
    try:
        return json.loads(data.decode("utf-8"))
    except ValueError:
        return None


def fetch(study_id: str) -> bytes | None:
    """The keys payload the agent holds for this study, or None if it is locked."""
    reply = _request(socket_path(study_id), {"op": "get"})
    if not reply or "payload" not in reply:
        return None
    return str(reply["payload"]).encode("utf-8")


def status(study_id: str) -> dict | None:
    return _request(socket_path(study_id), {"op": "status"})


def stop(study_id: str) -> bool:
    """Tell the agent to forget the keys and exit; whether one was running."""
    return _request(socket_path(study_id), {"op": "lock"}) is not None


def start(study_id: str, payload: bytes, *, idle_seconds: float = DEFAULT_IDLE_SECONDS) -> int:
    """Start an agent holding ``payload`` (replacing a running one); returns its pid."""
    stop(study_id)
    path = socket_path(study_id)
    child = subprocess.Popen(
        [sys.executable, "-m", "verbatim.vault.agent", str(path), str(float(idle_seconds))],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        start_new_session=True, close_fds=True)
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(payload)
    child.stdin.close()
    ready = child.stdout.readline().strip()
    child.stdout.close()
    if not ready.startswith(b"ready "):
        child.kill()
        child.wait()
        raise VaultError("the key agent did not start")
    child.wait()  # the launcher exits once the agent (its child) is listening
    return int(ready.split()[1])


# ---- the agent itself -------------------------------------------------------------------


def _harden() -> None:
    """No core dumps, no ptrace by other processes of the user (Linux)."""
    import resource

    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4


def _peer_uid(conn: socket.socket) -> int | None:
    so_peercred = getattr(socket, "SO_PEERCRED", None)
    if so_peercred is None:
        return None
    creds = conn.getsockopt(socket.SOL_SOCKET, so_peercred, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[1]


def serve(path: Path, payload: bytes, idle_seconds: float) -> None:
    """Answer requests until locked or idle for ``idle_seconds``."""
    _harden()
    old_umask = os.umask(0o177)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        server.bind(str(path))
    finally:
        os.umask(old_umask)
    path.chmod(0o600)
    server.listen(8)
    pid = os.fork()  # the agent lives on as the child; the launcher reports and exits
    if pid:
        sys.stdout.write(f"ready {pid}\n")
        sys.stdout.flush()
        os._exit(0)
    os.setsid()
    os.chdir("/")  # never keep a removable drive busy
    sys.stdout.close()
    started = last = time.monotonic()
    try:
        while True:
            left = idle_seconds - (time.monotonic() - last)
            if left <= 0:
                return
            readable, _, _ = select.select([server], [], [], min(left, 60.0))
            if not readable:
                if not path.exists():
                    return  # someone removed our socket: nobody can reach us
                continue
            conn, _ = server.accept()
            with conn:
                conn.settimeout(5.0)
                if _peer_uid(conn) not in (None, os.getuid()):
                    continue
                try:
                    request = json.loads(conn.makefile("rb").readline(_MAX_MESSAGE))
                except (ValueError, OSError):
                    continue
                op = request.get("op") if isinstance(request, dict) else None
                reply: dict[str, object]
                if op == "get":
                    last = time.monotonic()
                    reply = {"payload": payload.decode("utf-8")}
                elif op == "status":
                    reply = {"pid": os.getpid(), "idle_left": round(left),
                             "unlocked_for": round(time.monotonic() - started)}
                elif op == "lock":
                    with contextlib.suppress(OSError):
                        conn.sendall(b'{"locked": true}\n')
                    return
                else:
                    reply = {"error": "unknown request"}
                with contextlib.suppress(OSError):
                    conn.sendall(json.dumps(reply).encode("utf-8") + b"\n")
    finally:
        server.close()
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def main(argv: list[str]) -> int:
    path, idle = Path(argv[0]), float(argv[1])
    payload = sys.stdin.buffer.read()
    sys.stdin.close()
    if not payload:
        return 2
    serve(path, payload, idle)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
