"""Performance alarms as XAPI's perfmon reads them: ``other_config:perfmon``
of a VM, a host or an SR, an XML document of variables::

    <config>
      <variable>
        <name value="cpu_usage"/>
        <alarm_trigger_level value="0.9"/>
        <alarm_trigger_period value="60"/>
        <alarm_auto_inhibit_period value="3600"/>
      </variable>
    </config>

perfmon raises an ``ALARM`` message on the object when the variable stays
beyond the level for the trigger period, then keeps quiet for the inhibit
period. What is read that is malformed is said as such (never a crash);
what the admin types is checked, in words, before any call. Variables this
console does not edit (fs_usage, a trigger sense...) are kept as they are."""

from __future__ import annotations

import shlex
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from ..actions import Action, InvalidInput, Plan, RunContext
from ..fields import Field, optional, problem_of

KEY = "perfmon"
MAX_XML = 64 * 1024
MINUTE = 60


@dataclass(frozen=True)
class Variable:
    name: str
    what: str
    unit: str  # what the admin types it in
    scale: float  # the stored value per unit typed (90 % -> 0.9)
    most: float | None = None  # the largest value that makes sense, in typed units
    below: bool = False  # the alarm is under the level (free memory), not above it

    @property
    def sense(self) -> str:
        return "below" if self.below else "above"

    @property
    def label(self) -> str:
        return f"{self.what} {self.sense} ({self.unit})"


MiB = 1024 * 1024
# typed in the console's units (MiB/s, as every screen shows throughput); perfmon
# reads bytes/s for network and disk, KiB for free memory, MiB/s for SR I/O
VM_VARIABLES = (
    Variable("cpu_usage", "CPU usage", "%", 0.01, 100),
    Variable("network_usage", "Network", "MiB/s", MiB),
    Variable("disk_usage", "Disk", "MiB/s", MiB),
)
# a host's, as perfmon sums them: its cpuN averaged, pif_ethN_rx/tx, memory_free_kib
HOST_VARIABLES = (
    Variable("cpu_usage", "CPU usage", "%", 0.01, 100),
    Variable("network_usage", "Network", "MiB/s", MiB),
    Variable("memory_free_kib", "Free memory", "MiB", 1024, below=True),
)
# an SR's: its physical_utilisation over its size, and (perfmon's special case, set on
# the SR but watched by each host with a PBD of it) the host's io_throughput_total_<SR>
SR_VARIABLES = (
    Variable("physical_utilisation", "Space used", "%", 0.01, 100),
    Variable("sr_io_throughput_total_per_host", "I/O on each host", "MiB/s", 1),
)


# an ALARM message's class -> the variables this console knows on such an object
_KNOWN = {"VM": VM_VARIABLES, "Host": HOST_VARIABLES, "SR": SR_VARIABLES}


def alarm_words(cls: str, body: str) -> str:
    """What an ALARM message of perfmon says (``value: V\nconfig:\n<variable>...``),
    in the console's units: "CPU usage 97 % above the alarm's 90 %"; "" when
    the body is not perfmon's."""
    first, _, rest = body.partition("\n")
    if not first.startswith("value: "):
        return ""
    try:
        value = float(first.removeprefix("value: "))
        xml = rest[rest.index("<variable") : rest.rindex("</variable>") + len("</variable>")]
        if "<!" in xml:
            return ""
        var = ET.fromstring(xml)
        values = {child.tag: child.get("value", "") for child in var}
        name, level = values["name"], float(values["alarm_trigger_level"])
    except (ValueError, KeyError, ET.ParseError):
        return ""
    known = next((v for v in _KNOWN.get(cls, ()) if v.name == name), None)
    if name.startswith("sr_io_throughput_total_") and cls == "Host":
        known = SR_VARIABLES[1]  # the per-host variable, renamed for the SR it watches
    if known is None:
        return f"{name} at {value:g}, beyond the alarm's {level:g}"
    sense = values.get("alarm_trigger_sense", "low" if known.below else "high")
    words = "below" if sense == "low" else "above"
    unit = known.unit
    return (
        f"{known.what} {value / known.scale:.3g} {unit} {words} the alarm's"
        f" {level / known.scale:g} {unit}"
    )


@dataclass
class Alarm:
    name: str
    level: float
    period: int = MINUTE  # seconds beyond the level before it fires
    inhibit: int = 3600  # seconds of quiet after it fired
    extra: dict[str, str] = field(default_factory=dict)  # other settings, kept as read


