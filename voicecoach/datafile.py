"""The YAML data files shipped inside the package, parsed once per process, with libyaml when it is there
(about ten times faster than the pure-Python parser: the understanding layer's examples are large)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str) -> Any:
    """YAML text as plain data (safe types only)."""
    return yaml.load(text, Loader=_LOADER)


@lru_cache(maxsize=None)
def packaged_yaml(package: str, name: str) -> Any:
    """A data file of `package`, parsed once. The result is shared between callers: read it, never change it."""
    return parse_yaml(resources.files(package).joinpath(name).read_text("utf-8"))
