"""`voicecoach parse` (utterance → intent) and `voicecoach ask` (question → answer from the guide)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Callable, Iterator

from voicecoach.cli.common import add_guide_option
from voicecoach.errors import VoicecoachError
from voicecoach.guide.library import find_guide
from voicecoach.guide.model import Guide
from voicecoach.understanding.answers import answer_question
from voicecoach.understanding.intents import DialogueContext
from voicecoach.understanding.matcher import match_intent


def register(subparsers: argparse._SubParsersAction) -> None:
    parse = subparsers.add_parser("parse", help="show the intent of what a listener says")
    parse.add_argument("text", nargs="*", metavar="TEXT", help="utterances (each argument is one)")
    parse.add_argument("--json", action="store_true",
                       help='read JSON lines {"text": ..., "context": {...}} from stdin when no TEXT is given')
    add_guide_option(parse)
    parse.set_defaults(handler=run_parse)
    ask = subparsers.add_parser("ask", help="answer a question from the guide")
    ask.add_argument("text", nargs="*", metavar="QUESTION")
    ask.add_argument("--json", action="store_true", help="read JSON lines from stdin when no QUESTION is given")
    add_guide_option(ask)
    ask.set_defaults(handler=run_ask)


def _requests(args: argparse.Namespace) -> Iterator[tuple[str, DialogueContext, str | None]]:
    """(text, context, error) per utterance: from the arguments, or JSON lines on stdin."""
    if args.text:
        for text in args.text:
            yield text, DialogueContext(), None
        return
    if not args.json:
        raise VoicecoachError("nothing to read", "give the text as arguments, or use --json and pipe JSON lines")
    for number, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            if isinstance(request, str):
                request = {"text": request}
            if not isinstance(request, dict) or not isinstance(request.get("text", ""), str):
                raise ValueError('expected an object with a "text" string')
            context = request.get("context")
            if context is not None and not isinstance(context, dict):
                raise ValueError('"context" must be an object')
            yield request.get("text", ""), DialogueContext.from_mapping(context), None
        except ValueError as error:  # JSONDecodeError is a ValueError
            yield "", DialogueContext(), f"line {number}: {error}"


def _run(args: argparse.Namespace, understand: Callable[[Guide, str, DialogueContext], dict[str, Any]],
         show: Callable[[dict[str, Any]], str]) -> int:
    guide = find_guide(args.guide)
    status = 0
    for text, context, error in _requests(args):
        if error:
            print(json.dumps({"text": text, "error": error}) if args.json else error, flush=True)
            status = 1
            continue
        result = {"text": text, **understand(guide, text, context)}
        print(json.dumps(result, ensure_ascii=False) if args.json else show(result), flush=True)
    return status


def _parse_one(guide: Guide, text: str, context: DialogueContext) -> dict[str, Any]:
    intent = match_intent(text, guide, context)
    return {"intent": intent.name, "slots": dict(intent.slots), "score": round(intent.score, 3)}


def _ask_one(guide: Guide, text: str, context: DialogueContext) -> dict[str, Any]:
    answer = answer_question(guide, text, context)
    return {"answer": answer.text, "step": answer.step, "score": answer.score}


def run_parse(args: argparse.Namespace) -> int:
    def show(r: dict[str, Any]) -> str:
        slots = " ".join(f"{k}={v}" for k, v in r["slots"].items())
        return f"{r['text']!r} → {r['intent']}{' ' + slots if slots else ''} (score {r['score']:.2f})"
    return _run(args, _parse_one, show)


def run_ask(args: argparse.Namespace) -> int:
    def show(r: dict[str, Any]) -> str:
        return f"{r['answer']}\n  (step {r['step'] if r['step'] else '-'}, score {r['score']:.2f})"
    return _run(args, _ask_one, show)
