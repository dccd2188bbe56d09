"""Saved progress: atomic JSON files per guide, forgiving reads, guide changes, and a kill -9 mid-save."""

from __future__ import annotations

import json
import logging
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest

from voicecoach.coach.machine import Coach
from voicecoach.coach.progress import FORMAT_VERSION, ProgressStore, SavedProgress, progress_for, restore_place
from voicecoach.coach.replies import Action
from voicecoach.coach.state import DEFAULT_RATE, Place
from voicecoach.guide.loader import load_guide
from voicecoach.guide.model import Guide
from voicecoach.understanding.intents import Intent

SMALL_GUIDE = Path(__file__).parent / "data" / "small-guide.yaml"
NewCoach = Callable[..., Coach]


def leave_at(coach: Coach, *intents: Intent) -> None:
    coach.start()
    for intent in intents:
        coach.handle(intent)


def test_progress_is_saved_as_versioned_json_in_the_state_folder(new_coach: NewCoach, state_dir: Path) -> None:
    leave_at(new_coach(), Intent("goto_step", {"step": 2}), Intent("more"), Intent("slower"))
    data = json.loads((state_dir / "progress-small-garden.json").read_text())
    assert data["format"] == FORMAT_VERSION
    assert (data["guide_id"], data["step"], data["step_id"], data["paragraph"], data["sentence"]) == \
        ("small-garden", 2, "choose-soil", 1, 0)
    assert data["rate"] == DEFAULT_RATE - 20
    assert [p.name for p in state_dir.iterdir()] == ["progress-small-garden.json"]  # no temp files left


def test_restart_asks_to_pick_up_and_yes_continues_mid_paragraph(new_coach: NewCoach) -> None:
    first = new_coach()
    leave_at(first, Intent("goto_step", {"step": 2}), Intent("more"))
    first.interrupted(1)
    first.handle(Intent("pause"))
    again = new_coach()
    question = again.start()
    assert question.action is Action.AWAIT_YES_NO
    assert question.text.endswith("Pick up at step 2, Choose good soil?")
    reply = again.handle(Intent("yes"))
    assert reply.text == ("Step 2 of 3: Choose good soil. Picking up where you left off. "
                          "Garden soil packs down in pots. Roots then cannot breathe.")


def test_restart_no_starts_from_the_beginning(new_coach: NewCoach) -> None:
    leave_at(new_coach(), Intent("goto_step", {"step": 3}))
    again = new_coach()
    again.start()
    reply = again.handle(Intent("no"))
    assert "start from the beginning" in reply.text and "Step 1 of 3" in reply.text
    assert again.context.step == 1


def test_speaking_rate_is_remembered_between_sessions(new_coach: NewCoach) -> None:
    leave_at(new_coach(), Intent("faster"), Intent("faster"))
    assert new_coach().start().rate == DEFAULT_RATE + 40


def test_fresh_ignores_saved_progress(new_coach: NewCoach) -> None:
    leave_at(new_coach(), Intent("goto_step", {"step": 3}), Intent("slower"))
    reply = new_coach(fresh=True).start()
    assert reply.action is Action.LISTEN and "Step 1 of 3" in reply.text and reply.rate == DEFAULT_RATE


def test_a_finished_guide_starts_fresh_next_time(new_coach: NewCoach) -> None:
    leave_at(new_coach(), Intent("goto_step", {"step": 3}), Intent("next"), Intent("yes"))
    reply = new_coach().start()
    assert reply.action is Action.LISTEN and reply.text.startswith("Welcome to the herb garden guide.")


@pytest.mark.parametrize("content", [
    b"{not json", b"\xff\xfe\x00garbage", b"[1, 2, 3]", b"",
    json.dumps({"format": 1, "guide_id": "small-garden", "step": "two"}).encode(),
    json.dumps({"format": 99, "guide_id": "small-garden"}).encode(),
], ids=["broken-json", "binary", "not-an-object", "empty", "wrong-types", "future-format"])
def test_corrupt_progress_is_kept_as_bak_and_the_coach_starts_fresh(
        new_coach: NewCoach, state_dir: Path, content: bytes, caplog: pytest.LogCaptureFixture) -> None:
    state_dir.mkdir(parents=True)
    path = state_dir / "progress-small-garden.json"
    path.write_bytes(content)
    with caplog.at_level(logging.WARNING):
        reply = new_coach().start()
    assert reply.text.startswith("I couldn't read your saved place, so we'll start from the beginning.")
    assert "Step 1 of 3" in reply.text
    assert (state_dir / "progress-small-garden.json.bak").read_bytes() == content
    assert "damaged" in caplog.text


