"""Input devices as PortAudio sees them, by index or by (part of a) name.

``sounddevice`` is imported lazily: importing it initialises PortAudio, which
scans every ALSA card, so plain ``import capture`` stays cheap and works on a
machine without ``libportaudio2``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from capture.errors import CaptureError

SUPPORTED_CHANNELS = (1, 2)


@dataclass(frozen=True)
class DeviceInfo:
    """One input device: its PortAudio index, name, input channels and default rate."""

    index: int
    name: str
    max_channels: int
    default_rate: float
    hostapi: str = ""
    is_default: bool = False

    def describe(self) -> str:
        star = "*" if self.is_default else " "
        api = f", {self.hostapi}" if self.hostapi else ""
        return (f"{star}{self.index:3d}  {self.name}  ({self.max_channels} in, "
                f"{self.default_rate:g} Hz{api})")


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Hide ALSA's chatter on fd 2 while PortAudio probes the cards (it is not ours to show)."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def sounddevice_module() -> ModuleType:
    """Import sounddevice (PortAudio) once, turning a missing library into a CaptureError."""
    try:
        with _quiet_stderr():
            import sounddevice
    except OSError as err:  # libportaudio2 missing
        raise CaptureError(f"cannot use audio devices: PortAudio is missing ({err})") from None
    return sounddevice


def preload() -> None:
    """Initialise PortAudio now (quietly), e.g. before a full-screen UI takes the terminal.

    PortAudio's first initialisation lets ALSA print warnings on stderr; they
    are hidden by pointing fd 2 at /dev/null for that moment, which a running
    UI drawing to stderr would notice. Call this before the UI starts.
    """
    sounddevice_module()


def refresh() -> None:
    """Re-scan devices (a microphone plugged in after start). Never while recording."""
    sd = sounddevice_module()
    with _quiet_stderr():
        sd._terminate()
        sd._initialize()


def _hostapi_name(sd: Any, index: int) -> str:
    try:
        return str(sd.query_hostapis(index)["name"])
    except Exception:
        return ""


def _default_input_index(sd: Any) -> int:
    try:
        value = sd.default.device[0]
    except Exception:
        return -1
    return int(value) if value is not None else -1


def list_input_devices(*, rescan: bool = False) -> list[DeviceInfo]:
    """Every device with at least one input channel, in PortAudio's order.

    PortAudio lists devices as they were when it started; ``rescan=True``
    looks again (not while a recording is running).
    """
    if rescan:
        refresh()
    sd = sounddevice_module()
    try:
        devices = sd.query_devices()
    except Exception as err:
        raise CaptureError(f"cannot list audio devices: {err}") from None
    default = _default_input_index(sd)
    found = []
    for info in devices:
        if int(info["max_input_channels"]) <= 0:
            continue
        index = int(info["index"])
        found.append(DeviceInfo(index=index, name=str(info["name"]),
                                max_channels=int(info["max_input_channels"]),
                                default_rate=float(info["default_samplerate"]),
                                hostapi=_hostapi_name(sd, int(info["hostapi"])),
                                is_default=index == default))
    return found


def resolve_device(spec: str | int | None) -> DeviceInfo:
    """The input device meant by an index, a name (exact, then unique substring) or None.

    None means the system's default input. Raises CaptureError naming what was
    asked for and what exists.
    """
    devices = list_input_devices()
    if not devices:
        raise CaptureError("no audio input device found (is a microphone connected?)")
    if spec is None or (isinstance(spec, str) and spec.strip() == ""):
        for device in devices:
            if device.is_default:
                return device
        return devices[0]
    text = str(spec).strip()
    if isinstance(spec, int) or text.lstrip("-").isdigit():
        index = int(text)
        for device in devices:
            if device.index == index:
                return device
        raise CaptureError(f"no input device with index {index} "
                           f"(inputs: {_names(devices)}; see 'verbatim record --list-devices')")
    exact = [d for d in devices if d.name.lower() == text.lower()]
    if exact:
        return exact[0]
    partial = [d for d in devices if text.lower() in d.name.lower()]
    if len(partial) == 1:
        return partial[0]
    if partial:
        raise CaptureError(f"device name {text!r} is ambiguous: {_names(partial)}")
    raise CaptureError(f"no input device named {text!r} "
                       f"(inputs: {_names(devices)}; see 'verbatim record --list-devices')")


def _names(devices: list[DeviceInfo]) -> str:
    return ", ".join(f"{d.index} {d.name!r}" for d in devices)


def check_settings(device: DeviceInfo, *, channels: int, rate: int) -> None:
    """Refuse a channel count or rate the device cannot record, in one line."""
    if channels not in SUPPORTED_CHANNELS:
        raise CaptureError(f"unsupported channel count {channels}: record 1 or 2 channels")
    if channels > device.max_channels:
        raise CaptureError(f"device {device.name!r} has {device.max_channels} input channel(s); "
                           f"cannot record {channels}")
    if not 8000 <= rate <= 192000:
        raise CaptureError(f"unsupported sample rate {rate} Hz (use 8000-192000, e.g. 48000)")
    sd = sounddevice_module()
    try:
        sd.check_input_settings(device=device.index, channels=channels, samplerate=rate,
                                dtype="float32")
    except Exception as err:
        raise CaptureError(f"device {device.name!r} cannot record {channels} channel(s) at "
                           f"{rate} Hz ({_one_line(err)})") from None


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__