@dataclass(frozen=True)
class Config:
    alarms: tuple[Alarm, ...] = ()
    problem: str = ""  # what is wrong with what was read ("" when nothing)


def _number(text: str, what: str) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        raise ValueError(f"{what} {text!r} is not a number") from None


def read(text: str) -> Config:
    """The alarms of an ``other_config:perfmon`` value; a malformed one is
    no alarm at all, with the reason (perfmon itself ignores it)."""
    if not text.strip():
        return Config()
    if len(text) > MAX_XML:
        return Config(problem=f"the alarm configuration is larger than {MAX_XML // 1024} KiB")
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        return Config(problem="the alarm configuration declares entities")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        return Config(problem=f"the alarm configuration is not XML ({exc})")
    if root.tag != "config":
        return Config(problem=f"the alarm configuration is <{root.tag}>, not <config>")
    alarms = []
    try:
        for var in root.findall("variable"):
            values = {child.tag: child.get("value", "") for child in var}
            name = values.pop("name", "")
            if not name:
                raise ValueError("a variable has no name")
            level = _number(values.pop("alarm_trigger_level", ""), f"{name}'s level")
            period = _number(values.pop("alarm_trigger_period", str(MINUTE)), f"{name}'s period")
            inhibit = _number(
                values.pop("alarm_auto_inhibit_period", "3600"), f"{name}'s inhibit period"
            )
            alarms.append(Alarm(name, level, int(period), int(inhibit), values))
    except ValueError as exc:
        return Config(problem=f"the alarm configuration is malformed: {exc}")
    return Config(tuple(alarms))


def to_xml(alarms) -> str:
    root = ET.Element("config")
    for a in alarms:
        var = ET.SubElement(root, "variable")
        ET.SubElement(var, "name", value=a.name)
        exact = str(int(a.level)) if a.level.is_integer() else repr(a.level)
        ET.SubElement(var, "alarm_trigger_level", value=exact)
        ET.SubElement(var, "alarm_trigger_period", value=str(a.period))
        ET.SubElement(var, "alarm_auto_inhibit_period", value=str(a.inhibit))
        for tag, value in a.extra.items():
            ET.SubElement(var, tag, value=value)
    return ET.tostring(root, encoding="unicode")


# what the admin types ------------------------------------------------------------------
def level(text: str, var: Variable) -> float | None:
    """The stored level for what was typed (None: no alarm)."""
    value = text.strip()
    if not value:
        return None
    try:
        typed = float(value)
    except ValueError:
        raise InvalidInput([f"{var.label}: {value!r} is not a number"]) from None
    if not typed > 0 or typed != typed or typed == float("inf"):
        raise InvalidInput([f"{var.label}: the level must be above 0 (leave it empty for none)"])
    if var.most is not None and typed > var.most:
        raise InvalidInput([f"{var.label}: at most {var.most:g}"])
    return float(f"{typed * var.scale:.12g}")  # 70 % is 0.7, not 0.7000000000000001


def minutes(text: str, what: str, least: int) -> int:
    """Whole minutes typed, in seconds."""
    value = text.strip()
    if not value.isdigit() or int(value) < least or int(value) > 7 * 24 * 60:
        raise InvalidInput([f"{what}: whole minutes from {least} to {7 * 24 * 60} (a week)"])
    return int(value) * MINUTE


def form_title(name: str, current: Config) -> str:
    """The alarm form's title: what is set now said unreadable when it is."""
    title = f"Performance alarms of {name}"
    return (
        f"{title} (what is set now is unreadable: {current.problem})" if current.problem else title
    )


def _typed(alarm: Alarm | None, var: Variable) -> str:
    return "" if alarm is None else f"{alarm.level / var.scale:g}"


def _collect(problems: list[str], check, *args):
    """``check(*args)``, or None with its refusal added to ``problems``."""
    try:
        return check(*args)
    except InvalidInput as exc:
        problems += exc.problems
        return None


