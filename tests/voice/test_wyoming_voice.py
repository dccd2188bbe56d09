"""The Wyoming voice against a real wyoming-piper server on 127.0.0.1 (started here, on the verified
en_US-joe-medium files), a whole session recognised and spoken over Wyoming, and the voice's faults: the
server killed and restarted, a server that never answers, audio that makes no sense."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from voicecoach.testing.wyoming_servers import FakeServer, WyomingServer, missing_servers
from voicecoach.audio.wavfile import read_wav, write_wav
from voicecoach.speech.wyoming_link import WyomingError, parse_address
from voicecoach.voice.clip import AudioClip
from voicecoach.voice.engines import choose_synthesizer, engine_for
from voicecoach.voice.synthesizer import VoiceSettings
from voicecoach.voice.wyoming_voice import WyomingSynthesizer, clip_from_audio

pytestmark = pytest.mark.skipif(missing_servers() is not None, reason=str(missing_servers()))
REPO = Path(__file__).resolve().parents[2]
SMALL_GUIDE = REPO / "tests" / "guide" / "data" / "minimal.yaml"
SENTENCE = "Step two. Listen to what your partner says, without interrupting."


def _voiced(clip: AudioClip) -> float:
    """Seconds of the clip louder than a whisper."""
    frames = clip.samples[: len(clip.samples) // 256 * 256].reshape(-1, 256).astype(np.float32)
    return float(np.sum(np.sqrt(np.mean(frames ** 2, axis=1)) > 500) * 256 / clip.sample_rate)


def test_a_wyoming_voice_value_picks_the_wyoming_engine():
    assert engine_for("wyoming://192.168.1.5:10200/en_US-joe-medium") == "wyoming"
    assert parse_address("wyoming://192.168.1.5:10200/en_US-joe-medium").name == "en_US-joe-medium"
    assert engine_for("piper") == "piper"


def test_audio_in_a_format_that_makes_no_sense_is_refused():
    stereo = np.array([[100, 300], [-100, -300]], "<i2").tobytes()
    assert list(clip_from_audio(16000, 2, 2, stereo).samples) == [200, -200]
    for rate, width, channels in ((0, 2, 1), (22050, 3, 1), (22050, 2, 0), ("22050", 2, 1)):
        with pytest.raises(WyomingError):
            clip_from_audio(rate, width, channels, b"\0\0")  # type: ignore[arg-type]


@pytest.mark.slow
def test_the_voice_speaks_over_wyoming_then_locally_then_over_wyoming_again(tmp_path):
    """The server is killed between two sentences: the next is spoken by the local voice with one
    notice, and within 10 s of the server coming back the voice is the server's again."""
    server = WyomingServer("tts", log_dir=tmp_path).start()
    notices: list[str] = []
    try:
        voice = choose_synthesizer(VoiceSettings(f"{server.uri}/en_US-joe-medium"), notice=notices.append)
        assert isinstance(voice, WyomingSynthesizer) and voice.failover.server_up
        assert notices == [f"voice: wyoming at 127.0.0.1:{server.port}, voice en_US-joe-medium "
                           "(the coach's text is sent there)"]
        assert "en_US-joe-medium" in {v.id for v in voice.voices()}
        clip = voice.synthesize(SENTENCE)
        assert clip.sample_rate == 22050 and _voiced(clip) > 1.5 and voice.served_by_server == 1
        server.stop()
        started = time.monotonic()
        clip = voice.synthesize(SENTENCE)
        assert _voiced(clip) > 1.5 and voice.served_locally == 1
        assert time.monotonic() - started < 5.0
        assert len(notices) == 2 and "connection refused" in notices[1], notices
        server.start()
        back = time.monotonic()
        while voice.served_by_server < 2 and time.monotonic() - back < 10.0:
            assert _voiced(voice.synthesize("Next step.")) > 0.3
            time.sleep(0.5)
        assert voice.served_by_server >= 2, notices
        assert "answers again" in notices[-1]
    finally:
        server.stop()


@pytest.mark.slow
def test_a_voice_server_that_never_answers_costs_only_its_timeout():
    fake = FakeServer("silent")
    notices: list[str] = []
    try:
        voice = WyomingSynthesizer(parse_address(fake.uri), VoiceSettings(None),
                                   local=lambda: choose_synthesizer(VoiceSettings("espeak")),
                                   notice=notices.append, request_seconds=1.0, warm_up=False)
        assert voice.failover.server_up
        started = time.monotonic()
        clip = voice.synthesize("Welcome back.")
        assert time.monotonic() - started < 1.0 + 0.03 * 20 + 3.0
        assert _voiced(clip) > 0.3 and voice.served_locally == 1
        assert len(notices) == 1 and "no answer within" in notices[0], notices
        voice.close()
    finally:
        fake.close()


@pytest.mark.slow
def test_a_whole_session_is_heard_and_spoken_over_wyoming(tmp_path, synth):
    """`voicecoach run` on a recording with both engines on Wyoming servers: commands understood, the
    guide spoken by the server's voice into the WAV, and the startup lines say where audio goes."""
    asr = WyomingServer("asr", log_dir=tmp_path).start()
    tts = WyomingServer("tts", log_dir=tmp_path).start()
    try:
        silence = np.zeros(16000, np.int16)
        parts = [silence]
        for line in ("next step", "go back", "goodbye"):
            parts += [read_wav(synth(line, "flite:slt")), silence, silence]
        recording = write_wav(tmp_path / "session.wav", np.concatenate(parts))
        env = {**os.environ, "VOICECOACH_STATE_DIR": str(tmp_path / "state"), "PULSE_SERVER": "unix:/nonexistent"}
        result = subprocess.run([sys.executable, "-m", "voicecoach", "run", "--guide", str(SMALL_GUIDE), "--input",
                                 str(recording), "--fresh", "--engine", asr.uri, "--voice", tts.uri,
                                 "--wav-out", str(tmp_path / "coach.wav")],
                                capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert f"recognizer: wyoming at 127.0.0.1:{asr.port} (audio is sent there)" in result.stderr
        assert f"voice: wyoming at 127.0.0.1:{tts.port} (the coach's text is sent there)" in result.stderr
        assert "failed" not in result.stderr, result.stderr
        assert "→ next" in result.stdout and "→ previous" in result.stdout, result.stdout
        spoken = read_wav(tmp_path / "coach.wav")
        assert len(spoken) > 16000 * 3
        replies = result.stdout.count("coach>")
        assert tts.requests_logged("synthesize: raw_text=") >= replies + 1  # the warm-up, then every reply
    finally:
        asr.stop()
        tts.stop()
