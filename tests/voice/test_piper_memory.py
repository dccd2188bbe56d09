"""Piper in a process whose allocator was set as `voicecoach` sets it at start-up: it still speaks, long
sentences included, and the memory a long sentence needed is given back once it is made."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from voicecoach.memory import _glibc

REPO = Path(__file__).resolve().parents[2]
LONG = ("When a conversation gets hard and you notice your breathing speed up and your shoulders tighten, slow "
        "down before you answer, say what you heard in your own words, and ask whether you understood it "
        "correctly, because the relationship matters more to you than winning the argument tonight.")

SPEAK = """
    import json, sys
    sys.path.insert(0, {repo!r})
    from voicecoach.memory import tune_allocator
    {tune}
    from voicecoach.testing.process_memory import sample
    from voicecoach.voice.piper_engine import PiperSynthesizer
    voice = PiperSynthesizer()
    short = voice.synthesize("Find a quiet place where you can talk.")
    before = sample("").rss
    long = [voice.synthesize({long!r}) for _ in range(3)]
    after = sample("").rss
    print(json.dumps({{"short": short.duration, "long": [c.duration for c in long],
                      "loud": max(int(abs(c.samples.astype(int)).max()) for c in long), "kept_mb": after - before}}))
"""


def _speak(tune: str) -> dict:
    code = textwrap.dedent(SPEAK.format(repo=str(REPO), tune=tune, long=LONG))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(_glibc() is None, reason="the allocator settings are glibc's")
def test_piper_speaks_long_sentences_and_gives_their_memory_back_with_the_start_up_settings(voice_source):
    heard = _speak("tune_allocator()")
    assert 2.0 < heard["short"] < 4.5
    assert all(12.0 < seconds < 25.0 for seconds in heard["long"])  # 47 words, about 15 s
    assert heard["loud"] > 10000
    assert heard["kept_mb"] < 40, heard
