"""Model catalogue (``pretrained/models.toml``) and the download cache.

Downloads go to ``$GANDIR_HOME/models`` (default ``~/.cache/gandir/models``), land atomically
(temporary file, then rename) and are checked against the catalogue's sha256 when it is known;
otherwise the digest of the first download is recorded next to the file (``FILE.sha256``).
Every load hashes the cached file again (about 0.4 s per 100 MB; a new process never trusts
an earlier hash, and within one process ``weights.file_sha256`` memoizes by size and mtime)
and checks it against that sha256, then checks the loaded network's resolution and channels
against the entry.
``$GANDIR_HOME/models.toml`` may add or override entries with the same layout (``file:`` URLs
work).
"""

from __future__ import annotations

import hashlib
import http.client
import importlib.resources
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from gan_directions.errors import DownloadError, ModelLoadError
from gan_directions.fileio import atomic_path, atomic_write_text

CHUNK_BYTES = 1 << 20
DEFAULT_HOME = "~/.cache/gandir"


@dataclass(frozen=True)
class ModelEntry:
    name: str
    url: str
    resolution: int | None = None
    channels: int | None = None
    source: str = ""
    description: str = ""
    sha256: str | None = None

    @property
    def filename(self) -> str:
        suffix = Path(urllib.parse.urlparse(self.url).path).suffix or ".pkl"
        return self.name + suffix


def gandir_home() -> Path:
    """The cache root: ``$GANDIR_HOME`` or ``~/.cache/gandir``."""
    return Path(os.environ.get("GANDIR_HOME") or DEFAULT_HOME).expanduser()


def models_dir() -> Path:
    return gandir_home() / "models"


def _parse_catalogue(text: str, origin: str) -> dict[str, ModelEntry]:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ModelLoadError(f"invalid model catalogue {origin}: {error}") from None
    entries = {}
    for name, fields in (document.get("models") or {}).items():
        if not isinstance(fields, dict) or "url" not in fields:
            raise ModelLoadError(f"catalogue {origin}: model {name!r} needs a url")
        known = {"url", "resolution", "channels", "source", "description", "sha256"}
        extra = set(fields) - known
        if extra:
            raise ModelLoadError(f"catalogue {origin}: unknown field(s) {sorted(extra)} in {name}")
        sha = fields.get("sha256")
        entries[name] = ModelEntry(name=name, url=fields["url"],
                                   resolution=fields.get("resolution"),
                                   channels=fields.get("channels"),
                                   source=fields.get("source", ""),
                                   description=fields.get("description", ""),
                                   sha256=sha.lower() if sha else None)
    return entries


def load_catalogue() -> dict[str, ModelEntry]:
    """Built-in catalogue plus ``$GANDIR_HOME/models.toml`` (which wins on equal names)."""
    builtin = importlib.resources.files("gan_directions.pretrained") / "models.toml"
    entries = _parse_catalogue(builtin.read_text(encoding="utf-8"), "models.toml (built-in)")
    user_file = gandir_home() / "models.toml"
    if user_file.is_file():
        entries.update(_parse_catalogue(user_file.read_text(encoding="utf-8"), str(user_file)))
    return entries


def cached_path(name: str, catalogue: dict[str, ModelEntry] | None = None) -> Path:
    entry = _entry(name, catalogue)
    return models_dir() / entry.filename


def _entry(name: str, catalogue: dict[str, ModelEntry] | None) -> ModelEntry:
    catalogue = load_catalogue() if catalogue is None else catalogue
    if name not in catalogue:
        known = ", ".join(sorted(catalogue))
        raise ModelLoadError(f"unknown model name: {name!r} (catalogue: {known})")
    return catalogue[name]


def _sha256_file(path: Path) -> str:
    from gan_directions.generators.weights import file_sha256

    return file_sha256(path)


