"""Live host and VM performance figures from XAPI's RRDs (no Textual)."""

from ...lazy import exports

# the figures VMs are sorted by (the command line's --sort: known without the rest)
SORTS = ("cpu", "memory", "disk", "net")

# each imported from its module when first used (see xstui.lazy)
__getattr__, __dir__, __all__ = exports(
    __name__,
    {
        ".model": ("Figures", "Metrics", "Row", "http_fetch"),
        ".updates": ("Unreadable", "Updates", "parse"),
    },
)
__all__ = ["SORTS", *__all__]
