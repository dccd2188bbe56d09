"""The live loop makes the likely next reply's first sentence ahead: after a reply has been spoken, the
next step's heading is ready before the listener asks for it, and asking for it is served from there.
Real coach, real small guide, real espeak-ng voice into a WAV speaker (intents given directly: no
recognizer is involved)."""

from __future__ import annotations

import time

from voicecoach.coach.machine import Coach
from voicecoach.session import Session, SessionSettings
from voicecoach.understanding.intents import Intent
from voicecoach.voice.prepared import PreparedSpeech
from voicecoach.voice.recorders import WavFileSpeaker
from voicecoach.voice.synthesizer import Synthesizer, VoiceSettings


def test_after_a_reply_the_next_steps_heading_is_made_ahead_and_used(guide, state_dir, tmp_path) -> None:
    speech = PreparedSpeech(Synthesizer(VoiceSettings(voice="en-us")))
    speaker = WavFileSpeaker(tmp_path / "said.wav", speech)
    session = Session(Coach(guide), None, speaker, SessionSettings(wait_for_speech=True))  # type: ignore[arg-type]
    session.start()
    heading = session.coach.preview(Intent("next", {})).sentences[0]
    assert heading.startswith("Step 2 of 3")
    deadline = time.monotonic() + 10
    while not speech.is_made(heading, session.coach.state.rate) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert speech.is_made(heading, session.coach.state.rate)
    hits = speech.hits
    reply = session.handle_intent(Intent("next", {}))
    assert reply.sentences[0] == heading
    assert speech.hits > hits  # spoken from what was made ahead
    speaker.close()


def test_the_replies_listeners_ask_most_mid_step_are_made_ahead_at_the_rate_they_are_said(guide, state_dir) -> None:
    coach = Coach(guide)
    assert coach.likely_openings() == []  # nothing before the start
    coach.start()
    openings = coach.likely_openings()
    for name in ("next", "summary", "example", "slower", "faster"):
        reply = coach.preview(Intent(name, {}))
        assert (reply.sentences[0], reply.rate) in openings, name
    slower = coach.preview(Intent("slower", {}))
    assert slower.rate < coach.state.rate  # the acknowledgement is said at the new, slower pace
    assert openings[0] == (coach.preview(Intent(coach.reading_on(), {})).sentences[0], coach.state.rate)


def test_after_a_change_of_pace_the_opposite_change_is_made_ahead_first(guide, state_dir) -> None:
    coach = Coach(guide)
    coach.start()
    coach.handle(Intent("slower", {}))
    faster = coach.preview(Intent("faster", {}))
    assert coach.likely_openings()[0] == (faster.sentences[0], faster.rate)
