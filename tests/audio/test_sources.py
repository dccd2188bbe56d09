"""WAV sources of any format, endpointing on real files, and the microphone through PulseAudio."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from voicecoach.audio.endpoint import EndpointSettings, find_utterances
from voicecoach.audio.frames import FRAME_SAMPLES, SAMPLE_RATE, split_frames
from voicecoach.audio.wavfile import WavSource, read_wav, read_wav_info, write_wav
from voicecoach.errors import VoicecoachError


def _convert(src: Path, dst: Path, *sox_args: str) -> Path:
    subprocess.run(["sox", str(src), *sox_args, str(dst)], check=True, capture_output=True)
    return dst


@pytest.mark.parametrize("bits,rate,channels", [(8, 44100, 2), (16, 48000, 2), (24, 44100, 2), (24, 48000, 1),
                                                (16, 16000, 1), (32, 22050, 1)])
def test_wav_of_any_width_rate_and_channels_becomes_16k_mono_with_same_sound(synth, tmp_path, bits, rate, channels):
    reference = read_wav(synth("next step"))
    converted = _convert(synth("next step"), tmp_path / "in.wav", "-b", str(bits), "-r", str(rate), "-c", str(channels))
    info = read_wav_info(converted)
    assert (info.bits, info.rate, info.channels) == (bits, rate, channels)
    samples = read_wav(converted)
    assert samples.dtype == np.int16
    assert abs(len(samples) - len(reference)) <= 40  # same duration at 16 kHz
    n = min(len(samples), len(reference))
    correlation = np.corrcoef(samples[:n].astype(float), reference[:n].astype(float))[0, 1]
    assert correlation > (0.9 if bits == 8 else 0.99)


def test_float_wav_is_read(synth, tmp_path):
    converted = _convert(synth("pause"), tmp_path / "f.wav", "-e", "floating-point", "-b", "32", "-r", "48000")
    assert read_wav_info(converted).is_float
    assert np.abs(read_wav(converted)).max() > 1000


def test_not_a_wav_is_a_clear_error(tmp_path):
    bad = tmp_path / "notes.wav"
    bad.write_text("hello")
    with pytest.raises(VoicecoachError, match="not a readable WAV"):
        read_wav(bad)
    with pytest.raises(VoicecoachError, match="no such file"):
        read_wav(tmp_path / "missing.wav")


def test_wav_source_yields_30ms_frames_and_paces_in_real_time(synth):
    source = WavSource(synth("yes"), realtime=True)
    started = time.monotonic()
    frames = list(source.frames())
    elapsed = time.monotonic() - started
    assert all(len(f) == FRAME_SAMPLES for f in frames[:-1])
    duration = sum(len(f) for f in frames) / SAMPLE_RATE
    assert elapsed >= duration - 0.1


def test_endpointing_finds_each_command_in_a_file_with_pauses(synth, tmp_path):
    silence = np.zeros(SAMPLE_RATE, np.int16)
    parts, expected = [silence], []
    for text in ("next step", "go back", "repeat that"):
        speech = read_wav(synth(text))
        start = sum(len(p) for p in parts) / SAMPLE_RATE
        parts += [speech, silence]
        expected.append((start, start + len(speech) / SAMPLE_RATE))
    path = write_wav(tmp_path / "three.wav", np.concatenate(parts))
    found = list(find_utterances(split_frames(read_wav(path))))
    assert len(found) == 3
    settings = EndpointSettings()
    for utterance, (start, end) in zip(found, expected):
        # the cut starts within the pre-roll before the speech and ends within the hangover after it
        assert start - settings.pre_roll_ms / 1000 - 0.05 <= utterance.start <= start + 0.1
        assert end - 0.1 <= utterance.end <= end + settings.hangover_ms / 1000 + 0.1


def test_endpointing_ignores_silence_and_clicks():
    samples = np.zeros(SAMPLE_RATE * 3, np.int16)
    samples[SAMPLE_RATE: SAMPLE_RATE + 40] = 20000  # a 2.5 ms click
    assert list(find_utterances(split_frames(samples))) == []


@pytest.mark.audio
@pytest.mark.slow
def test_microphone_hears_next_step_played_into_the_mic_sink(pulse, synth):
    from voicecoach.audio.endpoint import VadEndpointer
    from voicecoach.audio.microphone import MicrophoneSource
    from voicecoach.guide.library import find_guide
    from voicecoach.speech.pipeline import understand
    from voicecoach.speech.sphinx import PocketSphinxRecognizer
    from voicecoach.understanding.catalog import command_phrases

    guide = find_guide(None)
    recognizer = PocketSphinxRecognizer(command_phrases(guide))
    wav = synth("next step", voice="flite:slt")
    source = MicrophoneSource()  # the default input: mic.monitor of the private daemon
    player = threading.Timer(0.6, pulse.play, args=(wav,))
    player.start()
    endpointer, heard, deadline = VadEndpointer(), [], time.monotonic() + 15
    try:
        for frame in source.frames():
            heard += endpointer.process(frame)
            if heard or time.monotonic() > deadline:
                break
    finally:
        source.close()
        player.join()
    assert heard, "no utterance captured from the microphone"
    transcript = recognizer.recognize(heard[0].samples)
    assert understand(transcript, guide).name == "next"


@pytest.mark.audio
def test_microphone_hands_a_sound_to_the_loop_promptly_and_says_when_it_was_captured(pulse, tmp_path):
    from voicecoach.audio.microphone import MicrophoneSource

    tone = np.zeros(SAMPLE_RATE, np.int16)
    tone[SAMPLE_RATE // 5: SAMPLE_RATE // 5 + 1600] = (8000 * np.sin(np.arange(1600) * 2 * np.pi * 440 / SAMPLE_RATE))
    wav = write_wav(tmp_path / "tone.wav", tone)
    heard_by_mic = pulse.start_recording(tmp_path / "mic.wav", source="mic.monitor")  # what reached the microphone
    source = MicrophoneSource()
    player = threading.Timer(0.6, pulse.play, args=(wav,))
    player.start()
    found, deadline = None, time.monotonic() + 10
    try:
        for frame, captured_at in source.timed_frames():
            loud = np.flatnonzero(np.abs(frame.astype(np.int32)) > 2000)
            if len(loud):
                found = (captured_at + loud[0] / SAMPLE_RATE, time.monotonic(), captured_at + len(frame) / SAMPLE_RATE)
                break
            if time.monotonic() > deadline:
                break
    finally:
        source.close()
        player.join()
        heard_by_mic.stop()
    assert found is not None, "the tone never reached the loop"
    recorded = heard_by_mic.samples()
    onset = heard_by_mic.began + np.flatnonzero(np.abs(recorded.astype(np.int32)) > 2000)[0] / SAMPLE_RATE
    captured, arrived, frame_end = found
    assert abs(captured - onset) < 0.05, (captured - onset)  # the capture clock agrees with the monitor's recording
    # the frame holding it reached the loop soon after its last sample was captured (10 ms capture blocks)
    assert arrived - max(frame_end, onset) < 0.06, (arrived - frame_end, arrived - onset)


@pytest.mark.audio
def test_private_pulse_daemon_gives_portaudio_input_devices(pulse):
    from voicecoach.audio.devices import list_devices
    names = [d.name for d in list_devices() if d.max_input_channels > 0]
    assert names, "PulseAudio should give PortAudio input devices"


@pytest.mark.audio
def test_unknown_input_device_lists_devices_and_suggests_chat(pulse):
    from voicecoach.audio.microphone import MicrophoneSource
    from voicecoach.errors import DeviceError
    with pytest.raises(DeviceError) as caught:
        MicrophoneSource("no-such-microphone")
    assert "input devices:" in caught.value.message and "pulse" in caught.value.message
    assert "voicecoach chat" in caught.value.hint


def test_no_audio_server_means_no_input_device_and_a_clear_message(tmp_path):
    script = (
        "from voicecoach.audio.microphone import MicrophoneSource\n"
        "from voicecoach.errors import DeviceError\n"
        "try:\n    MicrophoneSource()\n"
        "except DeviceError as e:\n    print(e.message)\n    print(e.hint)\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_RUNTIME_DIR": str(tmp_path),
           "PULSE_SERVER": f"unix:{tmp_path}/none", "ALSA_CONFIG_PATH": "/usr/share/alsa/alsa.conf"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "no microphone" in done.stdout or "cannot open input device" in done.stdout
    assert "voicecoach chat" in done.stdout
    assert "Traceback" not in done.stderr
