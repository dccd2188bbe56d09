"""The safety path: danger in any word form reaches it, idioms and ordinary hurt do not."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from voicecoach.guide.loader import load_guide
from voicecoach.understanding.intents import DialogueContext
from voicecoach.understanding.matcher import match_intent
from voicecoach.understanding.safety import SafetyPatternError, _Compiler, find_concern, word_stem
from voicecoach.understanding import semantic
from voicecoach.understanding.semantic_safety import semantic_concern

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "bench" / "data"


@pytest.fixture(scope="module")
def guide():
    return load_guide(REPO / "content" / "relationship-ten-steps.yaml")


def _tuning_half(name: str) -> list[dict]:
    return [c for c in yaml.safe_load((DATA / name).read_text("utf-8"))["cases"] if c["split"] == "tune"]


@pytest.mark.parametrize("text, category", [
    ("i think about killing myself", "self_harm"),
    ("i killed myself trying once before", "self_harm"),
    ("i feel like hurting myself", "self_harm"),
    ("i'm gonna end my life", "self_harm"),
    ("everyone would be better off without me", "self_harm"),
    ("she pushed me down the stairs", "partner_violence"),
    ("he's been hitting me", "partner_violence"),
    ("he said he would kill me if i leave", "threats"),
    ("i'm going to hurt him", "harm_to_others"),
    ("my ex keeps stalking me", "stalking"),
    ("he won't let me see my family", "coercive_control"),
    ("she pointed a gun at me", "weapons"),
    ("he forced me to have sex", "sexual_violence"),
    ("i'm terrified for my life", "general_danger"),
])
def test_danger_in_any_word_form_reaches_safety_with_its_kind(guide, text: str, category: str) -> None:
    intent = match_intent(text, guide, DialogueContext(step=3))
    assert intent.name == "safety"
    assert intent.slots["concern"] == category


@pytest.mark.parametrize("text", [
    "this traffic is killing me", "my feet are killing me", "i hurt her feelings", "i could murder a pizza",
    "she'd kill me if i forgot her birthday", "the ending where she shoots him in that film was wild",
    "how do we stop fighting", "explain the silent treatment", "she pushes me away when i try to talk",
    "cut myself some slack", "we listen to rap in the car", "end the session",
])
def test_idioms_ordinary_hurt_and_guide_questions_do_not(guide, text: str) -> None:
    assert match_intent(text, guide, DialogueContext(step=3)).name != "safety"


def test_a_match_about_the_speaker_counts_even_beside_a_story() -> None:
    assert find_concern("he hit me while we were watching a film") is not None


def test_word_forms_meet_at_one_stem() -> None:
    assert {word_stem(w) for w in ("kill", "kills", "killing", "killed")} == {"kill"}
    assert {word_stem(w) for w in ("stab", "stabbed", "stabbing")} == {"stab"}
    assert word_stem("raped") == "rape" != word_stem("rap")


def test_patterns_catch_every_crisis_statement_of_the_tuning_half() -> None:
    missed = [c["text"] for c in _tuning_half("safety-crisis.yaml") if find_concern(c["text"]) is None]
    assert missed == []


def test_no_near_miss_of_the_tuning_half_reaches_safety(guide) -> None:
    fired = [c["text"] for c in _tuning_half("safety-near-misses.yaml")
             if match_intent(c["text"], guide, DialogueContext(step=4)).name == "safety"]
    assert fired == []


def test_meaning_catches_danger_no_pattern_spells_out(guide) -> None:
    text = "i am so scared he is going to come home drunk again tonight"
    assert find_concern(text) is None
    assert semantic_concern(text) is not None
    assert match_intent(text, guide, DialogueContext(step=2)).name == "safety"


def test_commands_and_short_utterances_never_reach_safety_by_meaning(guide) -> None:
    for text in ("stop", "go back", "next step please", "tell me more about blame"):
        assert match_intent(text, guide, DialogueContext(step=2)).name != "safety"
        assert semantic_concern(text) is None


@pytest.mark.parametrize("pattern", ["(kill myself", "kill (me|us]", "$nosuchgroup me", "(hurt )?me", "(cut|burn)* myself"])
def test_malformed_patterns_are_reported(pattern: str) -> None:
    with pytest.raises(SafetyPatternError):
        _Compiler({}).regex(pattern)


def test_an_unsure_transcript_that_reveals_danger_still_reaches_safety(guide) -> None:
    """The recognizer's rejection (out of grammar, low confidence) drops commands, never danger."""
    from voicecoach.speech.pipeline import understand
    from voicecoach.speech.recognizer import Transcript

    unsure = Transcript("i just want to die", 0.2, False, (), "test")
    assert understand(unsure, guide).name == "safety"
    assert understand(Transcript("next step", 0.2, False, (), "test"), guide).name == "none"
    assert understand(Transcript("my feet are killing me", 0.2, False, (), "test"), guide).name == "none"
    garbled = Transcript("i was raped are quit shh lot to i was onward nope and around should are", 0.0, False, (), "test")
    assert understand(garbled, guide).name == "none"  # one grammar phrase in a run of background words
    assert understand(Transcript("um so i want to die you know", 0.1, False, (), "test"), guide).name == "safety"


