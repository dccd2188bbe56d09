"""The doctor's checks that make and hear sound, through the same classes the coach uses: the speaker
plays a phrase; the microphone opens, its noise floor is measured, the user says "testing" and the
recognizer says what it heard; then the speaker talks while the microphone listens, to find the echo's
delay and how much of it the coach's echo filter removes (whether barge-in can work)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from voicecoach.audio.echo import EchoSettings, ReferenceEchoFilter, global_lag, subtract_echo
from voicecoach.audio.endpoint import level_dbfs
from voicecoach.audio.frames import FRAME_SAMPLES, SAMPLE_RATE, Utterance, resample_to_16k
from voicecoach.doctor.report import Check
from voicecoach.errors import DeviceError

OUTPUT_PHRASE = "This is your voice coach."
ECHO_PHRASE = "Checking for echo."
LISTEN_SECONDS = 3.5
FLOOR_SECONDS = 0.6
HEARD_MARGIN_DB = 12.0  # sound this far above the noise floor counts as heard
QUIET_DBFS = -55.0  # and it must be at least this loud
ECHO_TAIL_SECONDS = 0.8  # listening after the speaker stops, for late echo
DEVICE_HINT = "see `voicecoach devices`, then `voicecoach settings set {key} NAME_OR_INDEX`"


@dataclass
class Levels:
    """The microphone's noise floor and loudest 30 ms (dBFS)."""

    floor: float
    peak: float

    def heard(self) -> bool:
        return self.peak >= max(self.floor + HEARD_MARGIN_DB, QUIET_DBFS)


def check_output(device: str | None, synthesizer: object | None) -> tuple[Check, object | None]:
    """Open the speaker the coach would use and play a phrase; returns the speaker for the echo check."""
    from voicecoach.voice.playback import SoundDeviceSpeaker

    if synthesizer is None:
        return Check("output", "skip", "not played: no voice can speak (see voice)"), None
    try:
        speaker = SoundDeviceSpeaker(synthesizer, _device(device))  # type: ignore[arg-type]
    except DeviceError as error:
        return Check("output", "fail", f"no speaker: {error.message}",
                     error.hint or DEVICE_HINT.format(key="output-device"), {"device": device}), None
    speaker.warm_up()
    result = speaker.speak(OUTPUT_PHRASE)
    details = {"device": speaker.device.name, "rate_hz": speaker.sample_rate, "underruns": speaker.underruns,
               "seconds": round(result.ended_at - result.started_at, 2), "completed": result.completed}
    if not result.completed:
        speaker.close()
        return Check("output", "fail", f"playback on {speaker.device.name!r} did not finish",
                     "close other programs using the device, or choose another: "
                     + DEVICE_HINT.format(key="output-device"), details), None
    summary = f"played \"{OUTPUT_PHRASE}\" on {speaker.device.name!r} ({details['seconds']:.1f} s)"
    if speaker.underruns:
        return Check("output", "warn", f"{summary} with {speaker.underruns} gaps (the machine was too busy)",
                     "close busy programs; on a Pi use PocketSphinx and espeak-ng", details), speaker
    return Check("output", "ok", summary, "if you heard nothing, turn the volume up or choose another speaker: "
                 + DEVICE_HINT.format(key="output-device"), details), speaker


def open_microphone(device: str | None) -> tuple[object | None, Check | None]:
    """The coach's microphone source, or a failed check saying why not."""
    from voicecoach.audio.microphone import MicrophoneSource
    try:
        return MicrophoneSource(_device(device)), None
    except DeviceError as error:
        first = error.message.splitlines()[0]
        return None, Check("input", "fail", f"no microphone: {first}",
                           "connect one (or start PulseAudio/PipeWire); " + DEVICE_HINT.format(key="input-device"),
                           {"device": device})


def check_input(mic: object, recognizer: object | None, listen: bool,
                prompt: Callable[[str], None]) -> tuple[Check, float]:
    """Noise floor, then (with `listen`) "testing" said by the user and what the recognizer made of it.
    Returns the check and the noise floor (dBFS) for the echo check."""
    name = mic.device.name  # type: ignore[attr-defined]
    floor_audio = capture(mic, FLOOR_SECONDS)
    floor = _floor(floor_audio)
    details: dict = {"device": name, "rate_hz": mic.rate, "noise_floor_dbfs": round(floor, 1)}  # type: ignore[attr-defined]
    if not listen:
        return Check("input", "skip", f"{name!r} opens (noise floor {floor:.0f} dBFS); not listened to "
                                      "(--no-listen)", details=details), floor
    prompt('Say "testing" now ...')
    audio = capture(mic, LISTEN_SECONDS)
    levels = Levels(floor, _peak(audio))
    details["speech_dbfs"] = round(levels.peak, 1)
    if not levels.heard():
        return Check("input", "fail", f"{name!r} opens but heard nothing above its noise floor "
                                      f"({levels.peak:.0f} dBFS against {floor:.0f} dBFS)",
                     "check the microphone is not muted and is the one you speak into; "
                     + DEVICE_HINT.format(key="input-device"), details), floor
    where = f"{name!r}: speech at {levels.peak:.0f} dBFS over a noise floor of {floor:.0f} dBFS"
    if recognizer is None:
        return Check("input", "ok", f"{where}; not recognised (no recognizer, see above)", details=details), floor
    transcript = recognizer.recognize(_speech_part(audio, floor))  # type: ignore[attr-defined]
    details.update(heard=transcript.text, confidence=round(transcript.confidence, 2))
    if "testing" in transcript.text.lower():
        return Check("input", "ok", f"heard \"{transcript.text}\" (confidence {transcript.confidence:.2f}); "
                                    f"{where}", details=details), floor
    heard = f"\"{transcript.text}\" (confidence {transcript.confidence:.2f})" if transcript.text else "no words"
    return Check("input", "warn", f"heard sound but recognised {heard}, not \"testing\"; {where}",
                 "speak closer to the microphone, with less noise around; run the doctor again", details), floor


