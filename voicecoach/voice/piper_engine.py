"""PiperSynthesizer: Piper neural speech (piper-tts on onnxruntime) behind the same `synthesize(text, rate)`
interface as the espeak-ng Synthesizer. It owns one onnxruntime session with a deliberate thread count, the
voice's pace curve (words per minute → length_scale) and text normalisation; it owns no device.

The voice's files are verified by sha256 (voicecoach.assets) before onnxruntime sees them: a damaged or
tampered file is refused with a ModelError that says what is wrong, and nothing is loaded.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import numpy as np
import yaml

from voicecoach.errors import ModelError
from voicecoach.voice.clip import AudioClip
from voicecoach.voice.normalize import spoken_form
from voicecoach.voice.pace import PaceCurve, count_words
from voicecoach.voice.synthesizer import VoiceInfo, VoiceSettings

if TYPE_CHECKING:
    import onnxruntime

log = logging.getLogger(__name__)

_DATA = Path(__file__).with_name("voices.yaml")
# One intra-op thread gives the first sentence fastest on 2 shared cores: 0.12 s against 0.31 s with
# onnxruntime's default on an idle machine (issue 14), 0.19-0.73 s against 0.26-1.17 s with 2 threads or the
# default under other agents' load (2026-12-02). More threads only compete with the audio callback.
DEFAULT_THREADS = 1
CHUNK_GAP_SECONDS = 0.12  # between the pieces Piper's own phonemizer splits a text into
WARM_UP_TEXT = "Hello."
_NOT_PHONEMES = frozenset(" ˈˌː.,;:!?—–-'\"()")  # stress, length and punctuation marks
PRIOR_WORDS = 4  # a short text's density leans towards the voice's average by this many words
MAX_DENSITY_FACTOR = 1.3
LONG_SENTENCE_WORDS = 14  # longer sentences are synthesised clause by clause when streamed
MIN_CLAUSE_WORDS = 5
CLAUSE_PAUSE_SECONDS = 0.15
_CLAUSE_END = re.compile(r"(?<=[,;:—–])\s+")


def clause_pieces(sentence: str) -> list[str]:
    """`sentence` split after commas, semicolons, colons and dashes into pieces of at least
    MIN_CLAUSE_WORDS words; a sentence of up to LONG_SENTENCE_WORDS words stays whole."""
    if len(sentence.split()) <= LONG_SENTENCE_WORDS:
        return [sentence]
    pieces: list[str] = []
    for clause in _CLAUSE_END.split(sentence.strip()):
        if pieces and len(pieces[-1].split()) < MIN_CLAUSE_WORDS:
            pieces[-1] = f"{pieces[-1]} {clause}"
        else:
            pieces.append(clause)
    if len(pieces) > 1 and len(pieces[-1].split()) < MIN_CLAUSE_WORDS:
        pieces[-2:] = [f"{pieces[-2]} {pieces[-1]}"]
    return pieces


def _trim_tail(clip: AudioClip, keep_seconds: float, threshold: int = 300) -> AudioClip:
    """`clip` with its trailing quiet shortened to `keep_seconds`."""
    loud = np.flatnonzero(np.abs(clip.samples.astype(np.int32)) > threshold)
    if not len(loud):
        return clip
    end = min(len(clip.samples), int(loud[-1]) + 1 + round(keep_seconds * clip.sample_rate))
    return AudioClip(clip.samples[:end], clip.sample_rate)


def phoneme_density(pieces: list[list[str]], words: int, spec: "PiperVoiceSpec") -> float:
    """Phonemes per word of a phonemized text, pulled towards the voice's average for short texts."""
    phonemes = sum(1 for piece in pieces for p in piece if p not in _NOT_PHONEMES)
    return (phonemes + PRIOR_WORDS * spec.phonemes_per_word) / (words + PRIOR_WORDS)


@dataclass(frozen=True)
class PiperVoiceSpec:
    """A Piper voice from voices.yaml: its catalog asset, measured pace curve and loudness gain."""

    id: str
    asset: str
    language: str
    licence: str
    gain: float
    pace: PaceCurve
    phonemes_per_word: float

    @property
    def model_name(self) -> str:
        return f"{self.asset}.onnx"


@lru_cache(maxsize=1)
def _voices_data() -> tuple[str, tuple[PiperVoiceSpec, ...]]:
    data = yaml.safe_load(_DATA.read_text(encoding="utf-8"))
    voices = tuple(PiperVoiceSpec(str(v["id"]), str(v["asset"]), str(v["language"]), str(v["licence"]),
                                  float(v["gain"]), PaceCurve.from_pairs(v["pace"]),
                                  float(v["phonemes_per_word"])) for v in data["voices"])
    return str(data["default"]), voices


