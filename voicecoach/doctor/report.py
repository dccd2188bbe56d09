"""The doctor's findings as values: one Check per link with a plain verdict and what to do, and the
report printed as text or JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

VERDICTS = ("ok", "warn", "fail", "skip")
NAME_WIDTH = len("recognizer")
_SHOWN = {"ok": "ok", "warn": "WARN", "fail": "FAIL", "skip": "skip"}


@dataclass(frozen=True)
class Check:
    """One link of the chain: `verdict` is ok, warn (works, but worse than it could), fail (does not
    work) or skip (not checked, and why); `advice` is what to do ('' when nothing)."""

    name: str
    verdict: str
    summary: str
    advice: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {self.verdict!r}")


@dataclass(frozen=True)
class Report:
    checks: tuple[Check, ...]
    seconds: float

    @property
    def ok(self) -> bool:
        return not any(check.verdict == "fail" for check in self.checks)

    def get(self, name: str) -> Check:
        return next(check for check in self.checks if check.name == name)

    def as_json(self) -> str:
        return json.dumps({"ok": self.ok, "seconds": round(self.seconds, 1),
                           "checks": [asdict(check) for check in self.checks]}, default=str)

    def as_text(self) -> str:
        return "\n".join([*(line for check in self.checks for line in check_lines(check)), self.verdict()])

    def verdict(self) -> str:
        failed = [c.name for c in self.checks if c.verdict == "fail"]
        warned = [c.name for c in self.checks if c.verdict == "warn"]
        if failed:
            verdict = f"not ready: {', '.join(failed)} {'does' if len(failed) == 1 else 'do'} not work (see above)"
        elif warned:
            verdict = f"ready, with warnings about {', '.join(warned)}"
        else:
            verdict = "ready: every link checked works"
        return f"{verdict} ({self.seconds:.1f} s)"


def check_lines(check: Check) -> list[str]:
    """A check as one line, and a second with what to do when there is something."""
    lines = [f"  {check.name:<{NAME_WIDTH}}  {_SHOWN[check.verdict]:<4}  {check.summary}"]
    if check.advice:
        lines.append(f"  {'':<{NAME_WIDTH}}        what to do: {check.advice}")
    return lines
