"""Encrypted studies through the store: nothing readable at rest, clear errors, rotation.

These use a team key file (an age X25519 identity) so no scrypt runs here;
the passphrase path is in test_vault_cli.py.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from transcript.model import AudioRef, Note, Transcript, Word
from verbatim.study import Study, StudyError
from verbatim.vault import LockedError, VaultError, WrongKeyError, ops, session
from verbatim.vault.keys import Vault, read_key_file

# Words long enough that random ciphertext can never contain them by chance.
WORDS = ("Occupational", "therapists", "supervision", "Birmingham", "overwhelmed",
         "safeguarding", "reflexively")
NOTE_TEXT = "Heartbreaking conversation about restraint"
WAV_HEADER = re.compile(rb"RIFF....WAVE", re.DOTALL)


pytestmark = pytest.mark.usefixtures("vault_runtime")


def tone_wav(path: Path, seconds: float = 1.0, freq: float = 440.0) -> Path:
    t = np.arange(int(16000 * seconds)) / 16000
    sf.write(str(path), (0.3 * np.sin(2 * np.pi * freq * t)).astype("float32"), 16000)
    return path


def transcript() -> Transcript:
    words = tuple(Word(text=w, start=i * 0.5, end=i * 0.5 + 0.4, speaker="S1")
                  for i, w in enumerate(WORDS))
    return Transcript(audio=AudioRef(path="audio/P1-1.wav"), words=words)


def scan(folder: Path) -> list[str]:
    """Every readable secret in any file under ``folder`` (hidden ones and -wal/-shm too)."""
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if WAV_HEADER.search(data):
            found.append(f"{path.name}: WAV header")
        if b"SQLite format 3" in data:
            found.append(f"{path.name}: SQLite header")
        for word in (*WORDS, NOTE_TEXT):
            if word.encode("utf-8") in data or word.encode("utf-16-le") in data:
                found.append(f"{path.name}: {word!r}")
    return found


def new_encrypted(tmp_path: Path, name: str = "study") -> tuple[Path, Path, str]:
    """An encrypted study with a key file; returns (folder, key file, recovery key)."""
    key_file = tmp_path / f"{name}.key"
    folder = tmp_path / name
    secrets = ops.prepare_new_study(folder, passphrase=None, key_file=key_file)
    Study.init(folder).close()
    return folder, key_file, secrets.recovery_key


def fill(study: Study, tmp_path: Path) -> None:
    study.add_participant("P1", attributes={"profession": "Occupational Therapist"})
    study.add_interview("P1", tone_wav(tmp_path / "one.wav"))
    study.add_interview("P1", tone_wav(tmp_path / "two.wav", freq=660.0))
    study.save_transcript("P1-1", transcript(), origin="pipeline")
    study.add_note("P1-1", Note(start=0.0, end=1.0, phase="after", moment=NOTE_TEXT))
    study.lock("P1-1", width=40)
    study.add_extract("P1-1", 1, 1)


def test_nothing_readable_at_rest_while_open_and_after(tmp_path: Path) -> None:
    folder, _, _ = new_encrypted(tmp_path)
    with Study.open(folder) as study:
        fill(study, tmp_path)
        assert (folder / "study.sqlite-wal").exists()  # scanned while the WAL is live
        assert scan(folder) == []
        backup = study.backup(tmp_path)
    assert scan(folder) == [] and scan(backup) == []
    assert sorted(p.name for p in (folder / "audio").iterdir()) == ["P1-1.wav.age",
                                                                    "P1-2.wav.age"]
    session.forget()
    with pytest.raises(LockedError, match=r"encrypted and locked.*study unlock"):
        Study.open(folder)


def test_key_file_opens_everything_and_audio_decrypts_in_memory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, key_file, _ = new_encrypted(tmp_path)
    original = tone_wav(tmp_path / "one.wav").read_bytes()
    with Study.open(folder) as study:
        fill(study, tmp_path)
    session.forget()
    monkeypatch.setenv("VERBATIM_KEY_FILE", str(key_file))
    with Study.open(folder) as study:
        doc = study.transcript("P1-1")
        assert doc is not None and [w.text for w in doc.words] == list(WORDS)
        path = study.audio_path("P1-1")
        assert str(path).startswith("/proc/") and path.read_bytes() == original
        assert study.verify_audio("P1-1")
        assert study.notes("P1-1")[0].moment == NOTE_TEXT
        assert "Occupational Therapist" in study.extracts()[0].citation
        from verbatim.study import files

        with files.open_audio(folder, "P1-2.wav") as fh:
            data, rate = sf.read(fh)
        assert rate == 16000 and len(data) == 16000


def test_recovery_key_and_backup_open_the_study(tmp_path: Path) -> None:
    folder, _, recovery = new_encrypted(tmp_path)
    with Study.open(folder) as study:
        fill(study, tmp_path)
        backup = study.backup(tmp_path)
    session.forget()
    ops.unlock_with(backup, identity_text=recovery, idle_seconds=60)  # what a dialog calls
    session.forget()  # a later command: the agent answers
    try:
        with Study.open(backup) as copy:
            assert copy.verify_audio("P1-1") and copy.verify_audio("P1-2")
            assert copy.transcript("P1-1") is not None
    finally:
        assert ops.lock(backup)
    with pytest.raises(LockedError):
        Study.open(backup)


def test_wrong_key_is_one_line_and_changes_nothing(tmp_path: Path) -> None:
    folder, _, _ = new_encrypted(tmp_path)
    _other, other_key, _ = new_encrypted(tmp_path, "other")
    before = (folder / "vault.json").read_bytes()
    with pytest.raises(WrongKeyError) as err:
        ops.open_vault(folder, identity_text=read_key_file(other_key))
    assert "\n" not in str(err.value) and "does not open this study" in str(err.value)
    with pytest.raises(WrongKeyError, match=r"mistyped|not a verbatim"):
        ops.open_vault(folder, identity_text="AGE-SECRET-KEY-1NOTAKEY")
    assert (folder / "vault.json").read_bytes() == before


def test_damaged_recording_is_named_and_nothing_else_is_lost(tmp_path: Path) -> None:
    folder, _, _ = new_encrypted(tmp_path)
    with Study.open(folder) as study:
        fill(study, tmp_path)
    session_keys = session.keys_for(folder)
    session.forget()
    sealed = folder / "audio" / "P1-1.wav.age"
    sealed.chmod(0o600)
    data = sealed.read_bytes()
    sealed.write_bytes(data[: len(data) - 3000])  # truncated
    session.hold(folder, session_keys)
    with Study.open(folder) as study:
        with pytest.raises(StudyError) as err:
            study.audio_path("P1-1")
        assert "\n" not in str(err.value) and "truncated or damaged" in str(err.value)
        assert study.verify_audio("P1-2")  # the other recording is untouched
        assert study.transcript("P1-1") is not None and len(study.notes()) == 1
    flipped = bytearray(data)
    flipped[len(flipped) // 2] ^= 0x40  # altered in the middle
    sealed.write_bytes(bytes(flipped))
    with Study.open(folder) as study, pytest.raises(StudyError, match="does not decrypt"):
        study.audio_path("P1-1")


def test_damaged_database_is_one_line(tmp_path: Path) -> None:
    folder, _, _ = new_encrypted(tmp_path)
    with Study.open(folder) as study:
        fill(study, tmp_path)
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    db = copy / "study.sqlite"
    data = bytearray(db.read_bytes())
    data[100] ^= 0xFF  # inside page 1: SQLCipher's HMAC refuses it
    db.write_bytes(bytes(data))
    with pytest.raises(StudyError) as err:
        Study.open(copy)
    assert "\n" not in str(err.value)
    with Study.open(folder) as study:  # the original is untouched
        assert study.transcript("P1-1") is not None


def test_encrypt_an_existing_study_in_place(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    with Study.init(folder) as study:
        fill(study, tmp_path)
    (folder / "recordings").mkdir()
    tone_wav(folder / "recordings" / "P1-3.wav")  # recorded into the study, not imported
    shas = {i: hashlib.sha256((folder / "audio" / f"{i}.wav").read_bytes()).hexdigest()
            for i in ("P1-1", "P1-2")}
    assert scan(folder) != []  # the plain study really is readable
    secrets = ops.encrypt_existing(folder, passphrase=None, key_file=tmp_path / "team.key")
    assert secrets is not None and secrets.key_file_created == tmp_path / "team.key"
    assert scan(folder) == []
    assert [p.name for p in (folder / "recordings").iterdir()] == ["P1-3.wav.age"]
    session.forget()
    session.hold(folder, ops.open_vault(folder, identity_text=secrets.recovery_key))
    with Study.open(folder) as study:
        assert [w.text for w in study.transcript("P1-1").words] == list(WORDS)  # type: ignore
        for iid, sha in shas.items():
            assert study.verify_audio(iid) and study.interview(iid).audio_sha256 == sha
        study.add_participant("P2")  # still writable
    with pytest.raises(VaultError, match="already encrypted"):
        ops.encrypt_existing(folder, passphrase=None, key_file=tmp_path / "team.key")


def test_rekey_rotates_every_secret(tmp_path: Path) -> None:
    folder, key_file, recovery = new_encrypted(tmp_path)
    with Study.open(folder) as study:
        fill(study, tmp_path)
    old = session.keys_for(folder)
    sealed_before = (folder / "audio" / "P1-1.wav.age").read_bytes()
    (folder / "recordings").mkdir()  # a recording made in the study, not imported yet
    from verbatim.vault import agefiles, recording

    pending = recording.encrypt_segment(tone_wav(folder / "recordings" / "P1-2.wav"),
                                        old.recipient, [])
    new_key = tmp_path / "new.key"
    secrets = ops.rekey(folder, old, passphrase=None, key_file=new_key)
    assert secrets is not None
    assert (folder / "audio" / "P1-1.wav.age").read_bytes() != sealed_before
    for stale in (read_key_file(key_file), recovery):
        with pytest.raises(WrongKeyError):
            ops.open_vault(folder, identity_text=stale)
    session.forget()
    keys = ops.open_vault(folder, identity_text=read_key_file(new_key))
    assert set(keys.identities).isdisjoint(old.identities)
    assert set(keys.db_keys).isdisjoint(old.db_keys)
    assert ops.open_vault(folder, identity_text=secrets.recovery_key) == keys
    session.hold(folder, keys)
    with Study.open(folder) as study:
        assert study.verify_audio("P1-1") and study.verify_audio("P1-2")
        assert study.transcript("P1-1") is not None
    assert scan(folder) == []
    assert agefiles.decrypt_bytes(pending, keys.age_identities())[:4] == b"RIFF"
    assert len(Vault.read(folder).slots) == 2  # recovery + the new key file, nothing stale


def test_plain_studies_are_untouched_by_the_vault(tmp_path: Path) -> None:
    with Study.init(tmp_path / "plain") as study:
        study.add_participant("P1")
        study.add_interview("P1", tone_wav(tmp_path / "one.wav"))
        assert study.audio_path("P1-1") == tmp_path / "plain" / "audio" / "P1-1.wav"
    assert not (tmp_path / "plain" / "vault.json").exists()
    assert (tmp_path / "plain" / "study.sqlite").read_bytes()[:15] == b"SQLite format 3"


def test_encrypted_recording_never_writes_a_plain_segment(tmp_path: Path) -> None:
    from capture.fake import ReplaySource, tone
    from capture.recorder import Recorder
    from verbatim.vault import recording

    folder, _, _ = new_encrypted(tmp_path)
    (folder / "recordings").mkdir()
    out = folder / "recordings" / "P1-1.wav"
    sealed = recording.prepare(out)
    assert sealed is not None
    seen: list[list[str]] = []  # what the folder held at each sealing step: never plaintext
    options = sealed.recorder_options(rate=16000, channels=1, seconds=0.5)
    sink = options["segment_sink"]
    append, finish = sink.append, sink.finish

    def appending(path: Path, offset: int, data: bytes) -> None:
        append(path, offset, data)
        seen.append(scan(folder) + [p.name for p in recording.plain_segments(out)])

    def finishing(path: Path, whole: bytes) -> None:
        assert whole[:4] == b"RIFF"  # the whole segment, in memory only
        finish(path, whole)
        seen.append(scan(folder) + [p.name for p in recording.plain_segments(out)])

    sink.append, sink.finish = appending, finishing
    source = ReplaySource(tone(3.0, rate=16000), rate=16000, block=320)
    rec = Recorder(out, rate=16000, source=source, **options)
    rec.start()
    rec.mark("come back to this")
    assert source.finished.wait(20)
    summary = rec.stop()
    sealed.finish()
    assert not summary.warnings and len(seen) >= 12
    assert all(found == [] for found in seen)
    assert recording.plain_segments(out) == [] and recording.journals(out) == []
    assert scan(folder) == []
    with Study.open(folder) as study:
        study.add_participant("P1")
        with recording.importable(out) as joined:
            assert str(joined).startswith("/proc/")  # a memfd: never a file in /dev/shm
            assert sf.info(str(joined)).frames == 3 * 16000
            iid = study.add_interview("P1", joined, sidecar=recording.joined_sidecar(joined))
        assert [n.moment for n in study.notes(iid)] == ["come back to this"]
        assert study.verify_audio(iid)
    assert scan(folder) == []
    with pytest.raises(VaultError, match="already exists"):
        recording.prepare(out)


def test_recorder_factory_records_sealed_into_an_encrypted_study(tmp_path: Path) -> None:
    from capture.fake import ReplaySource, tone
    from verbatim.vault import recording

    assert recording.recorder_factory(tmp_path) is None  # not a study: plain recorder
    folder, _, _ = new_encrypted(tmp_path)
    factory = recording.recorder_factory(folder)
    assert factory is not None
    (folder / "recordings").mkdir()
    out = folder / "recordings" / "P1-1.wav"
    source = ReplaySource(tone(12.0, rate=16000), rate=16000, block=320)
    rec = factory(out, rate=16000, source=source)
    rec.start()
    assert source.finished.wait(20)
    rec.stop()
    assert [p.name for p in recording.encrypted_segments(out)] == ["P1-1.wav.age",
                                                                   "P1-1-002.wav.age"]
    assert recording.plain_segments(out) == [] and scan(folder) == []


def test_an_interrupted_encrypt_is_refused_clearly_then_finished(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from verbatim.vault import cipherdb

    folder = tmp_path / "plain"
    with Study.init(folder) as study:
        fill(study, tmp_path)

    def power_cut(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # the machine stops after the recordings, before the database

    monkeypatch.setattr(cipherdb, "export_encrypted", power_cut)
    with pytest.raises(KeyboardInterrupt):
        ops.encrypt_existing(folder, passphrase=None, key_file=tmp_path / "team.key")
    monkeypatch.undo()
    session.forget()
    with pytest.raises(StudyError, match="interrupted 'verbatim study encrypt'"):
        Study.open(folder)
    keys = ops.open_vault(folder, identity_text=read_key_file(tmp_path / "team.key"))
    assert ops.encrypt_existing(folder, passphrase=None, keys=keys) is None
    assert scan(folder) == []
    with Study.open(folder) as study:
        assert study.verify_audio("P1-1") and study.transcript("P1-1") is not None


def test_decrypted_recordings_kept_in_memory_are_bounded_by_size(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from verbatim.study import files

    folder, _, _ = new_encrypted(tmp_path)
    with Study.open(folder) as study:
        fill(study, tmp_path)
        one = study.audio_path("P1-1")
        assert len(files._plain_cache) == 1
        # two fit under the bound: both kept (reopening P1-1 costs no second decryption)
        study.audio_path("P1-2")
        assert len(files._plain_cache) == 2 and one.exists()
        files.release_plaintext()
        size = len(tone_wav(tmp_path / "size.wav").read_bytes())
        monkeypatch.setattr(files, "_PLAIN_CACHE_BYTES", size + size // 2)
        first = study.audio_path("P1-1")
        newest = study.audio_path("P1-2")  # together past the bound: the older one goes
        assert len(files._plain_cache) == 1
        assert newest.exists() and not first.exists()
        assert study.audio_path("P1-2") == newest  # the newest always stays
