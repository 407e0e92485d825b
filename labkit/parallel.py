"""Run independent jobs — method × repeat, strategy × seed, T × α × seed — in one place.

Every repeated-seed loop in labkit hands its jobs to :func:`run_jobs`. Where they run is chosen here and
only here:

- no cluster, ``n_jobs=None`` (or 1): one after the other in this process (joblib);
- no cluster, ``n_jobs=2`` (``-1``: every core): local worker processes (joblib's loky backend);
- a Dask cluster, given as ``cluster=`` or the environment variable ``LABKIT_CLUSTER`` (what
  ``labkit run/report --cluster`` sets): ``"local"`` starts a ``distributed.LocalCluster`` on this
  machine (one single-threaded worker process per core, 127.0.0.1 only); ``"tcp://host:8786"`` connects
  to a running scheduler (``dask scheduler`` / ``dask worker``, dask-jobqueue, dask-kubernetes). One
  Dask task per job, through Dask's futures API (joblib's dask backend hangs when a worker is lost).

Results come back in job order and do not depend on where they ran: each job carries its own seed,
derived from ``(random_state, job index)`` by the caller. A sweep returns every result or raises; a
partial table is never returned. On a cluster, a job whose worker dies is run again on another worker
(Dask's ``distributed.scheduler.allowed-failures``, 3 by default); past that the sweep raises
:class:`JobFailed` naming the job, together with any job queued on the same dying workers (Dask counts a
death against all of them and cannot tell which one killed the worker).

Dask is optional (``pip install 'labkit[cluster]'``); nothing here imports it unless a cluster is asked for.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

ENV = "LABKIT_CLUSTER"
INSTALL_HINT = "pip install 'labkit[cluster]'"
_SCHEMES = ("tcp://", "tls://", "ucx://", "ws://", "wss://", "inproc://")

_clients: dict[str, Any] = {}  # address ("local" or a scheduler address) -> distributed.Client, per process
_local_clusters: list = []
_atexit_registered = False


class JobFailed(RuntimeError):
    """A job of a sweep could not be finished (e.g. every worker that ran it died); the message names it."""


def check_cluster(cluster, name: str = "cluster"):
    """``None``, ``"local"``, a scheduler address (``"tcp://host:8786"``) or a ``distributed.Client``.

    An empty string means no cluster. Raises ``ValueError`` for anything else.
    """
    if cluster is None:
        return None
    if isinstance(cluster, str):
        value = cluster.strip()
        if not value:
            return None
        if value == "local" or value.startswith(_SCHEMES):
            return value
        raise ValueError(f"{name} must be 'local' or a scheduler address such as 'tcp://host:8786', "
                         f"got {cluster!r}")
    if type(cluster).__name__ == "Client" and hasattr(cluster, "scheduler_info"):
        return cluster
    raise TypeError(f"{name} must be None, 'local', a scheduler address or a distributed.Client, "
                    f"got {type(cluster).__name__}")


def _requested(cluster):
    """The cluster asked for: the argument, else ``$LABKIT_CLUSTER``; ``None`` inside a Dask worker."""
    if _in_dask_worker():  # a sweep inside a job runs serially in that worker; no clusters in clusters
        return None
    if cluster is not None:
        return check_cluster(cluster)
    return check_cluster(os.environ.get(ENV), name=f"${ENV}")


def _in_dask_worker() -> bool:
    import sys

    if sys.modules.get("distributed") is None:  # never imported (or not installed): not in a worker
        return False
    from distributed import get_worker

    try:
        get_worker()
    except ValueError:
        return False
    return True


def require_distributed(what: str):
    """``distributed``, or an ``ImportError`` saying what needs it and what to install."""
    try:
        import distributed
    except ImportError as err:
        raise ImportError(f"{what} needs Dask's distributed scheduler, which is not installed: "
                          f"{INSTALL_HINT}") from err
    return distributed


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS reports it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def local_cluster(n_workers: int | None = None, *, dashboard: bool = True):
    """A ``distributed.LocalCluster`` on 127.0.0.1: ``n_workers`` (default: one per usable core)
    single-threaded worker processes; the dashboard on a free port (needs bokeh) or off."""
    distributed = require_distributed("a local Dask cluster")
    from labkit._validation import check_positive_int

    n_workers = usable_cores() if n_workers is None else check_positive_int(n_workers, "n_workers")
    return distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                    host="127.0.0.1", dashboard_address="127.0.0.1:0" if dashboard else None)


def get_client(cluster=None):
    """The ``distributed.Client`` for ``cluster`` (default ``$LABKIT_CLUSTER``), or ``None`` without one.

    One client per address and process, kept until the process exits; ``"local"`` starts the local
    cluster on first use. Prints, once, where the jobs will run and the dashboard link.
    """
    cluster = _requested(cluster)
    if cluster is None or not isinstance(cluster, str):
        return cluster
    client = _clients.get(cluster)
    if client is not None and client.status == "running":
        return client
    distributed = require_distributed(f"cluster={cluster!r}")
    if cluster == "local":
        local = local_cluster()
        _local_clusters.append(local)
        client = distributed.Client(local, set_as_default=False)
    else:
        try:
            client = distributed.Client(cluster, set_as_default=False, timeout="20s")
        except OSError as err:
            raise ConnectionError(f"cannot reach the Dask scheduler at {cluster!r} (from cluster= or "
                                  f"${ENV}): {err}") from err
    global _atexit_registered
    if not _atexit_registered:
        atexit.register(shutdown)
        _atexit_registered = True
    _clients[cluster] = client
    print(f"labkit.parallel: {where(cluster=client)}")
    return client


def shutdown() -> None:
    """Close the clients and the local cluster this process started."""
    for client in _clients.values():
        try:
            client.close()
        except Exception:  # best effort at exit
            pass
    for local in _local_clusters:
        try:
            local.close()
        except Exception:
            pass
    _clients.clear()
    _local_clusters.clear()


def where(n_jobs: int | None = None, cluster=None) -> str:
    """Where a sweep with these settings runs, in words (with the dashboard link on a cluster)."""
    if n_jobs is not None:
        from labkit._validation import check_int

        n_jobs = check_int(n_jobs, "n_jobs")
        if n_jobs == 0:
            raise ValueError("n_jobs must be a positive number of workers, -1 (all cores) or None, got 0")
    requested = _requested(cluster)
    if requested is None:
        if n_jobs in (None, 1):
            return "jobs run one after the other in this process"
        from joblib import effective_n_jobs

        return f"jobs run in {effective_n_jobs(n_jobs)} local worker processes (joblib, n_jobs={n_jobs})"
    client = requested if not isinstance(requested, str) else get_client(requested)
    workers = client.scheduler_info().get("workers", {})
    threads = sum(w.get("nthreads", 0) for w in workers.values())
    link = client.dashboard_link
    if importlib.util.find_spec("bokeh") is None:
        link += f" (the dashboard needs bokeh: {INSTALL_HINT})"
    return (f"jobs run on the Dask cluster at {client.scheduler.address} ({len(workers)} workers, "
            f"{threads} threads); dashboard: {link}")


class _Job:
    """One job: calls ``fn(*args)`` and, if that raises, notes the job number on the exception."""

    def __init__(self, index: int, n: int, desc: str):
        self.index, self.n, self.desc = index, n, desc

    def __call__(self, fn, *args):
        try:
            return fn(*args)
        except Exception as err:
            if hasattr(err, "add_note"):  # Python >= 3.11
                err.add_note(f"labkit.parallel: raised by {self.desc} job {self.index} of {self.n}")
            raise


def _slug(text: str) -> str:
    return re.sub(r"\W+", "_", text).strip("_")[:40] or "jobs"


def iter_jobs(fn: Callable, jobs: Iterable[Sequence], *, n_jobs: int | None = None, cluster=None,
              desc: str = "jobs", progress: bool = True) -> Iterator:
    """:func:`run_jobs`, yielding each result (in job order) as soon as it and those before it are done."""
    from tqdm.auto import tqdm

    from labkit._validation import check_bool

    if not callable(fn):
        raise TypeError(f"fn must be callable, got {fn!r}")
    jobs = [tuple(job) if isinstance(job, (tuple, list)) else (job,) for job in jobs]
    if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0):
        raise ValueError(f"n_jobs must be None or a non-zero int (-1: every core), got {n_jobs!r}")
    check_bool(progress, "progress")
    client = get_client(cluster)
    # delay: a sweep shorter than a second shows no bar at all
    bar = tqdm(total=len(jobs), desc=desc, unit="job", leave=False, delay=1.0,
               disable=not progress or not jobs)
    try:
        runner = _on_joblib(fn, jobs, n_jobs, desc) if client is None else _on_dask(client, fn, jobs, desc)
        for result in runner:
            bar.update()
            yield result
    finally:
        bar.close()


def _on_joblib(fn, jobs, n_jobs, desc) -> Iterator:
    """This process (``n_jobs`` None or 1) or local loky worker processes."""
    from joblib import Parallel, delayed

    n = len(jobs)
    calls = (delayed(_Job(i, n, desc))(fn, *args) for i, args in enumerate(jobs))
    yield from Parallel(n_jobs=n_jobs, return_as="generator")(calls)


def _on_dask(client, fn, jobs, desc) -> Iterator:
    """One Dask task per job (``client.submit``), yielded in job order as they finish.

    Dask's futures API directly, not joblib's dask backend: joblib 1.6's backend never reports a task
    that failed with ``KilledWorker`` and the sweep then waits forever (reproduced).
    """
    import uuid

    distributed = require_distributed("a Dask cluster")
    n, tag = len(jobs), uuid.uuid4().hex[:8]
    futures = [client.submit(_Job(i, n, desc), fn, *args, key=f"{_slug(desc)}-{tag}-job{i}", pure=False)
               for i, args in enumerate(jobs)]
    index = {future.key: i for i, future in enumerate(futures)}
    finished, next_out = {}, 0
    try:
        for future in distributed.as_completed(futures, loop=client.loop):
            i = index[future.key]
            if future.status == "error" and isinstance(future.exception(), distributed.KilledWorker):
                raise _killed(distributed, futures, index, jobs, desc) from future.exception()
            finished[i] = future.result()  # re-raises a job's own exception, with its traceback
            future.release()
            while next_out in finished:
                yield finished.pop(next_out)
                next_out += 1
    finally:
        client.cancel([f for f in futures if not f.done()])


def _killed(distributed, futures, index, jobs, desc, grace: float = 1.0) -> JobFailed:
    """The :class:`JobFailed` for a sweep in which Dask gave up on a job after its workers kept dying.

    Dask counts a worker's death against every job that worker held, running or queued behind it, and
    cannot tell which one killed it; the jobs it gave up on at the same moment are named together (their
    ``KilledWorker`` errors may reach this client a moment apart, hence the short ``grace`` wait).
    """
    pending = [f for f in futures if not f.done()]
    if pending:
        try:
            distributed.wait(pending, timeout=grace)
        except TimeoutError:  # some jobs are still running normally: don't wait for them
            pass
    errors = {index[f.key]: f.exception() for f in futures
              if f.status == "error" and isinstance(f.exception(), distributed.KilledWorker)}
    n, failed = len(jobs), sorted(errors)
    allowed = errors[failed[0]].allowed_failures
    named = ", ".join(f"job {i} of {n} (arguments {_short(jobs[i])})" for i in failed)
    retry = (f"Dask runs a job again after its worker dies, up to distributed.scheduler.allowed-failures = "
             f"{allowed} times")
    if len(failed) == 1:
        text = f"{named} was not finished: {allowed + 1} workers died while running it ({retry})."
    else:
        text = (f"{len(failed)} jobs were not finished: {named}. Workers died {allowed + 1} times while "
                f"holding each of them ({retry}); Dask counts a death against every job the worker held, "
                f"so it cannot tell which of these killed it.")
    return JobFailed(f"{desc}: {text} No partial results are returned.")


def _short(args: tuple) -> str:
    text = ", ".join(repr(a) for a in args)
    return text if len(text) <= 120 else text[:117] + "..."


def run_jobs(fn: Callable, jobs: Iterable[Sequence], *, n_jobs: int | None = None, cluster=None,
             desc: str = "jobs", progress: bool = True) -> list:
    """``[fn(*job) for job in jobs]``, run where :func:`where` says; results in job order.

    ``jobs``: argument tuples (a non-tuple job is one argument). ``n_jobs``: local processes when no
    cluster is given (``None``: serial). ``cluster``: ``None`` (then ``$LABKIT_CLUSTER``), ``"local"``,
    ``"tcp://host:8786"`` or a ``distributed.Client``; on a cluster ``n_jobs`` is ignored. One
    ``tqdm.auto`` bar counts finished jobs. ``fn`` and the arguments must pickle (cloudpickle: closures
    and notebook functions do). Returns every result or raises; a failed job's exception propagates
    (noted with the job number), a job whose workers kept dying raises :class:`JobFailed`.
    """
    return list(iter_jobs(fn, jobs, n_jobs=n_jobs, cluster=cluster, desc=desc, progress=progress))
