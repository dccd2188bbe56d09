"""Intent matcher benchmark: accuracy on the dev set and on our own paraphrases, false accepts on
out-of-domain sentences, and time per utterance. Prints tables.

    .venv/bin/python bench/intents.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.understanding.cases import judge, load_cases  # noqa: E402
from voicecoach.guide.loader import load_guide  # noqa: E402
from voicecoach.understanding.intents import DialogueContext  # noqa: E402
from voicecoach.understanding.matcher import match_intent  # noqa: E402

DEV_SET = REPO.parent / "shared" / "eval" / "commands-dev.yaml"
PARAPHRASES = REPO / "bench" / "data" / "intents-paraphrases.yaml"
OUT_OF_DOMAIN = REPO / "bench" / "data" / "out-of-domain.txt"


def main() -> None:
    guide = load_guide(REPO / "content" / "relationship-ten-steps.yaml")
    print("| set | cases | correct | accuracy |\n|---|---|---|---|")
    for name, path, default in (("dev (shared)", DEV_SET, None), ("paraphrases (ours)", PARAPHRASES, {"step": 4})):
        cases = load_cases(path)
        results = [judge(c, guide, default) for c in cases]
        correct = sum(ok for ok, _ in results)
        print(f"| {name} | {len(cases)} | {correct} | {100 * correct / len(cases):.1f}% |")
        for case, (ok, intent) in zip(cases, results):
            if not ok:
                print(f"|   miss: {case['text']!r} → {intent.name} {dict(intent.slots)} | | | |")
    sentences = [s for s in OUT_OF_DOMAIN.read_text().splitlines() if s and not s.startswith("#")]
    accepted = [(s, match_intent(s, guide, DialogueContext(step=4)).name) for s in sentences]
    accepted = [(s, n) for s, n in accepted if n != "none"]
    print("\n| out-of-domain sentences | accepted as a command | false-accept rate |\n|---|---|---|")
    print(f"| {len(sentences)} | {len(accepted)} | {100 * len(accepted) / len(sentences):.1f}% |")
    for sentence, name in accepted:
        print(f"|   {sentence!r} → {name} | | |")

    texts = [c["text"] for c in load_cases(DEV_SET)] + sentences
    timings = []
    for _ in range(5):
        for text in texts:
            start = time.perf_counter()
            match_intent(text, guide, DialogueContext(step=4))
            timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    p99 = timings[int(len(timings) * 0.99) - 1]
    print("\n| utterances timed | median ms | p99 ms | max ms |\n|---|---|---|---|")
    print(f"| {len(timings)} | {statistics.median(timings):.3f} | {p99:.3f} | {timings[-1]:.3f} |")


if __name__ == "__main__":
    main()
