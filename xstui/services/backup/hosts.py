"""Host backup: the control domain of one host, as a file
(``GET /host_backup``, asked of that host itself). Restoring it needs the
install media, so the console explains the steps instead of offering them."""

from __future__ import annotations

from ...xapi.cache import Cache
from ..actions import Action, Plan, RunContext
from ..fields import Field
from ..host.hosts import host_or_refuse
from ..values import size
from .transfers import fetch, new_file, save_to, to_make

HOST_RESTORE_STEPS = [
    "From a machine with the backup file and xe: xe host-restore host=<uuid> "
    "file-name=<file> (writes the image to the host's backup partition).",
    "Boot the host from the installation media of the same release (iLO/DRAC virtual "
    "media) and choose 'Restore from backup' when the installer offers it.",
    "Reboot: the host comes back with the control domain of the backup and rejoins its "
    "pool. A host whose disk was replaced is installed first, then restored the same way.",
]


class HostBackup(Action):
    calls = ("http/get_host_backup",)

    @staticmethod
    def fields(cache: Cache, host: str) -> list[Field]:
        return [save_to(cache.label("host", host, "host"), ".xbk")]

    def __init__(self, cache: Cache, host: str, path: str):
        with cache.lock:
            rec = host_or_refuse(cache, host)
            self.host, self.name, self.uuid = host, rec.name_label, rec.uuid
        self.path = new_file(path)

    def plan(self) -> Plan:
        return Plan(
            title=f"Back up the host {self.name}",
            summary=f"The control domain of {self.name} is saved to {self.path}.",
            xe=[f"xe host-backup host={self.uuid} file-name={self.path}"],
            steps=[
                *to_make(self.path.parent),
                "GET /host_backup (streamed to a temporary file, renamed when complete)",
            ],
            impact=[
                "nothing changes on the host; it works harder while the backup streams",
                "the file restores this host's control domain from the install media "
                "(not its VMs, which live on the SRs)",
            ],
        )

    def run(self, ctx: RunContext) -> str:
        # the host backs itself up: the request goes to that host
        written = fetch(ctx, "xstui: host backup", "/host_backup", {}, self.path, host=self.host)
        return f"Saved {size(written)} to {self.path}."
