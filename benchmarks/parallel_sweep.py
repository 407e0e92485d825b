"""A sweep on a 2-worker Dask LocalCluster against the same sweep serially, on the same machine (issue 15).

The sweep is ``active.compare`` on digits (logistic regression, 4 strategies × 4 repeats = 16 independent
runs, budget 200): the kind of job labkit sends to a cluster. For reference the same sweep runs with joblib's
n_jobs=2 local processes. The cluster is started first and warmed with one small sweep (so the workers
have imported labkit); then serial, local processes and cluster run interleaved, best of 3, and the
tables must be identical. The per-job overhead of the Dask path is (Dask time − serial time) / jobs for 200 jobs that do
nothing, once with a small function and once with a function carrying 1 MB of data in its closure (as
the real sweeps carry their data set). Without dask installed the script says so and exits 0.
Prints ``name: value`` lines; the load average is printed too (a busy machine shrinks the speed-up).
"""

from __future__ import annotations

import os
import time

import numpy as np

N_WORKERS = 2
N_EMPTY = 200
REPEATS = 3


def active_sweep():
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    from labkit import active

    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    X_pool, X_test, y_pool, y_test = train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)

    def sweep(n_repeats=4, budget=200, n_jobs=None):
        return active.compare(LogisticRegression(max_iter=200), X_pool, y_pool, X_test, y_test,
                              strategies=["random", "entropy", "margin", "least_confident"],
                              n_repeats=n_repeats, n_initial=20, batch_size=10, budget=budget, random_state=0,
                              n_jobs=n_jobs)

    return sweep


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main() -> None:
    try:
        import distributed  # noqa: F401
    except ImportError:
        print("dask.distributed is not installed (pip install 'labkit[cluster]'): nothing measured")
        return
    import pandas as pd

    from labkit import parallel

    os.environ.pop(parallel.ENV, None)
    sweep = active_sweep()
    print(f"load_average_1min_before: {os.getloadavg()[0]:.2f}")
    cluster, start_s = timed(lambda: parallel.local_cluster(N_WORKERS, dashboard=False))
    try:
        address = cluster.scheduler_address
        os.environ[parallel.ENV] = address
        _, warm_s = timed(lambda: sweep(n_repeats=1, budget=40))  # the workers import labkit, sklearn
        os.environ.pop(parallel.ENV)
        sweep(n_repeats=1, budget=40, n_jobs=N_WORKERS)  # start joblib's worker processes
        best = {"serial": np.inf, "loky": np.inf, "dask": np.inf}
        for _ in range(REPEATS):  # interleaved, best of REPEATS: the machine's other load varies
            serial, seconds = timed(sweep)
            best["serial"] = min(best["serial"], seconds)
            loky, seconds = timed(lambda: sweep(n_jobs=N_WORKERS))
            best["loky"] = min(best["loky"], seconds)
            os.environ[parallel.ENV] = address
            remote, seconds = timed(sweep)
            os.environ.pop(parallel.ENV)
            best["dask"] = min(best["dask"], seconds)
            pd.testing.assert_frame_equal(remote, serial)
            pd.testing.assert_frame_equal(loky, serial)
        n_jobs = serial.groupby(["strategy", "repeat"]).ngroups

        payload = np.random.default_rng(0).random(125_000)  # 1 MB

        def empty(i):
            return i

        def carrying(i):
            return i + int(payload[0] > 2)

        overhead = {}
        for name, fn in (("empty", empty), ("closure_1MB", carrying)):
            _, local_s = timed(lambda fn=fn: parallel.run_jobs(fn, range(N_EMPTY), progress=False))
            _, dask_s = timed(lambda fn=fn: parallel.run_jobs(fn, range(N_EMPTY), cluster=address,
                                                              progress=False))
            overhead[name] = (dask_s - local_s) / N_EMPTY
    finally:
        parallel.shutdown()
        cluster.close()

    print(f"sweep: active.compare on digits, {n_jobs} jobs, {N_WORKERS} single-threaded workers, "
          f"best of {REPEATS}")
    print(f"serial_seconds: {best['serial']:.2f}")
    print(f"cluster_start_seconds: {start_s:.2f}")
    print(f"cluster_first_sweep_seconds (workers import labkit): {warm_s:.2f}")
    print(f"cluster_seconds: {best['dask']:.2f}")
    print(f"speedup_2_workers_over_serial: {best['serial'] / best['dask']:.2f}")
    print(f"speedup_2_local_processes_over_serial (joblib n_jobs=2, for reference): "
          f"{best['serial'] / best['loky']:.2f}")
    print("tables_identical: True")
    print(f"dask_overhead_ms_per_job_empty: {1e3 * overhead['empty']:.1f}")
    print(f"dask_overhead_ms_per_job_1MB_closure: {1e3 * overhead['closure_1MB']:.1f}")
    print(f"load_average_1min_after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
