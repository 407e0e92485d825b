"""labkit.parallel: one place runs the independent jobs of every sweep, here or on a Dask cluster.

The cluster tests share ONE LocalCluster (2 single-threaded worker processes on 127.0.0.1) per module and
check that a sweep gives the same table there as serially, and what happens when a worker dies.
"""

import os
import re
import sys

import numpy as np
import pandas as pd
import pytest

from labkit import parallel


# ----------------------------------------------------------------------------------- without a cluster
def _square(x, offset=0):
    return x * x + offset


@pytest.fixture(autouse=True)
def no_cluster_from_the_environment(monkeypatch):
    monkeypatch.delenv(parallel.ENV, raising=False)


def test_serial_and_local_processes_return_results_in_job_order():
    jobs = [(i, 1) for i in range(7)]
    expected = [i * i + 1 for i in range(7)]
    assert parallel.run_jobs(_square, jobs, progress=False) == expected
    assert parallel.run_jobs(_square, jobs, n_jobs=2, progress=False) == expected
    assert parallel.run_jobs(_square, range(3), progress=False) == [0, 1, 4]  # a non-tuple job is one argument
    assert parallel.run_jobs(_square, [], progress=False) == []


def test_a_failing_job_raises_its_own_error_and_no_partial_list():
    def job(i):
        if i == 2:
            raise ValueError("bad input in job two")
        return i

    with pytest.raises(ValueError, match="bad input in job two") as info:
        parallel.run_jobs(job, range(4), progress=False)
    if sys.version_info >= (3, 11):
        assert "job 2 of 4" in "".join(getattr(info.value, "__notes__", []))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="n_jobs"):
        parallel.run_jobs(_square, [(1,)], n_jobs=0)
    with pytest.raises(TypeError, match="fn must be callable"):
        parallel.run_jobs(3, [(1,)])
    with pytest.raises(ValueError, match="cluster must be 'local' or a scheduler address.*'my-laptop'"):
        parallel.run_jobs(_square, [(1,)], cluster="my-laptop")
    with pytest.raises(TypeError, match="cluster must be"):
        parallel.check_cluster(8786)
    assert parallel.check_cluster("  ") is None
    assert parallel.check_cluster("tcp://10.0.0.5:8786") == "tcp://10.0.0.5:8786"


def test_the_environment_variable_chooses_the_cluster(monkeypatch):
    monkeypatch.setenv(parallel.ENV, "no-such-thing")
    with pytest.raises(ValueError, match=r"\$LABKIT_CLUSTER must be"):
        parallel.run_jobs(_square, [(1,)])
    monkeypatch.setenv(parallel.ENV, "")
    assert parallel.run_jobs(_square, [(2,)], progress=False) == [4]
    assert parallel.where() == "jobs run one after the other in this process"
    assert "local worker processes" in parallel.where(n_jobs=2)


def test_without_dask_asking_for_a_cluster_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    monkeypatch.setattr(parallel, "_clients", {})
    with pytest.raises(ImportError, match=re.escape("pip install 'labkit[cluster]'")):
        parallel.run_jobs(_square, [(1,)], cluster="tcp://127.0.0.1:8786")
    assert parallel.run_jobs(_square, [(3,)], progress=False) == [9]  # everything else works


def test_cli_cluster_option_sets_the_variable_the_kernel_inherits(monkeypatch):
    from labkit import cli, notebook

    seen = {}

    def fake_run(name, **kwargs):
        seen["cluster"] = kwargs["env"].get(parallel.ENV)
        raise SystemExit(0)

    monkeypatch.setattr(notebook, "run", fake_run)
    with pytest.raises(SystemExit):
        cli.main(["run", "02", "--profile", "smoke", "--cluster", "tcp://127.0.0.1:8786"])
    assert seen["cluster"] == "tcp://127.0.0.1:8786"
    assert parallel.ENV not in os.environ  # given to the kernel only, not left in this process
    with pytest.raises(SystemExit) as info:
        cli.main(["run", "02", "--cluster", "laptop"])
    assert info.value.code == 2  # argparse's usage error, naming --cluster