def check_echo(mic: object, speaker: object, floor: float) -> Check:
    """Speak while listening: is the coach's own voice in the microphone, how late, and does the echo
    filter remove it (then the listener can interrupt the coach: barge-in)."""
    settings = EchoSettings()
    started = time.monotonic()
    task = speaker.speak_async(ECHO_PHRASE)  # type: ignore[attr-defined]
    frames: list[np.ndarray] = []
    ended: float | None = None
    for frame in mic.frames():  # type: ignore[attr-defined]
        frames.append(frame)
        now = time.monotonic()
        if task.done and ended is None:
            ended = now
        if (ended is not None and now - ended > ECHO_TAIL_SECONDS) or now - started > 15:
            break
    heard_at = time.monotonic()
    task.wait(5)
    mic_audio = np.concatenate(frames) if frames else np.zeros(0, np.int16)
    peak = _peak(mic_audio)
    details: dict = {"mic_peak_dbfs": round(peak, 1), "noise_floor_dbfs": round(floor, 1)}
    if not Levels(floor, peak).heard():
        details["echo"] = False
        return Check("echo", "ok", "the microphone does not hear the speaker (headphones, or the sound does not "
                                   "carry): barge-in will work", details=details)
    history = speaker.history  # type: ignore[attr-defined]
    mic_start = heard_at - len(mic_audio) / SAMPLE_RATE
    ref_start = mic_start - settings.max_delay_s
    clip = history.segment(ref_start, heard_at)
    ref = resample_to_16k(np.asarray(clip.samples), clip.sample_rate).astype(np.float64)
    mic_f = mic_audio.astype(np.float64)
    lag = global_lag(mic_f, ref)
    delay_ms = round((mic_start - ref_start - lag / SAMPLE_RATE) * 1000)
    residual = subtract_echo(mic_f, ref, lag, settings)
    share = float(np.dot(residual, residual)) / max(float(np.dot(mic_f, mic_f)), 1e-9)
    removed_db = round(-10 * np.log10(max(share, 1e-6)), 1)
    dropped = ReferenceEchoFilter(history, settings).clean(Utterance(mic_audio, 0.0, len(mic_audio) / SAMPLE_RATE),
                                                           heard_at) is None
    details.update(echo=True, delay_ms=delay_ms, removed_db=removed_db, filtered=dropped)
    summary = f"the microphone hears the speaker {delay_ms} ms late; the echo filter removes {removed_db:.0f} dB of it"
    if dropped:
        return Check("echo", "ok", f"{summary}: barge-in will work", details=details)
    return Check("echo", "warn", f"{summary}: not enough, so the coach may hear itself and barge-in is unreliable",
                 "use headphones, lower the volume, or move the microphone away from the speaker", details)


def capture(mic: object, seconds: float) -> np.ndarray:
    """About `seconds` of 16 kHz audio from the microphone (less if it stalls)."""
    wanted = int(seconds * SAMPLE_RATE)
    deadline = time.monotonic() + seconds + 8.0  # a PulseAudio stream can take ~2 s to start
    frames: list[np.ndarray] = []
    got = 0
    for frame in mic.frames():  # type: ignore[attr-defined]
        frames.append(frame)
        got += len(frame)
        if got >= wanted or time.monotonic() > deadline:
            break
    return np.concatenate(frames) if frames else np.zeros(0, np.int16)


def _levels(audio: np.ndarray) -> np.ndarray:
    count = len(audio) // FRAME_SAMPLES
    return np.array([level_dbfs(audio[i * FRAME_SAMPLES:(i + 1) * FRAME_SAMPLES]) for i in range(count)]
                    or [-120.0])


def _floor(audio: np.ndarray) -> float:
    return float(np.median(_levels(audio[len(audio) // 4:])))  # the stream's first blocks can click


def _peak(audio: np.ndarray) -> float:
    return float(np.max(_levels(audio)))


def _speech_part(audio: np.ndarray, floor: float) -> np.ndarray:
    """The audio from 0.3 s before the first loud frame to 0.5 s after the last one."""
    levels = _levels(audio)
    loud = np.flatnonzero(levels >= max(floor + HEARD_MARGIN_DB, QUIET_DBFS))
    if not len(loud):
        return audio
    start = max(0, int(loud[0]) * FRAME_SAMPLES - int(0.3 * SAMPLE_RATE))
    end = min(len(audio), (int(loud[-1]) + 1) * FRAME_SAMPLES + int(0.5 * SAMPLE_RATE))
    return audio[start:end]


def _device(spec: str | None) -> str | int | None:
    return int(spec) if spec is not None and spec.isdigit() else spec
