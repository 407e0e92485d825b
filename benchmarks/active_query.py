"""One active-learning query round over a 60 000-sample pool: target ≤ 1 s on a CPU (issue 3).

A query round is ``ActiveLearner.query(batch)``: score every unlabelled sample with the fitted model and
pick a batch, with one BLAS thread as inside ``active.run`` (on a shared 2-core machine, more threads made
it slower). The target is about vectorised scoring (the uncertainty strategies and Boltzmann sampling);
query-by-committee also refits its committee inside the query, and exact k-center computes all
pool × labelled distances, so those two are reported for comparison, not held to the target. Pool: Fashion-MNIST's 60 000 training images (784 pixels scaled to [0, 1]); if that data
set is not installed, a random 60 000 × 784 matrix with random labels, and the script says so.
Prints ``name: value`` lines; each ratio is the measured time over the 1 s target (≤ 1 means met).
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from labkit import active, data

POOL = 60_000
N_LABELED = 1_000
BATCH = 100
REPEATS = 3
TARGET_S = 1.0


def load_pool() -> tuple[np.ndarray, np.ndarray, str]:
    try:
        X, y = data.load_images("fashion_mnist", "train", download=False)
    except data.DatasetUnavailable:
        rng = np.random.default_rng(0)
        return rng.random((POOL, 784)), rng.integers(0, 10, POOL), "random 60000x784 (Fashion-MNIST missing)"
    return X.reshape(len(X), -1).numpy()[:POOL] / 255.0, y.numpy()[:POOL], "fashion_mnist train"


def main() -> None:
    # The refits stop at max_iter=200 (not fully converged on raw pixels): irrelevant for timing a query.
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    X, y, source = load_pool()
    print(f"pool: {source}, {X.shape[0]} x {X.shape[1]}; {N_LABELED} labelled; batch {BATCH}; "
          f"best of {REPEATS}")
    first = active.initial_indices(len(X), N_LABELED, random_state=0)
    results = {}
    for strategy in active.STRATEGIES:
        learner = active.ActiveLearner(LogisticRegression(max_iter=200), X, strategy=strategy,
                                       n_members=active.DEFAULT_N_MEMBERS, random_state=0)
        with threadpool_limits(limits=1, user_api="blas"):  # as inside active.run
            start = time.perf_counter()
            learner.teach(first, y[first])
            fit_s = time.perf_counter() - start
            times = []
            for _ in range(REPEATS):
                start = time.perf_counter()
                picked = learner.query(BATCH)
                times.append(time.perf_counter() - start)
        assert len(np.unique(picked)) == BATCH
        best = min(times)
        results[strategy] = best
        print(f"query_seconds[{strategy}]: {best:.3f}")
        print(f"query_ratio_to_1s_target[{strategy}]: {best / TARGET_S:.3f}")
        print(f"model_refit_seconds[{strategy}]: {fit_s:.3f}")
    # k-center on a 50-dimensional PCA embedding of the same pool (the PCA itself is done once, not per query)
    from sklearn.decomposition import PCA

    Z = PCA(n_components=50, svd_solver="randomized", random_state=0).fit_transform(X)
    learner = active.ActiveLearner(LogisticRegression(max_iter=200), Z, strategy="kcenter", random_state=0)
    with threadpool_limits(limits=1, user_api="blas"):
        learner.teach(first, y[first])
        times = []
        for _ in range(REPEATS):
            start = time.perf_counter()
            learner.query(BATCH)
            times.append(time.perf_counter() - start)
    print(f"query_seconds[kcenter on 50-d PCA features]: {min(times):.3f}")
    print(f"query_ratio_to_1s_target[kcenter on 50-d PCA features]: {min(times) / TARGET_S:.3f}")
    scored = ("least_confident", "margin", "entropy", "boltzmann")
    worst = max(results[s] for s in scored)
    print(f"query_seconds_worst_scored_strategy: {worst:.3f}")
    print(f"query_ratio_to_1s_target_worst_scored_strategy: {worst / TARGET_S:.3f}")


if __name__ == "__main__":
    main()