# -------------------------------------------------------------------------------------- on a cluster
@pytest.fixture(scope="module")
def cluster():
    """A LocalCluster: 2 worker processes, 1 thread each, 127.0.0.1, no dashboard. A job is retried once
    after its worker dies (the default is 3 retries; 1 keeps the fault tests fast)."""
    pytest.importorskip("distributed")
    import dask

    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        local = parallel.local_cluster(2, dashboard=False)
    yield local.scheduler_address
    parallel.shutdown()
    local.close()


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X[:600])
    return X[:400], y[:400], X[400:], y[:600][400:]


def test_where_names_the_cluster(cluster):
    text = parallel.where(cluster=cluster)
    assert cluster in text and "2 workers" in text and "dashboard" in text


def test_active_compare_on_the_cluster_equals_serial(cluster, digits, monkeypatch):
    from sklearn.linear_model import LogisticRegression

    from labkit import active

    X, y, Xt, yt = digits
    kw = dict(strategies=["random", "entropy", "kcenter"], n_repeats=2, n_initial=20, batch_size=20,
              budget=60, random_state=0, return_labeled=True)
    serial, serial_bought = active.compare(LogisticRegression(max_iter=200), X, y, Xt, yt, **kw)
    monkeypatch.setenv(parallel.ENV, cluster)
    remote, remote_bought = active.compare(LogisticRegression(max_iter=200), X, y, Xt, yt, **kw)
    pd.testing.assert_frame_equal(remote, serial)
    pd.testing.assert_frame_equal(remote_bought, serial_bought)


def test_balance_compare_on_the_cluster_equals_serial(cluster, monkeypatch):
    from labkit import balance, data

    X, y = data.make_imbalanced(n_samples=400, weights=(0.9, 0.1), random_state=0)
    methods = ["none", "under", "smote", "class_weight"]
    serial = balance.compare(X, y, methods, n_repeats=3, random_state=0)
    monkeypatch.setenv(parallel.ENV, cluster)
    remote = balance.compare(X, y, methods, n_repeats=3, random_state=0)
    # fit_seconds is a wall-clock measurement, not a result
    pd.testing.assert_frame_equal(remote.drop(columns="fit_seconds"), serial.drop(columns="fit_seconds"))


def test_a_job_error_on_the_cluster_keeps_its_type(cluster):
    def job(i):
        if i == 1:
            raise ValueError("job one is broken")
        return i

    with pytest.raises(ValueError, match="job one is broken"):
        parallel.run_jobs(job, range(3), cluster=cluster, progress=False)


def test_a_worker_dying_mid_sweep_is_retried_and_the_table_is_complete(cluster, tmp_path):
    marker = tmp_path / "worker-died"

    def job(i):
        # job 3 kills the worker process running it, once (on the cluster only)
        if i == 3 and parallel._in_dask_worker() and not marker.exists():
            marker.touch()
            os._exit(1)
        return {"job": i, "value": float(np.random.default_rng([7, i]).normal())}

    serial = pd.DataFrame(parallel.run_jobs(job, range(6), progress=False))
    remote = pd.DataFrame(parallel.run_jobs(job, range(6), cluster=cluster, progress=False))
    assert marker.exists(), "the job never killed its worker: the fault was not exercised"
    pd.testing.assert_frame_equal(remote, serial)


def test_a_job_that_keeps_killing_workers_fails_the_sweep_naming_it(cluster):
    def job(i):
        if i == 1 and parallel._in_dask_worker():
            os._exit(1)
        return i

    # the previous test killed a worker: with only one up, both jobs would queue on it and Dask would
    # blame job 0 too (see the next test); the message must name job 1 either way
    parallel.get_client(cluster).wait_for_workers(2, timeout=60)
    with pytest.raises(parallel.JobFailed, match=r"job 1 of 2 \(arguments 1\).*No partial results"):
        parallel.run_jobs(job, range(2), cluster=cluster, desc="doomed sweep", progress=False)


class _FakeFuture:
    def __init__(self, key, status, error=None):
        self.key, self.status, self._error = key, status, error

    def done(self):
        return self.status != "pending"

    def exception(self):
        return self._error


