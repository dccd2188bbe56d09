"""Fixtures for the understanding tests: the real first guide and the shared dev set."""

from __future__ import annotations

from pathlib import Path

import pytest

from voicecoach.guide.loader import load_guide
from voicecoach.guide.model import Guide

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
GUIDE_PATH = REPO / "content" / "relationship-ten-steps.yaml"


@pytest.fixture(scope="session")
def guide() -> Guide:
    return load_guide(GUIDE_PATH)
