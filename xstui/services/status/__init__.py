"""Status (RECIPES.md section 1): host, pool, capacity, storage and health."""

from ...lazy import exports

# each imported from its module when first used (see xstui.lazy)
__getattr__, __dir__, __all__ = exports(
    __name__,
    {".model": ("Dom0Status", "HostStatus", "PoolStatus", "Status", "StorageRepo", "build_status")},
)
