"""Vosk models on disk: where they live, which are known downloadable, layout checks, and installing a
zip or folder atomically into the models folder."""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

from voicecoach.config import checkout_models_dir, user_models_dir
from voicecoach.errors import ModelError

GET_MODEL_HINT = ("run `voicecoach models download vosk-model-small-en-us-0.15`, or on a machine with "
                  "internet download it from https://alphacephei.com/vosk/models and run "
                  "`voicecoach models install FILE.zip`")


@dataclass(frozen=True)
class KnownModel:
    name: str
    size_mb: int
    grammar: bool
    note: str


@dataclass(frozen=True)
class InstalledModel:
    name: str
    path: Path
    problems: tuple[str, ...]  # empty when the layout is complete

    @property
    def valid(self) -> bool:
        return not self.problems


@lru_cache(maxsize=1)
def _catalog() -> dict:
    return yaml.safe_load(resources.files("voicecoach.speech").joinpath("vosk_models.yaml").read_text("utf-8"))


def known_models() -> list[KnownModel]:
    return [KnownModel(m["name"], int(m["size_mb"]), bool(m["grammar"]), str(m.get("note", "")))
            for m in _catalog()["models"]]


def models_base_url() -> str:
    """Where downloads come from (VOICECOACH_MODELS_URL overrides, e.g. a local mirror)."""
    return os.environ.get("VOICECOACH_MODELS_URL") or _catalog()["base_url"]


def models_dirs() -> list[Path]:
    """Folders searched for models: the user's models folder, then `models/` in a checkout."""
    dirs = [user_models_dir()]
    checkout = checkout_models_dir()
    if checkout.is_dir() and checkout not in dirs:
        dirs.append(checkout)
    return dirs


def layout_problems(folder: Path) -> list[str]:
    """What is missing from a Vosk model folder (am/, conf/, graph/ layout); empty when complete."""
    if not folder.is_dir():
        return [f"{folder} is not a folder"]
    problems = []
    if not (folder / "am" / "final.mdl").is_file():
        problems.append("am/final.mdl (the acoustic model) is missing")
    if not (folder / "conf" / "mfcc.conf").is_file():
        problems.append("conf/mfcc.conf (the feature settings) is missing")
    graph = folder / "graph"
    has_static = (graph / "HCLG.fst").is_file()
    has_lookahead = (graph / "HCLr.fst").is_file() and (graph / "Gr.fst").is_file()
    if not (has_static or has_lookahead):
        problems.append("graph/ needs HCLG.fst, or HCLr.fst and Gr.fst (the decoding graph)")
    for required in (folder / "am" / "final.mdl", graph / "HCLG.fst", graph / "HCLr.fst"):
        if required.is_file() and required.stat().st_size == 0:
            problems.append(f"{required.relative_to(folder)} is empty (an interrupted copy?)")
    return problems


def validate_model(folder: Path) -> Path:
    """The folder, if it holds a complete Vosk model; otherwise ModelError listing what is missing."""
    if not folder.exists():
        raise ModelError(f"no Vosk model at {folder}", GET_MODEL_HINT)
    problems = layout_problems(folder)
    if problems:
        raise ModelError(f"{folder} is not a usable Vosk model: " + "; ".join(problems),
                         "remove it and install the model again: " + GET_MODEL_HINT)
    return folder


def installed_models() -> list[InstalledModel]:
    """Every model-like folder in the models folders, with its layout problems (hidden folders skipped)."""
    found = []
    for base in models_dirs():
        if not base.is_dir():
            continue
        for folder in sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")):
            found.append(InstalledModel(folder.name, folder, tuple(layout_problems(folder))))
    return found


def find_model(spec: str | Path | None = None) -> Path | None:
    """A model folder: `spec` as a path or an installed name; None picks the best installed model
    (a grammar-capable English model first). Returns None when nothing is installed and no spec given."""
    if spec:
        path = Path(spec).expanduser()
        if path.exists() or os.sep in str(spec):
            return validate_model(path)
        for model in installed_models():
            if model.name == str(spec):
                return validate_model(model.path)
        raise ModelError(f"no installed Vosk model named {spec!r}", "see `voicecoach models list`")
    valid = [m for m in installed_models() if m.valid]
    if not valid:
        return None
    grammar_names = {k.name for k in known_models() if k.grammar}
    valid.sort(key=lambda m: (m.name not in grammar_names, "small" not in m.name, m.name))
    return valid[0].path


def _model_root(extracted: Path) -> Path:
    """The folder inside an unpacked archive that holds am/ and conf/ (zips usually wrap one folder)."""
    if (extracted / "am").is_dir():
        return extracted
    children = [p for p in extracted.iterdir() if not p.name.startswith((".", "__MACOSX"))]
    if len(children) == 1 and children[0].is_dir():
        return children[0]
    return extracted


def install_model(source: Path, models_dir: Path | None = None, name: str | None = None) -> Path:
    """Copy a model folder or unpack a model zip into the models folder, atomically: the model appears
    under its final name only once complete and checked. Returns the installed folder."""
    source = Path(source).expanduser()
    target_base = models_dir or user_models_dir()
    if not source.exists():
        raise ModelError(f"{source}: no such file or folder", GET_MODEL_HINT)
    target_base.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".installing-", dir=target_base))
    try:
        if source.is_dir():
            root = source
            copied = staging / "model"
            shutil.copytree(root, copied)
            root = copied
        else:
            root = _unzip(source, staging)
        problems = layout_problems(root)
        if problems:
            raise ModelError(f"{source} does not hold a Vosk model: " + "; ".join(problems),
                             "pass the model's zip as downloaded, or the folder that contains am/ conf/ graph/")
        final_name = name or (source.name if source.is_dir() else (root.name if root.parent != staging else source.stem))
        if final_name in ("model", "") or final_name.startswith("."):
            final_name = source.stem
        target = target_base / final_name
        if target.exists():
            raise ModelError(f"a model named {final_name!r} is already installed at {target}",
                             "remove that folder first to replace it")
        os.replace(root, target)
        return target
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _unzip(archive: Path, staging: Path) -> Path:
    try:
        with zipfile.ZipFile(archive) as zipped:
            broken = zipped.testzip()  # reads every member and checks its CRC
            if broken is not None:
                raise ModelError(f"{archive}: damaged archive (bad checksum in {broken})",
                                 "download it again")
            for member in zipped.namelist():
                target = (staging / member).resolve()
                if not str(target).startswith(str(staging.resolve())):
                    raise ModelError(f"{archive}: unsafe path {member!r} in the archive", "use an official model zip")
            zipped.extractall(staging / "unpacked")
    except zipfile.BadZipFile as error:
        raise ModelError(f"{archive}: not a zip file ({error})", "pass a model .zip or an unpacked model folder") from None
    return _model_root(staging / "unpacked")
