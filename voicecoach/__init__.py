"""voicecoach: an offline, hands-free voice coach that turns a step-by-step guide into a conversation."""

import os

__version__ = "0.1.0"

# onnxruntime (the sentence encoder and Piper) sends usage telemetry since 1.29: a DNS lookup and an
# outbound connection on every start. Nothing leaves this machine unless the user asks, so it is turned
# off here, before any engine imports onnxruntime; child processes inherit the setting.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
