"""RecognizerProcess: the real PocketSphinx recognizer decoding in a child process."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

from voicecoach.audio.wavfile import read_wav
from voicecoach.errors import ModelError
from voicecoach.guide.library import find_guide
from voicecoach.speech.sphinx import PocketSphinxRecognizer
from voicecoach.speech.worker import RecognizerProcess
from voicecoach.understanding.catalog import command_phrases


@pytest.fixture(scope="module")
def phrases() -> list[str]:
    return command_phrases(find_guide("relationship-ten-steps"))


@pytest.fixture(scope="module")
def worker(phrases):
    with RecognizerProcess(phrases, engine="pocketsphinx") as recognizer:
        yield recognizer


def _pid(worker: RecognizerProcess) -> int:
    return worker._process.pid  # type: ignore[union-attr]


def _gone(pid: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                if handle.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True  # exited, waiting for its parent to reap it
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def test_transcripts_match_the_recognizer_run_in_this_process(worker, phrases, synth):
    local = PocketSphinxRecognizer(phrases)
    for text in ("next step", "go back", "explain vulnerability", "what is the weather like"):
        samples = read_wav(synth(text, voice="flite:slt"))
        assert worker.recognize(samples) == local.recognize(samples), text
    assert worker.name == "pocketsphinx"


def test_a_long_decode_leaves_other_threads_running(worker, synth):
    """The reason for the process: an audio callback thread keeps being scheduled during a decode.
    In this process, PocketSphinx holds the interpreter lock for the whole utterance (measured ~0.6 s
    for 3 s of audio)."""
    speech = read_wav(synth("go to the step about therapy and then tell me more about listening",
                            voice="flite:slt"))
    samples = np.concatenate([speech] * 3)
    gaps: list[float] = []
    done = threading.Event()

    def tick() -> None:
        last = time.perf_counter()
        while not done.is_set():
            time.sleep(0.002)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticker = threading.Thread(target=tick)
    ticker.start()
    try:
        started = time.perf_counter()
        worker.recognize(samples)
        decode = time.perf_counter() - started
    finally:
        done.set()
        ticker.join()
    assert decode > 0.2  # a decode long enough to matter
    assert max(gaps) < decode / 2


def test_a_missing_model_is_a_clear_error_and_leaves_no_process():
    before = set(multiprocessing.active_children())
    with pytest.raises(ModelError) as caught:
        RecognizerProcess(["next step"], engine="vosk", model="/nonexistent/model")
    assert "/nonexistent/model" in str(caught.value) and caught.value.hint
    assert set(multiprocessing.active_children()) <= before


def test_a_child_that_dies_is_replaced(phrases, synth):
    samples = read_wav(synth("next step", voice="flite:slt"))
    with RecognizerProcess(phrases, engine="pocketsphinx") as recognizer:
        first = _pid(recognizer)
        os.kill(first, signal.SIGKILL)
        assert _gone(first, 5)
        assert recognizer.recognize(samples).text == ""  # this utterance is lost, not the session
        assert _pid(recognizer) != first
        assert recognizer.recognize(samples).text == "next step"


def test_the_child_ends_when_the_session_is_killed():
    script = textwrap.dedent("""
        import sys, time
        from voicecoach.speech.worker import RecognizerProcess
        worker = RecognizerProcess(["next step", "go back"], engine="pocketsphinx")
        print(worker._process.pid, flush=True)
        time.sleep(60)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())
        parent.kill()
        parent.wait(5)
        assert _gone(child, 10)
    finally:
        parent.kill()
