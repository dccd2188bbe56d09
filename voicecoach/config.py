"""Where voicecoach keeps things: bundled guides, the user's guides, saved progress, models and settings."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "voicecoach"
PACKAGE_DIR = Path(__file__).resolve().parent
CHECKOUT_DIR = PACKAGE_DIR.parent


def _override(env_name: str) -> Path | None:
    value = os.environ.get(env_name)
    return Path(value).expanduser() if value else None


def bundled_content_dir() -> Path:
    """Guides shipped with voicecoach: `content/` in a checkout, `share/voicecoach/content` when installed."""
    checkout = CHECKOUT_DIR / "content"
    if checkout.is_dir():
        return checkout
    return Path(sys.prefix) / "share" / APP_NAME / "content"


def user_content_dir() -> Path:
    """The user's own guides (VOICECOACH_CONTENT_DIR overrides)."""
    return _override("VOICECOACH_CONTENT_DIR") or Path(platformdirs.user_data_dir(APP_NAME)) / "content"


def user_state_dir() -> Path:
    """Saved progress (VOICECOACH_STATE_DIR overrides)."""
    return _override("VOICECOACH_STATE_DIR") or Path(platformdirs.user_state_dir(APP_NAME))


def user_config_dir() -> Path:
    """The settings file's folder (VOICECOACH_CONFIG_DIR overrides)."""
    return _override("VOICECOACH_CONFIG_DIR") or Path(platformdirs.user_config_dir(APP_NAME))


def user_models_dir() -> Path:
    """Installed speech models (VOICECOACH_MODELS_DIR overrides)."""
    return _override("VOICECOACH_MODELS_DIR") or Path(platformdirs.user_data_dir(APP_NAME)) / "models"


def checkout_models_dir() -> Path:
    """`models/` in a source checkout."""
    return CHECKOUT_DIR / "models"
