"""Soak: half an hour of commands, read speech and kitchen noise through `voicecoach run --input` (the real
recognizer and coach), faster than real time: commands handled, no exception, no memory growth.

The recording and the scoring are bench/soak.py's (`.venv/bin/python bench/soak.py` runs the full hour).
These 30 minutes are the first half of the bench's hour, and decoding is deterministic, so the bounds
below are set just above what they gave (2026-11-24): 290 of 293 commands handled (2 missed, 1 wrong:
PocketSphinx on synthetic voices; the hour: 98.5%, and 99.3% with another seed), 1 false command in
6.7 min of read speech, 7 in 5.1 min of kitchen noise alone ("yep", "shh"), RSS flat (+0.03%), 22x real
time: about 90 s here. The synthesized clips are cached; sox dithers them, so a fresh cache moves a
command or so either way (seen: 297 and 298 of 301 with two caches of an earlier recording).

The bounds were measured with PocketSphinx, so the soak names it. Whisper (auto's choice since its model is
installed) handled 205 of these 293 synthetic-voice commands on 2026-12-02 ("what can i say" heard as "what
can i see", "recap" as nothing): its accuracy is bench/whisper.py's and bench/soak.py --engine whisper's
to report, not this reliability test's to hide.
"""

from __future__ import annotations

import pytest

from bench.soak import AIM_RSS_GROWTH_PCT, DEFAULT_CACHE, soak

MINUTES = 30
MIN_HANDLED_SHARE = 0.98  # measured 0.990
MAX_WRONG = 2  # commands acted on as another intent: measured 1
MAX_FALSE_PER_MINUTE = {"read": 0.35, "noise": 2.0, "silence": 0.0}  # measured 0.15, 1.4 and 0


@pytest.mark.slow
def test_half_an_hour_of_audio_is_handled_faster_than_real_time_without_leaking(tmp_path) -> None:
    result = soak(MINUTES, tmp_path / "run", DEFAULT_CACHE, engine="pocketsphinx")
    score = result.score

    assert result.returncode == 0, result.stderr[-2000:]
    assert result.tracebacks == 0, result.stderr[-4000:]
    assert result.ended_early_at is None, f"a stop was heard at {result.ended_early_at:.1f} s"
    assert result.audio_s / result.wall_s > 1.0

    failures = [f"{c.start:.1f}s {c.text!r} ({c.voice}) → {[h.text for h in heard]}"
                for c, heard in score.missed + score.wrong]
    assert score.handled >= MIN_HANDLED_SHARE * score.commands, failures
    assert len(score.wrong) <= MAX_WRONG, failures
    for kind, bound in MAX_FALSE_PER_MINUTE.items():
        fired = score.false_commands[kind]
        minutes = score.minutes_by_kind[kind] if kind != "silence" else 1.0
        assert len(fired) <= bound * minutes, [(t.at, t.text, t.intent) for t in fired]

    assert result.memory.growth_pct < AIM_RSS_GROWTH_PCT, result.memory