def piper_voices() -> tuple[PiperVoiceSpec, ...]:
    """Every Piper voice voicecoach knows (installed or not)."""
    return _voices_data()[1]


def get_piper_voice(voice_id: str | None = None) -> PiperVoiceSpec:
    """The voice called `voice_id` (the default one for None); ModelError if unknown."""
    default, voices = _voices_data()
    wanted = (voice_id or default).strip()
    for voice in voices:
        if voice.id.lower() == wanted.lower():
            return voice
    raise ModelError(f"no Piper voice called {voice_id!r}",
                     f"known Piper voices: {', '.join(v.id for v in voices)} (`voicecoach voices list`)")


def is_piper_voice(name: str | None) -> bool:
    """True for "piper" or the id of a known Piper voice."""
    if not name:
        return False
    wanted = name.strip().lower()
    return wanted == "piper" or any(v.id.lower() == wanted for v in piper_voices())


def voice_folder(spec: PiperVoiceSpec) -> Path:
    """The folder of `spec`'s verified files; ModelError saying why not (missing, or which file failed)."""
    from voicecoach.assets.store import find_asset, installed_assets

    folder = find_asset(spec.asset)
    if folder is not None:
        return folder
    broken = [copy for copy in installed_assets() if copy.asset.id == spec.asset and not copy.valid]
    install = f"voicecoach voices install {spec.id}"
    if broken:
        problems = "; ".join(f"{copy.path}: {'; '.join(copy.problems)}" for copy in broken)
        raise ModelError(f"the Piper voice {spec.id} failed verification and was not loaded ({problems})",
                         f"reinstall it: {install}")
    raise ModelError(f"the Piper voice {spec.id} is not installed", f"install it: {install} (or run scripts/setup)")


def piper_unavailable_reason() -> str | None:
    """Why piper-tts cannot run here (not installed, onnxruntime missing), or None when it can."""
    try:
        import onnxruntime  # noqa: F401
        import piper  # noqa: F401
    except Exception as error:  # ImportError, or OSError from a native library
        return f"piper-tts cannot be imported ({error})"
    return None


class PiperSynthesizer:
    """Renders text with a Piper voice; `rate` (words per minute) follows the voice's pace curve."""

    engine = "piper"

    def __init__(self, settings: VoiceSettings | None = None, threads: int = DEFAULT_THREADS,
                 warm_up: bool = True, session_options: onnxruntime.SessionOptions | None = None) -> None:
        """`session_options`: onnxruntime's options for the voice's session, instead of
        piper_session_options(threads) (bench/memory.py passes its own to measure other memory choices)."""
        settings = settings or VoiceSettings()
        self.spec = get_piper_voice(None if settings.voice in (None, "", "piper") else settings.voice)
        self.settings = VoiceSettings(self.spec.id, settings.rate, settings.volume)
        reason = piper_unavailable_reason()
        if reason:
            raise ModelError(reason, "pip install piper-tts (or run scripts/setup)")
        folder = voice_folder(self.spec)
        self.threads = threads
        self._voice = _load_voice(folder / self.spec.model_name, session_options or piper_session_options(threads))
        self.sample_rate = int(self._voice.config.sample_rate)
        self._lock = threading.Lock()
        self._closed = False
        if warm_up:  # the first run allocates onnxruntime's buffers and starts the phonemizer
            self.synthesize(WARM_UP_TEXT)

    @property
    def name(self) -> str:
        return f"Piper {self.spec.id}"

    def length_scale(self, rate: float, density: float | None = None) -> float:
        """Piper's length_scale for `rate` words per minute, for text with `density` phonemes per word
        (longer words take longer to say: the curve was measured at the voice's `phonemes_per_word`)."""
        factor = 1.0 if density is None else density / self.spec.phonemes_per_word
        return self.spec.pace.length_scale_for(rate * min(MAX_DENSITY_FACTOR, max(1 / MAX_DENSITY_FACTOR, factor)))

    def synthesize(self, text: str, rate: int | None = None) -> AudioClip:
        """Speech for `text` (one sentence or a few) at `rate` wpm (the settings' rate by default)."""
        from piper import SynthesisConfig

        spoken = spoken_form(text).strip()
        if not spoken:
            return AudioClip.silence(0, self.sample_rate)
        rate = rate if rate is not None else self.settings.rate
        VoiceSettings(self.spec.id, rate, self.settings.volume)  # the same range checks as espeak-ng's
        gap = np.zeros(round(CHUNK_GAP_SECONDS * self.sample_rate), dtype=np.float32)
        parts: list[np.ndarray] = []
        with self._lock:  # one session, one phonemizer: calls take turns
            if self._closed:
                return AudioClip.silence(0, self.sample_rate)
            pieces = [p for p in self._voice.phonemize(spoken) if p]
            scale = self.length_scale(rate, phoneme_density(pieces, count_words(spoken), self.spec))
            config = SynthesisConfig(length_scale=scale)
            for phonemes in pieces:
                audio = np.asarray(self._voice.phoneme_ids_to_audio(self._voice.phonemes_to_ids(phonemes), config))
                peak = float(np.max(np.abs(audio))) if audio.size else 0.0
                if parts:
                    parts.append(gap)
                parts.append(audio / peak if peak > 1e-8 else np.zeros_like(audio))
        if not parts:
            return AudioClip.silence(0, self.sample_rate)
        audio = np.concatenate(parts) * (self.spec.gain * self.settings.volume)
        return AudioClip(np.clip(np.round(audio * 32767.0), -32768, 32767).astype(np.int16), self.sample_rate)

    def close(self) -> None:
        """Wait for a synthesis under way, then refuse new ones (they give silence): onnxruntime aborts the
        whole process ("terminate called without an active exception") if it exits in the middle of a run."""
        with self._lock:
            self._closed = True

    def synthesize_parts(self, text: str, rate: int | None = None) -> Iterator[AudioClip]:
        """The same speech as synthesize(), an over-long sentence clause by clause (so its first audio
        is ready sooner); the pause after a clause is cut to CLAUSE_PAUSE_SECONDS."""
        pieces = clause_pieces(text)
        for number, piece in enumerate(pieces):
            clip = self.synthesize(piece, rate)
            yield clip if number == len(pieces) - 1 else _trim_tail(clip, CLAUSE_PAUSE_SECONDS)

    def voices(self) -> tuple[VoiceInfo, ...]:
        return (VoiceInfo(self.spec.id, self.name, (self.spec.language.lower(),)),)


