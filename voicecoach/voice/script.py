"""The spoken script of a guide for audio export: pure text, one item per file (intro, steps, outro)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from voicecoach.guide.model import Guide, Step

_DATA = Path(__file__).with_name("script.yaml")


@dataclass(frozen=True)
class ScriptItem:
    """One exported file: `stem` names it, `title` goes into the playlist, paragraphs are read in order."""

    stem: str
    title: str
    paragraphs: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


@lru_cache(maxsize=1)
def _phrases() -> dict[str, str]:
    return yaml.safe_load(_DATA.read_text(encoding="utf-8"))


def build_script(guide: Guide) -> tuple[ScriptItem, ...]:
    """Intro, every step ("Step N: title. summary. body. examples, reflection"), outro."""
    phrases = _phrases()
    width = max(2, len(str(len(guide.steps) + 1)))
    items = [ScriptItem(f"{0:0{width}d}-intro", phrases["intro_file_title"],
                        (_sentence(phrases["intro_heading"].format(title=guide.title)), guide.intro))]
    for step in guide.steps:
        items.append(ScriptItem(f"{step.number:0{width}d}-{slugify(step.title) or step.id}",
                                phrases["step_heading"].format(number=step.number, title=step.title),
                                step_paragraphs(step)))
    items.append(ScriptItem(f"{len(guide.steps) + 1:0{width}d}-outro", phrases["outro_file_title"],
                            (guide.outro,)))
    return tuple(items)


def step_paragraphs(step: Step) -> tuple[str, ...]:
    """What is read for one step, paragraph by paragraph."""
    phrases = _phrases()
    paragraphs = [_sentence(phrases["step_heading"].format(number=step.number, title=step.title)), step.summary,
                  *step.body]
    if step.examples:
        paragraphs.append(phrases["examples_lead"])
        paragraphs.extend(step.examples)
    if step.reflection:
        paragraphs.append(f"{phrases['reflection_lead']} {step.reflection}")
    return tuple(p.strip() for p in paragraphs if p and p.strip())


def slugify(text: str, limit: int = 40) -> str:
    """A file-name-safe lowercase ASCII form: "Dare to be vulnerable!" -> "dare-to-be-vulnerable"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:limit].rstrip("-")


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."
