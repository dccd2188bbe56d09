"""Rigs shared by the tests and the benchmarks (so a benchmark never imports from tests/): real audio
devices from a private PulseAudio daemon (pulse.py) and what the coach says on them, mapped to time
(speaker_monitor.py), `voicecoach run` driven as a subprocess (live_coach.py), real Wyoming servers on
loopback (wyoming_servers.py), a reproducible echo room on files (echo_room.py) and a process's memory
read from /proc (process_memory.py)."""
