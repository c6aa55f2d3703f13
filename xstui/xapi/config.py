"""The user's configuration file (``~/.config/xstui/config.yaml``): saved
targets (never passwords), pinned TLS fingerprints, theme and keymap.

A file that cannot be read or has the wrong shape is never overwritten: the
console runs with what it could keep, says what is wrong (file and line), and
saves nothing, so pinned fingerprints are never lost to a typo."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .. import yamlspec
from ..files import write_atomic
from .tls import FingerprintError, parse_fingerprint


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "xstui"


def state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return Path(base) / "xstui"


# key: (expected type, what it must be, in words)
SHAPE = {
    "targets": (list, "a list of target URLs (or of {url, name, user, group})"),
    "fingerprints": (dict, "a mapping of host:port to SHA-256 fingerprint"),
    "theme": (str, "a theme name"),
    "keymap": (dict, "a mapping of binding id to key, e.g. network.bond: B"),
    "idle_logout_minutes": (int, "whole minutes (0: never)"),
}
SAVED_TARGET_KEYS = ("url", "name", "user", "group")  # never a password
RECENT = 8  # targets saved without a name, the most recent first
IDLE_CHOICES = (0, 5, 10, 15, 30, 60)  # minutes before the console quits by itself


@dataclass
class Config:
    targets: list[str] = field(default_factory=list)
    # url -> what is saved beside it (name, user, group: the fleet's), never a password
    saved: dict[str, dict[str, str]] = field(default_factory=dict)
    fingerprints: dict[str, str] = field(default_factory=dict)  # host:port -> SHA-256
    theme: str = "textual-dark"
    keymap: dict[str, str] = field(default_factory=dict)  # binding id -> key(s)
    idle_logout_minutes: int = 0  # the console quits after this long without a key (0: never)
    path: Path | None = None
    problem: str = ""  # why the file is not used as is (then nothing is saved)

    @classmethod
    def load(cls, path: Path | None = None) -> Config:
        path = path or config_dir() / "config.yaml"
        try:
            data, _ = yamlspec.parse(yamlspec.read_text(path), str(path))
        except FileNotFoundError:
            return cls(path=path)
        except (OSError, UnicodeDecodeError) as exc:
            return cls(path=path, problem=f"{path}: cannot be read ({_why(exc)})")
        except yamlspec.YamlError as exc:
            return cls(path=path, problem=str(exc))
        if data is None:
            return cls(path=path)
        if not isinstance(data, dict):
            return cls(path=path, problem=f"{path}: expected keys (targets, fingerprints, …)")
        config, problems = cls(path=path), []
        for key, value in data.items():
            if key not in SHAPE:
                problems.append(f"unknown key {key!r}")
                continue
            kind, what = SHAPE[key]
            if not isinstance(value, kind) or (
                kind is dict and not all(isinstance(v, str | int) for v in value.values())
            ):
                problems.append(f"{key} must be {what}")
                continue
            if key == "targets":
                problems += config._read_targets(value)
            elif key == "fingerprints":
                for where, pin in value.items():
                    try:
                        config.fingerprints[str(where)] = parse_fingerprint(pin)
                    except FingerprintError as exc:
                        problems.append(f"fingerprints.{where}: {exc}")
            elif key == "theme":
                config.theme = value
            elif key == "idle_logout_minutes":
                if isinstance(value, bool) or not 0 <= value <= 1440:
                    problems.append("idle_logout_minutes must be 0 to 1440")
                else:
                    config.idle_logout_minutes = value
            else:
                config.keymap = {str(k): str(v) for k, v in value.items()}
        config.problem = f"{path}: {'; '.join(problems)}" if problems else ""
        return config

    def save(self) -> bool:
        """Write atomically (:func:`xstui.files.write_atomic`), mode 0600.
        False, with ``problem`` set, when it was not written."""
        if self.problem:
            return False
        path = self.path or config_dir() / "config.yaml"
        targets = [
            {"url": url, **self.saved[url]} if self.saved.get(url) else url for url in self.targets
        ]
        data = {"targets": targets, "fingerprints": self.fingerprints, "theme": self.theme}
        if self.keymap:
            data["keymap"] = self.keymap
        if self.idle_logout_minutes:
            data["idle_logout_minutes"] = self.idle_logout_minutes
        try:
            write_atomic(path, yaml.safe_dump(data, sort_keys=True))
        except OSError as exc:
            self.problem = f"{path}: cannot be written ({_why(exc)})"
            return False
        return True

    def _read_targets(self, value: list) -> list[str]:
        problems = []
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                self.targets.append(str(item))
                continue
            unknown = sorted(str(k) for k in item if k not in SAVED_TARGET_KEYS)
            if unknown or not isinstance(item.get("url"), str):
                problems.append(
                    f"targets[{i}] must be a URL or {{url, name, user, group}}"
                    + (f" (unknown: {', '.join(unknown)})" if unknown else "")
                )
                continue
            self.targets.append(item["url"])
            extra = {k: str(v) for k, v in item.items() if k != "url" and v is not None}
            if extra:
                self.saved[item["url"]] = extra
        return problems

    def remember_target(self, url: str) -> None:
        """The target connected to goes first; of those saved without a name
        (a fleet's have one, and stay), the RECENT latest are kept: a list
        that would fill with every simulator or tunnel ever reached."""
        if url == "demo":
            return
        if url in self.targets:
            self.targets.remove(url)
        self.targets.insert(0, url)
        unnamed = [u for u in self.targets if not self.saved.get(u)]
        for old in unnamed[RECENT:]:
            self.targets.remove(old)


def safe_stem(name: str) -> str:
    """A name (from XAPI, typed) usable in a file name."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "_"


def _why(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or exc.__class__.__name__