# How the session holds memory between runs (bench/memory.py measures the alternatives): onnxruntime's own arena
# and buffers planned from the previous run's shapes are kept. Without the arena first audio was 46% slower; an
# arena growing by what is asked (kSameAsRequested) and no mem pattern saved nothing; malloc_trim after long
# inputs nothing beyond voicecoach.memory's fixed mmap threshold.
CPU_MEM_ARENA = True
MEM_PATTERN = True


def piper_session_options(threads: int = DEFAULT_THREADS) -> onnxruntime.SessionOptions:
    """onnxruntime's options for a Piper session: `threads` intra-op threads, no spinning, the memory above."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # no busy-waiting between runs
    options.enable_cpu_mem_arena = CPU_MEM_ARENA
    options.enable_mem_pattern = MEM_PATTERN
    return options


def _load_voice(model: Path, options: onnxruntime.SessionOptions):
    """A PiperVoice over one onnxruntime session made with `options`."""
    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig

    config_path = model.with_name(model.name + ".json")
    try:
        config = PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
        session = onnxruntime.InferenceSession(str(model), sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime's own errors have no common base class
        raise ModelError(f"the Piper voice {model.name} could not be loaded ({error})",
                         "reinstall it: voicecoach voices install") from error
    log.info("loaded Piper voice %s with %d onnxruntime thread(s)", model.name, options.intra_op_num_threads)
    shrink = onnxruntime.RunOptions()
    if options.enable_cpu_mem_arena:  # onnxruntime refuses to shrink an arena the session does not have
        shrink.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
    return PiperVoice(session=_ArenaTrimmingSession(session, shrink), config=config)


SHRINK_ABOVE_IDS = 160  # phoneme ids (about 20 words): longer inputs hand their memory back afterwards


def is_long_input(input_feed: dict) -> bool:
    """Whether a Piper session run's input holds more than SHRINK_ABOVE_IDS phoneme ids."""
    ids = input_feed.get("input")
    return ids is not None and ids.shape[-1] > SHRINK_ABOVE_IDS


class _ArenaTrimmingSession:
    """The onnxruntime session, with its memory arena shrunk after a long input. The arena otherwise keeps
    its largest allocation for good (160 MB loaded became 384 MB after slow long sentences, 541 MB with
    Whisper); shrinking after every run cost 28% in first audio, so short replies keep the arena."""

    def __init__(self, session, shrink) -> None:
        self._session = session
        self._shrink = shrink

    def run(self, output_names, input_feed, run_options=None):
        return self._session.run(output_names, input_feed, self._shrink if is_long_input(input_feed) else run_options)

    def __getattr__(self, name: str):
        return getattr(self._session, name)
