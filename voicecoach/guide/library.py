"""Finding guides: bundled with voicecoach, in the user's content folder, or by explicit path."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from voicecoach.config import bundled_content_dir, user_content_dir
from voicecoach.errors import GuideError, VoicecoachError
from voicecoach.guide.loader import load_guide
from voicecoach.guide.model import Guide

GUIDE_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class GuideEntry:
    """A guide file found in a content folder, loaded or not."""

    path: Path
    origin: str  # "bundled" or "user"
    guide: Guide | None
    error: GuideError | None


def guide_files() -> list[tuple[Path, str]]:
    """Every guide file in the bundled and user content folders, bundled first, each sorted by name."""
    found: list[tuple[Path, str]] = []
    for folder, origin in ((bundled_content_dir(), "bundled"), (user_content_dir(), "user")):
        if folder.is_dir():
            found += [(p, origin) for p in sorted(folder.iterdir()) if p.suffix in GUIDE_SUFFIXES and p.is_file()]
    return found


def list_guides() -> list[GuideEntry]:
    entries = []
    for path, origin in guide_files():
        try:
            entries.append(GuideEntry(path, origin, _load(path), None))
        except GuideError as error:
            entries.append(GuideEntry(path, origin, None, error))
    return entries


def _load(path: Path) -> Guide:
    try:
        stat = path.stat()
    except OSError:
        return load_guide(path)  # gone since it was listed: the loader says so in its own words
    return _load_unchanged(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=32)
def _load_unchanged(path: Path, mtime_ns: int, size: int) -> Guide:
    """A guide file parsed once while it stays the same (guides are immutable; parsing one is costly)."""
    return load_guide(path)


def find_guide(spec: str | None = None) -> Guide:
    """A guide by path or id; with no spec, the first valid guide found (bundled first)."""
    if spec and (Path(spec).suffix in GUIDE_SUFFIXES or Path(spec).exists() or "/" in spec):
        return load_guide(spec)
    entries = list_guides()
    valid = [e for e in entries if e.guide is not None]
    if spec is None:
        if valid:
            return valid[0].guide  # type: ignore[return-value]
        raise VoicecoachError("no valid guide found",
                              f"put a guide in {user_content_dir()} or pass --guide PATH")
    for entry in entries:
        if entry.path.stem == spec or (entry.guide and entry.guide.id == spec):
            if entry.error:
                raise entry.error
            return entry.guide  # type: ignore[return-value]
    known = ", ".join(e.guide.id for e in valid) or "none"
    raise VoicecoachError(f"no guide with id {spec!r}", f"known guides: {known}; or pass a file path")