class SetAlarms(Action):
    """An object's alarms, written to its ``other_config:perfmon`` (the
    variables this console does not edit kept as they were). A subclass
    names the XAPI class, its xe prefix and the variables it edits."""

    wire = ""  # the XAPI class: "VM", "host", "SR"
    xe_class = ""  # xe's prefix: "vm", "host", "sr"
    kind = ""  # in words: "VM", "host", "SR"
    variables: tuple[Variable, ...] = ()

    @classmethod
    def fields(cls, current: Config) -> list[Field]:
        by_name = {a.name: a for a in current.alarms}
        first = next((by_name[v.name] for v in cls.variables if v.name in by_name), None)
        out = [
            Field(
                v.name,
                v.label,
                _typed(by_name.get(v.name), v),
                optional(problem_of(level, v)),
                placeholder="empty: no alarm",
            )
            for v in cls.variables
        ]
        period = str(first.period // MINUTE) if first else "1"
        inhibit = str(first.inhibit // MINUTE) if first else "60"
        out.append(
            Field("period", "For at least (minutes)", period, problem_of(minutes, "Period", 1))
        )
        out.append(
            Field(
                "inhibit",
                "Then quiet for (minutes)",
                inhibit,
                problem_of(minutes, "Quiet time", 0),
            )
        )
        return out

    def __init__(self, ref: str, uuid: str, name: str, current: Config, values: dict):
        self.ref, self.uuid, self.name = ref, uuid, name
        problems: list[str] = []
        period = _collect(problems, minutes, values.get("period", ""), "Period", 1)
        inhibit = _collect(problems, minutes, values.get("inhibit", ""), "Quiet time", 0)
        ours = {v.name for v in self.variables}
        kept = [a for a in current.alarms if a.name not in ours]
        by_name = {a.name: a for a in current.alarms}
        self.alarms = list(kept)
        for v in self.variables:
            stored = _collect(problems, level, values.get(v.name, ""), v)
            if stored is not None:
                extra = by_name[v.name].extra if v.name in by_name else {}
                self.alarms.append(Alarm(v.name, stored, period, inhibit, dict(extra)))
        if problems:
            raise InvalidInput(problems)
        self.was = current
        self.xml = to_xml(self.alarms) if self.alarms else ""

    def _said(self) -> list[str]:
        words = []
        for a in self.alarms:
            var = next((v for v in self.variables if v.name == a.name), None)
            what = (
                f"{var.what} {var.sense} {a.level / var.scale:g} {var.unit}"
                if var
                else (f"{a.name} beyond {a.level:g}")
            )
            words.append(
                f"{what} for {a.period // MINUTE} min, then quiet {a.inhibit // MINUTE} min"
            )
        return words

    def plan(self) -> Plan:
        said = self._said()
        xe = [
            f"xe {self.xe_class}-param-remove uuid={self.uuid} param-name=other-config"
            f" param-key={KEY}"
        ]
        if self.xml:
            xe.append(
                f"xe {self.xe_class}-param-set uuid={self.uuid}"
                f" other-config:{KEY}={shlex.quote(self.xml)}"
            )
        impact = [f"Alarm: {w}" for w in said] or [
            f"No alarm: perfmon watches nothing on this {self.kind}."
        ]
        if self.was.problem:
            impact.append(
                f"Replaces what was there, which perfmon could not read ({self.was.problem})."
            )
        return Plan(
            title=f"Performance alarms of {self.name}",
            summary=f"{len(said)} alarm(s) on {self.name}; an ALARM message when one fires.",
            xe=xe,
            steps=[f"{self.wire}.remove_from_other_config({KEY!r})"]
            + ([f"{self.wire}.add_to_other_config({KEY!r}, <config>)"] if self.xml else []),
            impact=impact,
            risk="low",
        )

    def run(self, ctx: RunContext) -> str:
        ctx.call(f"{self.wire}.remove_from_other_config", self.ref, KEY)
        if self.xml:
            ctx.call(f"{self.wire}.add_to_other_config", self.ref, KEY, self.xml)
        said = self._said()
        return f"{self.name}: " + ("; ".join(said) if said else "no performance alarm") + "."


class SetVmAlarms(SetAlarms):
    """A VM's CPU, network and disk alarms."""

    calls = ("VM.remove_from_other_config", "VM.add_to_other_config")
    wire, xe_class, kind, variables = "VM", "vm", "VM", VM_VARIABLES


class SetHostAlarms(SetAlarms):
    """A host's CPU, network and free memory alarms (its I/O on an SR is set on the SR)."""

    calls = ("host.remove_from_other_config", "host.add_to_other_config")
    wire, xe_class, kind, variables = "host", "host", "host", HOST_VARIABLES


class SetSrAlarms(SetAlarms):
    """An SR's space alarm, and the I/O alarm each host with the SR attached watches."""

    calls = ("SR.remove_from_other_config", "SR.add_to_other_config")
    wire, xe_class, kind, variables = "SR", "sr", "SR", SR_VARIABLES
