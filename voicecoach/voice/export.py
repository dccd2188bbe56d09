"""Render a guide's script to audio files (wav always; ogg, flac, mp3 through soundfile) and an M3U playlist."""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from voicecoach.errors import VoicecoachError
from voicecoach.guide.model import Guide
from voicecoach.audio.wavfile import publish
from voicecoach.voice.clip import AudioClip, join_clips, write_wav
from voicecoach.voice.script import ScriptItem, build_script
from voicecoach.sentences import split_sentences
from voicecoach.voice.synthesizer import Synthesizer

FORMATS = ("wav", "ogg", "flac", "mp3")
_SOUNDFILE = {"ogg": ("OGG", "VORBIS"), "flac": ("FLAC", "PCM_16"), "mp3": ("MP3", "MPEG_LAYER_III")}
SENTENCE_GAP, PARAGRAPH_GAP, LEAD_IN = 0.25, 0.7, 0.3


@dataclass(frozen=True)
class ExportedFile:
    path: Path
    title: str
    duration: float


@dataclass(frozen=True)
class ExportResult:
    directory: Path
    files: tuple[ExportedFile, ...]
    playlist: Path
    seconds_taken: float

    @property
    def duration(self) -> float:
        return sum(f.duration for f in self.files)


Progress = Callable[[int, int, str], None]  # (done, total, title of the item being rendered)


def check_format(fmt: str) -> None:
    """VoicecoachError unless `fmt` can be written here (checked before any work is done)."""
    if fmt not in FORMATS:
        raise VoicecoachError(f"unknown audio format {fmt!r}", f"choose one of: {', '.join(FORMATS)}")
    if fmt == "wav":
        return
    try:
        import soundfile
    except (ImportError, OSError) as error:
        raise VoicecoachError(f"writing {fmt} needs the soundfile package ({error})",
                              "pip install soundfile (or: pip install 'voicecoach[export]'), or use --format wav") from error
    if _SOUNDFILE[fmt][0] not in soundfile.available_formats():
        raise VoicecoachError(
            f"this libsndfile ({soundfile.__libsndfile_version__}) cannot write {fmt}",
            "upgrade it: pip install --upgrade soundfile (mp3 needs libsndfile 1.1 or newer), or use --format wav")


def render_item(item: ScriptItem, synthesizer: Synthesizer) -> AudioClip:
    """One item as audio: sentences a short pause apart, paragraphs a longer one."""
    paragraphs = [join_clips([synthesizer.synthesize(s) for s in split_sentences(p)], SENTENCE_GAP)
                  for p in item.paragraphs]
    rate = paragraphs[0].sample_rate if paragraphs else 22050
    lead = AudioClip.silence(LEAD_IN, rate)
    return join_clips([lead, join_clips(paragraphs, PARAGRAPH_GAP, rate), lead], 0.0, rate)


def export_guide(guide: Guide, directory: str | Path, fmt: str = "wav", synthesizer: Synthesizer | None = None,
                 progress: Progress | None = None) -> ExportResult:
    """Write one file per script item and `<guide id>.m3u` into `directory`; each file appears whole."""
    check_format(fmt)
    began = time.monotonic()
    synthesizer = synthesizer or Synthesizer()
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    items = build_script(guide)
    files: list[ExportedFile] = []
    for done, item in enumerate(items):
        if progress:
            progress(done, len(items), item.title)
        clip = render_item(item, synthesizer)
        path = directory / f"{item.stem}.{fmt}"
        write_audio(path, clip, fmt)
        files.append(ExportedFile(path, item.title, clip.duration))
    if progress:
        progress(len(items), len(items), "")
    playlist = write_playlist(directory / f"{guide.id}.m3u", guide.title, files)
    return ExportResult(directory, tuple(files), playlist, time.monotonic() - began)


def write_audio(path: Path, clip: AudioClip, fmt: str) -> Path:
    """`clip` as `fmt` at `path`, written to a temporary name and renamed."""
    if fmt == "wav":
        return write_wav(path, clip)
    import soundfile

    container, subtype = _SOUNDFILE[fmt]
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(handle)
    try:
        soundfile.write(temp, clip.samples, clip.sample_rate, format=container, subtype=subtype)
        publish(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


def write_playlist(path: Path, title: str, files: list[ExportedFile]) -> Path:
    """An extended M3U with relative paths, UTF-8."""
    lines = ["#EXTM3U", f"#PLAYLIST:{title}"]
    for exported in files:
        lines.append(f"#EXTINF:{round(exported.duration)},{exported.title}")
        lines.append(exported.path.name)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
        publish(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path
