"""``labkit bench``: run the benchmark scripts in the checkout's ``benchmarks/`` folder.

Each script prints ``name: value`` lines, every value a ratio or figure measured in that same run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path


def benchmarks_dir() -> Path:
    env = os.environ.get("LABKIT_BENCHMARKS", "").strip()
    return Path(env).expanduser() if env else Path(__file__).resolve().parent.parent / "benchmarks"


def list_benchmarks() -> list[Path]:
    folder = benchmarks_dir()
    if not folder.is_dir():
        raise ValueError(f"no benchmarks folder at {str(folder)!r} (set $LABKIT_BENCHMARKS)")
    return sorted(p for p in folder.glob("*.py") if not p.name.startswith("_"))


# Run only when named: a whole prepared session of its own (``make gpu-check``), not a ratio benchmark.
ON_REQUEST = ("gpu_check",)


def main(names: list[str] | None = None) -> int:
    scripts = list_benchmarks()
    if names:
        unknown = [n for n in names if n not in {p.stem for p in scripts}]
        if unknown:
            raise ValueError(f"unknown benchmark(s) {unknown}; choose from {[p.stem for p in scripts]}")
        scripts = [p for p in scripts if p.stem in names]
    else:
        scripts = [p for p in scripts if p.stem not in ON_REQUEST]
    failed = 0
    for script in scripts:
        print(f"# {script.stem}", flush=True)
        start = time.perf_counter()
        rc = subprocess.call([sys.executable, str(script)])
        print(f"# {script.stem}: {time.perf_counter() - start:.1f} s{'' if rc == 0 else f', FAILED (rc={rc})'}",
              flush=True)
        failed += rc != 0
    return 1 if failed else 0
