"""voicecoach: an offline, hands-free voice coach that turns a step-by-step guide into a conversation."""

__version__ = "0.1.0"
