"""Saved progress per guide: a small JSON file in the user state folder, written atomically, read forgivingly."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from voicecoach.coach.state import DEFAULT_RATE, Place
from voicecoach.config import user_state_dir
from voicecoach.guide.model import Guide, Step

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
_STALE_TEMP_SECONDS = 60.0


@dataclass(frozen=True)
class SavedProgress:
    """Where a listener was in one guide, and how fast they like it spoken."""

    guide_id: str
    guide_hash: str
    step: int
    step_id: str
    step_hash: str  # fingerprint of the step's content, to tell whether the place still exists
    paragraph: int
    sentence: int
    rate: int
    finished: bool = False


@dataclass(frozen=True)
class LoadResult:
    """What loading found: the saved progress (if any) and a problem to tell the listener (if any)."""

    progress: SavedProgress | None
    problem: str | None = None
    older_format: bool = False  # salvaged from a file an older voicecoach wrote: the step, not the place in it


@dataclass(frozen=True)
class RestoredPlace:
    """A saved place mapped onto the guide as it is now; `changed` when the old place no longer exists."""

    place: Place
    changed: bool


def step_fingerprint(step: Step) -> str:
    """A hash of everything a step says, independent of its number."""
    content = dataclasses.asdict(step)
    content.pop("number")
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode("utf-8")).hexdigest()[:16]


def progress_for(guide: Guide, place: Place, rate: int, finished: bool = False) -> SavedProgress:
    step = guide.step(place.step)
    return SavedProgress(guide.id, guide.content_hash, place.step, step.id, step_fingerprint(step),
                         place.paragraph, place.sentence, rate, finished)


def restore_place(guide: Guide, saved: SavedProgress) -> RestoredPlace:
    """The saved place in `guide`: exact if its step is unchanged (even renumbered), else that step's start."""
    by_id = {step.id: step for step in guide.steps}
    step = by_id.get(saved.step_id)
    if step is not None and step_fingerprint(step) == saved.step_hash:
        return RestoredPlace(Place(step.number, saved.paragraph, saved.sentence), changed=False)
    number = step.number if step is not None else min(max(saved.step, 1), len(guide.steps))
    unchanged = saved.paragraph == 0 and saved.sentence == 0 and step is not None
    return RestoredPlace(Place(number), changed=not unchanged)


class ProgressStore:
    """Progress files, one per guide, in `folder` (default: the user state folder)."""

    def __init__(self, folder: Path | None = None) -> None:
        self._folder = folder
        self._warned_unwritable = False

    @property
    def folder(self) -> Path:
        return self._folder if self._folder is not None else user_state_dir()

    def path_for(self, guide_id: str) -> Path:
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", guide_id).lstrip(".") or "guide"
        return self.folder / f"progress-{safe}.json"

    def load(self, guide_id: str) -> LoadResult:
        """The saved progress for a guide; a corrupt file is moved aside to .bak and reported, never raised."""
        path = self.path_for(guide_id)
        self._remove_stale_temps(path)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return LoadResult(None)
        except OSError as error:
            log.warning("cannot read saved progress %s: %s", path, error.strerror or error)
            return LoadResult(None, "unreadable")
        try:
            progress, older = _decode(raw, guide_id)
        except ValueError as error:
            backup = path.with_name(path.name + ".bak")
            try:
                os.replace(path, backup)
                log.warning("saved progress %s is damaged (%s); kept it as %s and started fresh",
                            path, error, backup.name)
            except OSError as move_error:
                log.warning("saved progress %s is damaged (%s) and could not be moved aside: %s",
                            path, error, move_error.strerror or move_error)
            return LoadResult(None, "unreadable")
        if older:
            log.info("saved progress %s is in an older format: kept its step and speaking rate", path)
        return LoadResult(progress, older_format=older)

    def save(self, progress: SavedProgress) -> bool:
        """Write atomically (temp file, fsync, rename, fsync folder). False, with one warning, if it fails."""
        path = self.path_for(progress.guide_id)
        data = json.dumps({"format": FORMAT_VERSION, **dataclasses.asdict(progress)}, indent=2) + "\n"
        temp_name = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp_name, path)
            temp_name = None
            _fsync_folder(path.parent)
            return True
        except OSError as error:
            if not self._warned_unwritable:
                log.warning("cannot save progress in %s (%s); this session continues without saving",
                            path.parent, error.strerror or error)
                self._warned_unwritable = True
            return False
        finally:
            if temp_name is not None:
                try:
                    os.unlink(temp_name)
                except OSError:
                    pass

    def clear(self, guide_id: str) -> None:
        try:
            self.path_for(guide_id).unlink()
        except FileNotFoundError:
            pass
        except OSError as error:
            log.warning("cannot remove saved progress: %s", error.strerror or error)

    @staticmethod
    def _remove_stale_temps(path: Path) -> None:
        """Temp files left by a session killed mid-save (younger ones may belong to a live session)."""
        try:
            leftovers = list(path.parent.glob(f".{path.name}.*.tmp"))
        except OSError:
            return
        for temp in leftovers:
            try:
                if time.time() - temp.stat().st_mtime > _STALE_TEMP_SECONDS:
                    temp.unlink()
            except OSError:
                pass


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


_FIELDS = {field.name: field.type for field in dataclasses.fields(SavedProgress)}


def _decode(raw: bytes, guide_id: str) -> tuple[SavedProgress, bool]:
    """Parse and check a progress file: (progress, whether it came from an older format). ValueError says
    what is wrong with it."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    version = data.get("format")
    older = version is None or (isinstance(version, int) and not isinstance(version, bool) and version < FORMAT_VERSION)
    if version != FORMAT_VERSION and not older:
        raise ValueError(f"unknown format {version!r} (a newer voicecoach?)")
    if older:
        # Only what every format has kept is trusted: the guide, the step and the speaking rate. The
        # place inside the step starts over (no step fingerprint to check it against).
        data = {"guide_hash": "", "step_id": "", "step_hash": "", "paragraph": 0, "sentence": 0, "rate": DEFAULT_RATE,
                **{key: data[key] for key in ("guide_id", "step", "rate", "finished") if key in data}}
    values = {}
    for name, kind in _FIELDS.items():
        value = data.get(name, False if name == "finished" else None)
        expected = {"str": str, "int": int, "bool": bool}[kind]
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ValueError(f"field {name!r} is missing or not a {kind}")
        values[name] = value
    progress = SavedProgress(**values)
    if progress.guide_id != guide_id:
        raise ValueError(f"it belongs to guide {progress.guide_id!r}")
    if progress.step < 1 or progress.paragraph < 0 or progress.sentence < 0 or progress.rate <= 0:
        raise ValueError("a number is out of range")
    return progress, older
