"""Seeds, threads, devices and run profiles: what every notebook asks for first."""

from __future__ import annotations

import os
import random

import numpy as np

PROFILES = ("smoke", "quick", "full")
DEFAULT_PROFILE = "quick"


def get_profile() -> str:
    """Return the run profile from ``$LABKIT_PROFILE``: ``"smoke"``, ``"quick"`` (default) or ``"full"``.

    smoke: seconds per notebook, for tests; quick: real data on a laptop CPU; full: the documents' scale.
    """
    value = os.environ.get("LABKIT_PROFILE", "").strip().lower() or DEFAULT_PROFILE
    if value not in PROFILES:
        raise ValueError(f"LABKIT_PROFILE must be one of {PROFILES}, got {value!r}")
    return value


def set_seed(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and torch (CPU and every CUDA device)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {seed!r} ({type(seed).__name__})")
    if not 0 <= int(seed) < 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed!r}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 -- the contract seeds the legacy global generator too
    import torch

    torch.manual_seed(seed)  # seeds every CUDA device too


def set_threads(n: int | None) -> None:
    """Cap torch's intra-op threads and the BLAS/OpenMP pools (threadpoolctl) at ``n``; ``None`` changes nothing.

    For small models on a small shared CPU: there two threads spin against each other and one is faster
    (measured on a busy 2-core machine: notebook 06's quick run 22 s with one thread, 51-73 s with two).
    """
    if n is None:
        return
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"n must be an int or None, got {n!r} ({type(n).__name__})")
    if n < 1:
        raise ValueError(f"n must be >= 1 (or None: keep the libraries' defaults), got {n!r}")
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(int(n))
    threadpool_limits(int(n))


def _available(kind: str) -> bool:
    import torch

    if kind == "cpu":
        return True
    if kind == "cuda":
        return torch.cuda.is_available()
    if kind == "mps":
        return bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()
    return False


def get_device(prefer: str | None = None):
    """Return the torch device to train on: cuda > mps > cpu.

    ``prefer`` (e.g. ``"cpu"``, ``"cuda:0"``) wins; otherwise ``$LABKIT_DEVICE`` overrides the automatic
    choice. Asking for a device that is not there raises ``ValueError`` instead of silently using another.
    """
    import torch

    source, wanted = "prefer", prefer
    if wanted is None:
        source, wanted = "LABKIT_DEVICE", os.environ.get("LABKIT_DEVICE", "").strip() or None
    if wanted is None:
        for kind in ("cuda", "mps"):
            if _available(kind):
                return torch.device(kind)
        return torch.device("cpu")
    if isinstance(wanted, torch.device):
        device = wanted
    elif isinstance(wanted, str):
        try:
            device = torch.device(wanted)
        except RuntimeError as err:
            raise ValueError(f"{source} is not a device name: {wanted!r}") from err
    else:
        raise TypeError(f"prefer must be a str or torch.device, got {wanted!r}")
    if not _available(device.type):
        raise ValueError(f"{source}={wanted!r} asks for {device.type}, which is not available here")
    return device
