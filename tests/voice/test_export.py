"""The export script (pure) and `voicecoach export`: files per step, intro, outro and an M3U playlist."""

from __future__ import annotations

from pathlib import Path

import pytest

from voicecoach.cli import main
from voicecoach.errors import VoicecoachError
from voicecoach.guide.loader import load_guide
from voicecoach.voice.export import check_format, export_guide
from voicecoach.voice.script import build_script, slugify

from voice_signals import rms

GUIDE = Path(__file__).resolve().parents[1] / "guide" / "data" / "minimal.yaml"


@pytest.fixture(scope="module")
def guide():
    return load_guide(GUIDE)


def test_script_reads_each_step_in_order(guide):
    items = build_script(guide)
    assert [item.stem for item in items] == ["00-intro", "01-boil-fresh-water", "02-steep-the-leaves",
                                            "03-serve-and-enjoy", "04-outro"]
    step = guide.steps[0]
    paragraphs = items[1].paragraphs
    assert paragraphs[0] == f"Step 1: {step.title}."
    assert paragraphs[1] == step.summary
    assert paragraphs[2:2 + len(step.body)] == step.body
    assert all(example in paragraphs for example in step.examples)
    assert paragraphs[-1].endswith(step.reflection)
    assert items[0].paragraphs[-1] == guide.intro and items[-1].paragraphs == (guide.outro,)


def test_slugify_is_file_name_safe():
    assert slugify("Dare to be vulnerable!") == "dare-to-be-vulnerable"
    assert slugify("Café: ça va?") == "cafe-ca-va"


@pytest.mark.parametrize("fmt", ["wav", "flac", "ogg", "mp3"])
def test_export_writes_audio_per_item_and_a_playlist(tmp_path, guide, fmt):
    soundfile = pytest.importorskip("soundfile")
    seen = []
    result = export_guide(guide, tmp_path / "out", fmt, progress=lambda done, total, title: seen.append(done))
    assert seen == list(range(len(guide.steps) + 3))
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == sorted([f.path.name for f in result.files] + ["tea-basics.m3u"])
    for exported in result.files:
        data, rate = soundfile.read(exported.path, dtype="int16")
        assert len(data) / rate == pytest.approx(exported.duration, abs=0.15)  # codecs pad a little
        assert rms(data) > 300
    lines = result.playlist.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "#EXTM3U"
    entries = [line for line in lines if not line.startswith("#")]
    assert entries == [f.path.name for f in result.files]
    assert all((result.directory / entry).is_file() for entry in entries)
    infos = [line for line in lines if line.startswith("#EXTINF:")]
    assert infos[1] == f"#EXTINF:{round(result.files[1].duration)},Step 1: Boil fresh water"
    assert 30 < result.duration < 200


def test_unknown_format_is_refused_before_any_work(tmp_path):
    with pytest.raises(VoicecoachError, match="unknown audio format"):
        check_format("aiff")


def test_cli_export_with_progress_and_summary(tmp_path, capsys):
    out = tmp_path / "audio"
    assert main(["export", "--guide", str(GUIDE), "--out", str(out), "--rate", "220"]) == 0
    captured = capsys.readouterr()
    assert "5/5" in captured.err and "[" in captured.err
    assert captured.out.startswith("wrote 5 files")
    assert (out / "tea-basics.m3u").is_file() and len(list(out.glob("*.wav"))) == 5
    assert not list(out.glob(".*part"))


def test_cli_export_of_a_missing_guide_is_a_short_error(tmp_path, capsys):
    code = main(["export", "--guide", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "o")])
    assert code != 0
    assert "Traceback" not in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
