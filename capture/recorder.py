"""The recorder: device callback -> bounded queue -> writer thread -> crash-safe WAV.

The source's callback only puts blocks into a bounded queue (never blocks,
never touches a file). One writer thread owns the files: it accounts for
dropouts against the clock (``capture.dropouts``), fills gaps with silence,
writes, keeps the header current and fsyncs about twice a second, rolls over
to numbered segments before the WAV size limit, publishes levels through a
size-one queue, and keeps the sidecar (gaps, pauses, live marks) up to date.
It stops on a sentinel. A full disk stops it cleanly: the file is repaired
so it is valid, and the error is reported by ``status()`` and ``stop()``.

It is one module of ~580 lines on purpose: the control side (start, pause,
stop) and the writer thread share one state machine and one lock, and the
pure parts are already apart (``dropouts``, ``levels``, ``wavfile``, ``sidecar``).

Usage::

    rec = Recorder(Path("P4-1.wav"), channels=1)
    rec.start()
    ...  rec.latest_level(), rec.mark("come back to this"), rec.pause(), rec.resume()
    summary = rec.stop()
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from capture.devices import DeviceInfo, check_settings, resolve_device
from capture.disk import REFUSE_BELOW_SECONDS, DiskCheck, check_disk
from capture.dropouts import DropoutSettings, DropoutTracker, Emission
from capture.errors import CaptureError, DiskFullError
from capture.levels import Level, LevelMeter
from capture.sidecar import Gap, LiveMark, Pause, Segment, Sidecar, sidecar_path, write_sidecar
from capture.source import AudioSource, SoundDeviceSource, default_clock
from capture.wavfile import DEFAULT_SEGMENT_BYTES, SUBTYPE_BYTES, SegmentedWavWriter, SegmentSink

# Header refresh + fsync cadence (the issue asks for at least once a second).
SYNC_INTERVAL = 0.5
# Sidecar rewrite cadence when only marks changed.
SIDECAR_INTERVAL = 0.25
# How much audio the queue may hold while the writer is busy (a slow disk, a loaded CPU).
QUEUE_SECONDS = 30.0

_SENTINEL = object()

STATES = ("idle", "recording", "paused", "stopping", "stopped", "failed")


@dataclass(frozen=True)
class RecorderStatus:
    """A snapshot for a display: state, timeline position, dropouts, disk left."""

    state: str                 # idle | recording | paused | stopping | stopped | failed
    elapsed: float             # seconds on the recording timeline
    frames: int
    dropouts: int
    dropped_seconds: float
    disk_seconds_left: float | None
    error: str | None = None
    silent_for: float = 0.0    # seconds since the device last delivered a block (unplugged?)


@dataclass(frozen=True)
class RecordingSummary:
    """What a finished recording holds; ``str()`` is a one-line report."""

    path: Path
    segments: tuple[Path, ...]
    sidecar: Path
    rate: int
    channels: int
    frames: int
    dropouts: int
    dropped_seconds: float
    marks: tuple[LiveMark, ...]
    pauses: tuple[Pause, ...]
    stop_reason: str
    error: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def duration(self) -> float:
        return self.frames / self.rate

    def __str__(self) -> str:
        files = (self.path.name if len(self.segments) <= 1
                 else f"{self.path.name} (+{len(self.segments) - 1} segment files)")
        text = (f"recorded {self.duration:.1f} s to {files}: {self.rate} Hz, "
                f"{self.channels} ch, {len(self.marks)} mark(s), {len(self.pauses)} pause(s), "
                f"{self.dropouts} dropout(s)")
        if self.dropouts:
            text += f" ({self.dropped_seconds:.2f} s filled with silence)"
        return text


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class Recorder:
    """Records one interview to ``path`` (a new WAV file) and its sidecar.

    ``device`` is an index, a name, a DeviceInfo or None (the default input);
    ``source`` replaces the device entirely (tests, other back ends).
    ``on_segment_closed(path)`` is called from the writer thread after each
    WAV file is finished and fsync'd. ``segment_sink`` keeps the open segment
    in memory and hands its bytes to the sink instead of writing any file
    (the seam for at-rest encryption: nothing plain reaches the disk).
    """

    def __init__(self, path: Path, *, device: str | int | DeviceInfo | None = None,
                 channels: int = 1, rate: int = 48000, source: AudioSource | None = None,
                 subtype: str = "PCM_24", max_seconds: float | None = None,
                 max_segment_bytes: int = DEFAULT_SEGMENT_BYTES,
                 on_segment_closed: Callable[[Path], None] | None = None,
                 segment_sink: SegmentSink | None = None,
                 dropout_settings: DropoutSettings | None = None,
                 queue_blocks: int | None = None,
                 level_interval: float = 0.066,
                 clock: Callable[[], float] | None = None) -> None:
        self.path = Path(path)
        self.sidecar_path = sidecar_path(self.path)
        self.channels = channels
        self.rate = rate
        self.subtype = subtype
        self.on_segment_closed = on_segment_closed
        self.segment_sink = segment_sink
        self._device_spec = device
        self._source = source
        self._max_frames = None if max_seconds is None else round(max_seconds * rate)
        self._max_segment_bytes = max_segment_bytes
        self._clock = clock or default_clock()
        self._tracker = DropoutTracker(rate, dropout_settings)
        self._meter = LevelMeter(rate=rate, channels=channels, interval=level_interval)
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=queue_blocks or
                                                     max(64, int(QUEUE_SECONDS / 0.02)))
        self._levels: queue.Queue[Level] = queue.Queue(maxsize=1)
        self._last_level: Level | None = None
        self._lock = threading.Lock()
        self._state = "idle"
        self._paused = False
        self._lost_pending = 0
        self._frames_enqueued = 0
        self._frames_dequeued = 0
        self._writer: SegmentedWavWriter | None = None
        self._thread: threading.Thread | None = None
        self._done = threading.Event()
        self._first_audio = threading.Event()
        self._last_delivery: float | None = None
        self._stop_reason = "stopped"
        self._error: str | None = None
        self._device_name = ""
        self._started_at = ""
        self._first_block = True
        self._gaps: list[Gap] = []
        self._pauses: list[Pause] = []
        self._pause_start: tuple[float, float, str] | None = None  # (arrival, at, iso)
        self._marks: list[LiveMark] = []
        self._sidecar_dirty = False
        self._disk: DiskCheck | None = None
        self._summary: RecordingSummary | None = None
        self._warnings: list[str] = []

    # ------------------------------------------------------------ control

    def preflight(self) -> DiskCheck:
        """Check the folder and free space before starting (the CLI warns if it is low)."""
        folder = self.path.parent if str(self.path.parent) else Path(".")
        if not folder.exists():
            raise CaptureError(f"folder {folder} does not exist")
        if not folder.is_dir():
            raise CaptureError(f"{folder} is not a folder")
        if self.path.exists():
            raise CaptureError(f"{self.path} already exists; choose another name "
                               "(an existing recording is never overwritten)")
        if self.sidecar_path.exists():
            raise CaptureError(f"{self.sidecar_path} already exists (the sidecar of an earlier "
                               "recording?); choose another name")
        if self.channels not in (1, 2):
            raise CaptureError(f"unsupported channel count {self.channels}: "
                               "record 1 or 2 channels")
        disk = check_disk(folder, rate=self.rate, channels=self.channels,
                          sample_bytes=SUBTYPE_BYTES.get(self.subtype, 3))
        if disk.seconds_left < REFUSE_BELOW_SECONDS:
            raise DiskFullError(f"not enough free space in {folder}: {disk.free_bytes} bytes "
                                f"hold {disk.seconds_left:.1f} s of audio")
        self._disk = disk
        return disk

    def start(self, *, wait: float | None = 5.0) -> None:
        """Open the device and the file and start recording; CaptureError if anything is off.

        With ``wait`` (seconds) it returns only once the device delivers audio,
        so "recording" on screen means samples are reaching the disk; a device
        that stays silent that long is closed again with an error. ``wait=None``
        returns at once (check ``status().frames``).
        """
        if self._state != "idle":
            raise CaptureError(f"recorder already {self._state}")
        if self._disk is None:
            self.preflight()
        source = self._source
        if source is None:
            info = (self._device_spec if isinstance(self._device_spec, DeviceInfo)
                    else resolve_device(self._device_spec))
            check_settings(info, channels=self.channels, rate=self.rate)
            source = SoundDeviceSource(info, rate=self.rate, channels=self.channels,
                                       clock=self._clock)
            self._source = source
        elif source.rate != self.rate or source.channels != self.channels:
            raise CaptureError("source rate/channels differ from the recorder's")
        self._device_name = source.name
        writer = SegmentedWavWriter(self.path, rate=self.rate, channels=self.channels,
                                    subtype=self.subtype,
                                    max_segment_bytes=self._max_segment_bytes,
                                    on_segment_closed=self.on_segment_closed,
                                    sink=self.segment_sink)
        writer.open()
        self._writer = writer
        self._started_at = _now_iso()
        try:
            self._write_sidecar()
        except OSError as err:
            self._abandon_files()
            raise CaptureError(f"cannot write {self.sidecar_path}: {err.strerror}") from None
        self._state = "recording"
        self._thread = threading.Thread(target=self._run_writer, name="verbatim-writer",
                                        daemon=True)
        self._thread.start()
        try:
            source.start(self._deliver)
            if wait is not None and not self._first_audio.wait(wait):
                raise CaptureError(f"device {source.name!r} delivered no audio in {wait:g} s")
        except BaseException:
            with contextlib.suppress(Exception):
                source.stop()
            self._queue.put(_SENTINEL)
            self._thread.join()
            self._abandon_files()
            self._state = "idle"
            raise

    def _abandon_files(self) -> None:
        """Remove what start() created when the device would not open (they hold nothing)."""
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
            segments = self._writer.closed_segments
            if any(seg.frames for seg in segments):
                return  # audio got through after all: keep it, with its sidecar
            for seg in segments:
                seg.path.unlink(missing_ok=True)
            self._writer.discard_empty()
        self.sidecar_path.unlink(missing_ok=True)
        self._writer = None

    def pause(self) -> None:
        """Stop adding audio; the timeline waits and the pause is recorded. Levels go on."""
        if self._state == "recording":
            self._paused = True
            self._state = "paused"

    def resume(self) -> None:
        if self._state == "paused":
            self._paused = False
            self._state = "recording"

    def mark(self, text: str = "") -> float:
        """Store a live mark now; returns its time in seconds on the recording timeline."""
        seconds = self._timeline_seconds()
        with self._lock:
            self._marks.append(LiveMark(time=round(seconds, 3), text=str(text).strip(),
                                        marked_at=_now_iso()))
            self._sidecar_dirty = True
        return seconds

    def wait(self, timeout: float | None = None) -> bool:
        """True once the recorder ended on its own (``max_seconds`` reached, disk full)."""
        return self._done.wait(timeout)

    def stop(self) -> RecordingSummary:
        """Stop the device, drain the queue, finish the file and the sidecar."""
        if self._summary is not None:
            return self._summary
        if self._state == "idle":
            raise CaptureError("recorder was never started")
        if self._state != "failed":
            self._state = "stopping"
        if self._source is not None:
            try:
                self._source.stop()
            except Exception as err:  # a vanished device must not lose the file
                self._warn(f"closing the device: {err}")
        if self._lost_pending and not self._paused:  # the last blocks never made the queue
            self._queue.put((np.zeros((0, self.channels), np.float32), self._clock(), False,
                             self._lost_pending, False))
            self._lost_pending = 0
        self._queue.put(_SENTINEL)
        if self._thread is not None:
            self._thread.join()
        return self._finish()

    # ------------------------------------------------------------ reading

    def latest_level(self) -> Level | None:
        """The most recent level (10-20 per second while audio flows), or None before any."""
        with contextlib.suppress(queue.Empty):
            self._last_level = self._levels.get_nowait()
        return self._last_level

    def status(self) -> RecorderStatus:
        frames = self._tracker.timeline_frames
        disk = self._disk
        left = None
        if disk is not None:
            left = disk.seconds_left
        silent = 0.0
        if self._state in ("recording", "paused") and self._last_delivery is not None:
            silent = max(0.0, self._clock() - self._last_delivery)
        return RecorderStatus(state=self._state, elapsed=frames / self.rate, frames=frames,
                              dropouts=len(self._gaps),
                              dropped_seconds=sum(g.duration for g in self._gaps),
                              disk_seconds_left=left, error=self._error, silent_for=silent)

    @property
    def device_name(self) -> str:
        return self._device_name

    # ------------------------------------------------------------ callback side

    def _deliver(self, block: np.ndarray, arrival: float, overflow: bool) -> None:
        """Runs on the audio thread: enqueue and return, nothing else."""
        paused = self._paused
        if not self._first_audio.is_set():
            self._first_audio.set()
        try:
            self._queue.put_nowait((block, arrival, overflow, self._lost_pending, paused))
        except queue.Full:
            if not paused:
                self._lost_pending += len(block)
            return
        if not paused:
            self._frames_enqueued += len(block) + self._lost_pending
        self._lost_pending = 0

    def _timeline_seconds(self) -> float:
        if self._pause_start is not None or self._paused:
            return self._tracker.timeline_frames / self.rate
        queued = max(0, self._frames_enqueued - self._frames_dequeued)
        return (self._tracker.timeline_frames + queued) / self.rate

    # ------------------------------------------------------------ writer thread

    def _run_writer(self) -> None:
        last_sync = last_sidecar = self._clock()
        while True:
            try:
                item = self._queue.get(timeout=0.1)
            except queue.Empty:
                item = None
            if item is _SENTINEL:
                break
            if item is not None:
                self._take(item)
            now = self._clock()
            if self._state == "failed":
                continue
            try:
                if now - last_sync >= SYNC_INTERVAL:
                    last_sync = now
                    self._sync()
                if self._sidecar_dirty and now - last_sidecar >= SIDECAR_INTERVAL:
                    last_sidecar = now
                    self._write_sidecar()
            except DiskFullError as err:
                self._fail(str(err), disk_full=True)
            except (CaptureError, OSError) as err:
                self._fail(f"recording stopped: {err}")
        self._drain_at_stop()

    def _take(self, item: tuple[np.ndarray, float, bool, int, bool]) -> None:
        block, arrival, overflow, lost, paused = item
        self._last_delivery = self._clock()
        level = self._meter.add(block)
        if level is not None:
            self._publish(level)
        if self._state == "failed" or self._limit_reached():
            return
        if paused:
            if self._pause_start is None:
                self._begin_pause(arrival)
            return
        self._frames_dequeued += len(block) + lost
        if self._pause_start is not None:
            self._end_pause(arrival)
        if self._first_block:
            self._first_block = False
            behind = self._clock() - arrival  # a fake source's virtual clock is elsewhere
            behind = behind if 0.0 <= behind < 5.0 else 0.0
            started = datetime.now(UTC) - timedelta(seconds=behind + len(block) / self.rate)
            self._started_at = started.isoformat(timespec="microseconds")
            self._sidecar_dirty = True
        emissions = []
        if lost:
            emissions += self._tracker.add_loss(lost)
        if len(block):
            emissions += self._tracker.observe(len(block), arrival, overflow=overflow,
                                               payload=block)
        self._apply(emissions)

    def _apply(self, emissions: list[Emission]) -> None:
        try:
            for e in emissions:
                self._write_emission(e)
        except DiskFullError as err:
            self._fail(str(err), disk_full=True)
        except CaptureError as err:
            self._fail(f"recording stopped: {err}")

    def _write_emission(self, e: Emission) -> None:
        assert self._writer is not None
        frames = e.frames
        if self._max_frames is not None:
            frames = min(frames, self._max_frames - self._writer.total_frames)
            if frames <= 0:
                return
        if e.kind == "gap":
            with self._lock:
                self._gaps.append(Gap(start=round(e.at / self.rate, 4),
                                      duration=round(e.missing / self.rate, 4), reason=e.reason,
                                      filled=(None if e.missing == e.frames
                                              else round(e.frames / self.rate, 4))))
                self._sidecar_dirty = True
            self._write_silence(frames)
        else:
            self._writer.write(e.payload[:frames])
        if self._limit_reached():
            self._stop_reason = "time limit reached"
            self._done.set()

    def _write_silence(self, frames: int) -> None:
        assert self._writer is not None
        chunk = np.zeros((min(frames, self.rate), self.channels), dtype=np.float32)
        while frames > 0:
            n = min(frames, len(chunk))
            self._writer.write(chunk[:n])
            frames -= n

    def _limit_reached(self) -> bool:
        return (self._max_frames is not None and self._writer is not None
                and self._writer.total_frames >= self._max_frames)

    def _begin_pause(self, arrival: float) -> None:
        self._apply(self._tracker.release())
        at = self._writer.total_frames / self.rate if self._writer else 0.0
        self._pause_start = (arrival, at, _now_iso())

    def _end_pause(self, arrival: float) -> None:
        assert self._pause_start is not None
        began, at, iso = self._pause_start
        self._pause_start = None
        with self._lock:
            self._pauses.append(Pause(at=round(at, 4), duration=round(arrival - began, 3),
                                      started_at=iso))
            self._sidecar_dirty = True
        self._tracker.restart()

    def _publish(self, level: Level) -> None:
        with contextlib.suppress(queue.Empty):
            self._levels.get_nowait()
        with contextlib.suppress(queue.Full):
            self._levels.put_nowait(level)

    def _sync(self) -> None:
        assert self._writer is not None
        self._writer.sync()
        folder = self.path.parent if str(self.path.parent) else Path(".")
        with contextlib.suppress(OSError):
            written = (self._writer.segment_frames * self._writer.frame_bytes)
            self._disk = check_disk(folder, rate=self.rate, channels=self.channels,
                                    sample_bytes=SUBTYPE_BYTES[self.subtype], written=written)
        self._write_sidecar()

    def _fail(self, message: str, *, disk_full: bool = False) -> None:
        """Stop writing after an error, keep (and repair) what is on disk, say so."""
        if self._state == "failed":
            return
        seconds = self._writer.total_frames / self.rate if self._writer else 0.0
        if disk_full:
            message = (f"{message}: recording stopped after {seconds:.1f} s; "
                       f"everything up to then is kept in {self.path.name}")
        self._error = message
        self._stop_reason = "disk full" if disk_full else "error"
        self._state = "failed"
        if self._writer is not None:
            try:
                self._writer.close(after_error=True)
            except Exception as err:
                self._warn(f"repairing after the error: {err}")
        with contextlib.suppress(OSError):
            self._write_sidecar()
        self._done.set()

    def _drain_at_stop(self) -> None:
        """After the sentinel: write held blocks, close the pause, finish the file."""
        if self._state != "failed" and self._writer is not None:
            self._apply(self._tracker.release())
        if self._pause_start is not None:
            began, at, iso = self._pause_start
            self._pause_start = None
            self._pauses.append(Pause(at=round(at, 4),
                                      duration=round(self._clock() - began, 3), started_at=iso))
        if self._state != "failed" and self._writer is not None:
            try:
                self._writer.sync()
                self._writer.close()
            except DiskFullError as err:
                self._fail(str(err), disk_full=True)
            except CaptureError as err:
                self._fail(f"recording stopped: {err}")

    def _warn(self, text: str) -> None:
        with self._lock:
            self._warnings.append(text)

    def _finish(self) -> RecordingSummary:
        writer = self._writer
        segments = tuple(s.path for s in writer.closed_segments) if writer else ()
        frames = writer.total_frames if writer else 0
        with self._lock:
            warnings = tuple(self._warnings)
            if writer is not None:
                warnings += tuple(writer.callback_errors)
        if self._state != "failed":
            self._state = "stopped"
        summary = RecordingSummary(
            path=self.path, segments=segments, sidecar=self.sidecar_path, rate=self.rate,
            channels=self.channels, frames=frames, dropouts=len(self._gaps),
            dropped_seconds=round(sum(g.duration for g in self._gaps), 4),
            marks=tuple(self._marks), pauses=tuple(self._pauses),
            stop_reason=self._stop_reason, error=self._error, warnings=warnings)
        try:
            self._write_sidecar(final=True)
        except OSError as err:  # a full disk may refuse even the small sidecar
            summary = replace(summary, warnings=(*warnings, f"sidecar not updated: {err}"))
        self._summary = summary
        self._done.set()
        return summary

    # ------------------------------------------------------------ sidecar

    def sidecar(self, *, final: bool = False) -> Sidecar:
        """The sidecar as it stands now."""
        writer = self._writer
        segments: list[Segment] = []
        total = 0
        if writer is not None:
            for seg in writer.closed_segments:
                segments.append(Segment(path=seg.path.name, start=seg.start_frame / self.rate,
                                        frames=seg.frames))
            total = writer.total_frames
            if not final and writer.segment_frames >= 0 and (
                    not writer.closed_segments
                    or writer.closed_segments[-1].path != writer.current_path):
                start = total - writer.segment_frames
                segments.append(Segment(path=writer.current_path.name,
                                        start=start / self.rate, frames=writer.segment_frames))
        with self._lock:
            gaps, pauses, marks = tuple(self._gaps), tuple(self._pauses), tuple(self._marks)
            self._sidecar_dirty = False
        overflows = tuple(round(f / self.rate, 4) for f in self._tracker.overflow_flags)
        return Sidecar(device=self._device_name, rate=self.rate, channels=self.channels,
                       started_at=self._started_at, gaps=gaps, pauses=pauses, marks=marks,
                       segments=tuple(segments), overflows=overflows, frames=total,
                       ended_at=_now_iso() if final else None,
                       stop_reason=self._stop_reason if final else None, subtype=self.subtype,
                       extra={"error": self._error} if self._error else {})

    def _write_sidecar(self, *, final: bool = False) -> None:
        write_sidecar(self.sidecar_path, self.sidecar(final=final))
