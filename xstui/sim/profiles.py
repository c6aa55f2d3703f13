"""Release profiles: the products admins run, by name, each mapped to the
XAPI release (a code of the datamodel's lifecycle) it ships and to what its
hosts report in ``software_version`` and the API version. A scenario's
``release:`` (or ``xstui sim --release``, ``xstui demo --release``) plays
one: the simulator then lacks what that release lacked and says it is that
product, so the console can be rehearsed against each.

The figures are those of each product as released (XenServer 6.5.0, 7.1
CU2, XCP-ng 8.2.1 and 8.3.0, XenServer 8.4 at the end of 2024); ``latest``
is XCP-ng 8.3 kept updated to the newest XAPI the datamodel knows."""

from __future__ import annotations

from dataclasses import dataclass

from ..datamodel import releases


@dataclass(frozen=True)
class Profile:
    name: str
    api: str  # the lifecycle's release code
    brand: str
    version: str
    build: str
    xapi: str
    api_version: tuple[int, int]
    platform_version: str
    xen: str
    linux: str
    # what its dom0 runs: systemd (from 7.0) or SysV init; chronyd (from 8.0) or ntpd
    init: str = "systemd"
    ntp: str = "chronyd"

    def product(self) -> dict:
        """The scenario's ``product`` mapping for this release."""
        return {
            "brand": self.brand,
            "version": self.version,
            "build": self.build,
            "xapi": self.xapi,
            "api_version": list(self.api_version),
            "platform_version": self.platform_version,
            "xen": self.xen,
            "linux": self.linux,
        }

    @property
    def title(self) -> str:
        return f"{self.brand} {self.version} (XAPI {self.xapi}, API {'.'.join(map(str, self.api_version))})"


def _newest() -> str:
    return releases()[-1][0]


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(
            "xenserver-6.5",
            "creedence",
            "XenServer",
            "6.5.0",
            "90233c",
            "1.9",
            (2, 4),
            "1.9.0",
            "4.4.1-xs101284",
            "3.10.0+2",
            init="sysv",
            ntp="ntpd",
        ),
        Profile(
            "xenserver-7.1",
            "ely",
            "XenServer",
            "7.1.2",
            "120",
            "1.14",
            (2, 6),
            "2.2.2",
            "4.7.6-6.16",
            "4.4.0+10",
            ntp="ntpd",
        ),
        Profile(
            "xcp-ng-8.2",
            "stockholm",
            "XCP-ng",
            "8.2.1",
            "release/yangtze/master/58",
            "1.249.32",
            (2, 16),
            "3.2.1",
            "4.13.5",
            "4.19.0+1",
        ),
        Profile(
            "xcp-ng-8.3",
            "24.19.1",
            "XCP-ng",
            "8.3.0",
            "release/xcp-ng/8.3/1",
            "24.19.1",
            (2, 21),
            "3.4.0",
            "4.17.5",
            "4.19.0+1",
        ),
        Profile(
            "xenserver-8",
            "24.37.0",
            "XenServer",
            "8.4.0",
            "cloud",
            "24.37.0",
            (2, 21),
            "3.4.0",
            "4.17.5",
            "4.19.0+1",
        ),
        Profile(
            "latest",
            _newest(),
            "XCP-ng",
            "8.3.0",
            "release/xcp-ng/8.3/updated",
            _newest(),
            (2, 21),
            "3.4.0",
            "4.17.5",
            "4.19.0+1",
        ),
    )
}


def unknown(name: str) -> str:
    """The one line a release name the simulator does not know gets."""
    return f"no release profile called {name!r}: known are {', '.join(PROFILES)}"


def with_release(scenario: dict, name: str) -> dict:
    """The scenario playing release ``name``: its API code and product (the
    scenario's own product keys that are not the release's, such as the
    network backend, are kept)."""
    profile = PROFILES[name]
    product = {**scenario.get("product", {}), **profile.product()}
    out = {**scenario, "api": profile.api, "product": product, "release": name}
    return out
