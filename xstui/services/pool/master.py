"""Handing the master role to another host of a healthy pool
(``pool.designate_new_master``): before taking the master down for
maintenance or a reboot, so that the pool stays manageable meanwhile."""

from __future__ import annotations

from ...xapi import views
from ...xapi.cache import Cache
from ..actions import Action, InvalidInput, Plan, RunContext
from ..fields import Field
from ..host.hosts import host_or_refuse

RECONNECT_SECONDS = 300


class DesignateMaster(Action):
    calls = ("pool.designate_new_master",)

    @staticmethod
    def fields(cache: Cache) -> list[Field]:
        """Offered: the live, enabled members, by name."""
        master = views.master_ref(cache)
        names = sorted(
            h.name_label
            for h in cache.table("host").values()
            if h.ref != master and h.enabled and views.is_live(cache, h)
        )
        return [Field("host", "New master", names[0] if names else "", choices=names)]

    def __init__(self, cache: Cache, host_name: str):
        with cache.lock:
            host = next(
                (h for h in cache.table("host").values() if h.name_label == host_name), None
            )
            if host is None:
                raise InvalidInput(["choose one of the pool's hosts"])
            rec = host_or_refuse(cache, host.ref)
            master = views.master_ref(cache)
            problems = []
            if rec.ref == master:
                problems.append(f"{rec.name_label} is already the master")
            if not views.is_live(cache, rec) or not rec.enabled:
                problems.append(
                    f"{rec.name_label} must be live and enabled to take the master role"
                )
            if views.ha_enabled(cache):
                problems.append(
                    "HA is enabled: XAPI refuses a designation while it is on (HA_IS_ENABLED); "
                    "disable HA, designate, then enable HA again"
                )
            if problems:
                raise InvalidInput(problems)
            self.host, self.uuid, self.name = rec.ref, rec.uuid, rec.name_label
            self.old = cache.label("host", master)

    def plan(self) -> Plan:
        return Plan(
            "Designate a new master",
            f"Make {self.name} the pool master in place of {self.old}.",
            [f"xe pool-designate-new-master host-uuid={self.uuid}"],
            steps=["pool.designate_new_master", "reconnect to the new master"],
            impact=[
                "Both toolstacks restart: every API client of the pool (XenCenter, XO, "
                "scripts, this console) loses its connection for a minute and must reach "
                f"{self.name} from now on; this console follows by itself.",
                "VMs keep running. Do it with the pool healthy: every member must reach "
                "the new master.",
            ],
            # every client of the pool is cut off: the new master's name is typed
            risk="high",
            confirm_word=self.name,
        )

    def run(self, ctx: RunContext) -> str:
        ctx.task("pool.designate_new_master", self.host, span=(0.0, 0.5))
        ctx.commit()
        conn, host = ctx.conn, self.host

        def following() -> bool:
            return (
                conn.state == "connected"
                and views.master_ref(conn.cache) == host
                and conn.this_host == host
            )

        if not ctx.wait_until(f"Reconnecting to {self.name}...", following, RECONNECT_SECONDS):
            return f"{self.name} was designated master; the console is still reconnecting."
        return (
            f"{self.name} is the pool master; the console is connected to it ({conn.target.url})."
        )
