"""The compliance baseline: a YAML file saying which updates every host of a
pool, or a given host, must have, and optionally which it may have beyond::

    pool: Demo Pool                 # optional: refuse to check another pool
    require: [XS82ECU1001, XS82ECU1019]
    allow: [XS82ECU1041]            # optional: anything else applied is drift
    hosts:
      xcp-c:
        require: [XS82ECU1033]      # on top of the pool's

Drift per host: what it must have and lacks ("missing"), and, when an
``allow`` list is given, what it has beyond ``require`` and ``allow``
("unexpected"). XenServer 8 lists only what each host lacks, so there a
required update is missing when the host lacks it, and "unexpected" cannot
be told. A bad file is refused with its name, line and key."""

from __future__ import annotations

from dataclasses import dataclass, field

from ... import yamlspec
from .model import UpdatesView

SPEC = {
    "pool": str,
    "require": [str],
    "allow": [str],
    "hosts": {str: {"require": [str], "allow": [str]}},
}


class BaselineError(ValueError):
    """The baseline cannot be used; the message names the file, line and key."""


@dataclass(frozen=True)
class Rule:
    require: frozenset[str] = frozenset()
    allow: frozenset[str] | None = None  # None: anything beyond require is fine


@dataclass(frozen=True)
class Baseline:
    source: str
    pool: str = ""
    rule: Rule = Rule()
    hosts: dict[str, Rule] = field(default_factory=dict)
    where: dict[str, str] = field(default_factory=dict)  # host name -> "file line N, hosts.x"

    def for_host(self, name: str) -> Rule:
        own = self.hosts.get(name, Rule())
        allow = None
        if self.rule.allow is not None or own.allow is not None:
            allow = (self.rule.allow or frozenset()) | (own.allow or frozenset())
        return Rule(self.rule.require | own.require, allow)


@dataclass(frozen=True)
class Drift:
    host: str
    missing: tuple[str, ...]
    unexpected: tuple[str, ...]

    @property
    def compliant(self) -> bool:
        return not (self.missing or self.unexpected)

    def to_dict(self) -> dict:
        return {
            "host": self.host,
            "missing": list(self.missing),
            "unexpected": list(self.unexpected),
        }


def parse(text: str, source: str) -> Baseline:
    data, root, problems = yamlspec.load(
        text, source, SPEC, "a baseline is a YAML mapping (keys: pool, require, allow, hosts)"
    )
    if problems:
        raise BaselineError("; ".join(problems[:5]) + ("; ..." if len(problems) > 5 else ""))
    hosts, where = {}, {}
    host_nodes = next((v for k, v in root.value if k.value == "hosts"), None)
    for key_node, _ in getattr(host_nodes, "value", []):
        where[str(key_node.value)] = yamlspec.where(key_node, source, f"hosts.{key_node.value}")
    for name, spec in (data.get("hosts") or {}).items():
        spec = spec or {}
        hosts[str(name)] = Rule(frozenset(spec.get("require") or ()), _allow(spec))
    return Baseline(
        source,
        str(data.get("pool") or ""),
        Rule(frozenset(data.get("require") or ()), _allow(data)),
        hosts,
        where,
    )


def _allow(spec: dict) -> frozenset[str] | None:
    return frozenset(spec["allow"] or ()) if "allow" in spec else None


def load(path: str) -> Baseline:
    try:
        text = yamlspec.read_text(path)
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise BaselineError(f"{path}: cannot be read ({reason})") from None
    except yamlspec.YamlError as exc:
        raise BaselineError(str(exc)) from None
    return parse(text, path)


def drift(baseline: Baseline, view: UpdatesView, pool_name: str) -> list[Drift]:
    """Per host of the pool, what departs from the baseline. BaselineError
    when the baseline names another pool or a host the pool does not have."""
    if baseline.pool and baseline.pool != pool_name:
        raise BaselineError(
            f"{baseline.source}: the baseline is for pool {baseline.pool!r}, not {pool_name!r}"
        )
    names = {h.name for h in view.hosts}
    unknown = [n for n in baseline.hosts if n not in names]
    if unknown:
        raise BaselineError(
            "; ".join(
                f"{baseline.where.get(n, baseline.source)}: no host called {n!r} in the pool"
                for n in unknown
            )
        )
    out = []
    for h in view.hosts:
        rule = baseline.for_host(h.name)
        applied = set(h.applied)
        if view.generation.lists_missing:
            # XenServer 8 and XCP-ng list only what a host lacks: what it does not lack, it has
            out.append(Drift(h.name, tuple(sorted(rule.require & set(h.missing))), ()))
            continue
        missing = tuple(sorted(rule.require - applied))
        unexpected = ()
        if rule.allow is not None:
            unexpected = tuple(sorted(applied - rule.require - rule.allow))
        out.append(Drift(h.name, missing, unexpected))
    return out
