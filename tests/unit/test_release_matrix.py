"""Every action on every release: for each release profile, each action's
calls exist in that release, or the action declares what it does there
(``optional`` calls it makes only where they exist, or ``older``: why not,
in words, and the way instead). A new action that forgets fails here."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import pytest

from xstui.app import screen_class
from xstui.areas import AREAS
from xstui.datamodel import absent_in
from xstui.sim.profiles import PROFILES


@dataclass
class Release:
    """What Action.unavailable asks of a connection, for a profile."""

    name: str
    absent: frozenset[str]
    kind: str = "https"  # a remote console; "local": in dom0, where dom0's ways are at hand
    platform_version: str = ""

    def lacks(self, calls) -> list[str]:
        named = (c.removeprefix("Async.") for c in calls if "/" not in c)
        return [c for c in named if f"{c}()" in self.absent or c.split(".")[0] in self.absent]

    @property
    def release(self) -> str:
        return self.name

    def has_method(self, method: str) -> bool:
        return not self.lacks([method])

    @property
    def target(self):
        return SimpleNamespace(kind=self.kind)


def matrix() -> dict[tuple[str, str], dict[str, str]]:
    """(area, act) -> profile -> "works", "fallback", "in dom0" (done through
    dom0's own tools, from xstui local only) or the reason in words."""
    out = {}
    for area in AREAS:
        for act in screen_class(area).ACTS:
            if not act.builds:
                continue
            row = {}
            for name, profile in PROFILES.items():
                conn = Release(
                    f"{profile.brand} {profile.version}",
                    absent_in(profile.api),
                    platform_version=profile.platform_version,
                )
                reasons = [a.unavailable(conn) for a in act.builds]
                local = Release(conn.name, conn.absent, "local", conn.platform_version)
                if not all(reasons):  # one way is enough (AreaScreen.refusal)
                    way = act.builds[reasons.index("")]
                    row[name] = "fallback" if conn.lacks(way.calls) else "works"
                elif not all(a.unavailable(local) for a in act.builds):
                    row[name] = "in dom0"
                else:
                    row[name] = next((r for r in reasons if ": " in r), reasons[0])
            out[(area.title, act.label)] = row
    return out


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_action_says_what_it_does_on_every_release(profile):
    silent = [
        f"{area}: {label}: {row[profile]}"
        for (area, label), row in matrix().items()
        if row[profile] not in ("works", "fallback", "in dom0") and ": " not in row[profile]
    ]
    assert not silent, "\n".join(silent)


if __name__ == "__main__":  # the table for the closing note and the README
    names = list(PROFILES)
    print("| Area | Action | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    for (area, label), row in matrix().items():
        known = ("works", "fallback", "in dom0")
        cells = [row[n] if row[n] in known else "unavailable" for n in names]
        print(f"| {area} | {label} | " + " | ".join(cells) + " |")
