"""`voicecoach doctor`: checks each link of the chain the coach runs on (settings, disk, recognizer and
its model, voice, speaker, microphone, echo) and says plainly what works and what to do."""

from voicecoach.doctor.report import Check, Report
from voicecoach.doctor.run import run_doctor

__all__ = ["Check", "Report", "run_doctor"]
