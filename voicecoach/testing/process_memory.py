"""A process's memory read from /proc, for tests and benchmarks: RSS, PSS and USS (smaps_rollup), glibc's
arena heaps (maps) and its thread count (status). Linux only."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

HEAP_MAX = 64 * 1024 * 1024  # a glibc non-main arena's heap reservation on 64-bit


@dataclass
class Sample:
    """Memory of one process at one moment, in MiB, with its arena and thread counts."""

    stage: str
    rss: float
    pss: float
    uss: float
    anon: float
    arenas: int
    threads: int


def sample(stage: str, pid: int | str = "self") -> Sample:
    """Process `pid`'s memory now, labelled `stage`."""
    rollup = kib_fields(f"/proc/{pid}/smaps_rollup")
    status = Path(f"/proc/{pid}/status").read_text()
    threads = int(next(line.split()[1] for line in status.splitlines() if line.startswith("Threads:")))
    uss = rollup.get("Private_Clean", 0) + rollup.get("Private_Dirty", 0)
    return Sample(stage, rollup["Rss"] / 1024, rollup["Pss"] / 1024, uss / 1024, rollup.get("Anonymous", 0) / 1024,
                  count_arenas(pid), threads)


def kib_fields(path: str) -> dict[str, int]:
    """The "name: value kB" lines of a /proc file (smaps_rollup, status), in KiB by name."""
    fields: dict[str, int] = {}
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == "kB":
            fields[parts[0].rstrip(":")] = int(parts[1])
    return fields


def count_arenas(pid: int | str = "self") -> int:
    """glibc's non-main arena heaps (one an arena, more when it outgrows 64 MiB): anonymous 64 MiB-aligned
    reservations (a read-write part, then an inaccessible part). The main arena (brk heap) is not counted."""
    regions = []
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        parts = line.split()
        start, end = (int(x, 16) for x in parts[0].split("-"))
        regions.append((start, end, parts[1], len(parts) > 5))
    count = 0
    for start, end, perms, named in regions:
        if not named and start % HEAP_MAX == 0 and perms.startswith("rw"):
            reserved = next((e for s, e, p, n in regions if s == end and not n and p.startswith("---")), end)
            count += reserved - start == HEAP_MAX or end - start == HEAP_MAX
    return count
