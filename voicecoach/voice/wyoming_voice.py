"""WyomingSynthesizer: the coach's voice from a Wyoming TTS server (Synthesize → AudioStart, AudioChunk…,
AudioStop) behind the same `synthesize(text, rate)` interface as Piper and espeak-ng, with the local voice
`auto` picks as its fallback. A server that is down, slow, drops the connection or answers nonsense costs
one notice; that sentence and the following ones are spoken locally until a background probe finds the
server again. The coach's text goes to the server; no audio of the user does.

Wyoming's Synthesize has no speaking rate: the server's voice speaks at its own pace (wyoming-piper's
--length-scale), so `rate` is only honoured by the local fallback.
"""

from __future__ import annotations

import logging
from typing import Callable, Iterator

import numpy as np

from voicecoach.speech.wyoming_link import (MAX_EVENTS, Exchange, Failover, WyomingAddress, WyomingError,
                                            LocalFallback, describe, describe_json)
from voicecoach.voice.clip import AudioClip
from voicecoach.voice.normalize import spoken_form
from voicecoach.voice.synthesizer import VoiceInfo, VoiceSettings

log = logging.getLogger(__name__)

ENGINE = "wyoming"
# seconds for one sentence: a base for the round trip and more per character of text (wyoming-piper took
# 0.1-0.4 s for a sentence of the guide on this loaded 2-core machine, bench/wyoming.py; over 3 s once
# at a session's start, under load, while the local fallbacks loaded beside it)
REQUEST_SECONDS = 5.0
REQUEST_SECONDS_PER_CHAR = 0.03
IDLE_SECONDS = 5.0  # the longest wait between two events of a reply
MAX_SAMPLE_RATE = 192_000
WARM_UP_TEXT = "Hello."
PROBE_TEXT = "Ready."  # what the background probe asks a failed server to say (it is back when it does)


def clip_from_audio(rate: int, width: int, channels: int, payload: bytes) -> AudioClip:
    """Raw PCM from the server as a mono int16 clip; WyomingError for a format that makes no sense."""
    if not (isinstance(rate, int) and 1000 <= rate <= MAX_SAMPLE_RATE and width in (1, 2, 4)
            and isinstance(channels, int) and 1 <= channels <= 8):
        raise WyomingError(f"its audio format makes no sense (rate {rate!r}, width {width!r}, channels {channels!r})")
    usable = len(payload) - len(payload) % (width * channels)
    if width == 1:
        samples = (np.frombuffer(payload[:usable], np.uint8).astype(np.int32) - 128) << 8
    elif width == 2:
        samples = np.frombuffer(payload[:usable], "<i2").astype(np.int32)
    else:
        samples = np.frombuffer(payload[:usable], "<i4").astype(np.int64) >> 16
    mono = samples.reshape(-1, channels).mean(axis=1) if channels > 1 else samples
    return AudioClip(np.clip(mono, -32768, 32767).astype(np.int16), rate)


