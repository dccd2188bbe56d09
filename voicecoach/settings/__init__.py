"""The user's settings file: the `voicecoach run` options worth keeping, in TOML in the config folder.
Flags override it for one run; `voicecoach settings show|set|unset|path` reads and edits it."""

from voicecoach.settings.keys import KEYS, SettingKey
from voicecoach.settings.run_options import apply_settings, load_run_settings
from voicecoach.settings.store import (Settings, SettingsError, read_settings, set_setting, settings_path,
                                       unset_setting)

__all__ = ["KEYS", "SettingKey", "Settings", "SettingsError", "apply_settings", "load_run_settings",
           "read_settings", "set_setting", "settings_path", "unset_setting"]
