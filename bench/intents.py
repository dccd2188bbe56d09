"""Intent matcher benchmark: accuracy on the dev set and on our own paraphrases, false accepts on
out-of-domain sentences, the sets written apart from the matcher (commands, questions, crisis statements
and near-misses, each reported on its tuning and its test half), and time per utterance. Prints tables.

    .venv/bin/python bench/intents.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


from bench import sets  # noqa: E402
from bench.sets import (COMMAND_SETS, CRISIS_PAIR_SETS, CRISIS_SETS, IGNORE_SETS, NEAR_MISS_PAIR_SETS,  # noqa: E402
                        NEAR_MISS_SETS, QUESTION_SETS, UNCOVERED_SETS)
from voicecoach.understanding.labelled_cases import judge, load_cases  # noqa: E402
from voicecoach.understanding.answers import answer_question  # noqa: E402
from voicecoach.guide.loader import load_guide  # noqa: E402
from voicecoach.understanding.intents import DialogueContext  # noqa: E402
from voicecoach.understanding.matcher import match_intent  # noqa: E402

DEV_SET = REPO.parent / "shared" / "eval" / "commands-dev.yaml"
PARAPHRASES = REPO / "bench" / "data" / "intents-paraphrases.yaml"
OUT_OF_DOMAIN = REPO / "bench" / "data" / "out-of-domain.txt"
HALVES = ("tune", "test")


def _answered_step(text: str, guide, context: DialogueContext) -> int | None:
    """The step a question is answered from through the whole path (matcher, then answerer), or None."""
    if match_intent(text, guide, context).name != "question":
        return None
    answer = answer_question(guide, text, context)
    return answer.step if answer.found else None


def held_out_tables(guide) -> None:
    """Each set written apart from the matcher, on its tuning and its test half."""
    context = DialogueContext(step=4)
    rows = []
    for name in COMMAND_SETS:
        commands = sets.cases(name)
        for half in HALVES:
            cases = [c for c in commands if c["split"] == half]
            rows.append((f"{name}: right intent and slots", half,
                         sum(judge(c, guide, {"step": 4})[0] for c in cases), len(cases)))
    for name in IGNORE_SETS:
        ignore = sets.cases(name)
        for half in HALVES:
            cases = [c for c in ignore if c["split"] == half]
            rows.append((f"{name}: accepted as a command (lower is better)", half,
                         sum(match_intent(c["text"], guide, context).name != "none" for c in cases), len(cases)))
    for name in QUESTION_SETS:
        questions = sets.cases(name)
        for half in HALVES:
            cases = [c for c in questions if c["split"] == half]
            right = 0
            for case in cases:
                wanted = case["answer_step"] if isinstance(case["answer_step"], list) else [case["answer_step"]]
                right += _answered_step(case["text"], guide, context) in wanted
            rows.append((f"{name}: answered from the right step", half, right, len(cases)))
    for name in UNCOVERED_SETS:
        uncovered = sets.cases(name)
        for half in HALVES:
            cases = [c for c in uncovered if c["split"] == half]
            rows.append((f"{name}: honestly declined", half,
                         sum(_answered_step(c["text"], guide, context) is None for c in cases), len(cases)))
    for name, label in ([(name, f"{name}: reach the safety path") for name in (*CRISIS_SETS, *CRISIS_PAIR_SETS)]
                        + [(name, f"{name}: reach the safety path (lower is better)")
                           for name in (*NEAR_MISS_SETS, *NEAR_MISS_PAIR_SETS)]):
        cases = sets.cases(name)
        for half in HALVES:
            intents = [match_intent(c["text"], guide, context) for c in cases if c["split"] == half]
            reached = [i for i in intents if i.name == "safety"]
            asked = sum(i.asks_first for i in reached)
            rows.append((f"{label} [{asked} of them asked first]", half, len(reached), len(intents)))
    print("\n| set (written apart from the matcher) | half | count | of | share |\n|---|---|---|---|---|")
    for name, half, count, total in rows:
        print(f"| {name} | {half} | {count} | {total} | {100 * count / total:.1f}% |")
    # Misses are listed from the tuning halves only: the test halves are for reporting, never for reading.
    crisis = [c for name in (*CRISIS_SETS, *CRISIS_PAIR_SETS) for c in sets.cases(name)]
    missed = [c for c in crisis if c["split"] == "tune" and match_intent(c["text"], guide, context).name != "safety"]
    print("\n| crisis statements missed (tuning halves) | kind |\n|---|---|")
    for case in missed:
        print(f"| {case['text']} | {case['category']} |")


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

    held_out_tables(guide)

    texts = [c["text"] for c in load_cases(DEV_SET)] + sentences
    texts += [c["text"] for name in ("commands-heldout", "questions-heldout", "safety-crisis") for c in sets.cases(name)]
    timings = []
    for _ in range(3):
        for text in texts:
            start = time.perf_counter()
            intent = match_intent(text, guide, DialogueContext(step=4))
            if intent.name == "question":
                answer_question(guide, text, DialogueContext(step=4))
            timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    p99 = timings[int(len(timings) * 0.99) - 1]
    print("\n| utterances timed (parse, and answer for questions) | median ms | p95 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|")
    print(f"| {len(timings)} | {statistics.median(timings):.3f} | {p95:.3f} | {p99:.3f} | {timings[-1]:.3f} |")


if __name__ == "__main__":
    main()
