"""The process's memory allocator, set once at start-up: fewer glibc malloc arenas and a fixed mmap threshold,
so that memory freed by the voice and the encoder goes back to the system. A no-op where libc is not glibc."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys
from dataclasses import dataclass
from functools import lru_cache

log = logging.getLogger(__name__)

# mallopt parameters (glibc's malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8


@dataclass(frozen=True)
class AllocatorSettings:
    """glibc malloc settings. `arena_max`: arenas shared by all threads (glibc's default is 8 per core, each
    keeping what its threads freed); `mmap_threshold`: blocks from this size up are mapped on their own and
    unmapped when freed (a fixed value also stops glibc raising it after each large free, which left the
    voice's large buffers inside arenas); `trim_threshold`: free memory at an arena's top returned above this.
    None leaves glibc's default."""

    arena_max: int | None = 2
    mmap_threshold: int | None = 256 * 1024
    trim_threshold: int | None = 1024 * 1024


DEFAULT_SETTINGS = AllocatorSettings()


@lru_cache(maxsize=1)
def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.gnu_get_libc_version  # only glibc has it (musl, bionic: no)
        libc.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    except (OSError, AttributeError):
        return None
    return libc


def allocator_environment(settings: AllocatorSettings = DEFAULT_SETTINGS) -> dict[str, str]:
    """The same settings as glibc's environment variables, read when a new process starts (the recognizer
    child is spawned, not forked, so mallopt in the parent does not reach it)."""
    names = (("MALLOC_ARENA_MAX", settings.arena_max), ("MALLOC_MMAP_THRESHOLD_", settings.mmap_threshold),
             ("MALLOC_TRIM_THRESHOLD_", settings.trim_threshold))
    return {name: str(value) for name, value in names if value is not None}


def tune_allocator(settings: AllocatorSettings = DEFAULT_SETTINGS) -> bool:
    """Apply `settings` to this process's malloc, and to the processes it starts (unless the user set those
    variables); True when glibc took every one. Call it first thing, before onnxruntime, PortAudio or the
    tokenizer start threads (arenas made before stay). Safe to call again."""
    libc = _glibc()
    if libc is None:
        return False
    for name, value in allocator_environment(settings).items():
        os.environ.setdefault(name, value)
    wanted = ((_M_ARENA_MAX, settings.arena_max), (_M_MMAP_THRESHOLD, settings.mmap_threshold),
              (_M_TRIM_THRESHOLD, settings.trim_threshold))
    taken = [libc.mallopt(parameter, value) == 1 for parameter, value in wanted if value is not None]
    log.debug("malloc settings %s: %s", settings, "applied" if all(taken) else "partly refused")
    return all(taken)

