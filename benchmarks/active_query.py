"""One active-learning query round on a 60 000 × 784 float32 pool, against the same round in scikit-learn.

A query round is ``ActiveLearner.query(batch)``: score every unlabelled sample with the fitted model and
pick a batch. The reference is that round written directly with scikit-learn and numpy on the same fitted
model and the same float32 pool — ``predict_proba`` on the unlabelled rows, entropy, ``argpartition`` —
and the script prints labkit's time and peak memory (tracemalloc) as ratios to it (targets: ≤ 1.1 and
≤ 1.2), and whether both picked the same samples. Then the other strategies' rounds; query-by-committee
(which refits its committee inside the query) and exact k-center (all pool × labelled distances) on one
core and on two (``joblib.parallel_config(n_jobs=2)``; target ≤ 1 s): the same round (same bootstrap
draws) several times, printing the best and the median, and the first call apart (on two cores it
starts joblib's worker processes, once per session; the committee's fits run in them). The committee
round is also written directly with scikit-learn in one process, on the same bootstrap draws (same vote
entropies? time ratio), and the script prints its floor on two cores: the members' fits alone, shared
perfectly (a fit cannot be split), so how far the 1 s target is from this machine's reach. BLAS runs on
one thread, as inside ``active.run``. Pool: Fashion-MNIST's 60 000 training images (pixels / 255 as float32); if that data set
is not installed, a random 60 000 × 784 matrix with random labels, and the script says so.
Prints ``name: value`` lines; every ratio is measured in this run (the best of several alternating runs).
"""

from __future__ import annotations

import time
import tracemalloc
import warnings
from functools import partial

import numpy as np
from joblib import parallel_config
from scipy.special import entr
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from labkit import active, data

POOL = 60_000
N_LABELED = 1_000
BATCH = 100
REPEATS = 7  # alternating labkit / direct rounds for the ratio
SLOW_REPEATS = 7  # committee and k-center rounds, the same round each time (after one first call)
TARGET_S = 1.0


def load_pool() -> tuple[np.ndarray, np.ndarray, str]:
    try:
        X, y = data.load_images("fashion_mnist", "train", download=False)
    except data.DatasetUnavailable:
        rng = np.random.default_rng(0)
        X = rng.random((POOL, 784), dtype=np.float32)
        return X, rng.integers(0, 10, POOL), "random 60000x784 float32 (Fashion-MNIST missing)"
    X = X.reshape(len(X), -1).numpy()[:POOL].astype(np.float32) / np.float32(255)
    return X, y.numpy()[:POOL], "fashion_mnist train, float32"


def direct_round(model, X: np.ndarray, is_labeled: np.ndarray, k: int) -> np.ndarray:
    """The round as one writes it with scikit-learn: predict the unlabelled rows, entropy, top k."""
    rows = np.flatnonzero(~is_labeled)
    probs = model.predict_proba(X[rows])
    scores = entr(probs).sum(axis=1)
    return rows[np.argpartition(-scores, k)[:k]]


