"""The input path on recorded or live audio: endpointing → recognizer → rejection → intent matcher.

The rejection decision lives here, before the matcher: a transcript the recognizer judged out of
grammar, or whose confidence is under `min_confidence`, becomes intent `none` whatever its words, with
one exception: words that reveal danger reach the safety path at any confidence (a mumbled "i want to
die" must not be dropped as an unsure command; a needless safety reply costs far less than a missed one).
When the recognizer's best text means nothing, its alternatives (n-best) that it is sure enough of are read
in turn, and the first that is a command is taken: Whisper often ranks the words said second ("next please
made" before "next please mate"). A best text that is a question or a concern is never traded for a command.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from voicecoach.audio.endpoint import EndpointSettings, find_utterances
from voicecoach.audio.frames import Utterance, split_frames
from voicecoach.audio.wavfile import read_wav
from voicecoach.guide.model import Guide
from voicecoach.speech.recognizer import Recognizer, Transcript
from voicecoach.understanding.intents import DialogueContext, Intent
from voicecoach.understanding.matcher import match_intent
from voicecoach.understanding.safety import find_concern

DEFAULT_MIN_CONFIDENCE = 0.5
# In a transcript the recognizer doubts, the words that reveal danger must be this share of all its words:
# "um i want to die you know" is a statement; one grammar phrase inside a long run of background words
# (PocketSphinx on a coffee order: "i was raped are quit shh lot to i was onward nope ...") is not.
UNSURE_DANGER_SHARE = 0.3
# what an alternative may not become when the best text meant nothing: only commands are read from alternatives
NOT_TAKEN_FROM_ALTERNATIVES = ("none", "question", "safety")


@dataclass(frozen=True)
class HeardUtterance:
    start: float
    end: float
    text: str
    intent: str
    slots: Mapping[str, Any]
    confidence: float


@dataclass(frozen=True)
class FileResult:
    """One file's outcome, in the shape of `voicecoach recognize --json`."""

    file: str
    text: str
    intent: str
    slots: Mapping[str, Any]
    confidence: float
    utterances: tuple[HeardUtterance, ...] = field(default=())

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file, "text": self.text, "intent": self.intent, "slots": dict(self.slots),
            "confidence": round(self.confidence, 3),
            "utterances": [{"start": round(u.start, 2), "end": round(u.end, 2), "text": u.text,
                            "intent": u.intent, "slots": dict(u.slots), "confidence": round(u.confidence, 3)}
                           for u in self.utterances],
        }


def understand(transcript: Transcript, guide: Guide, context: DialogueContext | None = None,
               min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> Intent:
    """The intent of a transcript, or `none` when the recognizer is not sure it heard a command."""
    if not transcript.text:
        return Intent.none(transcript.text, transcript.confidence)
    if not transcript.in_grammar or transcript.confidence < min_confidence:
        concern = find_concern(transcript.text) if transcript.text.count(" ") >= 1 else None
        if concern is not None and _share(concern.words, transcript.text) >= UNSURE_DANGER_SHARE:
            return Intent("safety", {"concern": concern.category}, transcript.confidence, transcript.text)
        return Intent.none(transcript.text, transcript.confidence)
    intent = match_intent(transcript.text, guide, context)
    if intent.name != "none":
        return intent
    for alternative in transcript.alternatives:
        if alternative.confidence >= min_confidence and alternative.text:
            other = match_intent(alternative.text, guide, context)
            if other.name not in NOT_TAKEN_FROM_ALTERNATIVES:
                return other
    return intent


def why_not_understood(heard: Transcript, min_confidence: float) -> str:
    """Why a transcript became intent none (the rejection rules of `understand`, then the matcher), in the
    words of `voicecoach run`'s log."""
    if not heard.text:
        return "no words heard"
    if not heard.in_grammar:
        return "not among the phrases the recognizer listens for"
    if heard.confidence < min_confidence:
        return f"recognizer unsure: confidence {heard.confidence:.2f} under {min_confidence:.2f}"
    return "no command or question of this guide in the words"


def _share(matched: str, text: str) -> float:
    return len(matched.split()) / max(1, len(text.split()))


def hear(utterance: Utterance, recognizer: Recognizer, guide: Guide, context: DialogueContext | None = None,
         min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> HeardUtterance:
    transcript = recognizer.recognize(utterance.samples)
    intent = understand(transcript, guide, context, min_confidence)
    return HeardUtterance(utterance.start, utterance.end, transcript.text, intent.name, dict(intent.slots),
                          transcript.confidence)


def summarize(file: str, heard: Iterable[HeardUtterance]) -> FileResult:
    """Top-level fields come from the first utterance with an intent, else the first utterance."""
    heard = tuple(heard)
    chosen = next((u for u in heard if u.intent != "none"), heard[0] if heard else None)
    if chosen is None:
        return FileResult(file, "", "none", {}, 0.0, ())
    return FileResult(file, chosen.text, chosen.intent, chosen.slots, chosen.confidence, heard)


def recognize_file(path: str | Path, recognizer: Recognizer, guide: Guide,
                   context: DialogueContext | None = None, endpoint: EndpointSettings | None = None,
                   min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> FileResult:
    """Every utterance in a WAV file, understood at the start of the guide (or in `context`)."""
    samples = read_wav(path)
    utterances = find_utterances(split_frames(samples), endpoint)
    return summarize(str(path), (hear(u, recognizer, guide, context, min_confidence) for u in utterances))
