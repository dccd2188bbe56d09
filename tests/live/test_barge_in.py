"""Barge-in over a loudspeaker, on real audio devices: the coach's voice looped back into its microphone
(module-loopback, 60 ms), and real people's "stop" (Speech Commands clips) played into the microphone
6 dB above that echo while the coach reads. Before the echo canceller, 1 of 10 such "stop"s paused it;
with it, bench/barge_in.py measured 4 of 12 on files and 1 of 5 live at this level (far from the 85-95% the
issue aims at). This is a check that barge-in over the echo works at all, on a shared and busy CI host:
at least 1 of 6 different speakers."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from tests.live.test_live_audio import SMALL_GUIDE
from voicecoach.testing.live_coach import TURN, LiveCoach

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
PEOPLE = Path("/work/shared/peer-data/speech-commands")
GUIDE = REPO / "content" / "relationship-ten-steps.yaml"  # long paragraphs: the coach is speaking when "stop" comes

pytestmark = [pytest.mark.slow, pytest.mark.audio]


@pytest.fixture
def loopback(pulse):
    module = pulse.run("pactl", "load-module", "module-loopback", "source=spk.monitor", "sink=mic",
                       "latency_msec=60").stdout.strip()
    yield
    pulse.run("pactl", "unload-module", module)


def test_a_real_persons_stop_over_the_looped_back_coach_pauses_it(pulse, loopback, synth, tmp_path) -> None:
    pytest.importorskip("pywebrtc_audio")
    from bench.barge_in import people_clips, scaled_clip, speech_level

    if not (PEOPLE / "stop").exists():
        pytest.skip(f"no recordings of real people in {PEOPLE}")
    env = {**pulse.env, "VOICECOACH_STATE_DIR": str(tmp_path / "state")}
    coach = LiveCoach(env, "--guide", str(GUIDE), "--fresh", "--continuous", "--echo-cancel", "on")
    paused = 0
    heard: list[str] = []
    try:
        assert coach.wait_for(r"^coach> Welcome", 60), coach.close()
        time.sleep(1)
        from voicecoach.audio.wavfile import read_wav

        # what the coach plays reaches the microphone at unity gain: the person is put 6 dB above it
        echo_level = speech_level(read_wav(pulse.record(tmp_path / "coach.wav", 3.0)))
        for index, clip in enumerate(people_clips("stop", 6)):
            person = scaled_clip(clip, echo_level * 2, tmp_path / f"stop-{index}.wav")
            pulse.play(person, wait=True)
            hit = coach.wait_for(r"→ (pause|stop)\b", 10)
            if hit is not None and "(ignored" not in hit[1]:
                paused += 1
                time.sleep(1.5)
                pulse.play(synth("resume", "flite:slt"), wait=True)  # into silence, to read on
                coach.wait_for(r"→ resume", 10)
            time.sleep(3)
        heard = [line for line in coach.drain() if TURN.search(line)]
    finally:
        err = coach.close()
    assert "Traceback" not in err, err
    assert "echo cancellation: on (WebRTC AEC3" in err  # the startup line says it
    assert paused >= 1, f"{paused} of 6 real 'stop's paused the coach: {heard}"
    # Nothing the coach said to itself was taken as a command meanwhile.
    own = [line for line in heard if (m := TURN.search(line)) and m.group("intent") not in ("none", "pause", "stop",
                                                                                        "resume")
           and "(ignored" not in line]
    assert not own, own


def test_the_startup_line_says_when_echo_cancellation_is_off(pulse, tmp_path) -> None:
    env = {**pulse.env, "VOICECOACH_STATE_DIR": str(tmp_path / "state")}
    coach = LiveCoach(env, "--guide", str(SMALL_GUIDE), "--fresh", "--echo-cancel", "off")
    try:
        assert coach.wait_for(r"^coach> Welcome", 60), coach.close()
    finally:
        err = coach.close()
    assert "echo cancellation: off (--echo-cancel off)" in err