def fetch_model(name: str, progress: bool | None = None,
                catalogue: dict[str, ModelEntry] | None = None, record: bool = True) -> Path:
    """Path of the cached file for catalogue model ``name``, downloading it once if needed.

    A download is checked against the catalogue's sha256 (when known) and its digest is
    recorded (``FILE.sha256``). A cached file is hashed again on every call and refused, with
    a re-download hint, when it differs from the catalogue's or the recorded sha256. A cached
    file with no record (put there by hand) gets one only with ``record``.
    """
    entry = _entry(name, catalogue)
    dest = models_dir() / entry.filename
    record_file = dest.with_name(dest.name + ".sha256")
    if not dest.is_file():
        digest = download(entry.url, dest, sha256=entry.sha256, progress=progress, label=name)
        atomic_write_text(record_file, digest + "\n")
        return dest
    digest = _sha256_file(dest)
    recorded = record_file.read_text().strip() if record_file.is_file() else None
    expected = entry.sha256 or recorded
    if expected and digest != expected:
        raise DownloadError(
            f"cached file {dest} does not match its sha256 (expected {expected}, got {digest}): "
            f"it is corrupt; {redownload_hint(name, dest)}"
        )
    if record and recorded is None:
        atomic_write_text(record_file, digest + "\n")
    return dest


def redownload_hint(name: str, dest: Path) -> str:
    return f"delete {dest} and run `gandir models download {name}` to download it again"


def check_network(name: str, generator, dest: Path) -> None:
    """Refuse a cached network whose resolution or channels differ from its catalogue entry."""
    entry = _entry(name, None)
    expected = (entry.resolution, entry.channels)
    found = (generator.img_resolution, generator.img_channels)
    if any(e is not None and e != f for e, f in zip(expected, found, strict=True)):
        raise ModelLoadError(
            f"cached file {dest} holds a {found[0]} px, {found[1]}-channel network, but "
            f"{name} is {entry.resolution or '?'} px, {entry.channels or '?'}-channel; "
            f"{redownload_hint(name, dest)}"
        )


def _offline_hint(dest: Path) -> str:
    return (f"pass a local .pkl/.safetensors path instead of a model name, or put the file at "
            f"{dest} (set GANDIR_HOME to use another cache folder)")


def download(url: str, dest: str | Path, sha256: str | None = None,
             progress: bool | None = None, label: str | None = None,
             timeout: float = 60.0) -> str:
    """Download ``url`` to ``dest`` atomically; returns the sha256 hex digest.

    Raises ``DownloadError`` when the server cannot be reached, the transfer stops early, or
    the digest differs from ``sha256``; ``dest`` is then left untouched.
    """
    dest = Path(dest)
    label = label or dest.name
    try:
        response = urllib.request.urlopen(url, timeout=timeout)
    except urllib.error.HTTPError as error:
        raise DownloadError(f"download of {label} failed: HTTP {error.code} {error.reason} "
                            f"({url})") from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise DownloadError(f"cannot download {label} from {url} ({reason}); no network? "
                            f"{_offline_hint(dest)}") from None
    digest = hashlib.sha256()
    received = 0
    with response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        with atomic_path(dest) as tmp, open(tmp, "wb") as handle, tqdm(
            total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=label,
            file=sys.stderr, disable=None if progress is None else not progress, leave=False,
        ) as bar:
            try:
                while chunk := response.read(CHUNK_BYTES):
                    handle.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
            except (http.client.HTTPException, OSError):  # incl. timeouts and resets
                total_text = f" of {total}" if total else ""
                raise DownloadError(f"download of {label} was interrupted after {received}"
                                    f"{total_text} bytes; nothing was saved, run it again"
                                    ) from None
            if total is not None and received != total:
                raise DownloadError(f"download of {label} was interrupted after {received} of "
                                    f"{total} bytes; nothing was saved, run it again")
            if sha256 and digest.hexdigest() != sha256.lower():
                raise DownloadError(f"checksum mismatch for {label}: expected sha256 {sha256}, "
                                    f"got {digest.hexdigest()}; the download was discarded")
    return digest.hexdigest()
