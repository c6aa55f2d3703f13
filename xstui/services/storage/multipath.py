"""Multipathing on a host, the book's way, as one action: disable the host,
set ``other_config:multipathing=true`` and ``multipathhandle=dmp``, enable
it again. With VMs running there it is refused: maintenance mode first."""

from __future__ import annotations

from ...areas import see
from ...xapi.cache import Cache
from ..actions import Action, InvalidInput, Plan, RunContext
from ..fields import Field
from ..host.hosts import guests_on, host_or_refuse
from ..values import listing

KEYS = {"multipathing": "true", "multipathhandle": "dmp"}


def multipath_state(cache: Cache) -> dict[str, bool]:
    """Host name -> multipathing on."""
    with cache.lock:
        return {
            h.name_label: h.other_config.get("multipathing") == "true"
            for h in cache.table("host").values()
        }


class EnableMultipath(Action):
    calls = (
        "host.disable",
        "host.enable",
        "host.add_to_other_config",
        "host.remove_from_other_config",
    )

    @staticmethod
    def fields(cache: Cache) -> list[Field]:
        off = sorted(n for n, on in multipath_state(cache).items() if not on)
        return [Field("host", "Host", off[0] if off else "", choices=off)]

    def __init__(self, cache: Cache, host_name: str):
        with cache.lock:
            host = next(
                (h for h in cache.table("host").values() if h.name_label == host_name), None
            )
            if host is None:
                raise InvalidInput(["choose a host whose multipathing is off"])
            rec = host_or_refuse(cache, host.ref)
            self.host, self.name, self.uuid = rec.ref, rec.name_label, rec.uuid
            self.before = {k: rec.other_config.get(k) for k in KEYS}
            running = [vm.name_label for vm in guests_on(cache, rec.ref)]
        if self.before["multipathing"] == "true":
            raise InvalidInput([f"multipathing is on already on {self.name}"])
        if running:
            raise InvalidInput(
                [
                    f"VMs run on {self.name}: {listing(running)}; maintenance mode first: {see('host', 'm')}"
                ]
            )

    def plan(self) -> Plan:
        return Plan(
            title=f"Enable multipathing on {self.name}",
            summary=f"{self.name} is disabled, its multipath keys set, then enabled again.",
            xe=[
                f"xe host-disable uuid={self.uuid}",
                f"xe host-param-set uuid={self.uuid} other-config:multipathing=true "
                "other-config:multipathhandle=dmp",
                f"xe host-enable uuid={self.uuid}",
            ],
            steps=["host.disable", "other_config: multipathing, multipathhandle", "host.enable"],
            impact=["no VM can start on the host meanwhile; SRs use all paths once replugged"],
            risk="medium",
        )

    def run(self, ctx: RunContext) -> str:
        ctx.task("host.disable", self.host)
        ctx.undo_task(f"enable {self.name} again", "host.enable", self.host)
        for key, value in KEYS.items():
            if self.before[key] is not None:
                ctx.call("host.remove_from_other_config", self.host, key)
            ctx.call("host.add_to_other_config", self.host, key, value)
            old = self.before[key]
            ctx.on_undo(f"restore {key}", lambda k=key, o=old: _restore(ctx, self.host, k, o))
        ctx.task("host.enable", self.host)
        return f"Multipathing is on on {self.name}."


def _restore(ctx: RunContext, host: str, key: str, old: str | None) -> None:
    ctx.conn.call("host.remove_from_other_config", host, key)
    if old is not None:
        ctx.conn.call("host.add_to_other_config", host, key, old)
