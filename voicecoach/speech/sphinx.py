"""PocketSphinx recognizer (the bundled en-us model, no download) with rejection built into the search.

Each command phrase is one compound dictionary word ("__next_step"); a unigram language model lets the
compounds compete against the most frequent English words (background_words.yaml). Speech that is not
a command is then heard as other words and rejected, instead of being forced into the nearest command.
A transcript is `in_grammar` only when the best path is exactly one compound; its confidence is the
lattice posterior of that compound, mapped through a logistic calibration measured in bench/speech.py.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

import numpy as np

from voicecoach.datafile import packaged_yaml
from voicecoach.errors import ModelError
from voicecoach.speech.grammar import compound_entries, phrase_of
from voicecoach.speech.recognizer import QUIET, Alternative, Hearing, Transcript

log = logging.getLogger(__name__)
ENGINE = "pocketsphinx"


@dataclass(frozen=True)
class SphinxSettings:
    """Knobs of the search and of rejection (defaults tuned on training speakers, see bench/speech.py)."""

    background_words: int = 2000  # how many common English words compete with the commands
    background_log10: float = -0.9  # log10 of the probability mass given to background words
    phrase_log10: float = -2.0  # log10 prior of a one-word command phrase
    extra_word_log10: float = -1.0  # added per further word: a compound must not cover words for free
    language_weight: float = 6.5
    background_allowed: int = 1  # other words that may surround a command phrase (0: the phrase alone)
    background_penalty: float = 0.9  # confidence factor per surrounding word
    # confidence = sigmoid(a * ln(posterior) + b): 0.5 at posterior 0.25, the threshold that kept other
    # words under 2% on the training speakers (bench/speech.py real --tune)
    calibration: tuple[float, float] = (2.0, 2.77)


@lru_cache(maxsize=1)
def background_words() -> tuple[tuple[str, float], ...]:
    """(word, log10 unigram probability), most frequent first."""
    return tuple((str(w), float(p)) for w, p in packaged_yaml("voicecoach.speech", "background_words.yaml")["words"])


def _is_filler(word: str) -> bool:
    return word.startswith(("<", "[", "+")) or word == "SIL"


def _ln(probability: float) -> float:
    return math.log(probability) if probability > 0 else -700.0


class PocketSphinxRecognizer:
    """A Recognizer for a fixed list of command phrases."""

    name = ENGINE

    def __init__(self, phrases: Iterable[str], settings: SphinxSettings | None = None) -> None:
        try:
            import pocketsphinx
        except ImportError as error:
            raise ModelError(f"pocketsphinx is not installed: {error}", "run scripts/setup") from None
        self.settings = settings or SphinxSettings()
        self._ps = pocketsphinx
        config = pocketsphinx.Config(samprate=16000, loglevel="FATAL", lm=None, lw=self.settings.language_weight)
        try:
            self._decoder = pocketsphinx.Decoder(config)
        except (RuntimeError, ValueError) as error:
            raise ModelError(f"cannot load the PocketSphinx model: {error}",
                             "reinstall pocketsphinx: .venv/bin/pip install --force-reinstall pocketsphinx") from None
        entries, unknown = compound_entries(phrases, self._decoder.lookup_word)
        if unknown:
            log.info("%d phrases have words missing from the dictionary, e.g. %r", len(unknown), unknown[:3])
        if not entries:
            raise ModelError("no command phrase could be pronounced with the PocketSphinx dictionary",
                             "check the phrase list (English words only)")
        self.phrases = tuple(e.phrase for e in entries)
        self._build(entries)

    def _build(self, entries: list) -> None:
        decoder, settings = self._decoder, self.settings
        for index, entry in enumerate(entries):  # the dictionary is rebuilt once, with the last word
            decoder.add_word(entry.word, entry.pronunciation, index == len(entries) - 1)
        command_sounds = {entry.pronunciation for entry in entries}
        single_words = {entry.phrase for entry in entries if " " not in entry.phrase}
        background: list[tuple[str, float]] = []
        for word, log10p in background_words():
            if len(background) >= settings.background_words:
                break
            pronunciation = decoder.lookup_word(word)
            # homophones of a command ("know" for "no") would steal it, so they are left out
            if pronunciation and word not in single_words and pronunciation not in command_sounds:
                background.append((word, log10p))
        total = sum(10 ** p for _, p in background)
        lines = [f"{settings.phrase_log10 + settings.extra_word_log10 * e.phrase.count(' '):.4f} {e.word} 0.0"
                 for e in entries]
        lines += [f"{p - math.log10(total) + settings.background_log10:.4f} {w} 0.0" for w, p in background]
        arpa = ("\\data\\\nngram 1=%d\n\n\\1-grams:\n-99.0 <s> 0.0\n-0.5 </s> 0.0\n%s\n\n\\end\\\n"
                % (len(lines) + 2, "\n".join(lines)))
        with tempfile.NamedTemporaryFile("w", suffix=".arpa", delete=False) as handle:
            handle.write(arpa)
        try:
            decoder.add_lm_file("commands", handle.name)
        finally:
            os.unlink(handle.name)
        decoder.activate_search("commands")

    def _decode(self, samples: np.ndarray, full: bool) -> None:
        decoder = self._decoder
        decoder.start_utt()
        decoder.process_raw(samples.astype("<i2", copy=False).tobytes(), full_utt=full)
        decoder.end_utt()

    def recognize(self, samples: np.ndarray, hearing: Hearing = QUIET) -> Transcript:
        if len(samples) < 1600:  # under 0.1 s: nothing to decode
            return Transcript.empty(ENGINE)
        self._decode(samples, True)
        hyp = self._decoder.hyp()
        if hyp is None:
            return Transcript.empty(ENGINE)
        words = [(s.word, s.prob) for s in self._decoder.seg() if not _is_filler(s.word)]
        if not words:
            return Transcript.empty(ENGINE)
        texts = [phrase_of(w) or w.split("(")[0] for w, _ in words]
        if len(words) == 1 and phrase_of(words[0][0]) is not None:
            return Transcript(texts[0], self.calibrate(words[0][1]), True, self._alternatives(texts[0]), ENGINE)
        commands = [(text, prob) for (word, prob), text in zip(words, texts) if phrase_of(word) is not None]
        if len(commands) == 1 and len(words) - 1 <= self.settings.background_allowed:
            # one command among a few other words ("um next step", a voice behind): accepted only on
            # its own posterior, scaled down for each word around it
            text, prob = commands[0]
            confidence = self.calibrate(prob) * self.settings.background_penalty ** (len(words) - 1)
            return Transcript(text, confidence, True, (), ENGINE)
        # the best path went through background words: not a command
        return Transcript(" ".join(texts), 0.0, False, (), ENGINE)

    def calibrate(self, posterior: float) -> float:
        a, b = self.settings.calibration
        return 1.0 / (1.0 + math.exp(-(a * _ln(posterior) + b)))

    def _alternatives(self, best: str, limit: int = 3) -> tuple[Alternative, ...]:
        result: list[Alternative] = []
        try:
            for hyp in self._decoder.nbest():
                if hyp is None:
                    break
                words = [w for w in hyp.hypstr.split() if not _is_filler(w)]
                text = " ".join(phrase_of(w) or w for w in words)
                if text and text != best and all(a.text != text for a in result):
                    result.append(Alternative(text, 0.0))
                if len(result) >= limit:
                    break
        except RuntimeError:  # no lattice for this utterance
            pass
        return tuple(result)

    def partial(self, samples: np.ndarray) -> str:
        if len(samples) < 1600:
            return ""
        self._decode(samples, False)
        hyp = self._decoder.hyp()
        if hyp is None:
            return ""
        return " ".join(phrase_of(w) or w for w in hyp.hypstr.split() if not _is_filler(w))
