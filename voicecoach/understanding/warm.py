"""Building the meaning layers before they are needed: the sentence encoder, the example vectors and the
trained layers for commands and safety, and the guide's passage vectors (with listeners' example questions,
question_examples.yaml) and step classifier for questions. From a cold cache
(the first run, or examples changed by an update) this takes about a minute on a 2-core machine; the live
loop starts it in the background (semantic.build_in_background) and answers with the words alone until it
is done. `scripts/setup` runs it once, so a new install starts warm:

    python -m voicecoach.understanding.warm
"""

from __future__ import annotations

import logging
import time

from voicecoach.guide.model import Guide

log = logging.getLogger(__name__)


def build_meaning_layers(guide: Guide | None = None) -> None:
    """Encode, train and cache everything the meaning layers need (nothing without the encoder)."""
    from voicecoach.understanding import semantic, semantic_commands, semantic_safety
    from voicecoach.understanding.answers import guide_index

    started = time.monotonic()
    if not semantic.available():
        return
    semantic_commands.trained_layer()
    semantic_safety.trained_layer()
    if guide is not None:
        index = guide_index(guide)
        index.vectors()
        index.classifier()
        index.outside_vectors()
    log.info("meaning layers ready in %.1f s", time.monotonic() - started)


def main() -> None:
    from voicecoach.guide.library import list_guides

    started = time.monotonic()
    guides = [entry.guide for entry in list_guides() if entry.guide is not None]
    for guide in guides or [None]:
        build_meaning_layers(guide)
    print(f"meaning layers built and cached for {len(guides)} guide(s) in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
