"""Who the fleet is: a fleet file (YAML, for scripts) or a group of the saved
targets of the config file. A target keeps its URL, user, group and pinned
fingerprint, never a password (see :mod:`.passwords`).

A fleet file is a list of ``{name, url, user, group, fingerprint}`` (only
``name`` and ``url`` are required). A bad file is refused whole, each problem
naming the file, the line and the key."""

from __future__ import annotations

import os
from dataclasses import dataclass

import yaml

from ... import yamlspec
from ...files import write_atomic
from ...xapi.targets import TargetError, parse_target
from ...xapi.tls import FingerprintError, parse_fingerprint

ITEM = {"name": str, "url": str, "user": str, "group": str, "fingerprint": str}
REQUIRED = ("name", "url")
SHAPE = "a fleet file is a YAML list of pools, each {name, url, user, group, fingerprint}"


class FleetError(ValueError):
    """A fleet that cannot be used; the message names the file, line and key."""


@dataclass(frozen=True)
class FleetTarget:
    name: str
    url: str
    user: str = "root"
    group: str = ""
    fingerprint: str = ""  # the pin (stored form), "" when none is given

    def to_dict(self) -> dict:
        out = {"name": self.name, "url": self.url}
        if self.user != "root":
            out["user"] = self.user
        if self.group:
            out["group"] = self.group
        if self.fingerprint:
            out["fingerprint"] = self.fingerprint
        return out


def parse_fleet(text: str, source: str) -> list[FleetTarget]:
    """The pools of a fleet file's text; FleetError listing every problem."""
    try:
        data, root = yamlspec.parse(text, source)
    except yamlspec.YamlError as exc:
        raise FleetError(str(exc)) from None
    if not isinstance(root, yaml.SequenceNode) or not isinstance(data, list):
        raise FleetError(f"{source}: {SHAPE}")
    problems: list[str] = []
    yamlspec.walk(root, data, [ITEM], source, "", problems)
    if problems:  # wrong keys or types: what follows would guess
        raise FleetError("\n".join(problems))
    pools, first_line = [], {}
    for i, (node, item) in enumerate(zip(root.value, data, strict=False)):
        values = {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}
        missing = [key for key in REQUIRED if key not in item]
        for key in missing:
            problems.append(f"{yamlspec.where(node, source, f'[{i}]')}: {key} is required")
        if missing:
            continue
        name, url = item["name"], item["url"]
        if not name.strip():
            problems.append(f"{yamlspec.where(values['name'], source, f'[{i}].name')}: empty")
        elif name in first_line:
            problems.append(
                f"{yamlspec.where(values['name'], source, f'[{i}].name')}: the name {name!r} "
                f"is given twice (first on line {first_line[name]})"
            )
        first_line.setdefault(name, values["name"].start_mark.line + 1)
        try:
            target = _remote(url)
        except TargetError as exc:
            problems.append(f"{yamlspec.where(values['url'], source, f'[{i}].url')}: {exc}")
            continue
        pin = ""
        if "fingerprint" in item:
            try:
                pin = parse_fingerprint(item["fingerprint"])
            except FingerprintError as exc:
                here = yamlspec.where(values["fingerprint"], source, f"[{i}].fingerprint")
                problems.append(f"{here}: {exc}")
        user = item.get("user", "root")
        if not user.strip():
            problems.append(f"{yamlspec.where(values['user'], source, f'[{i}].user')}: empty")
        pools.append(FleetTarget(name, target.url, user, item.get("group", ""), pin))
    if problems:
        raise FleetError("\n".join(problems))
    if not pools:
        raise FleetError(f"{source}: no pools ({SHAPE})")
    return pools


def _remote(url: str):
    """A pool master's URL, written in full (http:// or https://)."""
    if "://" not in url:
        raise TargetError(f"{url!r} is not a URL: write https://HOST[:PORT]")
    return parse_target(url)


def load_fleet(path: str | os.PathLike) -> list[FleetTarget]:
    try:
        text = yamlspec.read_text(path)
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise FleetError(f"{path}: cannot be read ({reason})") from None
    except yamlspec.YamlError as exc:
        raise FleetError(str(exc)) from None
    return parse_fleet(text, str(path))


def write_fleet(path: str | os.PathLike, pools: list[FleetTarget]) -> None:
    """Write a fleet file (atomically, 0600); OSError when it cannot be."""
    write_atomic(path, yaml.safe_dump([p.to_dict() for p in pools], sort_keys=False))


def saved_fleet(config, group: str = "") -> list[FleetTarget]:
    """The saved targets of the config (those of ``group`` when given) as a
    fleet; each named as saved, or by its URL's host."""
    pools = []
    for url in config.targets:
        try:
            target = parse_target(url)
        except TargetError:
            continue
        if target.kind != "remote":
            continue
        saved = config.saved.get(url, {})
        if group and saved.get("group", "") != group:
            continue
        pools.append(
            FleetTarget(
                saved.get("name") or target.host,
                url,
                saved.get("user") or "root",
                saved.get("group", ""),
                config.fingerprints.get(target.trust_key, ""),
            )
        )
    return pools


def resolve_fleet(text: str, config) -> list[FleetTarget]:
    """``--fleet FILE|GROUP``: a file when one is there (or the text looks
    like a path), else a group of the saved targets."""
    if os.path.exists(text) or os.sep in text or text.endswith((".yaml", ".yml")):
        return load_fleet(text)
    pools = saved_fleet(config, text)
    if not pools:
        groups = sorted({s.get("group", "") for s in config.saved.values()} - {""})
        known = f" (groups: {', '.join(groups)})" if groups else " (no saved target has a group)"
        raise FleetError(f"{text}: neither a fleet file nor a group of saved targets{known}")
    return pools
