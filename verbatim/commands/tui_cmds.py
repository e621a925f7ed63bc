"""The terminal app verb (``verbatim`` with no command)."""

from __future__ import annotations

import argparse

from verbatim.config import Config


def run_tui(args: argparse.Namespace, config: Config) -> int:
    # Until the Textual app lands (issue 7), say what it will be and succeed,
    # so `make run` proves the installation works.
    print("verbatim is installed. The terminal app (record, transcribe, edit, cite) "
          "is not built yet; run 'verbatim --help' for the command line.")
    return 0
