"""``verbatim record`` and ``verbatim recover``: the capture room's command line.

``record`` shows one live line on stderr (elapsed time, level per channel,
dropouts, disk left), stores a live mark for each line typed on a terminal
(the text typed becomes the mark's text), and stops cleanly on Ctrl-C,
SIGTERM, ``--seconds`` or a full disk. Every problem is one line and a
non-zero exit; the file written so far is always kept and valid.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from capture.devices import list_input_devices
from capture.errors import CaptureError
from capture.levels import Level
from capture.recorder import Recorder, RecorderStatus
from capture.recover import recover_recording
from verbatim.config import Config
from verbatim.errors import UserError

DEFAULT_RATE = 48000
DEFAULT_CHANNELS = 1
DISPLAY_INTERVAL = 0.1
METER_WIDTH = 12


class _Terminated(Exception):
    """SIGTERM: stop like Ctrl-C."""


def run_record(args: argparse.Namespace, config: Config) -> int:
    try:
        if args.list_devices:
            return _list_devices(sys.stdout)
        if args.out is None:
            raise UserError("record needs an output file, e.g. 'verbatim record P4-1.wav' "
                            "(or --list-devices)")
        return _record(args)
    except CaptureError as err:
        raise UserError(str(err)) from None


def run_recover(args: argparse.Namespace, config: Config) -> int:
    from verbatim.vault import recording as sealed

    if sealed.study_of(Path(args.file)) is not None:
        # a recording inside an encrypted study: repair the plain segment, then encrypt it
        for line in sealed.recover(Path(args.file)):
            print(line)
        return 0
    try:
        reports = recover_recording(Path(args.file))
    except CaptureError as err:
        raise UserError(str(err)) from None
    except OSError as err:
        raise UserError(f"cannot repair {args.file}: {err.strerror or err}") from None
    for report in reports:
        print(report)
    return 0


def _list_devices(out: TextIO) -> int:
    devices = list_input_devices()
    if not devices:
        raise UserError("no audio input device found (is a microphone connected?)")
    for device in devices:
        out.write(device.describe() + "\n")
    out.write("(* = default input; use --device INDEX or --device NAME)\n")
    return 0


def _record(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.suffix.lower() != ".wav":
        raise UserError(f"{out}: the recording must be a .wav file")
    channels = args.channels or DEFAULT_CHANNELS
    rate = args.rate or DEFAULT_RATE
    device: Any = args.device
    if device is not None and str(device).strip().lstrip("-").isdigit():
        device = int(device)
    from verbatim.vault import recording as sealed

    encrypted = sealed.prepare(out)  # inside an encrypted study: sealed as it is written
    # the app's sealing recorder: segments and the sidecar (typed marks) never plain on disk
    make = (sealed.recorder_factory(encrypted.study_dir) if encrypted else None) or Recorder
    recorder = make(out, device=device, channels=channels, rate=rate, max_seconds=args.seconds)
    disk = recorder.preflight()
    if disk.low:
        sys.stderr.write(f"verbatim: warning: {disk.warning()}\n")
    # A file size limit (ulimit -f) must end the recording cleanly, not kill the process.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    with _sigterm_stops():
        recorder.start()
        interactive = sys.stderr.isatty()
        sys.stderr.write(f"recording to {out} from {recorder.device_name!r} ({rate} Hz, "
                         f"{channels} ch). Ctrl-C stops"
                         + ("; type a note and Enter to mark a moment.\n"
                            if sys.stdin.isatty() else ".\n"))
        if sys.stdin.isatty():
            _start_mark_reader(recorder)
        try:
            while not recorder.wait(DISPLAY_INTERVAL):
                if interactive:
                    sys.stderr.write("\r" + status_line(recorder.status(),
                                                        recorder.latest_level()) + "\033[K")
                    sys.stderr.flush()
        except (KeyboardInterrupt, _Terminated):
            pass
        finally:
            summary = recorder.stop()
            if interactive:
                sys.stderr.write("\r\033[K")
    if encrypted is not None:
        encrypted.finish()
        sys.stderr.write(f"encrypted for the study in {encrypted.study_dir} "
                         f"({sealed.SEGMENT_SECONDS:g}-second segments, no plaintext kept)\n")
    for warning in summary.warnings:
        sys.stderr.write(f"verbatim: warning: {warning}\n")
    if summary.error:
        raise UserError(summary.error)
    print(summary)
    return 0


@contextlib.contextmanager
def _sigterm_stops() -> Iterator[None]:
    def handler(signum: int, frame: Any) -> None:
        raise _Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _start_mark_reader(recorder: Recorder) -> None:
    """Each line typed while recording becomes a live mark with that text."""

    def read() -> None:
        for line in sys.stdin:
            at = recorder.mark(line.strip())
            sys.stderr.write(f"\r\033[Kmarked {format_clock(at)}"
                             + (f": {line.strip()}" if line.strip() else "") + "\n")

    threading.Thread(target=read, daemon=True, name="mark-reader").start()


def format_clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def meter(dbfs: float, width: int = METER_WIDTH, floor: float = -60.0) -> str:
    """A text bar for a level in dBFS: empty at ``floor``, full at 0 dBFS."""
    filled = round(width * min(1.0, max(0.0, (dbfs - floor) / -floor)))
    return "#" * filled + "." * (width - filled)


def status_line(status: RecorderStatus, level: Level | None) -> str:
    """The one live line: state, elapsed, level per channel, dropouts, disk left."""
    state = {"recording": "REC", "paused": "PAUSED"}.get(status.state, status.state.upper())
    parts = [f"{state} {format_clock(status.elapsed)}"]
    if level is not None:
        for name, peak in zip(_channel_names(len(level.peak)), level.peak_dbfs, strict=True):
            parts.append(f"{name} {meter(peak)} {peak:6.1f} dB")
        if level.clipping:
            parts.append("CLIP")
    if status.silent_for >= 1.0:
        parts.append(f"NO AUDIO {status.silent_for:.0f} s")
    parts.append(f"dropouts {status.dropouts}")
    if status.disk_seconds_left is not None:
        parts.append(f"disk {status.disk_seconds_left / 3600:.1f} h")
    return "  ".join(parts)


def _channel_names(n: int) -> tuple[str, ...]:
    return ("L", "R") if n == 2 else tuple(str(i + 1) for i in range(n))

