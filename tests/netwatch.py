"""Watch a command at the level of the operating system for any packet that leaves the machine.

``traced(argv)`` runs a command under ``strace -f`` (every thread and child
process, native libraries included) and records each ``connect``, ``sendto``,
``sendmsg`` and ``sendmmsg`` on an internet socket. Anything addressed to a
host other than loopback is a *leak*; a leak to port 53 is also decoded as
the DNS query it carries, so a failure says which name was looked up (e.g.
onnxruntime's ``mobile.events.data.microsoft.com``). Python's socket guard
cannot see such traffic: native code calls libc directly.

The checks are independent of whether a network exists here: the system call
is seen whether or not the packet would have arrived.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

SYSCALLS = "connect,sendto,sendmsg,sendmmsg"

# An internet address as strace prints it, with the port when there is one.
_INET = re.compile(r'sa_family=AF_INET6?,\s*sin6?_port=htons\((\d+)\),\s*'
                   r'(?:sin_addr=inet_addr\("([^"]+)"\)|[^}]*?inet_pton\(AF_INET6,\s*"([^"]+)")')
# strace -yy annotates a socket descriptor with its endpoints: 3<UDP:[a:p->b:q]>.
_PEER = re.compile(r"<(?:TCP|UDP|TCPv6|UDPv6):\[[^\]]*?->\[?([0-9a-fA-F:.]+?)\]?:(\d+)\]>")
_CALL = re.compile(r"^(\d+)\s+(connect|sendto|sendmsg|sendmmsg)\(")


@dataclass(frozen=True)
class Leak:
    """One system call that tried to reach another machine."""

    pid: int
    call: str
    host: str
    port: int
    dns_name: str = ""  # the name asked for, when the packet is a DNS query

    def __str__(self) -> str:
        name = f" DNS query for {self.dns_name}" if self.dns_name else ""
        return f"pid {self.pid} {self.call} to {self.host}:{self.port}{name}"


@dataclass
class Traced:
    """What a traced command did: its exit status and output, and every leak."""

    returncode: int
    stdout: str
    stderr: str
    leaks: list[Leak] = field(default_factory=list)
    calls: int = 0  # inet/unix network system calls seen in all (allowed ones included)

    @property
    def dns_queries(self) -> list[str]:
        return [leak.dns_name for leak in self.leaks if leak.dns_name]


def available() -> str:
    """Why the trace cannot run here ('' when it can)."""
    if shutil.which("strace") is None:
        return "strace is not installed (Makefile DEBIAN_PACKAGES)"
    probe = subprocess.run(["strace", "-f", "-e", "trace=none", "true"], capture_output=True,
                           text=True, check=False)
    if probe.returncode != 0:
        return f"strace cannot trace here: {probe.stderr.strip().splitlines()[-1:]}"
    return ""


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _unescape(text: str) -> bytes:
    """The bytes of a string strace printed with C escapes (\\3, \\x0a, \\n)."""
    return text.encode("latin-1").decode("unicode_escape").encode("latin-1")


def dns_names(line: str) -> list[str]:
    """The names asked for by DNS queries whose payloads appear in a strace line."""
    names = []
    for payload in re.findall(r'iov_base="((?:[^"\\]|\\.)*)"|, "((?:[^"\\]|\\.)*)"', line):
        raw = _unescape(payload[0] or payload[1])
        if len(raw) < 13:
            continue
        labels, i = [], 12  # the question starts after the 12-byte header
        while i < len(raw) and raw[i] != 0:
            size = raw[i]
            labels.append(raw[i + 1:i + 1 + size].decode("ascii", "replace"))
            i += 1 + size
        if labels:
            names.append(".".join(labels))
    return names


def parse(trace: str) -> tuple[list[Leak], int]:
    """The leaks in an ``strace -f -yy -s 512`` log, and the count of network calls seen."""
    leaks: list[Leak] = []
    calls = 0
    for line in trace.splitlines():
        match = _CALL.match(line)
        if not match:
            continue
        calls += 1
        pid, call = int(match.group(1)), match.group(2)
        targets = [(m.group(2) or m.group(3), int(m.group(1))) for m in _INET.finditer(line)]
        targets += [(m.group(1), int(m.group(2))) for m in _PEER.finditer(line)]
        for host, port in targets:
            if _loopback(host):
                continue
            names = dns_names(line) if port == 53 and call != "connect" else []
            if names:
                leaks.extend(Leak(pid, call, host, port, name) for name in names)
            else:
                leaks.append(Leak(pid, call, host, port))
            break
    return leaks, calls


def traced(argv: Sequence[str], *, env: Mapping[str, str] | None = None,
           cwd: str | Path | None = None, timeout: float = 300,
           log: Path | None = None, input: str | None = None) -> Traced:
    """Run ``argv`` under strace; the trace is kept in ``log`` when given (else discarded)."""
    out = Path(log) if log is not None else Path(os.devnull)
    keep = log is not None
    trace_file = out if keep else Path(f"/tmp/.netwatch-{os.getpid()}.strace")
    command = ["strace", "-f", "-qq", "--seccomp-bpf", "-yy", "-s", "512",
               "-e", f"trace={SYSCALLS}", "-o", str(trace_file), "--", *argv]
    try:
        result = subprocess.run(command, env=dict(env) if env is not None else None, cwd=cwd,
                                capture_output=True, text=True, timeout=timeout, check=False,
                                input=input)
        text = trace_file.read_text(encoding="latin-1") if trace_file.exists() else ""
    finally:
        if not keep:
            trace_file.unlink(missing_ok=True)
    leaks, calls = parse(text)
    return Traced(result.returncode, result.stdout, result.stderr, leaks, calls)
