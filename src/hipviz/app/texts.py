"""The app's own words (not medical knowledge), read once from texts.yaml."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml


@cache
def texts() -> dict:
    return yaml.safe_load(resources.files("hipviz.app").joinpath("texts.yaml").read_text(encoding="utf-8"))
