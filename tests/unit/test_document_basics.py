"""The JSON contract: a document survives a round trip and bad files are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from transcript import AudioRef, Mark, MarkKind, Note, Source, Speaker, Transcript, Word
from transcript.document import DocumentError, dumps, loads, read, write


def sample() -> Transcript:
    return Transcript(
        audio=AudioRef(path="audio/P4-1.wav", sha256="ab" * 32, duration=12.5),
        speakers=(Speaker("S1", "Interviewer"), Speaker("S2", "P4")),
        words=(Word("it's", 0.5, 0.8, "S2", 0.91), Word("th-", 0.9, 1.0, "S2", 0.5)),
        marks=(Mark(MarkKind.PAUSE, 1.0, 1.6, "S2", "", Source.AUTO),
               Mark(MarkKind.TONE, 2.0, 2.5, None, "laughs", Source.HUMAN)),
        notes=(Note(1.0, 4.0, "after", "the dual edge", "unease", "my own role",
                    "2026-11-26T10:00:00Z"),),
        extra={"x-other-tool": {"kept": True}},
    )


def test_round_trip_is_exact(tmp_path: Path) -> None:
    doc = sample()
    path = tmp_path / "t.json"
    write(doc, path)
    again = read(path)
    assert again == doc
    assert again.extra == doc.extra
    assert dumps(again) == dumps(doc)


def test_written_file_has_no_group_or_other_access(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    write(sample(), path)
    assert path.stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("text, fragment", [
    ("{", "invalid JSON"),
    ("[]", "not an object"),
    ('{"format": "verbatim-transcript/9"}', "newer"),
    ('{"format": "something-else"}', "not a verbatim transcript"),
    ('{"format": "verbatim-transcript/1", "words": [{"text": "a"}]}', "malformed"),
])
def test_bad_documents_are_refused(text: str, fragment: str) -> None:
    with pytest.raises(DocumentError, match=fragment):
        loads(text)


def test_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="no such file"):
        read(tmp_path / "absent.json")