def test_jobs_dask_gave_up_on_together_are_all_named_after_the_grace_wait():
    """Dask counts a worker's death against every job the worker held, so several jobs can fail together
    with ``KilledWorker``; their errors reach the client a moment apart (CI once saw only job 0 named)."""
    import types

    class KilledWorker(Exception):
        allowed_failures = 1

    waited = []
    futures = [_FakeFuture("j0", "error", KilledWorker()), _FakeFuture("j1", "pending"),
               _FakeFuture("j2", "finished"), _FakeFuture("j3", "pending")]

    def wait(pending, timeout):  # job 1's KilledWorker arrives during the wait; job 3 keeps running
        waited.append(([f.key for f in pending], timeout))
        futures[1].status, futures[1]._error = "error", KilledWorker()
        raise TimeoutError

    fake = types.SimpleNamespace(KilledWorker=KilledWorker, wait=wait)
    index = {f.key: i for i, f in enumerate(futures)}
    jobs = [(0,), (1,), (2,), ("x" * 200,)]
    err = parallel._killed(fake, futures, index, jobs, "sweep", grace=0.5)
    assert waited == [(["j1", "j3"], 0.5)]
    text = str(err)
    assert isinstance(err, parallel.JobFailed)
    assert text.startswith("sweep: 2 jobs were not finished: job 0 of 4 (arguments 0), job 1 of 4 "
                           "(arguments 1).")
    assert "cannot tell which of these killed it" in text and "job 3" not in text and "job 2" not in text
    assert text.endswith("No partial results are returned.")

    futures[1].status = "finished"  # only one job failed: the singular message, no waiting when all done
    futures[3].status = "finished"
    waited.clear()
    text = str(parallel._killed(fake, futures, index, jobs, "sweep"))
    assert waited == []
    assert text == ("sweep: job 0 of 4 (arguments 0) was not finished: 2 workers died while running it "
                    "(Dask runs a job again after its worker dies, up to distributed.scheduler.allowed-failures"
                    " = 1 times). No partial results are returned.")


# ----------------------------------------------------------------------------------- notebook level
def _printed(nb) -> list[str]:
    """What a notebook printed and displayed as text, with timings and the where-line taken out."""
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = o.get("data", {})
            if o.get("output_type") == "stream":  # stdout only: progress bars may fall back to stderr
                text = o.get("text") if o.get("name") == "stdout" else None
            else:
                text = None if "application/vnd.jupyter.widget-view+json" in data else data.get("text/plain")
            if text:
                text = "\n".join(line for line in text.splitlines() if not line.startswith("labkit.parallel:"))
                if text.strip():
                    out.append(re.sub(r"\d+(\.\d+)? s\b", "<t> s", text))
    return out


@pytest.mark.notebook
def test_notebook_02_on_the_cluster_gives_the_serial_tables(cluster, tmp_path, monkeypatch):
    """``labkit run 02 --profile smoke --cluster ADDRESS`` (the kernel inherits LABKIT_CLUSTER) gives the
    serial run's tables: the CSVs under LABKIT_OUT once the notebooks keep them, else what it printed.
    Uses the module's cluster (an existing scheduler); ``--cluster local`` differs only in starting one."""
    from labkit import notebook

    path = next(p for p in notebook.list_notebooks() if p.stem.startswith("02"))
    runs = {}
    for name, address in (("serial", None), ("cluster", cluster)):
        monkeypatch.setenv("LABKIT_OUT", str(tmp_path / name))
        if address:
            monkeypatch.setenv(parallel.ENV, address)
        runs[name] = notebook.execute(path, profile="smoke")
    csvs = sorted(p.relative_to(tmp_path / "serial") for p in (tmp_path / "serial").rglob("*.csv"))
    if csvs:
        for rel in csvs:
            serial, remote = (pd.read_csv(tmp_path / name / rel) for name in ("serial", "cluster"))
            timing = [c for c in serial.columns if c.endswith("seconds")]
            pd.testing.assert_frame_equal(remote.drop(columns=timing), serial.drop(columns=timing))
    assert _printed(runs["cluster"]) == _printed(runs["serial"])
