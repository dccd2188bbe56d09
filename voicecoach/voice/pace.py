"""Pace in words per minute for a neural voice: its measured length_scale → words-per-minute curve (data in
voices.yaml), inverted to give the length_scale that makes the voice speak at a wanted pace."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

MIN_LENGTH_SCALE, MAX_LENGTH_SCALE = 0.25, 4.0  # beyond these the voice garbles or drones


@dataclass(frozen=True)
class PacePoint:
    """At `length_scale` the voice was heard at `wpm` words per minute."""

    length_scale: float
    wpm: float


@dataclass(frozen=True)
class PaceCurve:
    """Measured points, by increasing length_scale (so decreasing wpm). The curve is interpolated
    piecewise linearly in log-log space (pace is near a power law of length_scale, with a different
    exponent at each end) and extended past its ends along the end segments."""

    points: tuple[PacePoint, ...]

    def __post_init__(self) -> None:
        points = tuple(sorted(self.points, key=lambda p: p.length_scale))
        if len(points) < 2:
            raise ValueError("a pace curve needs at least two measured points")
        if any(b.wpm >= a.wpm for a, b in zip(points, points[1:])):
            raise ValueError("a pace curve's wpm must fall as length_scale grows")
        object.__setattr__(self, "points", points)

    @classmethod
    def from_pairs(cls, pairs: list[list[float]] | list[tuple[float, float]]) -> PaceCurve:
        return cls(tuple(PacePoint(float(scale), float(wpm)) for scale, wpm in pairs))

    def wpm_at(self, length_scale: float) -> float:
        """The pace the voice speaks at for `length_scale`."""
        x = math.log(length_scale)
        a, b = self._segment(lambda p: math.log(p.length_scale), x)
        return math.exp(_interpolate(x, math.log(a.length_scale), math.log(b.length_scale),
                                     math.log(a.wpm), math.log(b.wpm)))

    def length_scale_for(self, wpm: float) -> float:
        """The length_scale that gives `wpm` words per minute (clamped to what the voice can do)."""
        y = math.log(wpm)
        a, b = self._segment(lambda p: -math.log(p.wpm), -y)
        scale = math.exp(_interpolate(y, math.log(a.wpm), math.log(b.wpm),
                                      math.log(a.length_scale), math.log(b.length_scale)))
        return min(MAX_LENGTH_SCALE, max(MIN_LENGTH_SCALE, scale))

    def _segment(self, key, value: float) -> tuple[PacePoint, PacePoint]:
        """The two neighbouring points around `value` (the end pair when it lies outside)."""
        points = self.points
        for a, b in zip(points, points[1:]):
            if key(b) >= value:
                return a, b
        return points[-2], points[-1]


def _interpolate(x: float, x0: float, x1: float, y0: float, y1: float) -> float:
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0)


_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)*")


def count_words(spoken: str) -> int:
    """Words in already-normalised text, as a listener counts them ("don't" is one word)."""
    return len(_WORD.findall(spoken))


def words_per_minute(words: int, seconds: float) -> float:
    return 60.0 * words / seconds if seconds > 0 else 0.0
