"""Fixtures for the voice tests: a pocketsphinx decoder that checks synthesized audio says the right words, and
the installed Piper voice (skipped, with the reason, when it is not installed)."""

from __future__ import annotations

import pytest

from voicecoach.voice import piper_engine
from voicecoach.voice.clip import AudioClip
from voicecoach.voice.synthesizer import VoiceSettings

from voice_signals import COMMANDS, VOICE


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


def _installed_voice():
    from voicecoach.assets.store import find_asset

    folder = find_asset(VOICE)
    if folder is None or piper_engine.piper_unavailable_reason():
        pytest.skip(f"the Piper voice {VOICE} or piper-tts is not installed (scripts/setup installs both)")
    return folder


@pytest.fixture(scope="module")
def voice_source():
    """The installed voice's verified folder (found before a test narrows where the store looks)."""
    return _installed_voice()


@pytest.fixture(scope="module")
def piper() -> piper_engine.PiperSynthesizer:
    _installed_voice()
    return piper_engine.PiperSynthesizer(VoiceSettings(VOICE))
