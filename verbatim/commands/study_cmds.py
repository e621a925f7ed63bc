"""CLI verbs of this room (not built yet: each says so and exits non-zero)."""

from __future__ import annotations

import argparse

from verbatim.config import Config
from verbatim.errors import NotAvailableError


def run_study(args: argparse.Namespace, config: Config) -> int:
    raise NotAvailableError("'study' is not available yet in this version (issue 6)")


def run_participant(args: argparse.Namespace, config: Config) -> int:
    raise NotAvailableError("'participant' is not available yet in this version (issue 6)")


def run_interview(args: argparse.Namespace, config: Config) -> int:
    raise NotAvailableError("'interview' is not available yet in this version (issue 6)")


def run_lock(args: argparse.Namespace, config: Config) -> int:
    raise NotAvailableError("'lock' is not available yet in this version (issue 6)")


def run_note(args: argparse.Namespace, config: Config) -> int:
    raise NotAvailableError("'note' is not available yet in this version (issue 6)")


def run_extract(args: argparse.Namespace, config: Config) -> int:
    raise NotAvailableError("'extract' is not available yet in this version (issue 6)")


def run_pack(args: argparse.Namespace, config: Config) -> int:
    raise NotAvailableError("'pack' is not available yet in this version (issue 6)")


def run_transcribe_interview(args: argparse.Namespace, config: Config) -> int:
    raise NotAvailableError("'transcribe interview' is not available yet in this version (issue 6)")


def run_export_interview(args: argparse.Namespace, config: Config) -> int:
    raise NotAvailableError("'export interview' is not available yet in this version (issue 6)")
