"""open_speaker: the speaker for the user's choices, falling back to text when there is no output."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TextIO

from voicecoach.audio.events import DeviceListener
from voicecoach.errors import DeviceError, ModelError, VoicecoachError
from voicecoach.voice.devices import UnknownDeviceError
from voicecoach.voice.recorders import TextSpeaker, WavFileSpeaker
from voicecoach.voice.speaker import Speaker
from voicecoach.voice.engines import choose_synthesizer, engine_for
from voicecoach.voice.synthesizer import DEFAULT_RATE, VoiceSettings

log = logging.getLogger(__name__)


def open_speaker(*, device: str | int | None = None, voice: str | None = None, rate: int | None = None,
                 volume: float = 1.0, wav_path: str | Path | None = None, text_only: bool = False,
                 text_stream: TextIO | None = None, notice_stream: TextIO | None = None,
                 on_event: DeviceListener | None = None) -> Speaker:
    """A WavFileSpeaker if `wav_path` is given, a TextSpeaker if `text_only`, else a SoundDeviceSpeaker.

    The voice engine is chosen by `choose_synthesizer` (Piper when its voice is installed, else espeak-ng).
    Without a usable output device (none present, PortAudio or espeak-ng missing) it prints one line to
    `notice_stream` (stderr) and returns a TextSpeaker: never a crash. A device the user named that
    does not exist, or an unknown voice or rate, is a user mistake and raises VoicecoachError.
    `on_event` hears when the output device goes away and comes back."""
    if text_only:
        return TextSpeaker(text_stream)
    settings = VoiceSettings(voice, rate or DEFAULT_RATE, volume)  # validates rate and volume
    try:
        synthesizer = choose_synthesizer(settings, notice=lambda message: print(
            f"voicecoach: {message}", file=notice_stream or sys.stderr, flush=True))
    except ModelError as error:
        if wav_path is not None or engine_for(voice) == "piper":  # a Piper voice asked for by name
            raise
        return _fallback(error, text_stream, notice_stream)
    if wav_path is not None:
        return WavFileSpeaker(wav_path, synthesizer)
    from voicecoach.voice.playback import SoundDeviceSpeaker

    from voicecoach.voice.prepared import PreparedSpeech

    try:  # live speech: replies the coach is likely to give next are made ahead (prepared.py)
        speaker = SoundDeviceSpeaker(PreparedSpeech(synthesizer), device, on_event=on_event, owns_synthesizer=True)
    except UnknownDeviceError:
        raise
    except DeviceError as error:
        return _fallback(error, text_stream, notice_stream)
    speaker.warm_up()
    return speaker


def _fallback(error: VoicecoachError, text_stream: TextIO | None, notice_stream: TextIO | None) -> TextSpeaker:
    log.info("speech output unavailable: %s (%s)", error.message, error.hint)
    print(f"voicecoach: {error.message}; showing what the coach says as text instead"
          + (f" ({error.hint})" if error.hint else ""), file=notice_stream or sys.stderr, flush=True)
    return TextSpeaker(text_stream)
