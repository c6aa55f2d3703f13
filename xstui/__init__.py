"""xstui: a terminal console for XenServer and XCP-ng hosts and pools."""

__version__ = "0.1.0"
