"""The Wyoming recognizer against a real wyoming-faster-whisper server on 127.0.0.1 (started here, on the
verified tiny.en folder), and its faults: refused, silent, nonsense, hanging up mid-utterance, killed
mid-session and restarted. The local engine (`auto`) handles what the server cannot, and nothing hangs."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from voicecoach.testing.wyoming_servers import FakeServer, WyomingServer, free_port, missing_servers
from voicecoach.audio.wavfile import read_wav
from voicecoach.errors import ModelError
from voicecoach.guide.library import find_guide
from voicecoach.speech import engine
from voicecoach.speech.pipeline import recognize_file, understand
from voicecoach.understanding.catalog import command_phrases

pytestmark = pytest.mark.skipif(missing_servers() is not None, reason=str(missing_servers()))
SPEECH_COMMANDS = Path("/work/shared/peer-data/speech-commands")
# commands both synthetic voices say clearly enough for a free-decoding server Whisper ("pause" in flite's
# voice comes back "pass": the server has no forced check of near misses, the local engine does)
COMMANDS = (("next step", "next"), ("go back", "previous"), ("repeat that", "repeat"), ("where am i", "where_am_i"),
            ("tell me more", "more"), ("go to step three", "goto_step"))


@pytest.fixture(scope="module")
def guide():
    return find_guide(None)


@pytest.fixture(scope="module")
def asr_server():
    server = WyomingServer("asr").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def remote(asr_server, guide):
    notices: list[str] = []
    recognizer = engine.build_recognizer(command_phrases(guide), asr_server.uri, notice=notices.append)
    recognizer.notices = notices  # type: ignore[attr-defined]
    yield recognizer
    recognizer.close()


def _intent(recognizer, wav: Path, guide) -> tuple[str, str]:
    transcript = recognizer.recognize(read_wav(wav))
    return understand(transcript, guide).name, transcript.engine


def test_the_engine_setting_takes_a_wyoming_address_and_nothing_else():
    assert engine.check_engine("wyoming://192.168.1.5:10300") == "wyoming://192.168.1.5:10300"
    assert engine.check_engine("WHISPER") == "whisper"
    choice = engine.choose_engine("wyoming://192.168.1.5:10300")  # no socket: choosing asks nobody
    assert choice.describe() == "recognizer: wyoming at 192.168.1.5:10300 (audio is sent there)"
    for bad in ("wyoming://host", "wyoming://:10300", "wyoming://h:10300/voice", "wyomin://h:1", "tcp://h:1"):
        with pytest.raises(ModelError):
            engine.check_engine(bad)


@pytest.mark.slow
def test_commands_are_recognised_over_wyoming(remote, guide, synth, asr_server):
    assert remote.notices == [f"recognizer: wyoming at 127.0.0.1:{asr_server.port} (audio is sent there)"]
    for text, intent in COMMANDS:
        for voice in ("espeak-ng:en-us", "flite:slt"):
            heard = recognize_file(synth(text, voice), remote, guide)
            assert heard.intent == intent, (text, voice, heard)
    assert remote.served_by_server == 2 * len(COMMANDS) and remote.served_locally == 0


@pytest.mark.slow
@pytest.mark.skipif(not SPEECH_COMMANDS.is_dir(), reason="real-voice clips not present")
def test_real_people_saying_yes_and_stop_are_understood_over_wyoming(remote, guide):
    right = total = 0
    for label, wanted in (("yes", {"yes"}), ("stop", {"pause", "stop"})):
        for clip in sorted((SPEECH_COMMANDS / label).glob("*.wav"))[:6]:
            total += 1
            right += recognize_file(clip, remote, guide).intent in wanted
    assert right >= 0.75 * total, (right, total)
    assert remote.served_locally == 0


def test_silence_and_clicks_are_not_sent_as_commands(remote, guide):
    import numpy as np

    assert remote.recognize(np.zeros(1600, np.int16)).text == ""  # 0.1 s: never sent
    assert understand(remote.recognize(np.zeros(16000, np.int16)), guide).name == "none"


@pytest.mark.slow
def test_a_refused_connection_falls_back_to_the_local_engine_with_one_notice(guide, synth):
    notices: list[str] = []
    port = free_port()  # nothing listens there
    recognizer = engine.build_recognizer(command_phrases(guide), f"wyoming://127.0.0.1:{port}",
                                         notice=notices.append)
    try:
        for text, intent in COMMANDS[:3]:
            assert _intent(recognizer, synth(text), guide) == (intent, "whisper")
        assert len(notices) == 2, notices  # where audio would go; then the fault, once
        assert "connection refused" in notices[1] and "local whisper engine" in notices[1] or \
            "local engine" in notices[1]
    finally:
        recognizer.close()


@pytest.mark.slow
@pytest.mark.parametrize("mode, reason", [("silent", "no answer within"),
                                          ("nonsense", "not a Wyoming event"),
                                          ("hang-up", "closed the connection|dropped"),
                                          ("trickle", "no answer within")])
def test_a_misbehaving_server_costs_at_most_its_timeout(guide, synth, mode, reason):
    """A server that answers Describe but, asked to transcribe, stays silent, answers nonsense, hangs up
    mid-utterance or trickles a byte at a time: the utterance is decoded locally after at most the
    request's deadline, said once; the next one goes straight to the local engine (the background probe
    makes real requests, so a server that only answers Describe is not taken back)."""
    from voicecoach.speech.whisper_engine import WhisperRecognizer
    from voicecoach.speech.wyoming_engine import WyomingRecognizer
    from voicecoach.speech.wyoming_link import parse_address

    fake = FakeServer(mode)
    notices: list[str] = []
    local = WhisperRecognizer(engine.whisper_model_folder(), command_phrases(guide))
    recognizer = WyomingRecognizer(parse_address(fake.uri), command_phrases(guide), lambda: local,
                                   notice=notices.append, request_seconds=1.5, retry_seconds=1.0)
    try:
        assert recognizer.failover.server_up and notices == []  # it looked healthy at startup
        started = time.monotonic()
        assert _intent(recognizer, synth("next step"), guide) == ("next", "whisper")
        took = time.monotonic() - started
        assert took < 1.5 + 0.5 * 2 + 3.0, took  # the deadline, then a local decode (a loaded machine)
        assert len(notices) == 1 and re.search(reason, notices[0]), notices
        time.sleep(1.2)  # a probe has run (and failed) meanwhile
        for text, intent in COMMANDS[1:3]:
            started = time.monotonic()
            assert _intent(recognizer, synth(text), guide) == (intent, "whisper")
            assert time.monotonic() - started < 3.0
        assert recognizer.served_by_server == 0 and len(notices) == 1, notices
        assert fake.requests >= 2  # the utterance and at least one probe
    finally:
        recognizer.close()
        fake.close()


@pytest.mark.slow
def test_server_killed_mid_session_then_back_within_ten_seconds(guide, synth, tmp_path):
    """The live loop's recognizer (a child process): the server dies between two commands; the next
    command is still understood (locally), and once the server is back the session uses it again
    within 10 s. The notices reach the parent."""
    from voicecoach.speech.worker import RecognizerProcess

    server = WyomingServer("asr", log_dir=tmp_path).start()
    notices: list[str] = []
    samples = {text: read_wav(synth(text)) for text, _ in COMMANDS}
    try:
        with RecognizerProcess(command_phrases(guide), server.uri, notice=notices.append) as recognizer:
            first = recognizer.recognize(samples["next step"])
            assert (first.text, first.engine) == ("next step", "wyoming")
            server.stop()
            second = recognizer.recognize(samples["go back"])
            assert understand(second, guide).name == "previous" and second.engine == "whisper"
            assert any("failed" in n for n in notices), notices
            server.start(wait=False)
            ready = server.wait_ready()
            back_at = time.monotonic()
            engine_seen = ""
            while time.monotonic() - back_at < 10.0:
                heard = recognizer.recognize(samples["repeat that"])
                assert understand(heard, guide).name == "repeat"  # every command handled meanwhile
                engine_seen = heard.engine
                if engine_seen == "wyoming":
                    break
                time.sleep(0.5)
            assert engine_seen == "wyoming", (ready, notices)
            assert any("answers again" in n for n in notices), notices
    finally:
        server.stop()
