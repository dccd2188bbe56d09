"""`voicecoach settings show|set|unset|path`: the settings file that `voicecoach run` starts from."""

from __future__ import annotations

import argparse

from voicecoach.settings.store import SHOW_HINT, SettingsError


def register(subparsers: argparse._SubParsersAction) -> None:
    settings = subparsers.add_parser(
        "settings", help="the options `voicecoach run` keeps: show, set, unset, path",
        description="The settings file (TOML, in your config folder) holds the `voicecoach run` options you "
                    "keep; a flag given to `run` wins for that run. VOICECOACH_CONFIG_DIR moves the folder.")
    actions = settings.add_subparsers(dest="settings_command", metavar="ACTION")
    actions.add_parser("show", help="every setting, its value and where it comes from; checks the file") \
        .set_defaults(handler=run_show)
    set_ = actions.add_parser("set", help="set KEY to VALUE (checked, saved atomically)")
    set_.add_argument("key", metavar="KEY")
    set_.add_argument("value", metavar="VALUE")
    set_.set_defaults(handler=run_set)
    unset = actions.add_parser("unset", help="remove KEY: back to its default")
    unset.add_argument("key", metavar="KEY")
    unset.set_defaults(handler=run_unset)
    actions.add_parser("path", help="print where the settings file is").set_defaults(handler=run_path)
    settings.set_defaults(handler=run_show)


def run_show(args: argparse.Namespace) -> int:
    from voicecoach.settings.keys import DEFAULTS, KEYS
    from voicecoach.settings.store import read_settings
    from voicecoach.settings.toml_text import toml_value

    settings = read_settings(move_damaged=False)
    state = {"absent": "not created yet: all defaults", "valid": "valid", "invalid": "has problems (below)",
             "damaged": f"DAMAGED: {settings.damage}"}[settings.state]
    print(f"settings file: {settings.path} ({state})")
    width = max(len(key.name) for key in KEYS)
    for key in KEYS:
        if key.name in settings.values:
            print(f"  {key.name:<{width}} = {toml_value(settings.values[key.name])}")
        else:
            print(f"  {key.name:<{width}}   (default: {DEFAULTS[key.name]})")
    if settings.state == "damaged":
        raise SettingsError(f"{settings.path} is not a readable TOML file ({settings.damage})",
                            "fix it, or delete it; `voicecoach run` keeps a damaged file aside and uses the "
                            "defaults")
    if settings.problems:
        count = len(settings.problems)
        raise SettingsError(f"{count} problem{'s' if count != 1 else ''} in the settings file "
                            "(`run` uses the defaults for these):", SHOW_HINT, settings.problems)
    return 0


def run_set(args: argparse.Namespace) -> int:
    from voicecoach.settings.store import set_setting
    from voicecoach.settings.toml_text import toml_value

    key, value, before = set_setting(args.key, args.value)
    if before.state == "damaged":
        kept = f"kept aside as {before.moved_to}" if before.moved_to else "replaced"
        print(f"voicecoach: the old settings file could not be read ({before.damage}); {kept}")
    print(f"{key.name} = {toml_value(value)}  (in {before.path})")
    return 0


def run_unset(args: argparse.Namespace) -> int:
    from voicecoach.settings.keys import DEFAULTS
    from voicecoach.settings.store import unset_setting

    key, was_set = unset_setting(args.key)
    print(f"{key.name}: {'removed' if was_set else 'was not set'}; default: {DEFAULTS[key.name]}")
    return 0


def run_path(args: argparse.Namespace) -> int:
    from voicecoach.settings.store import settings_path
    print(settings_path())
    return 0
