"""A VM's memory: the four limits with XAPI's rule, static_min <= dynamic_min
<= dynamic_max <= static_max, checked in the form (the host's
MEMORY_CONSTRAINT_VIOLATION is never reached). The static limits change only
while the VM is halted; a running VM's balloon range changes live."""

from __future__ import annotations

import re

from ...xapi.cache import Cache
from ..actions import Action, InvalidInput, Plan, RunContext
from ..fields import Field, problem_of
from ..validate import problem
from ..values import size

MiB = 1024**2
GiB = 1024**3
_AMOUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([MmGg](?:i?B)?)?\s*$")
NAMES = ("static_min", "dynamic_min", "dynamic_max", "static_max")
LABELS = ("Static min", "Dynamic min", "Dynamic max", "Static max")


def amount(text: str) -> int:
    """'4 GiB', '512 MiB', '4G', '1.5G' -> bytes; a bare number is GiB."""
    m = _AMOUNT.match(str(text))
    if not m:
        raise InvalidInput([f"{text!r} is not an amount of memory (e.g. 4 GiB, 512 MiB)"])
    number, unit = float(m.group(1)), (m.group(2) or "G")[0].upper()
    value = int(number * (MiB if unit == "M" else GiB))
    if value < 16 * MiB:
        raise InvalidInput(["memory below 16 MiB is not a VM"])
    return value - value % MiB


def _text(n: int) -> str:
    """In the units every other screen says (4 GiB, 512 MiB), read back by ``amount``."""
    return f"{n / GiB:g} GiB" if n % (GiB // 4) == 0 else f"{n // MiB} MiB"


def check_order(values: list[int]) -> list[str]:
    """XAPI's rule on the four limits, in words."""
    return [
        f"{LABELS[i]} ({size(values[i])}) must not exceed {LABELS[i + 1]} ({size(values[i + 1])})"
        for i in range(len(values) - 1)
        if values[i] > values[i + 1]
    ]


class SetMemory(Action):
    calls = ("VM.set_memory_dynamic_range", "VM.set_memory_limits")

    @staticmethod
    def fields(cache: Cache, vm: str) -> list[Field]:
        rec = cache.get("vm", vm)
        current = (
            rec.memory_static_min,
            rec.memory_dynamic_min,
            rec.memory_dynamic_max,
            rec.memory_static_max,
        )
        return [
            Field(name, label, _text(value), problem_of(amount))
            for name, label, value in zip(NAMES, LABELS, current, strict=True)
        ]

    def __init__(self, cache: Cache, vm: str, values: dict[str, str]):
        problems, parsed = [], []
        for name, label in zip(NAMES, LABELS, strict=True):
            why = problem(amount, values.get(name, ""))
            if why:
                problems.append(f"{label}: {why}")
            else:
                parsed.append(amount(values[name]))
        if problems:
            raise InvalidInput(problems)
        problems = check_order(parsed)
        with cache.lock:
            rec = cache.get("vm", vm)
            if rec is None:
                raise InvalidInput(["the VM no longer exists"])
            self.vm, self.uuid, self.name, self.power = (
                vm,
                rec.uuid,
                rec.name_label,
                rec.power_state,
            )
            self.old = [
                rec.memory_static_min,
                rec.memory_dynamic_min,
                rec.memory_dynamic_max,
                rec.memory_static_max,
            ]
        self.new = parsed
        static_changed = (parsed[0], parsed[3]) != (self.old[0], self.old[3])
        if self.power != "Halted" and static_changed:
            problems.append(
                f"{self.name} is {self.power.lower()}: its static limits change only while it is halted "
                "(shut it down first); the dynamic range can change now"
            )
        if self.new == self.old:
            problems.append("nothing changes")
        if problems:
            raise InvalidInput(problems)

    def plan(self) -> Plan:
        smin, dmin, dmax, smax = self.new
        if self.power == "Halted":
            xe = [
                f"xe vm-memory-limits-set uuid={self.uuid} static-min={smin} dynamic-min={dmin} "
                f"dynamic-max={dmax} static-max={smax}"
            ]
        else:
            xe = [f"xe vm-memory-dynamic-range-set uuid={self.uuid} min={dmin} max={dmax}"]
        impact = []
        if self.power == "Running" and dmax < self.old[2]:
            impact.append(
                "The VM's balloon driver gives memory back now; a guest without it may stall."
            )
        return Plan(
            "Set VM memory",
            f"{self.name}: "
            + ", ".join(f"{lab} {size(v)}" for lab, v in zip(LABELS, self.new, strict=True))
            + ".",
            xe,
            impact=impact,
        )

    def run(self, ctx: RunContext) -> str:
        smin, dmin, dmax, smax = self.new
        if self.power == "Halted":
            # XAPI's int64 travels as a string over XML-RPC (beyond 2 GiB an int cannot)
            ctx.task("VM.set_memory_limits", self.vm, *map(str, (smin, smax, dmin, dmax)))
            o = self.old
            ctx.undo_task(
                "restore the memory limits",
                "VM.set_memory_limits",
                self.vm,
                *map(str, (o[0], o[3], o[1], o[2])),
            )
        else:
            ctx.task("VM.set_memory_dynamic_range", self.vm, str(dmin), str(dmax))
        return f"Memory of {self.name}: {size(dmin)} to {size(dmax)} (static {size(smin)} to {size(smax)})."