def test_a_truncated_progress_file_is_kept_as_bak_and_the_coach_starts_fresh(
        new_coach: NewCoach, state_dir: Path) -> None:
    leave_at(new_coach(), Intent("goto_step", {"step": 2}))
    path = state_dir / "progress-small-garden.json"
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])  # a disk that filled up mid-write, or a bad copy
    reply = new_coach().start()
    assert reply.text.startswith("I couldn't read your saved place")
    assert (state_dir / "progress-small-garden.json.bak").read_bytes() == whole[: len(whole) // 2]


@pytest.mark.parametrize("older", [
    {"guide_id": "small-garden", "step": 3, "rate": 150},
    {"format": 0, "guide_id": "small-garden", "step": 3, "rate": 150, "position": [1, 2]},
], ids=["no-format-key", "format-0"])
def test_progress_from_an_older_format_keeps_the_step_and_rate(
        new_coach: NewCoach, state_dir: Path, older: dict) -> None:
    state_dir.mkdir(parents=True)
    (state_dir / "progress-small-garden.json").write_text(json.dumps(older))
    coach = new_coach()
    question = coach.start()
    assert "written by an older version of voicecoach, so step 3 starts from the beginning" in question.text
    assert question.text.endswith("Pick up at step 3, Water wisely?")
    assert coach.state.rate == 150
    reply = coach.handle(Intent("yes"))
    assert reply.text.startswith("Step 3 of 3")
    coach.save()
    upgraded = json.loads((state_dir / "progress-small-garden.json").read_text())
    assert upgraded["format"] == FORMAT_VERSION and upgraded["step"] == 3


def test_progress_from_a_newer_format_is_not_read(new_coach: NewCoach, state_dir: Path) -> None:
    state_dir.mkdir(parents=True)
    newer = json.dumps({"format": FORMAT_VERSION + 1, "guide_id": "small-garden", "step": 2}).encode()
    (state_dir / "progress-small-garden.json").write_bytes(newer)
    assert new_coach().start().text.startswith("I couldn't read your saved place")
    assert (state_dir / "progress-small-garden.json.bak").read_bytes() == newer


def test_an_unwritable_state_folder_warns_once_and_the_session_goes_on(
        guide: Guide, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    coach = Coach(guide, progress=ProgressStore(blocker / "state"))
    with caplog.at_level(logging.WARNING):
        coach.start()
        for name in ("next", "more", "next", "slower"):
            assert coach.handle(Intent(name)).text
        assert coach.handle(Intent("stop")).action is Action.END
    warnings = [r for r in caplog.records if "cannot save progress" in r.getMessage()]
    assert len(warnings) == 1


def edited_guide(tmp_path: Path, old: str, new: str) -> Guide:
    text = SMALL_GUIDE.read_text()
    assert old in text
    path = tmp_path / "small-guide.yaml"
    path.write_text(text.replace(old, new))
    return load_guide(path)


def test_guide_changed_in_the_saved_step_restarts_that_step_and_says_so(guide: Guide, tmp_path: Path) -> None:
    store = ProgressStore(tmp_path / "state")
    leave_at(Coach(guide, progress=store), Intent("goto_step", {"step": 2}), Intent("more"), Intent("more"))
    changed = edited_guide(tmp_path, "Add a handful of grit", "Add some grit")
    coach = Coach(changed, progress=store)
    question = coach.start()
    assert "The guide has changed since last time, so step 2 starts from the beginning." in question.text
    assert coach.handle(Intent("yes")).text == "Step 2 of 3: Choose good soil. Light, well-drained soil keeps roots healthy."


def test_guide_changed_elsewhere_keeps_the_exact_place_even_if_renumbered(guide: Guide, tmp_path: Path) -> None:
    saved = progress_for(guide, Place(2, 1, 1), 150)
    text = SMALL_GUIDE.read_text()
    step1_start, step2_start = text.index("  - number: 1"), text.index("  - number: 2")
    step3_start = text.index("  - number: 3")
    reordered = (text[:step1_start] + text[step2_start:step3_start].replace("number: 2", "number: 1")
                 + text[step1_start:step2_start].replace("number: 1", "number: 2") + text[step3_start:])
    path = tmp_path / "reordered.yaml"
    path.write_text(reordered)
    restored = restore_place(load_guide(path), saved)
    assert restored.place == Place(1, 1, 1) and not restored.changed


def test_guide_with_the_saved_step_removed_goes_to_the_nearest_step(guide: Guide, tmp_path: Path) -> None:
    saved = SavedProgress("small-garden", "old", 7, "gone-step", "0" * 16, 2, 0, 170)
    restored = restore_place(guide, saved)
    assert restored.place == Place(3) and restored.changed


_SAVE_LOOP = """
import sys
from voicecoach.coach.progress import ProgressStore, SavedProgress
store = ProgressStore(__import__("pathlib").Path(sys.argv[1]))
print("ready", flush=True)
i = 0
while True:
    i += 1
    store.save(SavedProgress("small-garden", "h" * 64, i % 3 + 1, "step-id", "s" * 16, i % 5, i % 7, 170, False))
"""


def test_a_process_killed_mid_save_leaves_a_loadable_state(tmp_path: Path) -> None:
    folder = tmp_path / "state"
    rng = random.Random(4)
    for _ in range(8):
        child = subprocess.Popen([sys.executable, "-c", _SAVE_LOOP, str(folder)], stdout=subprocess.PIPE)
        assert child.stdout is not None and child.stdout.readline() == b"ready\n"
        time.sleep(rng.uniform(0.05, 0.3))
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        result = ProgressStore(folder).load("small-garden")
        assert result.problem is None and result.progress is not None
        assert 1 <= result.progress.step <= 3
    assert not (folder / "progress-small-garden.json.bak").exists()
