"""The allocator settings made at start-up: safe to repeat, and on glibc they hold the arena count down however
many threads allocate, and large freed blocks go back to the system."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from voicecoach.memory import _glibc, allocator_environment, tune_allocator

glibc_only = pytest.mark.skipif(_glibc() is None, reason="the settings are glibc's; elsewhere they do nothing")


def test_tuning_twice_is_harmless_and_says_whether_it_took(monkeypatch):
    for name in allocator_environment():  # what it exports is put back after the test
        monkeypatch.delenv(name, raising=False)
    first = tune_allocator()
    assert tune_allocator() == first
    assert first == (_glibc() is not None)


def _run(code: str) -> str:
    environment = {k: v for k, v in os.environ.items() if k not in allocator_environment()}  # glibc's defaults
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                            timeout=120, env=environment)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


THREADS_ALLOCATING = """
    import sys, threading
    from pathlib import Path
    sys.path.insert(0, {repo!r})
    from voicecoach.memory import tune_allocator
    {tune}
    from voicecoach.testing.process_memory import count_arenas

    def allocate():
        keep = [bytearray(2000) for _ in range(2000)]  # 4 MB in small blocks: from the thread's arena
        barrier.wait()

    barrier = threading.Barrier(8)
    threads = [threading.Thread(target=allocate) for _ in range(8)]
    for t in threads: t.start()
    for t in threads: t.join()
    print(count_arenas())
"""


@glibc_only
def test_eight_threads_allocating_share_one_extra_arena():
    from pathlib import Path

    repo = str(Path(__file__).resolve().parents[1])
    untuned = int(_run(THREADS_ALLOCATING.format(repo=repo, tune="")))
    tuned = int(_run(THREADS_ALLOCATING.format(repo=repo, tune="tune_allocator()")))
    assert tuned <= 1 < untuned  # arena_max=2: the main arena and one more


@glibc_only
def test_a_large_freed_block_goes_back_to_the_system():
    code = """
        import sys
        sys.path.insert(0, {repo!r})
        from voicecoach.memory import tune_allocator
        {tune}
        import numpy as np
        from voicecoach.testing.process_memory import sample
        block = np.ones(30 * 2**20 // 8)  # glibc alone raises its mmap threshold to a large block freed
        del block
        sentences = [np.ones(2**20 // 8) for _ in range(40)]  # 40 MB in 1 MB blocks (a sentence's audio), freed
        before = sample("").rss
        del sentences
        print(before - sample("").rss)
    """
    from pathlib import Path

    repo = str(Path(__file__).resolve().parents[1])
    untuned = float(_run(code.format(repo=repo, tune="")))
    tuned = float(_run(code.format(repo=repo, tune="tune_allocator()")))
    assert tuned > 35 and untuned < 10, (tuned, untuned)


@glibc_only
def test_processes_started_later_get_the_same_settings_through_the_environment():
    # the recognizer child is spawned, so mallopt in this process does not reach it; glibc reads these at start
    code = """
        import os, sys
        sys.path.insert(0, {repo!r})
        from voicecoach.memory import tune_allocator
        tune_allocator()
        print(os.environ["MALLOC_ARENA_MAX"], os.environ["MALLOC_MMAP_THRESHOLD_"], os.environ.get("MALLOC_TRIM_THRESHOLD_"))
    """
    from pathlib import Path

    assert _run(code.format(repo=str(Path(__file__).resolve().parents[1]))) == "2 262144 1048576"
