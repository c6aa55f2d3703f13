"""The user's configuration file (``~/.config/xstui/config.yaml``): saved
targets (never passwords), pinned TLS fingerprints, theme."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "xstui"


def state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return Path(base) / "xstui"


@dataclass
class Config:
    targets: list[str] = field(default_factory=list)
    fingerprints: dict[str, str] = field(default_factory=dict)  # host:port -> SHA-256
    theme: str = "textual-dark"
    path: Path | None = None

    @classmethod
    def load(cls, path: Path | None = None) -> Config:
        path = path or config_dir() / "config.yaml"
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except FileNotFoundError:
            data = {}
        except (OSError, yaml.YAMLError):
            data = {}  # unreadable: start clean rather than fail to start
        if not isinstance(data, dict):
            data = {}
        return cls(
            targets=[str(t) for t in data.get("targets") or []],
            fingerprints={str(k): str(v) for k, v in (data.get("fingerprints") or {}).items()},
            theme=str(data.get("theme") or "textual-dark"),
            path=path,
        )

    def save(self) -> None:
        path = self.path or config_dir() / "config.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"targets": self.targets, "fingerprints": self.fingerprints, "theme": self.theme}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(yaml.safe_dump(data, sort_keys=True))
        os.chmod(tmp, 0o600)
        tmp.replace(path)

    def remember_target(self, url: str) -> None:
        if url not in self.targets and url not in ("demo",):
            self.targets.append(url)
