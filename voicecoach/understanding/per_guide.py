"""A cache for work done once per guide (indexes, compiled templates), keyed by the guide object."""

from __future__ import annotations

from collections import OrderedDict
from functools import wraps
from typing import Callable, TypeVar

from voicecoach.guide.model import Guide

T = TypeVar("T")


def per_guide(build: Callable[[Guide], T], size: int = 8) -> Callable[[Guide], T]:
    """Wrap `build` so each guide object is built for once (by identity: hashing a guide is slow)."""
    cache: OrderedDict[int, tuple[Guide, T]] = OrderedDict()

    @wraps(build)
    def cached(guide: Guide) -> T:
        entry = cache.get(id(guide))
        if entry is not None and entry[0] is guide:
            cache.move_to_end(id(guide))
            return entry[1]
        value = build(guide)
        cache[id(guide)] = (guide, value)
        while len(cache) > size:
            cache.popitem(last=False)
        return value

    return cached
