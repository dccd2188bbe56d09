"""`voicecoach parse` and `voicecoach ask` as other tools call them (JSON lines in, JSON lines out)."""

from __future__ import annotations

import json
import subprocess
import sys


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "voicecoach", *args], input=stdin, capture_output=True,
                          text=True, timeout=60)


def test_parse_json_lines_with_context() -> None:
    lines = [{"text": "continue", "context": {"step": 6, "paused": True, "awaiting_confirmation": False}},
             {"text": "go to step six"}, {"text": "what's the weather"}]
    result = run("parse", "--json", stdin="\n".join(json.dumps(x) for x in lines) + "\n")
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(o["text"], o["intent"], o["slots"]) for o in out] == [
        ("continue", "resume", {}), ("go to step six", "goto_step", {"step": 6}), ("what's the weather", "none", {})]
    assert all(set(o) == {"text", "intent", "slots", "score"} for o in out)


def test_parse_reports_a_bad_line_and_goes_on() -> None:
    result = run("parse", "--json", stdin='not json\n{"text": "next"}\n')
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert "error" in out[0] and out[1]["intent"] == "next"
    assert result.returncode == 1 and "Traceback" not in result.stderr


def test_parse_prints_readably() -> None:
    result = run("parse", "jump to the second step")
    assert "goto_step step=2" in result.stdout


def test_ask_json_gives_the_answer_and_its_step() -> None:
    result = run("ask", "--json", stdin='{"text": "why should i listen instead of giving advice"}\n'
                                       '{"text": "how do i change the oil in a diesel engine"}\n')
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["step"] == 6 and first["answer"].startswith("From step 6")
    assert second["step"] is None and "doesn't" in second["answer"]


def test_unknown_guide_is_a_clear_error() -> None:
    result = run("parse", "--guide", "no-such-guide", "next")
    assert result.returncode != 0 and "no guide with id" in result.stderr and "Traceback" not in result.stderr
