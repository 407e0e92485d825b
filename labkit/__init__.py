"""labkit: a teaching and experimentation kit on choosing, balancing and reusing training data.

Importing ``labkit`` has no side effects and does not import torch; the submodules
(``labkit.data``, ``labkit.balance``, ...) load on first attribute access.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from labkit.core import get_device, get_profile, set_seed, set_threads

__version__ = "0.1.0"

_SUBMODULES = (
    "active",
    "app",
    "balance",
    "bench",
    "cli",
    "core",
    "course",
    "data",
    "distill",
    "errata",
    "exercises",
    "lesson",
    "metrics",
    "models",
    "notebook",
    "pages",
    "parameters",
    "parallel",
    "plots",
    "results",
    "select",
    "stats",
    "train",
    "transfer",
    "widgets",
)

__all__ = ["get_device", "get_profile", "set_seed", "set_threads", "__version__", *_SUBMODULES]

if TYPE_CHECKING:  # pragma: no cover
    from labkit import balance, data  # noqa: F401


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"labkit.{name}")
    raise AttributeError(f"module 'labkit' has no attribute {name!r}")
