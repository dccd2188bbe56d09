"""The settings file: every kept `run` option written and used, flags winning, located errors, a damaged
file kept aside while the coach still starts, the first-run line, and atomic saves (real files, real runs)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import tomllib
from pathlib import Path

import numpy as np
import pytest

from voicecoach.audio.wavfile import write_wav
from voicecoach.cli import build_parser
from voicecoach.cli.live import live_options
from voicecoach.settings import KEYS, SettingsError, apply_settings, read_settings, set_setting, unset_setting
from voicecoach.settings import store

REPO = Path(__file__).resolve().parents[1]
SMALL_GUIDE = REPO / "tests" / "guide" / "data" / "minimal.yaml"

# A value for every kept key, none of them the default, as typed for `settings set`.
TYPED = {"input-device": "pulse", "output-device": "7", "engine": "pocketsphinx", "model": "~/my-vosk-model",
         "voice": "espeak", "rate": "150", "volume": "0.6", "wake-word": "hey coach", "continuous": "yes",
         "hangover-ms": "500", "early-ms": "0", "min-confidence": "0.35", "quiet": "on", "guide": str(SMALL_GUIDE),
         "echo-cancel": "off"}


@pytest.fixture(autouse=True)
def config_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "config"
    monkeypatch.setenv("VOICECOACH_CONFIG_DIR", str(folder))
    return folder


def settings_file(config_dir: Path) -> Path:
    return config_dir / "settings.toml"


def effective(*flags: str):
    """What `voicecoach run FLAGS` would run with: (LiveOptions, guide)."""
    args = apply_settings(build_parser().parse_args(["run", *flags]), read_settings())
    return live_options(args), args.guide


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "voicecoach", *args], capture_output=True, text=True,
                          timeout=180, env=env)


def run_env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "VOICECOACH_STATE_DIR": str(tmp_path / "state"), "PULSE_SERVER": "unix:/nonexistent"}


def test_the_table_covers_every_kept_run_option() -> None:
    assert set(TYPED) == {key.name for key in KEYS}
    run_dests = {a.dest for a in build_parser()._subparsers._group_actions[0].choices["run"]._actions}
    assert {key.dest for key in KEYS} <= run_dests
    assert run_dests - {key.dest for key in KEYS} == {"help", "input", "realtime", "wav_out", "fresh", "record"}


def test_every_kept_option_written_to_the_file_is_used(config_dir) -> None:
    for name, text in TYPED.items():
        set_setting(name, text)
    saved = tomllib.loads(settings_file(config_dir).read_text())
    assert saved["rate"] == 150 and saved["continuous"] is True and saved["volume"] == 0.6
    options, guide = effective()
    assert options.input_device == "pulse" and options.output_device == "7"
    assert options.engine == "pocketsphinx" and options.model == Path("~/my-vosk-model").expanduser()
    assert options.voice == "espeak" and options.rate == 150 and options.volume == 0.6
    assert options.wake_phrase == "hey coach" and options.continuous is True and options.quiet is True
    assert options.hangover_ms == 500 and options.min_confidence == 0.35 and options.early_ms == 0
    assert options.echo_cancel == "off"
    assert guide == str(SMALL_GUIDE)


def test_with_no_file_the_built_in_defaults_are_used() -> None:
    options, guide = effective()
    assert (options.engine, options.volume, options.continuous, options.quiet) == ("auto", 1.0, False, False)
    assert options.echo_cancel == "auto"
    assert options.rate is None and options.wake_phrase is None and options.hangover_ms is None and guide is None


def test_flags_override_the_file() -> None:
    for name, text in TYPED.items():
        set_setting(name, text)
    options, guide = effective(
        "--input-device", "mic2", "--output-device", "spk2", "--engine", "whisper", "--model", "/m",
        "--voice", "piper", "--rate", "200", "--volume", "0.9", "--wake-word", "", "--no-continuous",
        "--hangover-ms", "700", "--min-confidence", "0.8", "--no-quiet", "--guide", "other", "--echo-cancel", "on",
        "--early-ms", "200")
    assert (options.input_device, options.output_device, options.engine, options.model) == \
        ("mic2", "spk2", "whisper", Path("/m"))
    assert (options.voice, options.rate, options.volume, options.wake_phrase) == ("piper", 200, 0.9, None)
    assert (options.continuous, options.quiet, options.hangover_ms, options.min_confidence) == \
        (False, False, 700, 0.8)
    assert options.echo_cancel == "on" and options.early_ms == 200
    assert guide == "other"


def test_a_real_run_uses_the_settings_file(tmp_path, config_dir) -> None:
    """No flags but --input: the guide and continuous reading come from the file."""
    env = {**run_env(tmp_path), "VOICECOACH_CONFIG_DIR": str(config_dir)}
    for name, value in (("guide", str(SMALL_GUIDE)), ("continuous", "true")):
        assert cli("settings", "set", name, value, env=env).returncode == 0
    quiet = write_wav(tmp_path / "quiet.wav", np.zeros(3 * 16000, np.int16))
    result = cli("run", "--input", str(quiet), "--fresh", env=env)
    assert result.returncode == 0, result.stderr
    for heading in ("Step 1 of 3", "Step 2 of 3", "Step 3 of 3"):  # read through without being asked
        assert heading in result.stdout
    assert "first run" not in result.stderr and "settings" not in result.stderr
    flagged = cli("run", "--input", str(quiet), "--fresh", "--no-continuous", env=env)
    assert flagged.returncode == 0 and "Step 3 of 3" not in flagged.stdout


def test_the_first_run_says_how_to_check_and_where_settings_live_once(tmp_path, config_dir) -> None:
    env = {**run_env(tmp_path), "VOICECOACH_CONFIG_DIR": str(config_dir)}
    quiet = write_wav(tmp_path / "quiet.wav", np.zeros(16000, np.int16))
    first = cli("run", "--guide", str(SMALL_GUIDE), "--input", str(quiet), "--fresh", env=env)
    assert first.returncode == 0, first.stderr
    lines = [line for line in first.stderr.splitlines() if "first run" in line]
    assert len(lines) == 1 and "voicecoach doctor" in lines[0] and str(settings_file(config_dir)) in lines[0]
    assert read_settings().state == "valid" and read_settings().values == {}  # a commented template
    assert "# rate = 170" in settings_file(config_dir).read_text()
    second = cli("run", "--guide", str(SMALL_GUIDE), "--input", str(quiet), "--fresh", env=env)
    assert second.returncode == 0 and "first run" not in second.stderr


@pytest.mark.parametrize("line, expected", [
    ('rate = 500', ":1:1: rate: 500 is out of range: use a whole number from 80 to 450"),
    ('rate = "150"', ':1:1: rate: must be a whole number from 80 to 450 (without quotes), not the text "150"'),
    ('wake_word = "hey coach"', ':1:1: wake_word: no setting called "wake_word" (did you mean "wake-word"?)'),
    ('voise = "piper"', ':1:1: voise: no setting called "voise" (did you mean "voice"?)'),
    ('engine = "whsiper"', ':1:1: engine: "whsiper" is not allowed: use one of "auto", "whisper", "vosk", '
                           '"pocketsphinx" (did you mean "whisper"?)'),
    ('continuous = "yes"', ':1:1: continuous: must be true or false (without quotes), not the text "yes"'),
    ('volume = 2.5', ":1:1: volume: 2.5 is out of range: use a number from 0 to 1"),
    ('[run]\nrate = 150', ":1:1: [run]: the settings file has no tables"),
])
def test_a_wrong_key_or_value_is_located_with_what_is_allowed(config_dir, line, expected) -> None:
    config_dir.mkdir()
    settings_file(config_dir).write_text(f'# mine\nvoice = "espeak"\n\n{line}\n')
    settings = read_settings()
    assert settings.state == "invalid" and len(settings.problems) == 1
    located = expected.replace(":1:1:", f"{settings_file(config_dir)}:4:1:")
    assert settings.problems[0].startswith(located), settings.problems[0]
    assert settings.values.get("voice") == "espeak"  # the good lines are still used


def test_settings_set_refuses_a_wrong_key_or_value_without_a_traceback(config_dir) -> None:
    env = {**os.environ, "VOICECOACH_CONFIG_DIR": str(config_dir)}
    typo = cli("settings", "set", "rat", "150", env=env)
    assert typo.returncode == 2 and 'no setting called "rat" (did you mean "rate"?)' in typo.stderr
    assert "hint: settings are: input-device" in typo.stderr
    for args, expected in ((("rate", "20"), "rate: 20 is out of range: use a whole number from 80 to 450"),
                           (("quiet", "maybe"), 'quiet: must be true or false, not "maybe"'),
                           (("engine", "vsok"), 'did you mean "vosk"?')):
        result = cli("settings", "set", *args, env=env)
        assert result.returncode == 2 and expected in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    assert not settings_file(config_dir).exists()  # nothing was written
    with pytest.raises(SettingsError, match="did you mean"):
        unset_setting("hangover")


def test_settings_show_lists_values_and_points_at_bad_lines(config_dir) -> None:
    config_dir.mkdir()
    settings_file(config_dir).write_text('rate = 150\nhangover-ms = 20\n')
    result = cli("settings", "show", env={**os.environ, "VOICECOACH_CONFIG_DIR": str(config_dir)})
    assert result.returncode == 2
    assert "rate           = 150" in result.stdout and "(default: 1.0)" in result.stdout
    assert f"{settings_file(config_dir)}:2:1: hangover-ms: 20 is out of range" in result.stderr
    path = cli("settings", "path", env={**os.environ, "VOICECOACH_CONFIG_DIR": str(config_dir)})
    assert path.stdout.strip() == str(settings_file(config_dir))


def test_a_run_with_a_wrong_value_starts_with_one_warning_and_keeps_the_rest(tmp_path, config_dir) -> None:
    config_dir.mkdir()
    settings_file(config_dir).write_text(f'guide = "{SMALL_GUIDE}"\ncontinuous = true\nrate = 9000\n')
    quiet = write_wav(tmp_path / "quiet.wav", np.zeros(3 * 16000, np.int16))
    result = cli("run", "--input", str(quiet), "--fresh", env={**run_env(tmp_path),
                                                                "VOICECOACH_CONFIG_DIR": str(config_dir)})
    assert result.returncode == 0, result.stderr
    assert "Step 3 of 3" in result.stdout  # continuous and the guide still came from the file
    assert result.stderr.count("voicecoach: 1 problem in the settings file") == 1
    assert f"{settings_file(config_dir)}:3:1: rate: 9000 is out of range" in result.stderr


@pytest.mark.parametrize("damage", [b'rate = \n', b'rate = 150\nrate = 160\n', b'\x00\x01\x02binary',
                                    b'voice = "unterminated\n', b'\xff\xfe not utf-8'])
def test_a_damaged_file_is_kept_aside_and_the_coach_still_starts(tmp_path, config_dir, damage) -> None:
    config_dir.mkdir()
    settings_file(config_dir).write_bytes(damage)
    result = cli("run", "--guide", str(SMALL_GUIDE), "--input",
                 str(write_wav(tmp_path / "q.wav", np.zeros(16000, np.int16))), "--fresh",
                 env={**run_env(tmp_path), "VOICECOACH_CONFIG_DIR": str(config_dir)})
    assert result.returncode == 0, result.stderr
    assert "coach: " in result.stdout and "Traceback" not in result.stderr
    warnings = [line for line in result.stderr.splitlines()
                if line.startswith("voicecoach:") and "recognizer:" not in line]  # the engine's own line
    assert len(warnings) == 1 and "cannot be read" in warnings[0] and "defaults are used" in warnings[0], warnings
    kept = list(config_dir.glob("settings.toml.broken-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == damage and str(kept[0]) in warnings[0]
    assert read_settings().state == "valid"  # a fresh commented file took its place


def test_the_damage_is_located(config_dir) -> None:
    config_dir.mkdir()
    settings_file(config_dir).write_text('rate = 150\nvoice = piper\n')
    settings = read_settings(move_damaged=False)
    assert settings.state == "damaged" and settings.damage.startswith("line 2, column 9:")
    assert settings_file(config_dir).exists()  # not moved when asked not to


def test_set_keeps_comments_and_other_lines(config_dir) -> None:
    config_dir.mkdir()
    text = '# my microphone is the USB one\ninput-device = "USB"  # the blue one\n\nrate = 150 # slow\n'
    settings_file(config_dir).write_text(text)
    set_setting("rate", "180")
    set_setting("wake_word", 'hey "coach" \\ ü\t')
    saved = settings_file(config_dir).read_text()
    assert saved.startswith('# my microphone is the USB one\ninput-device = "USB"  # the blue one\n\n')
    assert "rate = 180  # slow" in saved
    values = read_settings().values
    assert values == {"input-device": "USB", "rate": 180, "wake-word": 'hey "coach" \\ ü'}
    assert unset_setting("rate")[1] is True and "rate" not in read_settings().values
    assert "# my microphone is the USB one" in settings_file(config_dir).read_text()


def test_a_failed_save_leaves_the_old_file_whole(config_dir, monkeypatch) -> None:
    set_setting("rate", "150")
    before = settings_file(config_dir).read_bytes()

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store.os, "fsync", disk_full)
    with pytest.raises(OSError):
        set_setting("rate", "200")
    assert settings_file(config_dir).read_bytes() == before
    assert [p.name for p in config_dir.iterdir()] == ["settings.toml"]  # no temporary file left


def test_saves_replace_the_file_so_readers_never_see_half_of_one(config_dir) -> None:
    set_setting("wake-word", "hey coach " * 50)
    original = settings_file(config_dir).read_bytes()
    held = open(settings_file(config_dir), "rb")  # the first version, kept open
    seen: list[str] = []
    done = threading.Event()

    def read_all_the_time() -> None:
        while not done.is_set():
            try:
                seen.append(read_settings(move_damaged=False).state)
            except FileNotFoundError:
                seen.append("missing")

    reader = threading.Thread(target=read_all_the_time)
    reader.start()
    try:
        for rate in range(100, 300, 2):
            set_setting("rate", str(rate))
    finally:
        done.set()
        reader.join()
    assert seen and set(seen) == {"valid"}
    with held:  # replaced, never rewritten in place: the open copy is untouched
        assert held.read() == original
    assert read_settings().values["rate"] == 298
    assert [p.name for p in config_dir.iterdir()] == ["settings.toml"]
