"""CLI verbs of this room (not built yet: each says so and exits non-zero)."""

from __future__ import annotations

import argparse

from verbatim.config import Config
from verbatim.errors import NotAvailableError


def run_record(args: argparse.Namespace, config: Config) -> int:
    raise NotAvailableError("'record' is not available yet in this version (issue 5)")


def run_recover(args: argparse.Namespace, config: Config) -> int:
    raise NotAvailableError("'recover' is not available yet in this version (issue 5)")
