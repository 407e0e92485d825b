"""Mean pairwise Euclidean distance of 60 000 × 784 (Fashion-MNIST train pixels) in bounded memory.

Prints ``name: value`` lines: the exact blockwise mean's time and peak memory, the subsampled estimate with
its stated standard error and actual error, and the speed ratio against ``scipy.spatial.distance.pdist`` on
a subsample both can handle (``pdist`` on all 60 000 rows would need the memory printed as
``pdist_full_would_need_gb``). Falls back to random data of the same shape, and says so, where
Fashion-MNIST is not installed.
"""

from __future__ import annotations

import resource
import sys
import time
import tracemalloc

import numpy as np

from labkit import metrics
from labkit.data import DatasetUnavailable, load_images

N, D = 60_000, 784


def load() -> tuple[np.ndarray, str]:
    try:
        X, _ = load_images("fashion_mnist", "train", download=False)
        return X.numpy().reshape(len(X), -1).astype(np.float32) / 255.0, "fashion_mnist"
    except DatasetUnavailable:
        rng = np.random.default_rng(0)
        return rng.random((N, D), dtype=np.float32), "uniform random (Fashion-MNIST not installed)"


def timed(fn):
    """(result, seconds, peak MB of Python/NumPy allocations during the call)."""
    tracemalloc.start()
    start = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return out, seconds, peak / 2**20


def main() -> int:
    from scipy.spatial.distance import pdist

    X, source = load()
    n, d = X.shape
    print(f"data: {source}, {n} x {d} float32")
    exact, t_exact, peak_exact = timed(lambda: metrics.mean_pairwise_distance(X))
    print(f"exact_mean_distance: {exact:.6f}")
    print(f"exact_seconds: {t_exact:.1f}")
    print(f"exact_peak_mb: {peak_exact:.0f}")
    print(f"pdist_full_would_need_gb: {n * (n - 1) / 2 * 8 / 1e9:.1f}")

    m = 5000
    (est, se), t_sample, peak_sample = timed(
        lambda: metrics.mean_pairwise_distance(X, max_samples=m, random_state=0, return_se=True))
    print(f"sampled_{m}_mean_distance: {est:.6f}")
    print(f"sampled_{m}_standard_error: {se:.6f}")
    print(f"sampled_{m}_error_in_se: {(est - exact) / se:.2f}")
    print(f"sampled_{m}_seconds: {t_sample:.2f}")
    print(f"sampled_{m}_peak_mb: {peak_sample:.0f}")
    print(f"speedup_sampled_vs_exact: {t_exact / t_sample:.0f}")

    sub = X[np.random.default_rng(1).choice(n, m, replace=False)].astype(np.float64)
    ref, t_pdist, peak_pdist = timed(lambda: pdist(sub).mean())
    ours, t_ours, peak_ours = timed(lambda: metrics.mean_pairwise_distance(sub))
    print(f"pdist_{m}_seconds: {t_pdist:.2f}")
    print(f"pdist_{m}_peak_mb: {peak_pdist:.0f}")
    print(f"ours_{m}_seconds: {t_ours:.2f}")
    print(f"ours_{m}_peak_mb: {peak_ours:.0f}")
    print(f"ours_vs_pdist_relative_difference: {abs(ours - ref) / ref:.2e}")
    print(f"speedup_ours_vs_pdist: {t_pdist / t_ours:.1f}")

    maxrss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux
    print(f"process_max_rss_mb: {maxrss_kb / 1024:.0f}")
    ok = peak_exact < 2048 and maxrss_kb / 1024 < 2048
    print(f"bounded_memory_under_2gb: {ok}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
