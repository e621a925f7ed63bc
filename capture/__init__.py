"""Microphone -> crash-safe audio files: devices, recorder, levels, recovery.

Never imports textual, torch or transcribe (tests/unit/test_import_hygiene.py).
"""
