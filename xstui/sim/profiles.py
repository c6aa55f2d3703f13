"""Release profiles: the products admins run, by name, each mapped to the
XAPI release (a code of the datamodel's lifecycle) it ships and to what its
hosts report in ``software_version`` and the API version. A scenario's
``release:`` (or ``xstui sim --release``, ``xstui demo --release``) plays
one: the simulator then lacks what that release lacked and says it is that
product, so the console can be rehearsed against each.

The figures are those of each product as released (XenServer 6.5.0, 7.1
CU2, Citrix Hypervisor 8.2 CU1, XCP-ng 8.2.1 and 8.3.0, XenServer 8.4 at the
end of 2024); ``latest`` is XCP-ng 8.3 kept updated to the newest XAPI the
datamodel knows.

Each plays its hotfixes its own way: a scenario's ``updates:`` become that
release's (XenServer 6.5's XS65ESP1xxx patches, 7.1's XS71ECU1xxx and
Citrix Hypervisor 8.2's XS82ECU1xxx updates as ``pool_update`` ISOs to
upload, XCP-ng's yum packages through ``updater.py``, XenServer 8's
repository), so that each product claims only what it really does."""

from __future__ import annotations

import re
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
    # how its hotfixes reach it: a name pattern for the number a scenario's
    # update ends with ("XS71ECU1{:03d}"), "yum" or "repository"
    hotfixes: str
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
            "XS65ESP1{:03d}",
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
            "XS71ECU1{:03d}",
            ntp="ntpd",
        ),
        Profile(
            "citrix-hypervisor-8.2",
            "stockholm",
            "Citrix Hypervisor",
            "8.2.1",
            "release/yangtze/master/58",
            "1.249.32",
            (2, 16),
            "3.2.1",
            "4.13.5",
            "4.19.0+1",
            "XS82ECU1{:03d}",
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
            "yum",
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
            "yum",
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
            "repository",
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
            "yum",
        ),
    )
}


def unknown(name: str) -> str:
    """The one line a release name the simulator does not know gets."""
    return f"no release profile called {name!r}: known are {', '.join(PROFILES)}"


def with_release(scenario: dict, name: str) -> dict:
    """The scenario playing release ``name``: its API code and product (the
    scenario's own product keys that are not the release's, such as the
    network backend, are kept); its hotfixes, written as a scenario writes
    them (``updates:``), become that release's."""
    profile = PROFILES[name]
    product = {**scenario.get("product", {}), **profile.product()}
    out = {**scenario, "api": profile.api, "product": product, "release": name}
    if scenario.get("updates"):
        out = {k: v for k, v in out.items() if k != "updates"} | _hotfixes(
            profile, scenario["updates"]
        )
    return out


def hotfix_name(profile: Profile, name: str, index: int = 0) -> str:
    """What the release calls a scenario's hotfix ``name`` (the ``index``-th):
    its number (the last three digits of the name, else index + 1) in the
    release's pattern; a yum package for XCP-ng."""
    style = profile.hotfixes
    if style == "yum":
        if index < len(YUM_PACKAGES):
            return YUM_PACKAGES[index][0]
        return f"xcp-ng-update-{index + 1}"
    digits = re.search(r"(\d{1,3})$", name)
    number = int(digits.group(1)) if digits else index + 1
    return ("XSI-1{:03d}" if style == "repository" else style).format(number)


# XCP-ng's packages that the demo's hotfixes become, in order: (name, what
# it is, the profile field giving its version, or the version)
YUM_PACKAGES = (
    ("xen-hypervisor", "the Xen hypervisor", "xen"),
    ("xapi-core", "the XAPI toolstack", "xapi"),
    ("kernel", "the dom0 Linux kernel", "4.19.19"),
    ("sm", "the storage manager drivers", "2.30.8"),
    ("xcp-ng-xapi-plugins", "XCP-ng's XAPI plugins", "1.7.3"),
)

# 7.x guidance names as XenServer 8's update_guidances name them
_REPOSITORY_GUIDANCE = {
    "restartHost": "reboot_host",
    "restartXAPI": "restart_toolstack",
    "restartHVM": "restart_vm",
    "restartPV": "restart_vm",
}


def _hotfixes(profile: Profile, updates: list[dict]) -> dict:
    """A scenario's ``updates:`` as this release keeps them: renamed
    patches or updates, XCP-ng's ``yum_updates``, or XenServer 8's
    ``repository`` and ``repository_updates``."""
    names = [hotfix_name(profile, str(u["name"]), i) for i, u in enumerate(updates)]
    if profile.hotfixes == "yum":
        short = ".".join(profile.version.split(".")[:2])
        out = []
        for i, (u, name) in enumerate(zip(updates, names, strict=True)):
            what, version = YUM_PACKAGES[i][1:] if i < len(YUM_PACKAGES) else ("an update", "1.0")
            out.append(
                {
                    "name": name,
                    "version": str(getattr(profile, version, version)).split("+")[0],
                    "release": f"{i + 1}.xcpng{short}",
                    "description": what,
                    "applied": list(u.get("applied", [])),
                }
            )
        return {"yum_updates": out}
    if profile.hotfixes == "repository":
        return {
            "repository": {"name": "base", "url": "https://127.10.9.9/repository/"},
            "repository_updates": [
                {
                    "id": name,
                    "summary": f"Hotfix {name}",
                    "guidance": sorted(
                        {_REPOSITORY_GUIDANCE.get(g, g) for g in u.get("guidance", [])}
                    ),
                    "applied": list(u.get("applied", [])),
                }
                for u, name in zip(updates, names, strict=True)
            ],
        }
    renamed = dict(zip((u["name"] for u in updates), names, strict=True))
    return {"updates": [{**u, "name": renamed[u["name"]]} for u in updates]}