def test_recognizers_are_given_plain_statements_of_danger_that_reach_safety(guide) -> None:
    from voicecoach.understanding.safety import hearing_phrases
    from voicecoach.understanding.vocabulary import recognizer_phrases

    statements = hearing_phrases()
    assert len(statements) > 100
    assert set(statements) <= set(recognizer_phrases(guide))
    assert [s for s in statements if match_intent(s, guide).name != "safety"] == []


@pytest.mark.parametrize("text, wanted", [
    ("i've been cuttin my my thighs", True),  # a dropped g and a stumble
    ("the kids haven't eaten properly in days", True),  # n't spelled out for any verb
    ("i'm gonna end it", True),  # <end>: the statement stops there
    ("i'm gonna end it with him tomorrow", False),  # a breakup
    ("she shot me right in the back at paintball", False),  # play
    ("he pinned me at wrestling practice", False),
])
def test_spoken_forms_ends_and_play(text: str, wanted: bool) -> None:
    assert (find_concern(text) is not None) is wanted


def test_a_pattern_match_the_meaning_layer_disputes_is_asked_not_dropped(guide) -> None:
    """A broad pattern ('punishes me') in a question about the silent treatment: the coach asks first."""
    text = "she's always like fine whatever and then punishes me for a week how do i get her to just tell me"
    if not semantic.available():
        pytest.skip("the sentence encoder is not installed")
    assert find_concern(text) is not None
    intent = match_intent(text, guide, DialogueContext(step=4))
    assert intent.name == "safety" and intent.asks_first
    certain = match_intent("he hit me again last night", guide, DialogueContext(step=4))
    assert certain.name == "safety" and not certain.asks_first


def test_notes_in_the_pattern_lists_never_become_patterns() -> None:
    """safety.yaml writes notes inside its lists as "- # note", which YAML reads as None: as a pattern that was
    the word "none", and every utterance that said it reached safety."""
    assert find_concern("none of your business") is None
    assert find_concern("there are none left in the shop") is None


@pytest.mark.parametrize("text, wanted", [
    ("i put an airtag on her keys because we both wanted it", False),  # consent cancels stalking
    ("she handles my pension because i asked her to manage it", False),
    ("he tracks my phone because i asked him for a divorce", True),  # not consent
    ("he won't let me see my family without his permission", True),  # a partner's permission is control
    ("he checks my phone and it was not my choice", True),
    ("he took my phone at dinner because we agreed no phones at the table", False),  # and coercive control
    ("he put an airtag on my car and follows me", True),
    ("we agreed he would keep my passport and he says he will hurt me if i ask for it", True),  # not violence
    ("i wanna die of embarrassment", False),  # a fixed idiom cancels even an `always` pattern
    ("i want to die", True),
])
def test_consent_and_fixed_idioms(text: str, wanted: bool) -> None:
    assert (find_concern(text) is not None) is wanted


@pytest.mark.parametrize("text, wanted", [
    ("there was a tracker hidden inside my son's rucksack when he got back from his mum's", True),
    ("she keeps my bank card and sends all my wages to herself", True),
    ("my uncle plays secret games with my little girl when he babysits", True),
    ("they hit him with a belt until he bled", True),
    ("i deserve to suffer", True),
    ("i only shove him when he won't shut up", True),
    ("next time it's gonna be his face", True),
    ("i swear i'll make sure he never walks again", True),
    ("she brought her stun gun home and tried it on me", True),
    ("my nephew thrashes me at darts every single time", False),  # a game, not a beating
    ("my friends threw me a leaving do", False),
    ("i nicked myself yesterday peeling carrots", False),
])
def test_kinds_written_from_the_mirror_pairs(text: str, wanted: bool) -> None:
    assert (find_concern(text) is not None) is wanted
