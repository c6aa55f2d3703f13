"""Packages that name what their modules offer without importing them: a
name is imported from its module when it is first asked for (PEP 562), so
``from xstui.services.host.clock import time_probe`` loads the clock alone,
not the whole Host area (what keeps ``xstui --help`` and the first Status
frame quick)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping


def exports(
    package: str, modules: Mapping[str, tuple[str, ...]]
) -> tuple[Callable[[str], object], Callable[[], list[str]], list[str]]:
    """``__getattr__``, ``__dir__`` and ``__all__`` for ``package``, whose
    ``modules`` (relative names, ".actions") each offer these names."""
    where = {name: module for module, names in modules.items() for name in names}

    def __getattr__(name: str):  # noqa: N807
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        setattr(sys.modules[package], name, value)  # asked once
        return value

    def __dir__() -> list[str]:  # noqa: N807
        return sorted(set(vars(sys.modules[package])) | set(where))

    return __getattr__, __dir__, sorted(where)
