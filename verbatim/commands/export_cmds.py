"""CLI verbs of this room (not built yet: each says so and exits non-zero)."""

from __future__ import annotations

import argparse

from verbatim.config import Config
from verbatim.errors import NotAvailableError


def run_export(args: argparse.Namespace, config: Config) -> int:
    raise NotAvailableError("'export' is not available yet in this version (issue 3)")
