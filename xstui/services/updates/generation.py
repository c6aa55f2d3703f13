"""Which generation of hotfix handling a pool's API has, asked of the API
itself (``system.listMethods``) and of the pool's own state, never guessed
from the product name:

- ``patches`` (XenServer 6.x): ``pool_patch`` / ``host_patch``, uploaded by
  ``PUT /pool_patch_upload``;
- ``updates`` (7.x, 8.2): ``pool_update`` / ``host.updates``, uploaded into a
  VDI (``PUT /import_raw_vdi``) and introduced;
- ``repositories`` (XenServer 8): the pool syncs update repositories and
  ``host.apply_updates`` installs what each host lacks;
- ``yum`` (XCP-ng): each host's ``updater.py`` plugin lists what yum would
  update (``check_update``) and installs it (``update``); the plugin is
  asked, not assumed.

An API that has repositories also keeps ``pool_update``: a pool with no
repository configured and with updates of the older kind is shown with those
(the console says how to move to repositories)."""

from __future__ import annotations

from dataclasses import dataclass

from ...xapi import views


@dataclass(frozen=True)
class Generation:
    id: str  # patches, updates, repositories, none
    title: str
    how: str  # one sentence: how hotfixes reach this pool

    @property
    def uploads(self) -> bool:
        return self.id in ("patches", "updates")

    @property
    def noun(self) -> str:
        """What xe and the API call an uploaded hotfix: patch or update."""
        return "patch" if self.id == "patches" else "update"

    @property
    def api_class(self) -> str:
        """pool_patch or pool_update (for the generations that upload)."""
        return f"pool_{self.noun}"

    @property
    def apply_call(self) -> str:
        """The call that installs on a host ('' when there is none)."""
        return {
            "patches": "pool_patch.apply",
            "updates": "pool_update.apply",
            "repositories": "host.apply_updates",
            "yum": "host.call_plugin",
        }.get(self.id, "")

    def refusal(self, step: str) -> str:
        """Why this pool's way of taking hotfixes has no such step ('' when
        it has): ``upload``, ``pool_apply``, ``clean`` or ``sync``. The one
        wording, for the dimmed key and for the Action refusing its input."""
        return _REFUSALS.get(self.id, {}).get(step, "")

    @property
    def lists_missing(self) -> bool:
        """Only what each host lacks is known (XenServer 8, XCP-ng): a host
        installs all of it at once, and what it does not lack, it has."""
        return self.id in ("repositories", "yum")


PATCHES = Generation(
    "patches",
    "Hotfixes (pool_patch, XenServer 6.x)",
    "Hotfix files are uploaded to the pool, prechecked and applied host by host.",
)
UPDATES = Generation(
    "updates",
    "Updates (pool_update, XenServer 7.x / 8.2)",
    "Update files (ISO) are uploaded into a disk on an SR, prechecked and applied host by host.",
)
REPOSITORIES = Generation(
    "repositories",
    "Update repositories (XenServer 8 / XCP-ng 8.3)",
    "The pool syncs its update repositories; each host installs what it lacks.",
)
YUM = Generation(
    "yum",
    "XCP-ng updates (yum, the updater.py plugin)",
    "Each host installs the packages its yum repositories offer.",
)
NONE = Generation("none", "No hotfix API", "This API offers no way to apply hotfixes.")

_YUM_WAY = "XCP-ng installs its updates with yum on each host (updater.py)"
_NO_FILES = "leave no uploaded files to clean"
_UPLOADED = "this pool takes update files uploaded to it (u), not repositories: nothing to sync"
_REFUSALS = {
    "yum": {
        "upload": f"{_YUM_WAY}: there is no file to upload",
        "pool_apply": f"{_YUM_WAY}: apply on each host (a), or all of them by the rolling update (R)",
        "clean": f"yum updates {_NO_FILES}",
        "sync": f"{_YUM_WAY}: there are no repositories to sync from here",
    },
    "repositories": {
        "upload": "this pool takes updates from its repositories: sync them (s) instead of uploading",
        "pool_apply": "repository updates are applied host by host (a), or by the rolling update (R)",
        "clean": f"repository updates {_NO_FILES}",
    },
    "patches": {"sync": _UPLOADED},
    "updates": {"sync": _UPLOADED},
    "none": {
        step: "this pool's API offers no way to apply hotfixes"
        for step in ("upload", "pool_apply", "clean", "sync")
    },
}


def detect(conn) -> Generation:
    """The generation of the pool behind ``conn`` (its cache loaded). May
    call XCP-ng's updater.py plugin on the master: run it off the UI."""
    pool = views.pool(conn.cache)
    repositories = bool(pool and conn.has_method("pool.set_repositories") and pool.repositories)
    if not repositories and conn.has_method("host.call_plugin") and _has_updater(conn, pool):
        return YUM
    if conn.has_method("pool.set_repositories"):
        if repositories or not conn.cache.table("pool_update"):
            return REPOSITORIES
    if conn.has_method("pool_update.introduce"):
        return UPDATES
    if conn.has_method("pool_patch.apply"):
        return PATCHES
    return NONE


def _has_updater(conn, pool) -> bool:
    """Whether the master answers XCP-ng's updater plugin (a missing plugin,
    or a role that may not call plugins, says no)."""
    from ...xapi.connection import XapiFailure

    if pool is None or not conn.access.may("host.call_plugin"):
        return False  # (not asked: a refused call is still a refusal in the audit)
    try:
        conn.call("host.call_plugin", pool.master, "updater.py", "check_update", {})
    except XapiFailure:
        return False
    return True
