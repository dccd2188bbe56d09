"""Fixtures for the live tests: a loudspeaker's echo made real on the PulseAudio rig."""

from __future__ import annotations

import pytest


@pytest.fixture
def loopback(pulse):
    """Feed what the coach plays back into its microphone (60 ms late) for the duration of a test."""
    module = pulse.run("pactl", "load-module", "module-loopback", "source=spk.monitor", "sink=mic",
                       "latency_msec=60").stdout.strip()
    yield
    pulse.run("pactl", "unload-module", module)
