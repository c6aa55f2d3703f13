"""The Active Directory domain a scenario puts beside the pool: its domain
controller's DNS address, the account allowed to join machines, its OUs,
users (with passwords and groups) and groups. The simulator's external
authentication asks it what a real domain controller would answer."""

from __future__ import annotations

import hashlib

from .errors import XapiError


def build(spec: dict) -> dict:
    """A scenario's ``directory`` as the simulator keeps it: names looked up
    case-insensitively, each user and group with a stable SID."""
    domain = spec["domain"].lower()
    base = int(hashlib.sha256(domain.encode()).hexdigest()[:8], 16)
    prefix = f"S-1-5-21-{base}-{base // 7}-{base // 13}"
    groups = {
        g.lower(): {"name": g, "sid": f"{prefix}-{2000 + i}", "group": True}
        for i, g in enumerate(spec.get("groups", []))
    }
    users = {}
    for i, u in enumerate(spec.get("users", [])):
        users[u["name"].lower()] = {
            "name": u["name"],
            "sid": f"{prefix}-{1100 + i}",
            "group": False,
            "password": u["password"],
            "groups": [groups[g.lower()]["sid"] for g in u.get("groups", [])],
        }
    join = spec.get("join", {})
    return {
        "domain": domain,
        "netbios": domain.split(".")[0].upper(),
        "dns": spec.get("dns", ""),
        "join_user": join.get("user", ""),
        "join_password": join.get("password", ""),
        "ous": [ou.lower() for ou in spec.get("ous", [])],
        "accounts": {**groups, **users},
    }


def account_name(directory: dict, name: str) -> str:
    """``alice``, ``CORP\\alice`` or ``alice@corp.example`` -> ``alice``; ''
    when the name is in another domain."""
    name = name.strip()
    if "\\" in name:
        dom, name = name.split("\\", 1)
        if dom.upper() != directory["netbios"] and dom.lower() != directory["domain"]:
            return ""
    elif "@" in name:
        name, dom = name.rsplit("@", 1)
        if dom.lower() != directory["domain"]:
            return ""
    return name.lower()


def lookup(directory: dict, name: str) -> dict:
    """The user or group called ``name``; SUBJECT_CANNOT_BE_RESOLVED otherwise."""
    entry = directory["accounts"].get(account_name(directory, name))
    if entry is None:
        raise XapiError("SUBJECT_CANNOT_BE_RESOLVED")
    return entry


def by_sid(directory: dict, sid: str) -> dict:
    for entry in directory["accounts"].values():
        if entry["sid"] == sid:
            return entry
    raise XapiError("SUBJECT_CANNOT_BE_RESOLVED")


def information(directory: dict, entry: dict) -> dict[str, str]:
    """What ``auth.get_subject_information_from_identifier`` returns, and what
    XAPI copies into a subject's other_config."""
    sid = entry["sid"]
    return {
        "subject-name": f"{directory['netbios']}\\{entry['name']}",
        "subject-sid": sid,
        "subject-uid": sid.rsplit("-", 1)[1],
        "subject-gid": "513" if not entry["group"] else sid.rsplit("-", 1)[1],
        "subject-is-group": str(entry["group"]).lower(),
        "subject-account-disabled": "false",
        "subject-account-locked": "false",
        "subject-account-expired": "false",
        "subject-password-expired": "false",
        "subject-upn": f"{entry['name']}@{directory['domain']}",
    }
