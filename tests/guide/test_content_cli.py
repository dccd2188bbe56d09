"""`voicecoach content list` and `voicecoach content validate` as a user runs them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).parent / "data"


def voicecoach(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "voicecoach", *args], capture_output=True, text=True,
                          timeout=60, env={**os.environ, **(env or {})})


def test_validate_passes_a_good_guide() -> None:
    result = voicecoach("content", "validate", str(DATA / "minimal.yaml"))
    assert result.returncode == 0
    assert "OK (tea-basics, 3 steps)" in result.stdout


def test_validate_lists_problems_of_every_file_without_traceback() -> None:
    broken = sorted(str(p) for p in (DATA / "broken").iterdir())
    result = voicecoach("content", "validate", str(DATA / "minimal.yaml"), *broken)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    for path in broken:
        assert f"{path}: INVALID" in result.stderr


def test_list_shows_bundled_and_user_guides_with_step_counts(tmp_path: Path) -> None:
    shutil.copy(DATA / "minimal.yaml", tmp_path / "tea.yaml")
    (tmp_path / "broken.yaml").write_text("id: [unclosed\n")
    result = voicecoach("content", "list", env={"VOICECOACH_CONTENT_DIR": str(tmp_path)})
    assert result.returncode == 0
    assert "tea-basics" in result.stdout and "3 steps" in result.stdout
    assert "broken" in result.stdout and "INVALID" in result.stdout
