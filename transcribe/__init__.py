"""Audio -> transcript.Transcript: audio loading, ASR engines, VAD, diarisation,
word-speaker alignment, mark inference and the model store.

Heavy libraries (torch, whisper, faster_whisper, pyannote, onnxruntime) are
imported lazily inside the functions that need them, so importing this package
is cheap. The privacy environment is applied here, before any of them can load.
"""

from transcribe.privacy import apply_privacy_env

apply_privacy_env()