def direct_qbc_round(estimator, X, labeled, y_labeled, draws, k):
    """Query-by-committee as one writes it with scikit-learn, in one process: per bootstrap draw, fit a
    clone and predict the unlabelled rows; vote entropy; top k. Also returns each member's fit and
    predict CPU seconds."""
    rows = np.setdiff1d(np.arange(len(X)), labeled)
    Xl, classes = X[labeled], np.unique(y_labeled)
    counts = np.zeros((len(rows), len(classes)))
    fit_s, predict_s = [], []
    for sample in draws:
        start = time.process_time()
        member = clone(estimator).fit(Xl[sample], y_labeled[sample])
        fit_s.append(time.process_time() - start)
        start = time.process_time()
        counts[np.arange(len(rows)), np.searchsorted(classes, member.predict(X[rows]))] += 1
        predict_s.append(time.process_time() - start)
    scores = entr(counts / len(draws)).sum(axis=1)
    return rows[np.argpartition(-scores, k)[:k]], scores, fit_s, predict_s


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def timed_cpu(fn) -> tuple[float, float]:
    """Wall and CPU seconds (all threads) of one call: on a shared machine, the CPU seconds of a
    one-thread call are what it takes on an idle core."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def peak_bytes(fn) -> int:
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def learner(X, y, first, strategy: str) -> active.ActiveLearner:
    model = active.ActiveLearner(LogisticRegression(max_iter=200), X, strategy=strategy,
                                 n_members=active.DEFAULT_N_MEMBERS, random_state=0)
    model.teach(first, y[first])
    return model


def main() -> None:
    # The refits stop at max_iter=200 (not fully converged on raw pixels): irrelevant for timing a query.
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    X, y, source = load_pool()
    print(f"pool: {source}, {X.shape[0]} x {X.shape[1]} {X.dtype}; {N_LABELED} labelled; batch {BATCH}")
    first = active.initial_indices(len(X), N_LABELED, random_state=0)
    with threadpool_limits(limits=1, user_api="blas"):  # as inside active.run
        ent = learner(X, y, first, "entropy")
        assert ent.X_pool.dtype == np.float32 and np.shares_memory(ent.X_pool, X), "the pool was copied"
        is_labeled = np.zeros(len(X), dtype=bool)
        is_labeled[first] = True
        ours_t, direct_t = [], []
        for _ in range(REPEATS):  # alternate, so both see the same load
            ours_t.append(timed(lambda: ent.query(BATCH)))
            direct_t.append(timed(lambda: direct_round(ent.model, X, is_labeled, BATCH)))
        ours_mem = peak_bytes(lambda: ent.query(BATCH))
        direct_mem = peak_bytes(lambda: direct_round(ent.model, X, is_labeled, BATCH))
        same = set(ent.query(BATCH).tolist()) == set(direct_round(ent.model, X, is_labeled, BATCH).tolist())
        print(f"round_seconds[labkit entropy]: {min(ours_t):.4f}")
        print(f"round_seconds[direct scikit-learn]: {min(direct_t):.4f}")
        print(f"round_time_ratio_labkit_to_direct: {min(ours_t) / min(direct_t):.3f}")
        print(f"round_peak_mb[labkit entropy]: {ours_mem / 2**20:.1f}")
        print(f"round_peak_mb[direct scikit-learn]: {direct_mem / 2**20:.1f}")
        print(f"round_memory_ratio_labkit_to_direct: {ours_mem / direct_mem:.3f}")
        print(f"same_picks_as_direct: {same}")

        for strategy in ("random", "least_confident", "margin", "boltzmann"):
            one = learner(X, y, first, strategy)
            print(f"query_seconds[{strategy}]: {min(timed(partial(one.query, BATCH)) for _ in range(3)):.4f}")
        for strategy in ("qbc", "kcenter"):
            one = learner(X, y, first, strategy)
            state = one.rng.bit_generator.state

            def same_round(one=one, state=state):  # the same bootstrap draws every time
                one.rng.bit_generator.state = state
                return one.query(BATCH)

            for n_jobs in (1, 2):
                cores = f"{n_jobs} core{'s' if n_jobs > 1 else ''}"
                with parallel_config(n_jobs=n_jobs):
                    start = timed(same_round)  # joblib starts its workers on the first parallel call
                    runs = [timed_cpu(same_round) for _ in range(SLOW_REPEATS)]
                best = min(wall for wall, _ in runs)
                median = float(np.median([wall for wall, _ in runs]))
                print(f"query_seconds[{strategy}, {cores}]: {best:.3f}")
                print(f"query_median_seconds[{strategy}, {cores}]: {median:.3f}")
                print(f"query_first_call_seconds[{strategy}, {cores}]: {start:.3f}")
                print(f"query_cpu_seconds[{strategy}, {cores}]: {min(cpu for _, cpu in runs):.3f}")
                print(f"query_ratio_to_1s_target[{strategy}, {cores}]: {best / TARGET_S:.3f}")
                print(f"query_median_ratio_to_1s_target[{strategy}, {cores}]: {median / TARGET_S:.3f}")
            if strategy == "qbc":
                qbc_against_direct(one, state, same_round)

def qbc_against_direct(one: active.ActiveLearner, state: dict, same_round) -> None:
    """The committee round written directly with scikit-learn, on the same bootstrap draws: the same
    vote entropies? how fast, in one process? And the floor on two cores: the members' fits alone,
    divided perfectly over the two cores; no schedule of the same fits can beat it."""
    rng = np.random.default_rng()
    rng.bit_generator.state = state
    labeled, y_labeled = np.asarray(one.labeled), np.asarray(one.labels)
    draws = [rng.integers(0, len(labeled), size=len(labeled)) for _ in range(active.DEFAULT_N_MEMBERS)]
    walls, results = [], []
    for _ in range(3):
        start = time.perf_counter()
        results.append(direct_qbc_round(one.estimator, one.X_pool, labeled, y_labeled, draws, BATCH))
        walls.append(time.perf_counter() - start)
    scores = results[0][1]
    fit_s = np.min([r[2] for r in results], axis=0)  # each member's fastest fit
    one.rng.bit_generator.state = state
    votes, classes = active._committee_votes(one.model, one.X_pool[labeled], y_labeled, one.X_pool,
                                             one.unlabeled(), len(draws), one.rng, 1)
    same = np.array_equal(active.vote_entropy(votes, len(classes)), scores)
    with parallel_config(n_jobs=2):
        ours = min(timed(same_round) for _ in range(3))
    direct = min(walls)
    floor = fit_s.sum() / 2
    print(f"query_seconds[qbc, direct scikit-learn, 1 core]: {direct:.3f}")
    print(f"qbc_ratio_2_cores_to_direct: {ours / direct:.3f}")
    print(f"qbc_same_vote_entropy_as_direct: {same}")
    print(f"qbc_member_fit_cpu_seconds: {' '.join(f'{t:.3f}' for t in fit_s)}")
    print(f"qbc_fits_floor_seconds[2 cores]: {floor:.3f} (the fits alone, shared perfectly; a fit cannot be "
          f"split, and the prediction comes on top)")
    print(f"qbc_ratio_2_cores_to_fits_floor: {ours / floor:.3f}")


if __name__ == "__main__":
    main()
