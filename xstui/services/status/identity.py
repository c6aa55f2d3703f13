"""Names of hosts and the pool: the first actions, and the pattern for the rest."""

from __future__ import annotations

import re
import shlex

from ..actions import Action, InvalidInput, Plan, RunContext
from ..fields import Field, problem_of

MAX_LABEL = 255


def check_label(text: str, what: str) -> str:
    label = text.strip()
    problems = []
    if not label:
        problems.append(f"{what} cannot be empty")
    if len(label) > MAX_LABEL:
        problems.append(f"{what} is longer than {MAX_LABEL} characters")
    if re.search(r"[\x00-\x1f\x7f]", label):
        problems.append(f"{what} cannot contain control characters")
    if problems:
        raise InvalidInput(problems)
    return label


class RenameHost(Action):
    """Change a host's name label (what XenCenter and xe show; not the DNS hostname)."""

    calls = ("host.set_name_label",)

    @staticmethod
    def fields(old: str) -> list[Field]:
        return [Field("name", "New name label", old, problem_of(check_label, "the host name"))]

    def __init__(self, host_ref: str, host_uuid: str, old: str, new: str):
        self.host_ref, self.host_uuid, self.old = host_ref, host_uuid, old
        self.new = check_label(new, "the host name")
        if self.new == old:
            raise InvalidInput([f"The host is already called {old!r}"])

    def plan(self) -> Plan:
        return Plan(
            title="Rename host",
            summary=f"Rename host {self.old!r} to {self.new!r}.",
            xe=[f"xe host-param-set uuid={self.host_uuid} name-label={shlex.quote(self.new)}"],
            steps=[f"host.set_name_label({self.new!r})"],
            impact=["Only the label changes: no downtime, the DNS hostname stays as it is."],
            risk="low",
        )

    def run(self, ctx: RunContext) -> str:
        ctx.call("host.set_name_label", self.host_ref, self.new)
        return f"Host {self.old!r} is now called {self.new!r}."
