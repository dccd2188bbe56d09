"""Fixtures for the coach: the small test guide (a real YAML file), a private state folder, coach factories."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from voicecoach.coach.machine import Coach
from voicecoach.coach.progress import ProgressStore
from voicecoach.guide.loader import load_guide
from voicecoach.guide.model import Guide

DATA = Path(__file__).parent / "data"
SMALL_GUIDE = DATA / "small-guide.yaml"


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "state"
    monkeypatch.setenv("VOICECOACH_STATE_DIR", str(folder))
    return folder


@pytest.fixture
def guide() -> Guide:
    return load_guide(SMALL_GUIDE)


@pytest.fixture
def new_coach(guide: Guide, state_dir: Path) -> Callable[..., Coach]:
    """A coach over the small guide, saving progress in the private state folder."""

    def make(**options: object) -> Coach:
        return Coach(guide, progress=ProgressStore(), **options)  # type: ignore[arg-type]

    return make

