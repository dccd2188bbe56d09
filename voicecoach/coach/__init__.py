"""The coach: the dialogue state machine over a guide, its wording, and saved progress (no audio here)."""

from voicecoach.coach.machine import Coach
from voicecoach.coach.progress import ProgressStore, SavedProgress
from voicecoach.coach.replies import Action, Reply

__all__ = ["Action", "Coach", "ProgressStore", "Reply", "SavedProgress"]
