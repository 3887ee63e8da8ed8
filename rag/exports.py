"""Public names that load on first use (PEP 562), so `import rag` and its public faces stay light.

Each package lists its public names once, in a table of name -> the module that defines it
("module:attribute" when the public name differs); `__all__`, `__getattr__` and `__dir__` derive
from that table.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The `__getattr__` and `__dir__` of a package whose public names are `exports`."""

    def __getattr__(name: str) -> Any:
        try:
            module_name, _, attribute = exports[name].partition(":")
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(module_name), attribute or name)
        setattr(sys.modules[package], name, value)  # later lookups no longer come here
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *exports})

    return __getattr__, __dir__
