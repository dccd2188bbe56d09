"""While the meaning layers are being built in the background (a first run, or examples changed by an update:
about a minute from a cold cache), everything else answers by the words alone and never waits for them; once
built, the layers answer again. The build here is held open on purpose, to look inside that minute."""

from __future__ import annotations

import threading
import time

from voicecoach.guide.library import find_guide
from voicecoach.understanding import semantic, semantic_commands, semantic_safety
from voicecoach.understanding.answers import answer_question
from voicecoach.understanding.matcher import match_intent


def test_the_words_answer_while_the_layers_are_built_and_the_layers_after() -> None:
    guide = find_guide(None)
    release, started = threading.Event(), threading.Event()

    def slow_build() -> None:
        started.set()
        release.wait(30)

    builder = semantic.build_in_background(slow_build)
    try:
        assert started.wait(5) and semantic.standing_aside()
        assert semantic_commands.ready_layer() is None and semantic_safety.ready_layer() is None
        began = time.perf_counter()
        assert match_intent("next step", guide).name == "next"  # the words alone
        assert match_intent("i want to kill myself", guide).name == "safety"  # the patterns need no layer
        answer_question(guide, "how do i stop keeping score of every little thing", None)
        assert time.perf_counter() - began < 2.0  # nothing waited for a layer
    finally:
        release.set()
        builder.join(10)
    assert not semantic.standing_aside()
    if semantic.available():
        assert semantic_commands.ready_layer() is not None and semantic_safety.ready_layer() is not None


def test_a_session_ending_stops_the_build_at_its_next_batch(tmp_path, monkeypatch) -> None:
    # A thread left inside onnxruntime when the interpreter ends aborts the process: the session stops the
    # build and waits for it before it exits.
    if not semantic.available():
        return
    monkeypatch.setenv("VOICECOACH_CACHE_DIR", str(tmp_path / "cold"))  # nothing encoded yet
    texts = [f"an example sentence number {n} about listening and trust" for n in range(4000)]
    builder = semantic.build_in_background(lambda: semantic.example_vectors("cancel-test", texts))
    time.sleep(0.5)
    assert builder.is_alive()
    began = time.perf_counter()
    semantic.stop_building()
    assert not builder.is_alive()
    assert time.perf_counter() - began < 3.0
    assert not list((tmp_path / "cold").glob("cancel-test-*.npy"))  # nothing half-made was kept


def _niceness_of_threads() -> dict[int, int]:
    """Each thread of this process (Linux) and its niceness (field 19 of /proc/self/task/N/stat)."""
    from pathlib import Path

    found = {}
    for stat in Path("/proc/self/task").glob("*/stat"):
        try:
            found[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[16])
        except (OSError, ValueError, IndexError):  # a thread that ended while being read
            continue
    return found


def test_the_background_build_leaves_no_worker_thread_at_its_low_priority() -> None:
    """Threads inherit the niceness of the thread that creates them: an encoder first loaded by the niced build
    thread gave onnxruntime's worker threads, which serve every later utterance, the build's low priority."""
    import pytest
    from pathlib import Path

    if not Path("/proc/self/task").is_dir() or not semantic.available():
        pytest.skip("needs Linux's /proc and the sentence encoder")
    semantic._encoder.cache_clear()  # loaded again, now by the build thread
    inside: dict[int, int] = {}

    def build() -> None:
        semantic.encode("how do i listen better")
        inside.update(_niceness_of_threads())
        inside["me"] = threading.get_native_id()

    builder = semantic.build_in_background(build)
    builder.join(60)
    me = inside.pop("me")
    assert inside[me] > 0  # the build itself yields the CPU (where the system allows it)
    assert all(niceness == 0 for thread, niceness in inside.items() if thread != me), inside
