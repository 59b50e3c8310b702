"""User settings: limits, workers, detectors switched off, local model checkpoints.

Stored as JSON in ``$TRIAGE_SETTINGS`` or ``$XDG_CONFIG_HOME/deepfake-triage/settings.json``
(``~/.config/...`` by default). A missing file means defaults; a broken one is reported, not
silently ignored.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from triage_app.media import Limits


class SettingsError(Exception):
    """The settings file exists but cannot be used; the message says why."""


@dataclass
class Settings:
    limits: Limits = field(default_factory=Limits)
    workers: int = 2
    per_file_timeout: float = 300.0
    # Image detectors run side by side in one analysis: 0 = one thread per core (at most 4);
    # a scan worker always runs one (triage_app.threads).
    detector_threads: int = 0
    disabled_detectors: list[str] = field(default_factory=list)
    # Local transformers checkpoints: {"path": "/models/vit-df", "modality": "image",
    #  "label_map": {"FAKE": "manipulated", "REAL": "authentic"}, "name": optional}
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    examiner: str = ""
    organization: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Settings":
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise SettingsError(f"unknown settings: {', '.join(sorted(unknown))}")
        kw = dict(data)
        if "limits" in kw:
            lim_known = {f.name for f in fields(Limits)}
            bad = set(kw["limits"]) - lim_known
            if bad:
                raise SettingsError(f"unknown limits: {', '.join(sorted(bad))}")
            kw["limits"] = Limits(**kw["limits"])
        return cls(**kw)


def settings_path() -> Path:
    env = os.environ.get("TRIAGE_SETTINGS")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "deepfake-triage" / "settings.json"


def load_settings(path: str | Path | None = None, *, must_exist: bool = False) -> Settings:
    """The settings at ``path`` (default: the user's file); the defaults when there is no
    file, unless ``must_exist`` (a file named on the command line: a typo must not silently
    give the defaults)."""
    p = Path(path) if path else settings_path()
    if not p.exists():
        if must_exist:
            raise SettingsError(f"settings file {p} not found")
        return Settings()
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SettingsError(f"cannot read settings file {p}: {exc}") from None
    if not isinstance(data, dict):
        raise SettingsError(f"settings file {p} must hold a JSON object")
    return Settings.from_dict(data)


def save_settings(settings: Settings, path: str | Path | None = None) -> Path:
    p = Path(path) if path else settings_path()
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(".tmp")
    tmp.write_text(json.dumps(settings.to_dict(), indent=2), encoding="utf-8")
    os.replace(tmp, p)
    return p
