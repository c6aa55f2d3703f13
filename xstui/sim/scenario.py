"""Scenarios: a pool described in YAML (assets/scenarios/*.yaml) built into a Store.

The YAML names things (hosts, networks, SRs) and this module creates the
XAPI objects with their cross references, the way a real pool has them.
:func:`generate` describes a large pool in the same form, for benchmarks.
"""

from __future__ import annotations

import hashlib
import uuid as uuidlib
from importlib.resources import files
from pathlib import Path

from .. import clock, yamlspec
from ..datamodel import ROLES
from . import consoles, directory, dr
from . import guest as guest_agent
from .profiles import PROFILES, unknown, with_release
from .release import Release
from .scenario_check import check_scenario
from .schema import NULL_REF
from .sm import HOST_CAPABILITIES, sm_records
from .store import Store, now_xdate

GiB = 1024**3
DAY = 86400


def vif_mac(n: int) -> str:
    """The ``n``-th VM interface's MAC, as XAPI writes one: six pairs (a
    locally administered unicast address)."""
    return "aa:00:00:" + ":".join(f"{(n >> shift) & 0xFF:02x}" for shift in (16, 8, 0))


class ScenarioError(ValueError):
    """A scenario file that cannot be built; the message says what is wrong."""


def builtin_names() -> list[str]:
    folder = files("xstui.assets").joinpath("scenarios")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_scenario(name_or_path: str) -> dict:
    """A built-in scenario by name, or a YAML file by path."""
    if name_or_path in builtin_names():
        text = files("xstui.assets").joinpath("scenarios", name_or_path + ".yaml").read_text()
    else:
        path = Path(name_or_path)
        if not path.is_file():
            known = ", ".join(builtin_names())
            raise ScenarioError(
                f"no scenario named {name_or_path!r} (built-in: {known}) and no such file"
            )
        try:
            text = yamlspec.read_text(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise ScenarioError(
                f"{name_or_path}: cannot be read as text ({type(exc).__name__})"
            ) from None
        except yamlspec.YamlError as exc:
            raise ScenarioError(str(exc)) from None
    problems = check_scenario(text, name_or_path)
    if problems:
        raise ScenarioError("; ".join(problems[:5]) + ("; …" if len(problems) > 5 else ""))
    return yamlspec.parse(text, name_or_path)[0]


def generate(hosts: int = 64, vms: int = 4000, seed: int = 7) -> dict:
    """A large pool in scenario form (for benchmarks)."""
    host_list = [
        {
            "name": f"host-{i + 1:03d}",
            "address": f"127.20.{(i + 11) // 250}.{(i + 11) % 250 + 1}",
            "master": i == 0,
            "memory_gb": 512,
            "free_gb": 200,
            "cpus": 48,
            "cpu_model": "AMD EPYC 7443 24-Core Processor",
            "nics": 4,
            "cert_days": 1000,
            "storage_ip": f"127.21.{(i + 11) // 250}.{(i + 11) % 250 + 1}",
        }
        for i in range(hosts)
    ]
    powers = ["Running"] * 7 + ["Halted"] * 2 + ["Suspended"]
    vm_rows = []
    for i in range(vms):
        power = powers[i % len(powers)]
        host = host_list[i % hosts]["name"] if power == "Running" else ""
        sr = "Shared NFS" if i % 3 else f"Local storage@{host_list[i % hosts]['name']}"
        prio = ["restart", "best-effort", ""][i % 3]
        vm_rows.append([f"vm-{i + 1:05d}", host, power, 4, 2, 40, sr, prio, i % 5])
    return {
        "name": f"generated-{hosts}x{vms}",
        "seed": seed,
        "pool": {"name": f"Big Pool {hosts}", "default_sr": "Shared NFS", "ha": {"enabled": False}},
        "dns": ["127.20.0.53"],
        "gateway": "127.20.0.1",
        "netmask": "255.255.0.0",
        "hosts": host_list,
        "networks": [
            {"name": "Management", "device": "eth0", "management": True},
            {"name": "Storage", "device": "eth1", "mtu": 9000, "purpose": "storage"},
            {"name": "VM Bond", "bond": ["eth2", "eth3"], "mode": "lacp"},
        ],
        "srs": [
            {
                "name": "Shared NFS",
                "type": "nfs",
                "shared": True,
                "size_gb": 65536,
                "used_gb": 30000,
                "server": "127.20.2.5",
                "path": "/export/big",
            },
            {
                "name": "Local storage",
                "type": "lvm",
                "per_host": True,
                "size_gb": 1800,
                "used_gb": 600,
            },
        ],
        "updates": [
            {
                "name": "XS82ECU1001",
                "guidance": ["restartHost"],
                "applied": [h["name"] for h in host_list],
            }
        ],
        "vms": vm_rows,
    }


def build(scenario: dict, *, now: float | None = None, seed: int | None = None) -> Store:
    """Create the scenario's objects in a new Store."""
    try:
        # an API named outright (a test's {**demo, "api": "creedence"}) wins
        if scenario.get("release") and not scenario.get("api"):
            if scenario["release"] not in PROFILES:
                raise ScenarioError(unknown(scenario["release"]))
            scenario = with_release(scenario, scenario["release"])
        builder = _Builder(scenario, now or clock.now(), seed)
        with builder.store.batch():
            return builder.run()
    except ScenarioError:
        raise
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        name = scenario.get("name", "scenario") if isinstance(scenario, dict) else "scenario"
        raise ScenarioError(f"{name}: malformed entry ({exc.__class__.__name__}: {exc})") from None


def _mac(host_index: int, nic: int) -> str:
    return f"02:10:{host_index // 256:02x}:{host_index % 256:02x}:00:{nic:02x}"


class _Builder:
    def __init__(self, sc: dict, now: float, seed: int | None):
        self.sc, self.now = sc, now
        self.store = Store(seed if seed is not None else sc.get("seed", 0))
        self.hosts: dict[str, str] = {}  # name -> ref
        self.host_specs: dict[str, dict] = {}
        self.networks: dict[str, str] = {}  # name -> ref
        self.device_network: dict[str, str] = {}  # device -> network ref
        self.pifs: dict[tuple[str, str], str] = {}  # (host name, device or network name) -> PIF ref
        self.srs: dict[str, str] = {}  # name or name@host -> ref

    def ago(self, seconds: float):
        return now_xdate(self.now - seconds)

    def run(self) -> Store:
        sc, st = self.sc, self.store
        self.make_roles()
        for i, h in enumerate(sc["hosts"]):
            self.make_host(i, h)
        masters = [n for n, h in self.host_specs.items() if h.get("master")] or [
            next(iter(self.hosts))
        ]
        self.make_networks()
        for record in sm_records():
            st.create("SM", record)
        self.make_srs()
        pool = sc.get("pool", {})
        ha = pool.get("ha", {}) or {}
        default_sr = self.srs.get(pool.get("default_sr", ""), NULL_REF)
        st.create(
            "pool",
            {
                "name_label": pool.get("name", ""),
                "master": self.hosts[masters[0]],
                "default_SR": default_sr,
                "suspend_image_SR": default_sr,
                "crash_dump_SR": default_sr,
                "ha_enabled": bool(ha.get("enabled")),
                "ha_host_failures_to_tolerate": int(ha.get("failures_to_tolerate", 0)),
                "ha_plan_exists_for": int(ha.get("plan_exists_for", 0)),
                "ha_statefiles": [],
                "other_config": {"memory-ratio-hvm": "0.25", "memory-ratio-pv": "0.25"},
                "cpu_info": {"cpu_count": str(sum(int(h.get("cpus", 8)) for h in sc["hosts"]))},
            },
        )
        if ha.get("enabled"):
            self.make_ha_statefile(ha)
        self.make_trust(pool)
        for row in sc.get("vms", []):
            self.make_vm(*row)
        self.make_templates()
        self.make_schedules()
        self.make_load(sc.get("load") or {})
        self.make_updates()
        self.make_messages()
        self.make_directory()
        st.nfs_exports = {str(k): list(v) for k, v in (sc.get("nfs_servers") or {}).items()}
        st.iscsi_targets = {
            str(address): {**t, "luns": [_lun(f"{address}/{t['iqn']}", lun) for lun in t["luns"]]}
            for address, t in (sc.get("iscsi_targets") or {}).items()
        }
        st.hba_luns = [_lun("hba", lun) for lun in sc.get("hba_luns", [])]
        st.local_disks = list(sc.get("local_disks", []))
        self.finish_srs()
        for app in sc.get("appliances") or []:
            self.make_appliance(app)
        if sc.get("portable_sr"):
            try:
                dr.portable_sr(st, sc["portable_sr"], build, load_scenario)
            except ValueError as exc:
                raise ScenarioError(f"{sc.get('name', 'scenario')}: {exc}") from None
        for vm in list(st.table("VM")):  # last: earlier objects keep their uuids
            consoles.sync(st, vm, by_ref=True)
        return st

    def make_appliance(self, spec: dict) -> None:
        """A vApp of the scenario's VMs (named)."""
        st = self.store
        app = st.create("VM_appliance", {"name_label": spec["name"]})
        for name in spec["vms"]:
            vm = st.find_one("VM", name_label=name)
            if vm is None:
                raise ScenarioError(f"appliance {spec['name']}: no VM called {name!r}")
            st.set("VM", vm, appliance=app)

    def make_load(self, load: dict) -> None:
        """The performance figures' load profile (xstui.sim.rrd): names of
        VMs; one the pool does not have is left out (a scenario made from
        another may drop VMs)."""
        vms = {r["name_label"] for r in self.store.table("VM").values()}
        known = {"busy": vms, "noisy": vms}
        self.store.load = {k: [n for n in load.get(k, []) if n in known[k]] for k in known}

    # hosts ---------------------------------------------------------------
    ROLE_DESCRIPTIONS = {
        "pool-admin": "The Pool Administrator role has full access to all features and settings, "
        "including accessing Dom0 and managing subjects, roles and external authentication",
        "pool-operator": "The Pool Operator role manages host- and pool-wide resources, including "
        "setting up storage, creating resource pools and managing patches, high availability "
        "(HA) and workload balancing (WLB)",
        "vm-power-admin": "The VM Power Administrator role has full access to VM and template "
        "management and can choose where to start VMs and use the dynamic memory control and "
        "VM snapshot features",
        "vm-admin": "The VM Administrator role can manage VMs and templates",
        "vm-operator": "The VM Operator role can use VMs and interact with VM consoles",
        "read-only": "The Read-Only role can log in with basic read-only access",
    }

    def make_roles(self):
        for name in ROLES:
            self.store.create(
                "role", {"name_label": name, "name_description": self.ROLE_DESCRIPTIONS[name]}
            )

    def make_directory(self):
        """The AD domain beside the pool; joined already when ``enabled``,
        with its ``subjects`` given their roles."""
        spec = self.sc.get("directory")
        if not spec:
            return
        st = self.store
        st.directory = directory.build(spec)
        if not spec.get("enabled"):
            return
        for host in self.hosts.values():
            st.set(
                "host",
                host,
                external_auth_type="AD",
                external_auth_service_name=st.directory["domain"],
                external_auth_configuration={"domain": st.directory["domain"]},
            )
        for subject in spec.get("subjects", []):
            entry = directory.lookup(st.directory, subject["name"])
            role = st.find_one("role", name_label=subject.get("role", "read-only"))
            if role is None:
                raise ScenarioError(f"subject {subject['name']}: no role {subject.get('role')!r}")
            st.create(
                "subject",
                {
                    "subject_identifier": entry["sid"],
                    "other_config": directory.information(st.directory, entry),
                    "roles": [role],
                },
            )

    def make_host(self, index: int, h: dict):
        st, sc = self.store, self.sc
        prod = sc.get("product", {})
        name = h["name"]
        total = int(h.get("memory_gb", 64)) * GiB
        metrics = st.create(
            "host_metrics",
            {
                "memory_total": total,
                "memory_free": int(h.get("free_gb", 32)) * GiB,
                "live": h.get("live", True),
                "last_updated": self.ago(5),
            },
        )
        api = prod.get("api_version", [2, 16])
        ref = st.create(
            "host",
            {
                "name_label": name,
                "hostname": name,
                "address": h["address"],
                "enabled": h.get("enabled", True),
                "metrics": metrics,
                "memory_overhead": total // 96,
                "API_version_major": api[0],
                "API_version_minor": api[1],
                "API_version_vendor": "XenSource",
                "capabilities": list(HOST_CAPABILITIES),
                "software_version": {
                    "product_brand": prod.get("brand", "XCP-ng"),
                    "product_version": prod.get("version", "8.2.1"),
                    "build_number": prod.get("build", "release/yangtze/master/58"),
                    "xapi": prod.get("xapi", "1.249.32"),
                    "xen": prod.get("xen", "4.13.5"),
                    "linux": prod.get("linux", "4.19.0+1"),
                    "network_backend": prod.get("network_backend", "openvswitch"),
                    "platform_name": "XCP",
                    "platform_version": prod.get("platform_version", "3.2.1"),
                    "hostname": name,
                },
                "cpu_info": {
                    "cpu_count": str(h.get("cpus", 8)),
                    "socket_count": "2",
                    "vendor": "GenuineIntel"
                    if "Intel" in h.get("cpu_model", "")
                    else "AuthenticAMD",
                    "modelname": h.get("cpu_model", "Generic CPU"),
                    "speed": "2100.000",
                    "flags": "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat "
                    "clflush mmx fxsr sse sse2 ht syscall nx lm constant_tsc rep_good nopl "
                    "pni pclmulqdq ssse3 fma cx16 sse4_1 sse4_2 x2apic movbe popcnt aes xsave "
                    "avx f16c rdrand hypervisor lahf_lm abm avx2 bmi1 bmi2 erms",
                    "features": h.get(
                        "cpu_features",
                        "1fcbfbff-f7fa3223-2c100800-00000121-0000000f-f1bf07ab"
                        if "Intel" in h.get("cpu_model", "")
                        else "178bfbff-f6f83203-2e500800-040001f3-0000000f-f1bf07a9",
                    ),
                },
                "other_config": {
                    "boot_time": str(int(self.now - float(h.get("uptime_days", 12 + index)) * DAY))
                },
                "iscsi_iqn": f"iqn.2024-01.org.xcp-ng:{name}",
                "bios_strings": {
                    "system-manufacturer": "Dell Inc.",
                    "system-product-name": "PowerEdge R640",
                    "bios-vendor": "Dell Inc.",
                    "bios-version": "2.19.1",
                },
                "logging": {"syslog_destination": h["syslog"]} if h.get("syslog") else {},
                "edition": "xcp-ng",
                "ntp_mode": "Custom" if h.get("ntp") else "Factory",
                "ntp_custom_servers": list(h.get("ntp", [])),
                "ssh_enabled": h.get("ssh", True),
                "timezone": h.get("timezone", "UTC"),
                "power_on_mode": "iLO" if h.get("bmc") else "",
                "power_on_config": {"power_on_ip": h["bmc"]} if h.get("bmc") else {},
            },
        )
        self.hosts[name], self.host_specs[name] = ref, h
        for n in range(int(h.get("cpus", 8))):
            st.create(
                "host_cpu",
                {
                    "host": ref,
                    "number": n,
                    "modelname": h.get("cpu_model", "Generic CPU"),
                    "speed": 2100,
                    "vendor": "GenuineIntel",
                    "utilisation": 0.05 + (n % 7) / 50,
                },
            )
        dom0_metrics = st.create(
            "VM_metrics",
            {"memory_actual": 4 * GiB, "VCPUs_number": 16, "start_time": self.ago(86400)},
        )
        dom0 = st.create(
            "VM",
            {
                "name_label": f"Control domain on host: {name}",
                "is_control_domain": True,
                "power_state": "Running",
                "resident_on": ref,
                "memory_static_max": 4 * GiB,
                "memory_dynamic_max": 4 * GiB,
                "memory_dynamic_min": 4 * GiB,
                "memory_target": 4 * GiB,
                "memory_overhead": 34 * 1024**2,
                "VCPUs_max": 16,
                "VCPUs_at_startup": 16,
                "domid": 0,
                "metrics": dom0_metrics,
            },
        )
        st.set("host", ref, control_domain=dom0)
        days = float(h.get("cert_days", 3000))
        digest = hashlib.sha256(f"{name}-{days}".encode()).hexdigest().upper()
        st.create(
            "Certificate",
            {
                "type": "host",
                "host": ref,
                "not_before": self.ago((3650 - days) * DAY),
                "not_after": now_xdate(self.now + days * DAY),
                "fingerprint": ":".join(digest[i : i + 2] for i in range(0, 64, 2)),
                "fingerprint_sha256": ":".join(digest[i : i + 2] for i in range(0, 64, 2)),
            },
        )

    def make_trust(self, pool: dict):
        """The pool's trusted CA certificates (Certificate records of type ca)
        and its CRLs (names, as pool.crl_list gives them)."""
        st = self.store
        for ca in pool.get("trusted_cas", []):
            days = float(ca.get("days", 3000))
            digest = hashlib.sha256(f"ca-{ca['name']}".encode()).hexdigest().upper()
            st.create(
                "Certificate",
                {
                    "name": ca["name"],
                    "type": "ca",
                    "not_before": self.ago(365 * DAY),
                    "not_after": now_xdate(self.now + days * DAY),
                    "fingerprint": ":".join(digest[i : i + 2] for i in range(0, 64, 2)),
                    "fingerprint_sha256": ":".join(digest[i : i + 2] for i in range(0, 64, 2)),
                },
            )
        st.crls = list(pool.get("crls", []))

    # networking ------------------------------------------------------------
    def make_networks(self):
        st, sc = self.store, self.sc
        specs = sc.get("networks", [])
        named = {n["device"]: n for n in specs if "device" in n}
        devices = max(int(h.get("nics", 2)) for h in self.host_specs.values())
        for d in range(devices):
            dev = f"eth{d}"
            spec = named.get(
                dev, {"name": f"Pool-wide network associated with {dev}", "device": dev}
            )
            net = st.create(
                "network",
                {
                    "name_label": spec["name"],
                    "bridge": f"xenbr{d}",
                    "MTU": int(spec.get("mtu", 1500)),
                    "managed": True,
                },
            )
            self.networks[spec["name"]] = self.device_network[dev] = net
        for hi, (hname, host) in enumerate(self.hosts.items()):
            h = self.host_specs[hname]
            for d in range(int(h.get("nics", 2))):
                dev = f"eth{d}"
                spec = named.get(dev, {})
                mtu = int((h.get("mtu") or {}).get(dev, spec.get("mtu", 1500)))
                fields = {"ip_configuration_mode": "None"}
                if spec.get("management"):
                    fields = {
                        "ip_configuration_mode": "Static",
                        "IP": h["address"],
                        "management": True,
                        "netmask": sc.get("netmask", "255.255.255.0"),
                        "gateway": sc.get("gateway", ""),
                        "DNS": ",".join(sc.get("dns", [])),
                    }
                elif spec.get("purpose") == "storage" and h.get("storage_ip"):
                    fields = {
                        "ip_configuration_mode": "Static",
                        "IP": h["storage_ip"],
                        "netmask": sc.get("netmask", "255.255.255.0"),
                        "disallow_unplug": True,
                        "other_config": {"management_purpose": "Storage"},
                    }
                self.pifs[(hname, dev)] = self.make_pif(
                    host,
                    dev,
                    self.device_network[dev],
                    _mac(hi, d),
                    mtu,
                    physical=True,
                    speed=10000 if d else 1000,
                    **fields,
                )
        for spec in specs:
            if "bond" in spec:
                self.make_bond(spec)
            elif "vlan" in spec:
                self.make_vlan(spec)

    def make_pif(self, host, device, network, mac, mtu, *, physical, speed=10000, **fields):
        metrics = self.store.create(
            "PIF_metrics",
            {
                "carrier": True,
                "speed": speed if physical else 0,
                "duplex": physical,
                "vendor_name": "Intel Corporation",
                "device_name": "Ethernet Controller X710 for 10GbE SFP+"
                if speed == 10000
                else "I350 Gigabit Network Connection",
                "last_updated": self.ago(5),
            },
        )
        return self.store.create(
            "PIF",
            {
                "device": device,
                "host": host,
                "network": network,
                "MAC": mac,
                "MTU": mtu,
                "physical": physical,
                "currently_attached": True,
                "metrics": metrics,
                "VLAN": -1,
                "managed": True,
                **fields,
            },
        )

    def make_bond(self, spec):
        st = self.store
        net = st.create(
            "network",
            {"name_label": spec["name"], "bridge": f"xapi{len(self.networks)}", "MTU": 1500},
        )
        self.networks[spec["name"]] = net
        for hname, host in self.hosts.items():
            members = [self.pifs[(hname, d)] for d in spec["bond"]]
            mac = st.get("PIF", members[0])["MAC"]
            master = self.make_pif(
                host,
                f"bond{len([k for k in self.pifs if k[0] == hname and k[1].startswith('bond')])}",
                net,
                mac,
                1500,
                physical=False,
            )
            bond = st.create(
                "Bond",
                {
                    "master": master,
                    "mode": spec.get("mode", "active-backup"),
                    "primary_slave": members[0],
                    "links_up": len(members),
                    "auto_update_mac": True,
                },
            )
            for m in members:
                st.set("PIF", m, bond_slave_of=bond)
            self.pifs[(hname, spec["name"])] = master

    def make_vlan(self, spec):
        st = self.store
        tag = int(spec["vlan"])
        net = st.create(
            "network",
            {"name_label": spec["name"], "bridge": f"xapi{len(self.networks)}", "MTU": 1500},
        )
        self.networks[spec["name"]] = net
        for hname, host in self.hosts.items():
            tagged = self.pifs[(hname, spec["over"])]
            t = st.get("PIF", tagged)
            untagged = self.make_pif(host, t["device"], net, t["MAC"], t["MTU"], physical=False)
            st.set("PIF", untagged, VLAN=tag)
            vlan = st.create("VLAN", {"tagged_PIF": tagged, "untagged_PIF": untagged, "tag": tag})
            st.set("PIF", untagged, VLAN_master_of=vlan)
            self.pifs[(hname, spec["name"])] = untagged

    # storage ---------------------------------------------------------------
    def make_srs(self):
        st = self.store
        for spec in self.sc.get("srs", []):
            kind = spec.get("type", "nfs")
            targets = (
                [(f"{spec['name']}@{h}", [h]) for h in self.hosts]
                if spec.get("per_host")
                else [(spec["name"], list(self.hosts))]
            )
            used = spec.get("used_gb", 0)
            for i, (key, hosts) in enumerate(targets):
                u = used[i] if isinstance(used, list) else used
                sr = st.create(
                    "SR",
                    {
                        "name_label": spec["name"],
                        "type": kind,
                        "shared": bool(spec.get("shared")),
                        "content_type": "iso" if kind == "iso" else "user",
                        "physical_size": int(spec.get("size_gb", 100)) * GiB,
                        "physical_utilisation": int(u) * GiB,
                        "other_config": {"auto-scan": "true"} if kind == "iso" else {},
                        "sm_config": {
                            "allocation": "thin" if kind in ("nfs", "ext", "iso") else "thick"
                        },
                    },
                )
                self.srs[key] = sr
                if not spec.get("per_host"):
                    self.srs[spec["name"]] = sr
                for h in hosts:
                    if kind == "nfs" or kind == "iso":
                        cfg = {
                            "server": spec.get("server", "127.0.0.1"),
                            "serverpath": spec.get("path", "/"),
                            "type": kind,
                        }
                        if kind == "iso":
                            cfg = {
                                "location": f"{spec.get('server', '127.0.0.1')}:{spec.get('path', '/')}"
                            }
                    else:
                        cfg = {"device": "/dev/disk/by-id/scsi-local-disk-part3"}
                    st.create(
                        "PBD",
                        {
                            "host": self.hosts[h],
                            "SR": sr,
                            "device_config": cfg,
                            "currently_attached": True,
                        },
                    )

    def make_ha_statefile(self, ha: dict):
        """HA on: its statefile and metadata VDIs on the heartbeat SR, as
        pool.enable_ha leaves them."""
        st = self.store
        name = ha.get("heartbeat_sr", "")
        if name not in self.srs:
            raise ScenarioError(f"pool.ha.heartbeat_sr: no SR named {name!r}")
        sr = self.srs[name]
        vdis = [
            st.create(
                "VDI",
                {"name_label": label, "SR": sr, "type": kind, "virtual_size": size},
            )
            for label, kind, size in (
                ("Statefile for HA", "ha_statefile", 4 * 1024**2),
                ("Metadata for HA", "redo_log", 256 * 1024**2),
            )
        ]
        pool = next(iter(st.table("pool")))
        st.set(
            "pool",
            pool,
            ha_statefiles=[vdis[0]],
            ha_configuration={"timeout": str(ha.get("timeout", 30))},
            ha_cluster_stack="xhad",
            redo_log_enabled=True,
            redo_log_vdi=vdis[1],
        )
        for host in self.hosts.values():
            st.set("host", host, ha_statefiles=[vdis[0]])

    def finish_srs(self):
        """Virtual allocation is the sum of the VDIs' virtual sizes."""
        st = self.store
        for ref, sr in st.table("SR").items():
            alloc = sum(st.get("VDI", v)["virtual_size"] for v in sr["VDIs"] if st.exists("VDI", v))
            st.set("SR", ref, virtual_allocation=alloc)

    # VMs -------------------------------------------------------------------
    def make_vm(self, name, host, power, mem_gb, vcpus, disk_gb, sr_key, priority="", order=0):
        st = self.store
        if host and host not in self.hosts:
            raise ScenarioError(f"VM {name}: unknown host {host!r}")
        if sr_key not in self.srs:
            raise ScenarioError(f"VM {name}: unknown SR {sr_key!r}")
        mem = int(float(mem_gb) * GiB)
        live = power in ("Running", "Paused")
        metrics = st.create(
            "VM_metrics",
            {
                "memory_actual": mem if live else 0,
                "VCPUs_number": int(vcpus) if live else 0,
                "start_time": self.ago(3 * DAY) if live else now_xdate(0),
                "state": [],
                "hvm": True,
            },
        )
        guest = NULL_REF
        if live:
            guest = guest_agent.report(st, self.ago(10))
        vm = st.create(
            "VM",
            {
                "name_label": name,
                "power_state": power,
                "resident_on": self.hosts[host] if live and host else NULL_REF,
                "affinity": self.hosts.get(host, NULL_REF),
                "memory_static_max": mem,
                "memory_dynamic_max": mem,
                "memory_dynamic_min": mem,
                "memory_target": mem if live else 0,
                "memory_static_min": 512 * 1024**2,
                "memory_overhead": mem // 128,
                "VCPUs_max": int(vcpus),
                "VCPUs_at_startup": int(vcpus),
                "ha_restart_priority": priority or "",
                "order": int(order),
                "ha_always_run": bool(priority),
                "domid": 10 + len(st.table("VM")) if live else -1,
                "metrics": metrics,
                "guest_metrics": guest,
                "HVM_boot_policy": "BIOS order",
                "domain_type": "hvm",
                "user_version": 1,
                "actions_after_shutdown": "destroy",
                "actions_after_reboot": "restart",
                "actions_after_crash": "restart",
                # XAPI gives every VM one (VM.create); VIFs' MACs derive from it
                "other_config": {
                    "mac_seed": str(
                        uuidlib.uuid5(uuidlib.NAMESPACE_OID, f"{name}/{len(st.table('VM'))}")
                    )
                },
            },
        )
        vdi = st.create(
            "VDI",
            {
                "name_label": f"{name} disk 0",
                "SR": self.srs[sr_key],
                "virtual_size": int(disk_gb) * GiB,
                "physical_utilisation": int(disk_gb) * GiB // 2,
                "type": "user",
                "managed": True,
            },
        )
        st.create(
            "VBD",
            {
                "VM": vm,
                "VDI": vdi,
                "device": "xvda",
                "userdevice": "0",
                "bootable": True,
                "mode": "RW",
                "type": "Disk",
                "currently_attached": live,
            },
        )
        net = self.networks.get("VLAN 20 Prod") or next(iter(self.networks.values()))
        st.create(
            "VIF",
            {
                "VM": vm,
                "network": net,
                "device": "0",
                "MAC": vif_mac(len(st.table("VIF"))),
                "currently_attached": live,
                "MTU": 1500,
            },
        )
        return vm

    def make_templates(self):
        for name in ("Debian Bookworm 12", "Windows Server 2022 (64-bit)", "Rocky Linux 9"):
            self.store.create(
                "VM",
                {
                    "name_label": name,
                    "is_a_template": True,
                    "is_default_template": True,
                    "power_state": "Halted",
                    "memory_static_max": 2 * GiB,
                },
            )

    # updates and alerts ----------------------------------------------------
    def make_updates(self):
        """Hotfixes as the scenario's API release keeps them: 6.x pool_patch
        and host_patch rows, else pool_update objects (their files in a VDI
        until cleaned); and for XenServer 8 the repository and its updates."""
        st, sc = self.store, self.sc
        st.api = str(sc.get("api", ""))
        patches = bool(st.api) and "pool_update" in Release.named(st.api).classes
        pool = next(iter(st.table("pool")))
        default_sr = st.get("pool", pool)["default_SR"]
        for u in sc.get("updates", []):
            hosts = [self.hosts[h] for h in u.get("applied", [])]
            uploaded = u.get("uploaded", len(hosts) < len(self.hosts))
            size = int(float(u.get("size_mb", 20)) * 1024**2)
            guidance = u.get("guidance", [])
            for host, code in (u.get("precheck_fails") or {}).items():
                st.precheck_fails[(u["name"], str(host))] = str(code)
            if patches:
                self.make_patch(u["name"], hosts, guidance, size, uploaded)
                continue
            vdi = NULL_REF
            if uploaded and default_sr != NULL_REF:
                vdi = st.create(
                    "VDI",
                    {"SR": default_sr, "name_label": f"{u['name']} update", "virtual_size": size},
                )
            upd = st.create(
                "pool_update",
                {
                    "name_label": u["name"],
                    "name_description": f"Hotfix {u['name']}",
                    "version": "1.0",
                    "hosts": hosts,
                    "after_apply_guidance": guidance,
                    "installation_size": size,
                    "vdi": vdi,
                },
            )
            for h in hosts:
                st.set("host", h, updates=[*st.get("host", h)["updates"], upd])
        repo = sc.get("repository")
        if repo:
            ref = st.create(
                "Repository",
                {
                    "name_label": repo.get("name", "base"),
                    "binary_url": repo.get("url", "https://127.0.0.1/repository/"),
                    "update": True,
                    "hash": "",
                },
            )
            st.set("pool", pool, repositories=[ref])
            st.repository_synced = True
        if "yum_updates" in sc:
            st.yum_updates = []
        for p in sc.get("yum_updates") or []:
            st.yum_updates.append(
                {
                    "name": p["name"],
                    "version": str(p.get("version", "1.0")),
                    "release": str(p.get("release", "1.xcpng8.3")),
                    "description": p.get("description", ""),
                }
            )
            for h in p.get("applied", []):
                st.yum_applied.setdefault(self.hosts[h], set()).add(p["name"])
        for u in sc.get("repository_updates", []):
            st.repository_updates.append(
                {
                    "id": u["id"],
                    "summary": u.get("summary", ""),
                    "guidance": list(u.get("guidance", [])),
                    "type": u.get("type", "bugfix"),
                }
            )
            for h in u.get("applied", []):
                st.repository_applied.setdefault(self.hosts[h], set()).add(u["id"])

    def make_patch(self, name, hosts, guidance, size, uploaded):
        st = self.store
        patch = st.create(
            "pool_patch",
            {
                "name_label": name,
                "name_description": f"Hotfix {name}",
                "version": "1.0",
                "size": size,
                "after_apply_guidance": guidance,
                "pool_applied": len(hosts) == len(self.hosts),
            },
        )
        if not uploaded:
            st.cleaned_patches.add(patch)
        for h in hosts:
            st.create(
                "host_patch",
                {
                    "name_label": name,
                    "version": "1.0",
                    "host": h,
                    "applied": True,
                    "timestamp_applied": self.ago(30 * DAY),
                    "size": size,
                    "pool_patch": patch,
                },
            )

    def make_schedules(self):
        """Snapshot schedules (VMSS), where the release has them, with their VMs."""
        st, api = self.store, str(self.sc.get("api", ""))
        if api and "VMSS" in Release.named(api).classes:
            return
        for spec in self.sc.get("schedules", []):
            frequency = spec["frequency"]
            schedule = {"min": str(spec.get("min", 0))}
            if frequency != "hourly":
                schedule["hour"] = str(spec.get("hour", 0))
            if frequency == "weekly":
                schedule["days"] = ",".join(spec.get("days", ["Monday"]))
            ref = st.create(
                "VMSS",
                {
                    "name_label": spec["name"],
                    "name_description": spec.get("description", ""),
                    "enabled": spec.get("enabled", True),
                    "type": spec.get("type", "snapshot"),
                    "retained_snapshots": int(spec.get("retained", 7)),
                    "frequency": frequency,
                    "schedule": schedule,
                    "last_run_time": now_xdate(0),
                },
            )
            for name in spec.get("vms", []):
                vm = st.find_one("VM", name_label=name, is_a_template=False)
                if vm is None:
                    raise ScenarioError(f"schedule {spec['name']}: unknown VM {name!r}")
                st.set("VM", vm, snapshot_schedule=ref)

    def make_messages(self):
        st = self.store
        for m in self.sc.get("messages", []):
            target = m.get("about", "pool")
            if target == "pool":
                cls, uuid = "Pool", st.get("pool", next(iter(st.table("pool"))))["uuid"]
            else:
                kind, name = target.split(":", 1)
                table = {"host": ("Host", self.hosts), "SR": ("SR", self.srs)}[kind]
                cls, uuid = table[0], st.get(kind, table[1][name])["uuid"]
            st.create(
                "message",
                {
                    "name": m["name"],
                    "priority": int(m.get("priority", 3)),
                    "cls": cls,
                    "obj_uuid": uuid,
                    "timestamp": self.ago(float(m.get("minutes_ago", 0)) * 60),
                    "body": m.get("body", ""),
                },
            )


def standalone_scenario(pool: dict, spec: dict) -> dict:
    """A host beside the pool as a scenario of its own: one host, its NICs on
    the pool-wide networks' devices, a local SR, the pool's product and DNS."""
    return {
        "name": f"{spec['name']} (standalone)",
        "seed": int(pool.get("seed", 0)) + 1,
        "pool": {"name": ""},
        "product": pool.get("product", {}),
        **{k: pool[k] for k in ("api", "release") if pool.get(k)},
        "dns": pool.get("dns", []),
        "gateway": pool.get("gateway", "127.10.0.1"),
        "netmask": pool.get("netmask", "255.255.255.0"),
        "hosts": [{**spec, "master": True}],
        "networks": [
            {"name": "Pool-wide network associated with eth0", "device": "eth0", "management": True}
        ],
        "srs": [{"name": "Local storage", "type": "lvm", "per_host": True, "size_gb": 500}],
    }


def _lun(where: str, spec: dict) -> dict:
    """A LUN as the storage managers report it (a stable SCSI id from where it is)."""
    lun_id = int(spec.get("id", 0))
    digest = hashlib.sha256(f"{where}/{lun_id}".encode()).hexdigest()
    return {
        "id": lun_id,
        "size": int(float(spec.get("size_gb", 1024)) * GiB),
        "vendor": spec.get("vendor", "LIO-ORG"),
        "serial": digest[:16],
        "scsi_id": "36" + digest[:30],
        "adapter": int(spec.get("adapter", 0)),
    }
