"""Fixtures for the voice tests: a pocketsphinx decoder that checks synthesized audio says the right words."""

from __future__ import annotations

import pytest

from voicecoach.voice.clip import AudioClip

from voice_signals import COMMANDS


@pytest.fixture(scope="session")
def recognize():
    """recognize(clip) -> the command (from COMMANDS) pocketsphinx hears in it, via a JSGF grammar."""
    pocketsphinx = pytest.importorskip("pocketsphinx")
    grammar = "#JSGF V1.0;\ngrammar commands;\npublic <command> = " + " | ".join(COMMANDS) + ";\n"

    def run(clip: AudioClip) -> str:
        decoder = pocketsphinx.Decoder(samprate=16000, loglevel="FATAL")  # fresh: no state between clips
        decoder.add_jsgf_string("commands", grammar)
        decoder.activate_search("commands")
        pcm = clip.resampled(16000).samples.astype("<i2").tobytes()
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        hyp = decoder.hyp()
        return hyp.hypstr if hyp else ""

    return run
