"""The pool's operations, as ocaml/xapi/xapi_pool_helpers.ml decides them
(compute_valid_operations, assert_operation_valid) and ocaml/xapi/message_forwarding.ml,
xapi_pool.ml and xapi_host.ml mark them (with_pool_operation, always on the
one pool, whatever the call's arguments)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import XapiError
from . import (
    Mark,
    Marks,
    Rules,
    first_running,
    other_in_progress,
    per_operation,
    rolling_upgrade,
    the_pool,
)

if TYPE_CHECKING:
    from ..store import Store

# blocking_ops_table: each refuses every other blocking one with its error
BLOCKING = {
    "ha_enable": "HA_ENABLE_IN_PROGRESS",
    "ha_disable": "HA_DISABLE_IN_PROGRESS",
    "cluster_create": "CLUSTER_CREATE_IN_PROGRESS",
    "designate_new_master": "DESIGNATE_NEW_MASTER_IN_PROGRESS",
    "tls_verification_enable": "TLS_VERIFICATION_ENABLE_IN_PROGRESS",
    "configure_repositories": "CONFIGURE_REPOSITORIES_IN_PROGRESS",
    "sync_updates": "SYNC_UPDATES_IN_PROGRESS",
    "sync_bundle": "SYNC_BUNDLE_IN_PROGRESS",
    "apply_updates": "APPLY_UPDATES_IN_PROGRESS",
}
WAITING = (
    "cert_refresh",
    "exchange_certificates_on_join",
    "exchange_ca_certificates_on_join",
    "copy_primary_host_certs",
    "eject",
    "get_updates",
    "exchange_crls_on_join",
)
ALL = (*BLOCKING, *WAITING)  # all_operations


def valid(store: Store, ref: str, op: str) -> XapiError | None:
    """compute_valid_operations for one operation."""
    pool = store.get("pool", ref)
    running = set(pool["current_operations"].values())
    blocking = next((code for b, code in BLOCKING.items() if b in running), None)
    waiting = first_running(pool, WAITING)
    if blocking is not None and op in BLOCKING:
        return XapiError(blocking)
    if blocking is not None or waiting is not None:
        return other_in_progress("pool", ref, *((waiting[1], waiting[0]) if waiting else ()))
    ha = store.get("pool", the_pool(store))["ha_enabled"]
    if ha and op in ("ha_enable", "tls_verification_enable"):
        return XapiError("HA_IS_ENABLED")
    if not ha and op == "ha_disable":
        return XapiError("HA_NOT_ENABLED")
    if op in ("cluster_create", "tls_verification_enable") and rolling_upgrade(store):
        return XapiError("NOT_SUPPORTED_DURING_UPGRADE")
    if op == "cluster_create":
        if store.tables["Cluster"]:  # (XAPI fails outright on more than one)
            return XapiError("CLUSTER_ALREADY_EXISTS")
        if ha:
            return XapiError("INCOMPATIBLE_CLUSTER_STACK_ACTIVE", pool["ha_cluster_stack"])
    return None


def check(store: Store, ref: str, op: str) -> XapiError | None:
    """assert_operation_valid: nothing during a pending secret rotation, then
    compute_valid_operations' answer."""
    if store.get("pool", the_pool(store))["is_psr_pending"]:
        return XapiError("POOL_SECRET_ROTATION_PENDING")
    return valid(store, ref, op)


def allowed(store: Store, ref: str) -> list[str]:
    """update_allowed_operations: a pending rotation is not looked at."""
    return [op for op in ALL if valid(store, ref, op) is None]


def _on_the_pool(op: str) -> Marks:
    return lambda store, args: [Mark("pool", the_pool(store), op)]


# message -> the pool operation it runs as (message_forwarding.ml; xapi_pool.ml
# for repositories, sync_updates and the certificates of a join; xapi_host.ml
# for apply_updates). get_updates and sync_bundle mark HTTP handlers, not messages.
_MARKS = {
    "eject": "eject",
    "designate_new_master": "designate_new_master",
    "enable_ha": "ha_enable",
    "disable_ha": "ha_disable",
    "enable_tls_verification": "tls_verification_enable",
    "set_repositories": "configure_repositories",
    "add_repository": "configure_repositories",
    "remove_repository": "configure_repositories",
    "sync_updates": "sync_updates",
    "install_trusted_certificate": "copy_primary_host_certs",
    "uninstall_trusted_certificate": "copy_primary_host_certs",
    "sync_trusted_certificates_from": "copy_primary_host_certs",
    "exchange_trusted_certificates_on_join": "copy_primary_host_certs",
    "exchange_crls_on_join": "exchange_crls_on_join",
    "exchange_certificates_on_join": "exchange_certificates_on_join",
    "exchange_ca_certificates_on_join": "exchange_ca_certificates_on_join",
    "host.apply_updates": "apply_updates",
    "host.refresh_server_certificate": "cert_refresh",
    "host.copy_primary_host_certs": "copy_primary_host_certs",
    "Cluster.create": "cluster_create",
}


RULES = Rules(
    cls="pool",
    prepare=per_operation(check),
    listed=ALL,
    allowed=allowed,
    reached_by={"Cluster": lambda store, ref, cluster: list(store.tables["pool"])},
    messages={name: _on_the_pool(op) for name, op in _MARKS.items()},
)
