"""The guide loader: a valid guide loads whole; every kind of broken guide is refused with its location."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from voicecoach.errors import GuideError
from voicecoach.guide.loader import MAX_GUIDE_BYTES, load_guide

DATA = Path(__file__).parent / "data"
BROKEN = DATA / "broken"

# file → (line:column, field path or None, words the message must contain)
EXPECTED_PROBLEMS = {
    "unknown-key.yaml": ("2:1", None, "did you mean 'title'"),
    "missing-field.yaml": ("11:5", "steps[0].reflection", "is missing"),
    "wrong-type.yaml": ("33:13", "steps[1].number", "expected a whole number"),
    "not-a-list.yaml": ("37:11", "steps[1].body", "expected a list"),
    "duplicate-step-id.yaml": ("34:9", "steps[1].id", "already used on line 12"),
    "duplicate-concept-id.yaml": ("43:13", "steps[1].concepts[1].id", "already used on line 40"),
    "duplicate-alias.yaml": ("65:32", "steps[2].concepts[0].aliases[1]", "already names concept 'steeping'"),
    "duplicate-key.yaml": ("60:5", "steps[2].title", "appears twice"),
    "step-out-of-order.yaml": ("57:13", "steps[2].number", "is 4 but this is step 3"),
    "empty-text.yaml": ("36:14", "steps[1].summary", "is empty"),
    "too-few-faq.yaml": ("50:7", "steps[1].faq", "needs at least 3"),
    "bad-id.yaml": ("1:5", "id", "not a valid id"),
    "syntax-error.yaml": ("78:1", None, "started at line 35, column 12"),
    "alias-bomb.yaml": ("1:4", None, "anchors and aliases"),
    "deep-nesting.yaml": ("1:19", None, "nested more than"),
    "empty.yaml": ("1:1", None, "the file is empty"),
    "not-a-mapping.yaml": ("1:1", None, "expected a mapping"),
    "python-tag.yaml": ("2:8", "title", "expected text"),
    "not-utf8.yaml": ("4:16", None, "not UTF-8"),
    "binary.yaml": ("1:1", None, "not UTF-8"),
}


def test_every_broken_guide_has_an_expectation() -> None:
    assert sorted(p.name for p in BROKEN.iterdir()) == sorted(EXPECTED_PROBLEMS)


@pytest.mark.parametrize("name", sorted(EXPECTED_PROBLEMS))
def test_broken_guide_is_refused_with_file_line_column_and_field(name: str) -> None:
    where, field, words = EXPECTED_PROBLEMS[name]
    path = BROKEN / name
    with pytest.raises(GuideError) as caught:
        load_guide(path)
    matching = [p for p in caught.value.problems if p.startswith(f"{path}:{where}: ")]
    assert matching, caught.value.problems
    assert words in matching[0]
    if field:
        assert matching[0].startswith(f"{path}:{where}: {field}: ")


def test_valid_guide_loads_into_values() -> None:
    guide = load_guide(DATA / "minimal.yaml")
    assert guide.id == "tea-basics"
    assert [s.number for s in guide.steps] == [1, 2, 3]
    assert guide.step(2).main_concept.id == "steeping"
    assert guide.concept("tannins")[0].number == 2
    assert guide.step(1).body[0].startswith("Fresh water has more oxygen")
    assert len(guide.content_hash) == 64


def test_all_problems_are_listed_not_only_the_first(tmp_path: Path) -> None:
    text = (DATA / "minimal.yaml").read_text()
    text = text.replace("title: Making", "titel: Making").replace("  - number: 3", "  - number: 7")
    text = text.replace("id: tannins", "id: steeping")
    bad = tmp_path / "many.yaml"
    bad.write_text(text)
    with pytest.raises(GuideError) as caught:
        load_guide(bad)
    assert len(caught.value.problems) == 4  # unknown key, missing title, duplicate id, numbering


def test_oversized_guide_is_refused_before_parsing(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# " + b"x" * MAX_GUIDE_BYTES + b"\n")
    with pytest.raises(GuideError, match="limited to 1024 KiB"):
        load_guide(big)


def test_missing_file_and_folder_get_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(GuideError, match="no such file"):
        load_guide(tmp_path / "absent.yaml")
    with pytest.raises(GuideError, match="is a folder"):
        load_guide(tmp_path)


def test_alias_bomb_is_refused_fast_with_bounded_memory() -> None:
    code = (
        "import time; from voicecoach.guide.loader import load_guide\n"
        "from voicecoach.errors import GuideError\n"
        f"t = time.process_time()\ntry: load_guide({str(BROKEN / 'alias-bomb.yaml')!r})\n"
        "except GuideError: pass\n"
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
        "print(time.process_time() - t, hwm)"
    )
    seconds, peak_rss_kib = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                          check=True, timeout=60).stdout.split()
    assert float(seconds) < 1.0
    assert int(peak_rss_kib) < 200_000
