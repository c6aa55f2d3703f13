"""Status (RECIPES.md section 1): host, pool, capacity, storage and health."""

from .model import Dom0Status, HostStatus, PoolStatus, Status, StorageRepo, build_status

__all__ = ["Dom0Status", "HostStatus", "PoolStatus", "Status", "StorageRepo", "build_status"]
