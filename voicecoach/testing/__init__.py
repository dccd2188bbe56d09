"""Rigs shared by the tests and the benchmarks (so a benchmark never imports from tests/): real audio
devices from a private PulseAudio daemon (pulse.py), `voicecoach run` driven as a subprocess
(live_coach.py) and real Wyoming servers on loopback (wyoming_servers.py)."""
