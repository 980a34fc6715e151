"""Settings: the packaged default YAML, a user YAML merged over it, then ``key.path=value`` overrides."""

from __future__ import annotations

import copy
from importlib import resources
from pathlib import Path
from typing import Any

import yaml


def default_config() -> dict:
    text = resources.files("mirray.configs").joinpath("default.yaml").read_text()
    return yaml.safe_load(text)


def _merge(base: dict, update: dict, where: str = "") -> dict:
    out = copy.deepcopy(base)
    for key, value in update.items():
        path = f"{where}{key}"
        if key not in base:
            raise ValueError(f"unknown config key '{path}'")
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise ValueError(f"config key '{path}' must be a mapping")
            out[key] = _merge(base[key], value, path + ".")
        else:
            out[key] = value
    return out


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> dict:
    """Default config, merged with the YAML at ``path`` and ``a.b=value`` overrides (YAML-parsed values).

    Unknown keys are an error, so a typo never silently falls back to a default.
    """
    cfg = default_config()
    if path:
        user = yaml.safe_load(Path(path).read_text()) or {}
        cfg = _merge(cfg, user)
    for item in overrides or []:
        key, sep, raw = item.partition("=")
        if not sep:
            raise ValueError(f"override '{item}' must look like section.key=value")
        nested: Any = yaml.safe_load(raw)
        for part in reversed(key.split(".")):
            nested = {part: nested}
        cfg = _merge(cfg, nested)
    return cfg
