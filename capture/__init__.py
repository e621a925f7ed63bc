"""Microphone -> crash-safe audio files: devices, recorder, levels, recovery.

Never imports textual, torch or transcribe (tests/unit/test_import_hygiene.py);
sounddevice (PortAudio) is imported only when a device is first needed.

The parts, each importable alone:
- ``capture.devices``: list_input_devices(), resolve_device(spec), DeviceInfo,
  check_settings(), preload() (before a full-screen UI), CaptureError.
- ``capture.recorder``: Recorder(path, *, device, channels, rate, source, ...)
  with start/pause/resume/mark/stop, latest_level(), status(), wait(),
  on_segment_closed or segment_sink (segments kept in memory, handed to a
  sink: the encrypted study's seal); RecorderStatus, RecordingSummary.
- ``capture.sidecar``: sidecar_path(), read_sidecar() -> Sidecar (gaps, pauses,
  live marks, segments), write_sidecar().
- ``capture.recover``: recover(path) -> RecoveryReport; recover_recording().
- ``capture.levels``: Level (peak/RMS per channel, dBFS), LevelMeter.
- ``capture.dropouts``: the pure clock-vs-frames accounting behind gap filling.
- ``capture.wavfile``: WAV writing with header updates, segments, parsing.
- ``capture.fake``: ReplaySource, a fake device for tests and demos.
"""
