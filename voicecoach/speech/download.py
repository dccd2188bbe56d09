"""Downloading a Vosk model: resumable (HTTP Range) into models/.downloads, size-checked against the
server's Content-Length, CRC-checked on unzip, then installed atomically."""

from __future__ import annotations

import socket
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, TextIO

from voicecoach.config import user_models_dir
from voicecoach.errors import ModelError
from voicecoach.speech.models import install_model, known_models, models_base_url

CHUNK = 1 << 16
Progress = Callable[[int, int | None], None]

OFFLINE_HINT = ("voicecoach works without a Vosk model (it falls back to PocketSphinx); to add one, download "
                "the zip on a connected machine from https://alphacephei.com/vosk/models and run "
                "`voicecoach models install FILE.zip`")


def progress_bar(stream: TextIO = sys.stderr) -> Progress:
    """A one-line text progress bar: [#####.....]  12.3/40.0 MB."""
    last = [0.0]

    def show(done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - last[0] < 0.2 and (total is None or done < total):
            return
        last[0] = now
        mb = done / 1e6
        if total:
            filled = int(30 * done / total)
            stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {mb:6.1f}/{total / 1e6:.1f} MB")
        else:
            stream.write(f"\r{mb:6.1f} MB")
        if total is not None and done >= total:
            stream.write("\n")
        stream.flush()

    return show


def download_model(name: str, models_dir: Path | None = None, progress: Progress | None = None,
                   timeout: float = 30.0) -> Path:
    """Fetch `name`.zip from the models site and install it; returns the installed model folder."""
    if name.endswith(".zip"):
        name = name[:-4]
    known = {m.name for m in known_models()}
    if name not in known and not name.startswith("vosk-model"):
        raise ModelError(f"unknown model {name!r}", "see `voicecoach models list` for the names")
    base = models_dir or user_models_dir()
    if (base / name).exists():
        raise ModelError(f"{name} is already installed at {base / name}", "nothing to do")
    downloads = base / ".downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    partial = downloads / f"{name}.zip.part"
    url = f"{models_base_url().rstrip('/')}/{name}.zip"
    _fetch(url, partial, progress, timeout)
    archive = partial.with_name(f"{name}.zip")
    partial.replace(archive)
    try:
        return install_model(archive, base, name)
    finally:
        archive.unlink(missing_ok=True)


def _fetch(url: str, partial: Path, progress: Progress | None, timeout: float) -> None:
    have = partial.stat().st_size if partial.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "voicecoach"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        if error.code == 416 and have:  # the partial file is already complete
            return
        if error.code == 404:
            raise ModelError(f"{url}: not found on the server", "check the name with `voicecoach models list`") from None
        raise ModelError(f"{url}: the server answered {error.code} {error.reason}", OFFLINE_HINT) from None
    except (urllib.error.URLError, socket.timeout, ConnectionError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise ModelError(f"cannot reach {url.split('/')[2]} (offline? {reason})", OFFLINE_HINT) from None
    with response:
        resumed = response.status == 206
        if not resumed:
            have = 0
        length = response.headers.get("Content-Length")
        total = have + int(length) if length is not None else None
        done = have
        try:
            with open(partial, "ab" if resumed else "wb") as out:
                while True:
                    chunk = response.read(CHUNK)
                    if not chunk:
                        break
                    out.write(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
        except (socket.timeout, ConnectionError, OSError) as error:
            raise ModelError(f"download interrupted after {done / 1e6:.1f} MB ({error})",
                             "run the same command again: it resumes where it stopped") from None
    if total is not None and done != total:
        raise ModelError(f"download incomplete: {done} of {total} bytes",
                         "run the same command again: it resumes where it stopped")