class WyomingSynthesizer:
    """Speech from a Wyoming TTS server, and from the local voice while the server fails."""

    engine = ENGINE

    def __init__(self, address: WyomingAddress, settings: VoiceSettings | None = None,
                 local: Callable[[], object] | None = None, notice: Callable[[str], None] = lambda m: None,
                 request_seconds: float = REQUEST_SECONDS, retry_seconds: float | None = None,
                 preload: bool = True, warm_up: bool = True) -> None:
        settings = settings or VoiceSettings()
        self.address = address
        self.settings = VoiceSettings(str(address), settings.rate, settings.volume)
        self.request_seconds = request_seconds
        kwargs = {} if retry_seconds is None else {"retry_seconds": retry_seconds}
        self.failover = Failover(address, "voice", notice, probe=lambda: self.request(PROBE_TEXT), **kwargs)
        self._local = LocalFallback(local, "voice", preload)
        self.server_info = None
        self.served_by_server = 0
        self.served_locally = 0
        try:
            self.server_info = describe(address)
            log.info("Wyoming TTS server at %s: %s", address.where, describe_json(self.server_info))
            if not self.server_info.tts:
                self.failover.failed("it offers no text to speech", "the local voice")
            elif warm_up:  # the server loads its voice at the first request: not at the first reply
                self.request(WARM_UP_TEXT)
        except WyomingError as error:
            self.failover.failed(error, "the local voice")

    @property
    def name(self) -> str:
        return f"Wyoming {self.address.where}" + (f" {self.address.name}" if self.address.name else "")

    def synthesize(self, text: str, rate: int | None = None) -> AudioClip:
        """Speech for `text`; from the server while it answers, else from the local voice."""
        spoken = spoken_form(text).strip()
        if not spoken:
            return AudioClip.silence(0, 22050)
        clip = self.failover.attempt(lambda: self.request(spoken), self.local_name())
        if clip is not None:
            self.served_by_server += 1
            return self._with_volume(clip)
        local = self.local()
        if local is None:
            return AudioClip.silence(0, 22050)
        self.served_locally += 1
        return local.synthesize(text, rate)  # type: ignore[attr-defined]

    def synthesize_parts(self, text: str, rate: int | None = None) -> Iterator[AudioClip]:
        """A long sentence clause by clause, as Piper does locally, so its first audio comes sooner."""
        from voicecoach.voice.piper_engine import CLAUSE_PAUSE_SECONDS, _trim_tail, clause_pieces

        pieces = clause_pieces(text)
        for number, piece in enumerate(pieces):
            clip = self.synthesize(piece, rate)
            yield clip if number == len(pieces) - 1 else _trim_tail(clip, CLAUSE_PAUSE_SECONDS)

    def request(self, text: str) -> AudioClip:
        """The server's audio for `text`; WyomingError on any fault."""
        from wyoming.audio import AudioChunk, AudioStart, AudioStop
        from wyoming.error import Error
        from wyoming.tts import Synthesize, SynthesizeVoice

        voice = SynthesizeVoice(name=self.address.name) if self.address.name else None
        deadline = self.request_seconds + REQUEST_SECONDS_PER_CHAR * len(text)
        audio = bytearray()
        fmt: tuple[int, int, int] | None = None
        with Exchange(self.address, deadline, idle=IDLE_SECONDS) as exchange:
            exchange.send(Synthesize(text=text, voice=voice))
            for _ in range(MAX_EVENTS):
                event = exchange.receive()
                if AudioStart.is_type(event.type) or AudioChunk.is_type(event.type):
                    data = event.data
                    here = (data.get("rate"), data.get("width"), data.get("channels"))
                    if fmt is not None and here != fmt:
                        raise WyomingError("its audio changed format mid-reply")
                    fmt = here  # type: ignore[assignment]
                    if AudioChunk.is_type(event.type):
                        audio += event.payload or b""
                elif AudioStop.is_type(event.type):
                    if fmt is None:
                        raise WyomingError("it stopped without sending audio")
                    return clip_from_audio(*fmt, bytes(audio))
                elif Error.is_type(event.type):
                    raise WyomingError(f"it reported an error: {event.data.get('text', '')!s:.200}")
        raise WyomingError("it never finished its audio")

    def _with_volume(self, clip: AudioClip) -> AudioClip:
        if self.settings.volume >= 1.0:
            return clip
        scaled = np.round(clip.samples.astype(np.float32) * self.settings.volume)
        return AudioClip(scaled.astype(np.int16), clip.sample_rate)

    def local_name(self) -> str:
        local = self._local.engine
        return f"the local voice ({getattr(local, 'name', 'espeak-ng')})" if local is not None else "the local voice"

    def local(self):
        """The local voice, built now if it was not preloaded; None if it cannot be built."""
        return self._local.get()

    def voices(self) -> tuple[VoiceInfo, ...]:
        """The voices the server offers (from its describe info at startup)."""
        found = []
        for program in getattr(self.server_info, "tts", None) or []:
            for voice in program.voices or []:
                if not getattr(voice, "installed", True):
                    continue
                found.append(VoiceInfo(voice.name, f"{program.name} {voice.name}", tuple(voice.languages or ())))
        return tuple(found)

    def close(self) -> None:
        self.failover.close()
