"""The capture-path echo canceller on files: a room built from real speech (LibriVox read speech as the
coach, a real person's "stop" from Speech Commands on top), run through the live loop's own stage
(PlaybackHistory → FarEnd → delay estimate → WebRTC AEC3); the far end's alignment; the choice of
--echo-cancel, and the fallback when pywebrtc-audio is missing."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from voicecoach.audio.echo_canceller import FarEnd, choose_echo_canceller
from voicecoach.audio.wavfile import read_wav
from voicecoach.settings.keys import BadValue, find_key, parse_text
from voicecoach.voice.reference import PlaybackHistory

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox")
PEOPLE = Path("/work/shared/peer-data/speech-commands")


def _real_speech() -> np.ndarray:
    clips = sorted(LIBRIVOX.glob("*.wav"))
    if not clips:
        pytest.skip("pocketsphinx-testdata (real read speech) is not installed")
    return np.concatenate([read_wav(path) for path in clips])[: 12 * 16000]


def _person_saying(word: str) -> np.ndarray:
    clips = sorted((PEOPLE / word).glob("*.wav"))
    if not clips:
        pytest.skip(f"no recordings of {word!r} in {PEOPLE}")
    return read_wav(clips[0])


@pytest.mark.parametrize("delay_ms, clip", [(60, None), (150, None), (60, 0.35)])
def test_the_canceller_removes_the_coachs_echo_and_keeps_the_persons_word(delay_ms, clip) -> None:
    pytest.importorskip("pywebrtc_audio")
    from voicecoach.testing.echo_room import Room, echo_removed_db, make_scene, run_capture_path, word_kept_db
    from voicecoach.audio.echo_canceller import WebRtcEchoCanceller

    scene = make_scene(_real_speech(), _person_saying("stop"), Room(delay_ms, 250, clip=clip), echo_db=0.0,
                       word_at_s=8.0)
    result = run_capture_path(scene, WebRtcEchoCanceller())
    removed = echo_removed_db(scene, result.out, after_s=4.0)
    kept = word_kept_db(scene, result.out)
    assert removed >= 25.0, f"only {removed:.1f} dB of echo removed"
    assert kept >= -10.0, f"the person's word lost {-kept:.1f} dB"
    assert result.stage.delay_ms is not None and abs(result.stage.delay_ms - delay_ms) <= 5
    assert result.stage.stats.cpu_share < 0.10  # of one core, far-end reading and delay estimate included


@pytest.mark.parametrize("rate", [22050, 48000, 16000])
def test_the_far_end_is_read_at_the_time_each_frame_was_captured(rate) -> None:
    history = PlaybackHistory(rate, keep_seconds=60)
    played = np.zeros(rate * 3, np.int16)
    played[rate] = played[2 * rate] = 20000  # clicks due at 1 s and 2 s
    block = rate // 200
    clock = 100.0
    for start in range(0, len(played), block):
        history.add(clock + start / rate, played[start:start + block])
    far = FarEnd(history)
    stream = np.concatenate([far.read(clock + index * 0.03, 480) for index in range(90)])
    loud = np.flatnonzero(np.abs(stream) > np.abs(stream).max() / 2)
    assert abs(loud[0] / 16 - 1000) <= 1 and abs(loud[-1] / 16 - 2000) <= 1  # milliseconds
    assert far.resyncs == 0


def test_off_means_no_canceller_and_says_so() -> None:
    choice = choose_echo_canceller("off")
    assert not choice.available and "off" in choice.describe()


def test_auto_uses_webrtc_when_installed() -> None:
    pytest.importorskip("pywebrtc_audio")
    choice = choose_echo_canceller("auto")
    assert choice.available and "WebRTC AEC3" in choice.describe()


def test_a_missing_pywebrtc_audio_falls_back_with_one_line() -> None:
    """Simulates a machine without pywebrtc-audio: an import hook in a fresh interpreter makes its import
    fail, then the live loop's wiring is asked for a canceller in each mode."""
    script = textwrap.dedent("""
        import sys, io, contextlib
        class Missing:
            def find_spec(self, name, path=None, target=None):
                if name == "pywebrtc_audio" or name.startswith("pywebrtc_audio."):
                    raise ModuleNotFoundError("No module named 'pywebrtc_audio'")
                return None
        sys.meta_path.insert(0, Missing())
        from voicecoach.live import _with_echo_canceller
        for mode in ("auto", "on"):
            err = io.StringIO()
            source = object()
            with contextlib.redirect_stderr(err):
                wrapped, stage = _with_echo_canceller(source, history=object(), mode=mode)
            assert wrapped is source and stage is None
            print(mode, repr(err.getvalue()))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    for line in lines:
        notice = line.split(" ", 1)[1]
        assert notice.count("\\n") == 1, notice  # one line
        assert "unavailable" in notice and "pip install pywebrtc-audio" in notice
    assert "asked for but unavailable" in lines[1]


def test_the_echo_cancel_setting_takes_auto_on_or_off() -> None:
    key = find_key("echo-cancel")
    assert key is not None and key.dest == "echo_cancel"
    assert [parse_text(key, value) for value in ("auto", "ON", "off")] == ["auto", "on", "off"]
    with pytest.raises(BadValue, match="auto"):
        parse_text(key, "sometimes")


def test_the_canceller_counts_as_settled_once_it_measured_the_echo_or_heard_none_for_a_while() -> None:
    """While it has not settled, the live loop takes only pause, stop and safety from what it hears over the
    coach's voice (session.ignored_while_speaking): its own voice, not yet cancelled, once read as a command."""
    pytest.importorskip("pywebrtc_audio")
    from voicecoach.testing.echo_room import Room, history_of, make_scene, run_capture_path
    from voicecoach.audio.echo_canceller import SETTLE_S, CaptureEchoCanceller, WebRtcEchoCanceller

    speech = _real_speech()
    with_echo = run_capture_path(make_scene(speech[: 5 * 16000], None, Room(60, 250), echo_db=0.0, word_at_s=0.0),
                                 WebRtcEchoCanceller())
    assert with_echo.stage.delay_ms is not None and with_echo.stage.settled  # a loudspeaker: measured within 5 s

    # Headphones: the coach plays, the microphone hears only the room's hiss, nothing to measure.
    history = history_of(speech, 1000.0)
    stage = CaptureEchoCanceller(WebRtcEchoCanceller(), history)
    hiss = np.random.default_rng(3).normal(0, 30, len(speech)).astype(np.int16)
    settled_at = None
    for start in range(0, len(hiss), 480):
        stage.process(hiss[start:start + 480], 1000.0 + start / 16000)
        if settled_at is None and stage.settled:
            settled_at = stage.stats.far_active_s
    assert stage.delay_ms is None
    assert settled_at is not None and SETTLE_S <= settled_at < SETTLE_S + 0.1
