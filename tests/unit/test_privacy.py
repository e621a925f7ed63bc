"""The privacy guard refuses the network and leaves the machine's own sockets alone."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import NetworkAccessError


def test_test_suite_guard_refuses_remote_hosts() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s, \
            pytest.raises(NetworkAccessError):
        s.connect(("93.184.216.34", 443))


def test_program_guard_in_a_fresh_process() -> None:
    """block_network refuses remote addresses but lets loopback through."""
    code = textwrap.dedent("""
        import socket
        from transcribe.privacy import block_network, allow_network, NetworkBlockedError
        block_network()
        s = socket.socket()
        try:
            s.connect(("10.255.255.1", 80))
            print("connected")
        except NetworkBlockedError:
            print("blocked")
        server = socket.socket(); server.bind(("127.0.0.1", 0)); server.listen(1)
        c = socket.socket(); c.connect(server.getsockname()); print("loopback-ok")
        allow_network()
        print(socket.socket.connect.__qualname__)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True)
    assert out.stdout.split() == ["blocked", "loopback-ok", "socket.connect"]


def test_cli_blocks_network_for_every_verb_but_download() -> None:
    code = textwrap.dedent("""
        import sys
        import verbatim.cli as cli
        from transcribe import privacy
        seen = {}
        def spy(args, config):
            seen['blocked'] = privacy.network_blocked()
            return 0
        cli._resolve = lambda key: spy
        cli.main(sys.argv[1:])
        print(seen['blocked'])
    """)
    for argv, expected in ((["models", "list"], "True"), (["models", "download", "tiny.en"],
                                                          "False")):
        out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True,
                             text=True, timeout=60, check=True)
        assert out.stdout.strip() == expected, argv
