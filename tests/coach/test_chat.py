"""Whole conversations through `voicecoach chat` in a subprocess, with piped input and the real bundled guide."""

from __future__ import annotations

import json
import os
import pty
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from voicecoach.config import CHECKOUT_DIR
from voicecoach.guide.loader import load_guide
from voicecoach.guide.model import Guide

REAL_GUIDE = CHECKOUT_DIR / "content" / "relationship-ten-steps.yaml"
PROGRESS_FILE = "progress-relationship-ten-steps.json"
SMALL_GUIDE = Path(__file__).parent / "data" / "small-guide.yaml"


def spoken(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def real_guide() -> Guide:
    return load_guide(REAL_GUIDE)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environment = dict(os.environ)
    environment["VOICECOACH_STATE_DIR"] = str(tmp_path / "state")
    environment["VOICECOACH_CONTENT_DIR"] = str(tmp_path / "user-content")
    environment.pop("PULSE_SERVER", None)
    return environment


def command(*options: str, guide: Path = REAL_GUIDE) -> list[str]:
    return [sys.executable, "-m", "voicecoach", "chat", "--guide", str(guide), *options]


def chat(env: dict[str, str], *lines: str, options: tuple[str, ...] = (), guide: Path = REAL_GUIDE,
         ) -> tuple[list[str], subprocess.CompletedProcess[str]]:
    """Run one session with `lines` piped in; the coach's replies (without "coach> ") and the process."""
    done = subprocess.run(command(*options, guide=guide), input="".join(f"{line}\n" for line in lines),
                          capture_output=True, text=True, env=env, timeout=60)
    assert "Traceback" not in done.stderr, done.stderr
    replies = [line.removeprefix("coach> ") for line in done.stdout.splitlines()]
    assert all(line.startswith("coach> ") for line in done.stdout.splitlines()), done.stdout
    return replies, done


def saved(env: dict[str, str]) -> dict:
    return json.loads((Path(env["VOICECOACH_STATE_DIR"]) / PROGRESS_FILE).read_text())


def test_conversation_covering_every_intent(env: dict[str, str], real_guide: Guide) -> None:
    steps = real_guide.steps
    one = steps[0]
    script = [
        ("tell me more", lambda r: r == spoken(one.body[0])),
        ("pause", lambda r: r.startswith("Paused.")),
        ("where am I", lambda r: r.startswith(f"Step 1 of 10: {one.title}.") and "paused" in r),
        ("help", lambda r: "resume" in r),
        ("resume", lambda r: r.startswith("Continuing step 1. " + spoken(one.body[1])) and one.reflection in r),
        ("give me an example", lambda r: spoken(one.examples[0]) in r),
        ("give me another example", lambda r: spoken(one.examples[1]) in r),
        ("explain vulnerability", lambda r: spoken(one.main_concept.explanation) in r),
        ("what if my partner will not talk to me", lambda r: r.startswith(("From step", "I think step"))),
        ("say that again", None),  # checked below: equals the previous reply
        ("summary", lambda r: spoken(one.summary) in r),
        ("list the steps", lambda r: all(f"Step {s.number}: {s.title}" in r for s in steps)),
        ("slower", lambda r: "slowly" in r),
        ("faster", lambda r: "faster" in r),
        ("faster", lambda r: "faster" in r),
        ("go to step twelve", lambda r: r == "There are 10 steps. Say a number from 1 to 10."),
        ("go to step four", lambda r: r == f"Step 4 of 10: {steps[3].title}. {spoken(steps[3].summary)}"),
        ("go back", lambda r: r.startswith(f"Step 3 of 10: {steps[2].title}.")),
        ("next", lambda r: r.startswith("Step 4 of 10")),
        ("start over", lambda r: r.startswith(f"Okay, from the top. Step 1 of 10: {one.title}.")),
        ("go back", lambda r: "already the first step" in r),
        ("cancel", lambda r: r == "Okay."),
        ("yes", lambda r: "no question waiting" in r),
        ("no", lambda r: "no question waiting" in r),
        ("purple elephant banana", lambda r: r == "Sorry, I didn't catch that."),
        ("purple elephant banana", lambda r: "say help" in r.lower()),
        ("my partner hits me", lambda r: r.startswith(spoken(real_guide.safety.message))),
        ("help", lambda r: "on hold" in r and "resume" in r),
        ("resume", lambda r: r.startswith("Okay, back to the guide.")),
        ("go to step ten", lambda r: r.startswith("Step 10 of 10")),
        ("next", lambda r: r.startswith("That was the last step.") and r.endswith("closing words?")),
        ("yes", lambda r: r.startswith(spoken(real_guide.outro)[:60])),
        ("stop", lambda r: r.startswith("Goodbye")),
        ("next", None),  # never read: the session ended at "stop"
    ]
    replies, done = chat(env, *(line for line, _ in script))
    assert done.returncode == 0
    assert replies[0].startswith(spoken(real_guide.intro)[:60])
    assert f"Step 1 of 10: {one.title}. {spoken(one.summary)}" in replies[0]
    assert len(replies) == len(script)  # the start, plus one reply per line up to "stop"
    for index, (line, check) in enumerate(script[:-1], start=1):
        if check is not None:
            assert check(replies[index]), (line, replies[index])
    assert replies[10] == replies[9]  # "say that again"
    assert saved(env)["rate"] == 170 - 20 + 40


def test_end_of_input_saves_and_next_session_picks_up_mid_step(env: dict[str, str], real_guide: Guide) -> None:
    four = real_guide.steps[3]
    replies, done = chat(env, "go to step four", "tell me more")
    assert done.returncode == 0 and replies[-1] == spoken(four.body[0])
    replies, _ = chat(env, "yes")
    assert replies[0] == f"Welcome back to {real_guide.title}. Pick up at step 4, {four.title}?"
    assert replies[1].startswith(f"Step 4 of 10: {four.title}. Picking up where you left off. {spoken(four.body[1])}")


def test_next_session_no_starts_at_step_one_and_fresh_skips_the_question(env: dict[str, str], real_guide: Guide) -> None:
    chat(env, "go to step 6")
    replies, _ = chat(env, "no", "where am I")
    assert "start from the beginning" in replies[1]
    assert replies[2] == f"Step 1 of 10: {real_guide.steps[0].title}."
    chat(env, "go to step 6")
    replies, _ = chat(env, "where am I", options=("--fresh",))
    assert "Pick up" not in replies[0] and replies[1].startswith("Step 1 of 10")


def test_pause_in_the_middle_of_a_steps_body_resumes_there_after_other_questions(
        env: dict[str, str], real_guide: Guide) -> None:
    two = real_guide.steps[1]
    replies, _ = chat(env, "next", "tell me more", "pause", "list the steps", "explain", "summary", "resume")
    assert replies[2] == spoken(two.body[0])
    assert replies[-1].startswith(f"Continuing step 2. {spoken(two.body[1])}")


def test_corrupt_state_file_is_kept_aside_and_the_session_starts_fresh(env: dict[str, str]) -> None:
    state = Path(env["VOICECOACH_STATE_DIR"])
    state.mkdir(parents=True)
    (state / PROGRESS_FILE).write_text('{"format": 1, "step": ')
    replies, done = chat(env, "next")
    assert done.returncode == 0
    assert replies[0].startswith("I couldn't read your saved place, so we'll start from the beginning.")
    assert "damaged" in done.stderr and "Traceback" not in done.stderr
    assert (state / (PROGRESS_FILE + ".bak")).read_text() == '{"format": 1, "step": '
    assert saved(env)["step"] == 2  # and the session saved a good file again


def test_guide_changed_between_sessions_restarts_the_step_and_says_so(env: dict[str, str], tmp_path: Path) -> None:
    guide_path = tmp_path / "relationship-ten-steps.yaml"
    shutil.copy(REAL_GUIDE, guide_path)
    four = load_guide(guide_path).steps[3]
    chat(env, "go to step 4", "tell me more", guide=guide_path)
    first_words = " ".join(four.body[1].split()[:3])
    text = guide_path.read_text()
    assert text.count(first_words) == 1
    guide_path.write_text(text.replace(first_words, "Truly, " + first_words))
    assert load_guide(guide_path).steps[3] != four
    replies, _ = chat(env, "yes", guide=guide_path)
    assert "The guide has changed since last time, so step 4 starts from the beginning." in replies[0]
    assert replies[1] == f"Step 4 of 10: {four.title}. {spoken(four.summary)}"


def test_ctrl_c_exits_cleanly_and_saves(env: dict[str, str]) -> None:
    # Ctrl-C as a terminal delivers it: an earlier test in this process may have left SIGINT ignored, and a
    # child inherits that (Python then installs no KeyboardInterrupt handler)
    process = subprocess.Popen(command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert process.stdin is not None and process.stdout is not None
    assert process.stdout.readline().startswith("coach> Welcome.")
    process.stdin.write("go to step 7\n")
    process.stdin.flush()
    assert process.stdout.readline().startswith("coach> Step 7 of 10")
    process.send_signal(signal.SIGINT)
    process.wait(timeout=20)  # input stays open until it has gone: an end of input first would also exit, with 0
    _, stderr = process.communicate(timeout=20)
    assert process.returncode == 130 and "Traceback" not in stderr
    assert saved(env)["step"] == 7


def test_prompt_is_shown_only_when_input_is_a_terminal(env: dict[str, str]) -> None:
    replies, _ = chat(env, "next")
    assert not any("you>" in reply for reply in replies)
    controller, terminal = pty.openpty()
    process = subprocess.Popen(command("--fresh"), stdin=terminal, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    os.close(terminal)
    os.write(controller, b"next\n")
    os.write(controller, b"\x04")  # Ctrl-D: end of input on a terminal
    stdout, _ = process.communicate(timeout=20)
    os.close(controller)
    assert process.returncode == 0
    assert stdout.decode().count("you> ") >= 2 and "coach> Step 2 of 10" in stdout.decode()


def test_speak_without_a_speaker_says_so_once_and_continues_in_text(env: dict[str, str]) -> None:
    env["PULSE_SERVER"] = "unix:/nonexistent/pulse/native"
    replies, done = chat(env, "next", options=("--speak",))
    notices = [line for line in done.stderr.splitlines() if line.startswith("voicecoach: ")]
    assert done.returncode == 0 and len(notices) == 1 and "text" in notices[0]
    assert replies[1].startswith("Step 2 of 10")


def test_unwritable_state_folder_warns_once_and_chat_goes_on(env: dict[str, str], tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the state folder should be")
    env["VOICECOACH_STATE_DIR"] = str(blocker / "state")
    replies, done = chat(env, "next", "next", "faster", "stop")
    assert done.returncode == 0 and replies[-1].startswith("Goodbye")
    assert done.stderr.count("cannot save progress") == 1


def test_unknown_guide_is_a_short_error_not_a_traceback(env: dict[str, str], tmp_path: Path) -> None:
    done = subprocess.run(command(guide=tmp_path / "missing.yaml"), input="", capture_output=True, text=True,
                          env=env, timeout=60)
    assert done.returncode != 0 and done.stderr.startswith("voicecoach: ") and "Traceback" not in done.stderr


@pytest.mark.audio
@pytest.mark.slow
def test_speak_plays_the_replies_on_a_real_output_device(env: dict[str, str], pulse, tmp_path: Path) -> None:
    import wave

    import numpy as np

    chat(env, *["faster"] * 5, guide=SMALL_GUIDE)  # 260 words per minute, remembered: keeps this test short
    speak_env = dict(env, **{k: pulse.env[k] for k in ("PULSE_SERVER", "XDG_RUNTIME_DIR")})
    recording = pulse.start_recording(tmp_path / "spoken.wav")
    replies, done = chat(speak_env, "where am I", options=("--speak",), guide=SMALL_GUIDE)
    recording.stop()
    assert done.returncode == 0 and replies[1] == "Step 1 of 3: Pick a sunny spot."
    assert "text instead" not in done.stderr and "continuing as text" not in done.stderr
    with wave.open(str(tmp_path / "spoken.wav")) as wav:
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16).astype(np.float32)
        rate = wav.getframerate()
    frames = samples[: len(samples) // 320 * 320].reshape(-1, 320)  # 20 ms at 16 kHz
    loud = np.sqrt((frames ** 2).mean(axis=1)) > 500
    assert rate == 16000 and loud.sum() * 0.02 > 3.0  # seconds of speech heard on the output
