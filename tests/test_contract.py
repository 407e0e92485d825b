"""The input contract of every public function of labkit, in the spirit of scikit-learn's ``check_estimator``
and imbalanced-learn's ``test_common``: bad input gets a ``ValueError`` or ``TypeError`` (or labkit's own
exception) whose message names the parameter.

How it works. The public functions are enumerated from the package (every module's ``__all__``, else its
public callables; classes count, their constructor is the function). :data:`REGISTRY` holds one valid call
per function on small data. For each argument of that call, :func:`bad_inputs` derives the bad inputs that
fit it from the valid value (and the parameter's name): NaN, 1-D and empty arrays; labels with one class,
NaN or one entry short; bools, strings, NaN and out-of-range values where numbers go; strings where flags
go; unknown names where a choice goes; ``None`` or a string where a model goes. Each must raise. A public
function with no registry entry fails :func:`test_every_public_function_has_an_entry` — so a new function is
covered, or the test says so.

Exempt, in one place each: the documents' reproductions (:data:`REPRODUCTIONS`) and plumbing without user
input or too slow to call here (:data:`EXEMPT`, :data:`EXEMPT_MODULES`), each with its reason. A generator is
run and a context manager entered, so that lazy checks count. Bad inputs that a notebook-concept module still
accepts, reported and awaiting its helper, are listed in :data:`PENDING` (the test fails once they are fixed,
so that the line is deleted). :data:`ISSUE_13` replays every example of issue 13, one by one.
"""

from __future__ import annotations

import importlib
import inspect
import numbers
import pkgutil
import re
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import labkit

# --- what is exempt, and why --------------------------------------------------------------------------------

REPRODUCTIONS = (
    "The documents' code as written (everything in labkit.errata, and any document_* function): it copies "
    "the documents' mistakes on purpose, so that notebooks can measure them; validating its input would "
    "change what it reproduces."
)

EXEMPT = {
    "cli.main": "plumbing: parses argv and calls functions that are checked here (tests/test_stats_cli_exercises.py "
                "checks its messages)",
    "bench.main": "plumbing: runs the benchmark scripts in subprocesses; unknown names are tested in the CLI tests",
    "notebook.execute": "starts a Jupyter kernel per call (seconds each): covered by tests/test_notebooks.py",
    "notebook.run": "starts a Jupyter kernel per call (seconds each): covered by tests/test_notebooks.py",
    "notebook.report": "starts a Jupyter kernel per notebook (minutes): covered by tests/test_notebooks.py",
    "notebook.to_html": "plumbing: renders an executed notebook object that labkit itself produced",
    "widgets.show": "display helper: puts already-built objects into an Output widget",
    "metrics.Representativeness": "a frozen result record built by metrics.representativeness",
    "notebook.RunResult": "a result record built by notebook.run",
    "balance.MinorityTask": "a result record built by balance.minority_task",
    "app.require_voila": "no input: raises AppUnavailable when Voila is missing (app.voila_available is covered)",
    "app.serve": "starts a Voila server and blocks until Ctrl-C; its checks run in app.App, covered here",
    "course.build": "executes every notebook in a kernel (minutes): covered by tests/test_course.py",
    "course.grade_notebook": "executes a submission in a kernel (seconds): covered by tests/test_course.py",
    "course.grade": "executes submissions in kernels (seconds each): covered by tests/test_course.py",
    "pages.copy_mathjax": "copies 12 MB of MathJax (slow here): covered by tests/test_pages.py",
    "pages.write_page": "renders HTML and copies 12 MB of MathJax: pages.to_html is covered here",
    "parallel.local_cluster": "starts a cluster of worker processes (seconds): covered by tests/test_parallel.py",
    # result records: built by labkit itself from checked input, never by a learner
    "course.ExerciseCells": "a record built by course.find_exercises",
    "course.BuildResult": "a result record built by course.build",
    "course.GradedNotebook": "a result record built by course.grade_notebook",
    "data.TableInfo": "a record built by data.load_table",
    "exercises.Exercise": "a registry record written in labkit/exercises/nbNN.py",
    "exercises.Measured": "a record built by exercises.paired_verdict",
    "exercises.Status": "the str enum check returns",
    "lesson.Choice": "a result record built by lesson.best_on_validation",
    "lesson.Images": "a result record built by lesson.load_images",
    "lesson.RatioInterval": "a result record built by lesson.ratio_interval",
    "lesson.Verdict": "a result record built by lesson.verdict",
    "pages.Entry": "a record built by pages.read_entry",
    "parameters.Parameter": "a record built by parameters.parse_parameters",
    "data.TrainTest": "a result record built by data.train_test",
    "metrics.Measure": "a record of the metrics.MEASURES table (what a measure is, which way is better)",
}

# Whole modules of plumbing, with the reason.
EXEMPT_MODULES = {
    "exercises.nb": "expected-answer functions (labkit/exercises/nbNN.py): only exercises.check calls them, with "
                    "the notebook's own variables, and reports any error as the status 'error' (never raises)",
}


def exempt_reason(key: str) -> str | None:
    if key in EXEMPT:
        return EXEMPT[key]
    return next((why for prefix, why in EXEMPT_MODULES.items() if key.startswith(prefix)), None)

# Bad inputs still accepted by a module another helper is editing (the notebook-concept modules balance,
# active, select, metrics, transfer, distill): "key parameter:label" -> what is wrong. Reported to the
# coordinator; the test checks they still fail, so a fix makes it say "delete this line".
PENDING: dict[str, str] = {}

# Valid calls too slow to run here (the function's own tests run it).
SLOW_VALID = {"transfer.imagenet_transfer": "a whole ResNet transfer run (~10 s): tests/test_transfer.py runs it"}

def public_functions() -> dict[str, Callable]:
    """``{"module.name": callable}`` for every public function and class of every labkit module."""
    found = {}
    for info in pkgutil.walk_packages(labkit.__path__, prefix="labkit."):
        short = info.name.removeprefix("labkit.")
        if any(part.startswith("_") for part in short.split(".")):
            continue
        module = importlib.import_module(info.name)
        names = getattr(module, "__all__", None)
        if names is None:
            names = [n for n, v in vars(module).items()
                     if not n.startswith("_") and callable(v) and getattr(v, "__module__", None) == module.__name__]
        for name in names:
            value = getattr(module, name)
            if not callable(value) or (isinstance(value, type) and issubclass(value, BaseException)):
                continue  # constants, and exception / warning classes (raised, not called)
            found[f"{short}.{name}"] = value
    return found


def is_reproduction(key: str) -> bool:
    module, _, name = key.rpartition(".")
    return module == "errata" or module.startswith("errata.") or name.startswith("document_")


# --- small data, built once ----------------------------------------------------------------------------------


@cache
def data():
    """Shared small inputs (never mutated by a call: factories copy what a call may change)."""
    import torch
    from sklearn.datasets import make_blobs

    X, y = make_blobs(n_samples=90, centers=3, n_features=4, cluster_std=2.0, random_state=0)
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(3), size=30)
    images = torch.randint(0, 256, (12, 1, 8, 8), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    targets = torch.arange(12) % 3
    results = pd.DataFrame([(s, r, n, 0.5 + 0.1 * r + n / 100) for s in ("random", "entropy") for r in range(2)
                            for n in (10, 20, 30)], columns=["strategy", "repeat", "n_labeled", "accuracy"])
    runs = pd.DataFrame({"method": ["a", "b"] * 4, "repeat": np.repeat(range(4), 2),
                         "accuracy": rng.random(8), "k": [10, 20] * 4})
    return dict(X=X[:60], y=y[:60], Xt=X[60:], yt=y[60:], probs=probs, images=images, targets=targets,
                results=results, runs=runs, rng=rng)


@cache
def fitted_lr():
    from sklearn.linear_model import LogisticRegression

    d = data()
    return LogisticRegression(max_iter=300).fit(d["X"], d["y"])


def lr():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=300)


def balance_verdicts():
    """A small lesson.verdict_table of balancing methods against 'none' (for balance.verdict_*)."""
    return pd.DataFrame({"a": ["under", "over"], "b": ["none", "none"], "metric": ["minority_recall"] * 2,
                         "diff": [0.3, -0.01], "ci": [0.1, 0.05], "n": [6, 6],
                         "verdict": ["better", "no detectable difference"], "indicative": [False, False]})



def _fraud_csv(tmp):
    from userdata import make_fraud_csv

    path = Path(tmp) / "fraud.csv"
    if not path.exists():
        make_fraud_csv(path, n=120, seed=0)
    return str(path)


def _subset_runs():
    rng = np.random.default_rng(0)
    rows = [{"subset": s, "repeat": r, "vendi": base + rng.normal(0, 0.1)}
            for s, base in (("kcenter", 3.0), ("random", 2.0)) for r in range(6)]
    return pd.DataFrame(rows)


def _subset_verdicts():
    from labkit import metrics

    return metrics.compare_subsets(_subset_runs(), [("kcenter", "random")], measures=["vendi"])


def _subset_verdict():
    from labkit import lesson

    return lesson.compare(_subset_runs(), "kcenter", "random", by="subset", pair="repeat", value="vendi")


def _recorded_run(tmp):
    import json

    folder = Path(tmp) / "report" / "01_x"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "run.json").write_text(json.dumps({"profile": "smoke", "headlines": ["h"], "runner_seconds": 1.0}))
    return str(folder.parent)


def _marked_readme(tmp):
    from labkit import results

    path = Path(tmp) / "README.md"
    path.write_text(f"x\n{results.START}\n{results.END}\n")
    return str(path)

def cnn():
    from labkit import models

    return models.small_cnn(in_channels=1, num_classes=3, width=4)


def tensors():
    d = data()
    return d["images"].clone(), d["targets"].clone()


def logits():
    import torch

    return torch.randn(6, 3, generator=torch.Generator().manual_seed(1))


@cache
def seed_split():
    from labkit import select

    d = data()
    seed_idx = select.stratified_subset(d["y"], 15, random_state=0)
    pool_idx = np.setdiff1d(np.arange(len(d["y"])), seed_idx)
    model, seed_probs = select.seed_model(d["X"], d["y"], seed_idx, random_state=0)
    return seed_idx, pool_idx, model.predict_proba(d["X"][pool_idx]), seed_probs


def fake_cifar_archive(folder: Path) -> Path:
    import io

    from labkit.data import CIFAR10_MEMBERS

    path = folder / "cifar-10-binary.tar.gz"
    if not path.exists():
        record = np.zeros((4, 1 + 3 * 32 * 32), dtype=np.uint8)
        record[:, 0] = [0, 1, 2, 3]
        with tarfile.open(path, "w:gz") as tar:
            for member in [*CIFAR10_MEMBERS["train"], *CIFAR10_MEMBERS["test"]]:
                info = tarfile.TarInfo(member)
                info.size = record.nbytes
                tar.addfile(info, io.BytesIO(record.tobytes()))
    return path


def saved_checkpoint(folder: Path) -> Path:
    from labkit import train

    path = folder / "cnn.pt"
    if not path.exists():
        train.save_checkpoint(cnn(), path)
    return path


# --- the registry: one valid call per public function ------------------------------------------------------


@dataclass
class Entry:
    """A valid call: ``call(tmp)`` returns its keyword arguments (fresh objects every time).

    ``skip`` maps ``parameter`` or ``parameter:label`` to why that bad input is in fact valid there;
    ``partners`` lists other parameters an error may name instead (e.g. for a length mismatch);
    ``run_valid=False`` when the valid call itself is not run here (say why in ``skip``).
    """

    call: Callable[[Path], dict]
    skip: dict[str, str] = field(default_factory=dict)
    partners: dict[str, tuple[str, ...]] = field(default_factory=dict)


def E(call, **kw) -> Entry:
    return Entry(call, **kw)


D = data  # short alias for the lambdas below
ANY_SIGN = "a negative value is meaningful here"
ALL_OUT = {"out of range": "no range to leave"}


REGISTRY: dict[str, Entry] = {
    # --- active ---------------------------------------------------------------------------------------------
    "active.uncertainty": E(lambda t: dict(probs=D()["probs"], method="margin")),
    "active.vote_entropy": E(lambda t: dict(votes=np.array([[0, 1, 2], [0, 1, 1]]), n_classes=3)),
    "active.boltzmann_probabilities": E(lambda t: dict(scores=np.array([0.1, 0.5, 0.2]), beta=2.0),
                                        skip={"beta:an out-of-range number": ANY_SIGN + " (003's exp(-βU))"}),
    "active.query_random": E(lambda t: dict(n=20, k=5, random_state=0)),
    "active.query_top_k": E(lambda t: dict(scores=np.array([0.1, 0.5, 0.2, 0.9]), k=2)),
    "active.query_boltzmann": E(lambda t: dict(scores=np.array([0.1, 0.5, 0.2, 0.9]), k=2, beta=3.0, random_state=0),
                                skip={"beta:an out-of-range number": ANY_SIGN}),
    "active.query_kcenter": E(lambda t: dict(X_unlabeled=D()["X"], X_labeled=D()["Xt"][:5], k=3, n_jobs=1),
                              skip={"X_labeled:no rows": "no labelled rows yet is valid (the pool mean starts)",
                                    "n_jobs:an out-of-range int": "joblib reads any negative n_jobs as 'all but a few'"}),
    "active.bootstrap_committee_votes": E(
        lambda t: dict(estimator=lr(), X_labeled=D()["X"][:30], y_labeled=D()["y"][:30], X=D()["Xt"],
                       n_members=3, random_state=0, n_jobs=1),
        skip={"y_labeled:one class": "a bootstrap committee of one class votes for it",
              "n_jobs:an out-of-range int": "joblib reads any negative n_jobs as 'all but a few'"},
        partners={"y_labeled": ("X_labeled",)}),
    "active.random_strategy": E(lambda t: dict(model=fitted_lr(), X_unlabeled=D()["Xt"], X_labeled=D()["X"],
                                               y_labeled=D()["y"], k=3, rng=np.random.default_rng(0)),
                                skip={"model": "random sampling ignores the model",
                                      "y_labeled:one class": "random sampling ignores the labels",
                                      "y_labeled:NaN labels": "random sampling ignores the labels"},
                                partners={"y_labeled": ("X_labeled",)}),
    "active.kcenter_strategy": E(lambda t: dict(model=fitted_lr(), X_unlabeled=D()["Xt"], X_labeled=D()["X"],
                                                y_labeled=D()["y"], k=3, rng=np.random.default_rng(0)),
                                 skip={"model": "k-center ignores the model",
                                       "y_labeled:one class": "k-center ignores the labels",
                                       "y_labeled:NaN labels": "k-center ignores the labels",
                                       "X_labeled:no rows": "no labelled rows yet is valid"},
                                 partners={"y_labeled": ("X_labeled",)}),
    "active.uncertainty_strategy": E(lambda t: dict(method="margin")),
    "active.boltzmann_strategy": E(lambda t: dict(beta=3.0, method="entropy"),
                                   skip={"beta:an out-of-range number": ANY_SIGN}),
    "active.qbc_strategy": E(lambda t: dict(n_members=3, n_jobs=1),
                             skip={"n_jobs:an out-of-range int": "joblib reads any negative n_jobs as 'all but a few'"}),
    "active.get_strategy": E(lambda t: dict(strategy="qbc", beta=3.0, n_members=3),
                             skip={"beta:an out-of-range number": ANY_SIGN}),
    "active.ActiveLearner": E(lambda t: dict(estimator=lr(), X_pool=D()["X"], strategy="margin", beta=3.0,
                                             n_members=3, random_state=0),
                              skip={"beta:an out-of-range number": ANY_SIGN}),
    "active.initial_indices": E(lambda t: dict(n_pool=30, n_initial=5, random_state=0)),
    "active.run": E(lambda t: dict(estimator=lr(), X_pool=D()["X"], y_pool=D()["y"], X_test=D()["Xt"],
                                   y_test=D()["yt"], strategy="margin", n_initial=10, batch_size=5, budget=20,
                                   random_state=0, beta=3.0, n_members=3, return_labeled=False),
                    skip={"beta:an out-of-range number": ANY_SIGN},
                    partners={"y_pool": ("X_pool",), "y_test": ("X_test",)}),
    "active.compare": E(lambda t: dict(estimator=lr(), X_pool=D()["X"], y_pool=D()["y"], X_test=D()["Xt"],
                                       y_test=D()["yt"], strategies=["random", "margin"], n_repeats=1,
                                       n_initial=10, batch_size=10, budget=20, random_state=0, beta=3.0,
                                       n_members=3, n_jobs=1, progress=False, return_labeled=False),
                        skip={"beta:an out-of-range number": ANY_SIGN,
                              "n_jobs:an out-of-range int": "joblib reads any negative n_jobs as 'all but a few'"},
                        partners={"y_pool": ("X_pool",), "y_test": ("X_test",)}),
    "active.labels_to_reach": E(lambda t: dict(curve=D()["results"].query("repeat == 0 and strategy == 'random'"),
                                               target=0.6)),
    "active.label_efficiency": E(lambda t: dict(results=D()["results"], target=0.6, baseline="random")),
    # --- balance --------------------------------------------------------------------------------------------
    "balance.make_sampler": E(lambda t: dict(method="smote", random_state=0)),
    "balance.resample": E(lambda t: dict(X=D()["X"], y=D()["y"], method="under", random_state=0),
                          partners={"y": ("X",)}),
    "balance.balance_per_class": E(lambda t: dict(X=D()["X"], y=D()["y"], n_per_class=5, random_state=0,
                                                  replace="auto"),
                                   skip={"y:one class": "one class resampled to n_per_class is valid"},
                                   partners={"y": ("X",)}),
    "balance.evaluate_minority": E(lambda t: dict(estimator=fitted_lr(), X_test=D()["Xt"], y_test=D()["yt"],
                                                  minority=2),
                                   skip={"y_test:one class": "a test set of the minority class alone is scored"},
                                   partners={"y_test": ("X_test", "minority")}),
    "balance.fit_balanced": E(lambda t: dict(X=D()["X"], y=(D()["y"] == 0).astype(int), method="under",
                                             estimator=lr(), random_state=0),
                              partners={"y": ("X",)}),
    "balance.compare": E(lambda t: dict(X=D()["X"], y=(D()["y"] == 0).astype(int), methods=["none", "under"],
                                        estimator=lr(), n_repeats=1, test_size=0.5, random_state=0),
                         partners={"y": ("X",)}),
    "balance.minority_task": E(lambda t: dict(X=D()["X"], y=D()["y"], class_names=["a", "b", "c"], max_samples=60,
                                              random_state=0),
                               partners={"y": ("X", "class_names")}),
    "balance.verdict_sentence": E(lambda t: dict(verdicts=balance_verdicts(), metric="minority_recall",
                                                 baseline="none")),
    "balance.verdict_grid": E(lambda t: dict(verdicts=balance_verdicts(), metrics=["minority_recall"],
                                             baseline="none")),
    # --- metrics --------------------------------------------------------------------------------------------
    "metrics.entropy": E(lambda t: dict(p=D()["probs"], axis=-1, base=2.0)),
    "metrics.smooth": E(lambda t: dict(p=D()["probs"][0], eps=0.01)),
    "metrics.kl_divergence": E(lambda t: dict(p=D()["probs"][0], q=D()["probs"][1], eps=0.01, base=2.0)),
    "metrics.js_divergence": E(lambda t: dict(p=D()["probs"][0], q=D()["probs"][1], base=2.0)),
    "metrics.mean_pairwise_distance": E(lambda t: dict(X=D()["X"], max_samples=20, random_state=0,
                                                       return_se=True, block_size=16)),
    "metrics.feature_bin_edges": E(lambda t: dict(X=D()["X"], bins=5)),
    "metrics.feature_entropy": E(lambda t: dict(X=D()["X"], bins=5, base=2.0)),
    "metrics.value_entropy": E(lambda t: dict(X=D()["X"], base=2.0)),
    "metrics.category_histogram": E(lambda t: dict(labels=D()["y"], categories=np.array([0, 1, 2])),
                                    skip={"labels:one class": "a histogram of one category is valid",
                                          "labels:one entry short": "any number of labels is valid"}),
    "metrics.kmeans_codes": E(lambda t: dict(X=D()["X"], reference=D()["Xt"], n_clusters=3, n_init=1,
                                             random_state=0)),
    "metrics.representativeness": E(lambda t: dict(subset=D()["y"], reference=D()["yt"], eps=0.01, by="labels",
                                                   n_clusters=3, random_state=0, base=2.0),
                                    skip={"subset:one class": "a subset of one class is what skew measures",
                                          "reference:one class": "a reference of one class is valid",
                                          "subset:one entry short": "subset and reference differ in size",
                                          "reference:one entry short": "subset and reference differ in size"}),
    "metrics.rbf_gamma": E(lambda t: dict(X=D()["X"])),
    "metrics.vendi_score": E(lambda t: dict(X=D()["X"], gamma=0.5, kernel="rbf")),
    "metrics.subset_metrics": E(lambda t: dict(X=D()["X"], y=D()["y"], reference_y=D()["yt"], bins=5, eps=0.01,
                                               gamma=0.5, base=2.0),
                                skip={"y:one class": "a subset of one class is valid",
                                      "reference_y:one class": "a reference of one class is valid",
                                      "reference_y:one entry short": "the reference has its own size"},
                                partners={"y": ("X",)}),
    # --- select ---------------------------------------------------------------------------------------------
    "select.random_subset": E(lambda t: dict(n=20, k=5, random_state=0)),
    "select.stratified_counts": E(lambda t: dict(class_sizes=np.array([5, 3, 8]), k=6, random_state=0)),
    "select.stratified_subset": E(lambda t: dict(y=D()["y"], k=9, random_state=0),
                                  skip={"y:one class": "a single class is stratified trivially",
                                        "y:one entry short": "any number of labels is valid"}),
    "select.top_k": E(lambda t: dict(scores=np.array([0.3, 0.1, 0.9]), k=2)),
    "select.top_entropy": E(lambda t: dict(probs=D()["probs"], k=5)),
    "select.entropy_weights": E(lambda t: dict(probs=D()["probs"], fallback="raise")),
    "select.class_weights": E(lambda t: dict(y=D()["y"]),
                              skip={"y:one class": "one class has weight 1", "y:one entry short": "any length"}),
    "select.sample_weights": E(lambda t: dict(scheme="class", y=D()["y"][:30], probs=D()["probs"]),
                               skip={"y:one class": "one class has weight 1"},
                               partners={"y": ("probs",), "probs": ("y",)}),
    "select.select": E(lambda t: dict(strategy="stratified", k=5, y=D()["y"][:30], probs=D()["probs"],
                                      random_state=0),
                       skip={"y:one class": "a single class is stratified trivially"},
                       partners={"y": ("probs",), "probs": ("y",)}),
    "select.default_estimator": E(lambda t: dict()),
    "select.fit_and_score": E(lambda t: dict(estimator=lr(), X_train=D()["X"], y_train=D()["y"], X_test=D()["Xt"],
                                             y_test=D()["yt"], sample_weight=np.ones(60), labels=np.array([0, 1, 2])),
                              skip={"y_test:one class": "a test set of one class is scored",
                                    "labels:one class": "recall of one chosen class is valid",
                                    "labels:one entry short": "any classes may be reported"},
                              partners={"y_train": ("X_train", "sample_weight"), "y_test": ("X_test",),
                                        "sample_weight": ("y_train",)}),
    "select.seed_model": E(lambda t: dict(X=D()["X"], y=D()["y"], seed_idx=seed_split()[0], estimator=lr(), cv=3,
                                          random_state=0),
                           partners={"y": ("X",)}),
    "select.evaluate_selection": E(
        lambda t: dict(zip(("seed_idx", "pool_idx", "pool_probs", "seed_probs"), seed_split(), strict=True))
        | dict(X=D()["X"], y=D()["y"], X_test=D()["Xt"], y_test=D()["yt"], strategy="top_entropy", k=5,
               weighting="entropy", estimator=lr(), random_state=0),
        skip={"y_test:one class": "a test set of one class is scored"},
        partners={"y": ("X", "seed_idx", "pool_idx"), "y_test": ("X_test",), "pool_probs": ("pool_idx",),
                  "seed_probs": ("seed_idx",), "seed_idx": ("seed_probs",), "pool_idx": ("pool_probs",)}),
    "select.compare_strategies": E(lambda t: dict(X=D()["X"], y=D()["y"], X_test=D()["Xt"], y_test=D()["yt"],
                                                  ks=[5], strategies=["random"], weightings=["none"], n_seed=15,
                                                  n_repeats=1, estimator=lr(), full_pool=False, random_state=0),
                                   skip={"y_test:one class": "a test set of one class is scored"},
                                   partners={"y": ("X",), "y_test": ("X_test",)}),
    "select.skewed_subset": E(lambda t: dict(y=D()["y"], k=6, skew=0.5, target=1, random_state=0),
                              skip={"y:one class": "one class is valid (skew then has no effect)",
                                    "y:one entry short": "any number of labels is valid",
                                    "target:an out-of-range int": "checked: not a class (names target)"}),
    "select.redundant_subset": E(lambda t: dict(n=20, k=10, copies=2, random_state=0)),
    "select.kcenter_subset": E(lambda t: dict(X=D()["X"], k=4, random_state=0)),
    # --- data -----------------------------------------------------------------------------------------------
    "data.make_imbalanced": E(lambda t: dict(n_samples=100, weights=(0.9, 0.1), n_features=5, n_informative=2,
                                             n_redundant=1, flip_y=0.01, random_state=0, shuffle=True)),
    "data.default_data_root": E(lambda t: dict()),
    "data.load_images": E(lambda t: dict(source="digits", split="test", root=None, download=False)),
    "data.read_cifar10_archive": E(lambda t: dict(path=fake_cifar_archive(t), split="test")),
    "data.class_names": E(lambda t: dict(source="digits", target=None)),
    "data.flipped_labels": E(lambda t: dict(n_samples=100, weights=(0.9, 0.1), flip_y=0.01, random_state=0)),
    # --- stats ----------------------------------------------------------------------------------------------
    "stats.mean_ci": E(lambda t: dict(values=np.array([0.5, 0.6, 0.7]), confidence=0.95)),
    "stats.summarize": E(lambda t: dict(df=D()["runs"], by="method", metrics=["accuracy"], confidence=0.95)),
    "stats.format_ci": E(lambda t: dict(summary=labkit.stats.summarize(D()["runs"], "method", ["accuracy"]),
                                        metrics=["accuracy"], digits=3)),
    "stats.paired_difference": E(lambda t: dict(df=D()["runs"], a="a", b="b", by="method", pair="repeat",
                                                value="accuracy", confidence=0.95)),
    # --- core -----------------------------------------------------------------------------------------------
    "core.get_profile": E(lambda t: dict()),
    "core.set_seed": E(lambda t: dict(seed=0)),
    "core.set_threads": E(lambda t: dict(n=None)),
    "core.get_device": E(lambda t: dict(prefer="cpu")),
    # --- exercises ------------------------------------------------------------------------------------------
    "exercises.check": E(lambda t: dict(exercise="01-1", answer=int((D()["yt"] == 1).sum()), y_test=D()["yt"]),
                         skip={"answer": "any answer is graded (a wrong one is 'wrong', never an error)"}),
    # --- notebook -------------------------------------------------------------------------------------------
    "notebook.default_notebooks_dir": E(lambda t: dict()),
    "notebook.list_notebooks": E(lambda t: dict(directory=None)),
    "notebook.resolve_notebook": E(lambda t: dict(name="02", directory=None)),
    # --- bench ----------------------------------------------------------------------------------------------
    "bench.benchmarks_dir": E(lambda t: dict()),
    "bench.list_benchmarks": E(lambda t: dict()),
    # --- models ---------------------------------------------------------------------------------------------
    "models.Normalize": E(lambda t: dict(mean=(0.5,), std=(0.25,))),
    "models.SmallCNN": E(lambda t: dict(in_channels=1, num_classes=3, width=4, mean=(0.5,), std=(0.25,))),
    "models.small_cnn": E(lambda t: dict(in_channels=1, num_classes=3, width=4, mean=(0.5,), std=(0.25,))),
    "models.CifarResNet": E(lambda t: dict(depth=8, width=1, in_channels=3, num_classes=3, mean=(0.5,) * 3,
                                           std=(0.25,) * 3)),
    "models.cifar_resnet": E(lambda t: dict(depth=8, width=1, in_channels=3, num_classes=3, mean=(0.5,) * 3,
                                            std=(0.25,) * 3)),
    "models.ConvAutoencoder": E(lambda t: dict(in_channels=1, latent_dim=4, width=4, image_size=8, mean=(0.5,),
                                               std=(0.25,))),
    "models.conv_autoencoder": E(lambda t: dict(in_channels=1, latent_dim=4, width=4, image_size=8, mean=(0.5,),
                                                std=(0.25,))),
    "models.torchvision_resnet": E(lambda t: dict(arch="resnet18", num_classes=3, in_channels=1, weights=None,
                                                  small_input=True, mean=(0.5,), std=(0.25,))),
    # --- train ----------------------------------------------------------------------------------------------
    "train.cpu_has_native_bf16": E(lambda t: dict()),
    "train.evaluate": E(lambda t: dict(model=cnn(), data=tensors(), batch_size=4, device="cpu", amp=False)),
    "train.fit": E(lambda t: dict(model=cnn(), train=tensors(), val=tensors(), epochs=1, lr=0.01, batch_size=4,
                                  optimizer="sgd", momentum=0.9, weight_decay=5e-4, schedule="constant",
                                  label_smoothing=0.0, augment=False, device="cpu", amp=False,
                                  channels_last=False, compile=False, progress=False, random_state=0),
                   skip={"augment:a string for a flag": "checked (names augment)"}),
    "train.load_checkpoint": E(lambda t: dict(model=cnn(), path=saved_checkpoint(t), strict=True)),
    "train.one_cycle": E(lambda t: dict(step=3, total_steps=10, warmup=0.25, start=0.04)),
    "train.predict_logits": E(lambda t: dict(model=cnn(), X=tensors()[0], batch_size=4, device="cpu", amp=False)),
    "train.random_crop_flip": E(lambda t: dict(x=tensors()[0], padding=2, flip=True)),
    "train.reconstruction_loss": E(lambda t: dict(output=tensors()[0].float() / 255, target=tensors()[0].float() / 255)),
    "train.save_checkpoint": E(lambda t: dict(model=cnn(), path=t / "saved.pt")),
    # --- transfer -------------------------------------------------------------------------------------------
    "transfer.FrozenBatchNorm": E(lambda t: dict(num_features=4, eps=1e-5)),
    "transfer.TransferNet": E(lambda t: _transfer_net_parts()),
    "transfer.blocks": E(lambda t: dict(model=cnn(), head="fc")),
    "transfer.count_parameters": E(lambda t: dict(model=cnn())),
    "transfer.count_trainable": E(lambda t: dict(model=cnn())),
    "transfer.extract_features": E(lambda t: dict(model=cnn(), X=tensors()[0], batch_size=4, device="cpu",
                                                  cache=False, progress=False),
                                   skip={"cache": "a string is a cache folder, by design"}),
    "transfer.feature_cache_key": E(lambda t: dict(model=cnn(), X=tensors()[0]),
                                    skip={"X:images missing a dimension": "a hash of any tensor (its shape is part "
                                                                          "of the key)"}),
    "transfer.finetune": E(lambda t: dict(model=cnn(), train=tensors(), unfreeze="all", head="fc", epochs=1,
                                          lr=0.01, progress=False, device="cpu")),
    "transfer.imagenet_transfer": E(lambda t: _imagenet_args(), skip={"cache": "a string is a cache folder, by design"}),
    "transfer.freeze": E(lambda t: dict(model=cnn(), trainable=("fc",)),
                         skip={"trainable:an empty sequence": "() freezes everything, by design (documented)"}),
    "transfer.epochs_for_steps": E(lambda t: dict(n_samples=100, steps=20, batch_size=10)),
    "transfer.label_sweep": E(lambda t: _label_sweep_args(),
                              skip={"y_test:one class": "a test set of one class is scored"},
                              partners={"y_test": ("methods",)}),
    "transfer.network_method": E(lambda t: dict(build=lambda n: cnn(), X_pool=tensors()[0], y_pool=tensors()[1],
                                                X_test=tensors()[0], steps=2, lr=0.01, unfreeze="all", head="fc",
                                                batch_size=4, eval_batch_size=4, device="cpu"),
                                 partners={"y_pool": ("X_pool",)}),
    "transfer.probe_method": E(lambda t: dict(F_pool=D()["X"], y_pool=D()["y"], F_test=D()["Xt"], C=1.0),
                               partners={"y_pool": ("F_pool",)}),
    "transfer.linear_probe": E(lambda t: dict(features=D()["X"], y=D()["y"], C=1.0, max_iter=100, random_state=0),
                               partners={"y": ("features",)}),
    "transfer.per_class_indices": E(lambda t: dict(y=D()["y"], n_per_class=3, random_state=0),
                                    skip={"y:one class": "one class is valid", "y:one entry short": "any length"}),
    "transfer.predict_linear": E(lambda t: dict(classifier=_linear(), features=D()["X"].astype(np.float32))),
    "transfer.pretrained_resnet": E(lambda t: dict(arch="resnet18", num_classes=3, weights=None, input_size=None)),
    "transfer.replace_head": E(lambda t: dict(model=cnn(), num_classes=5, head="fc")),
    # --- distill --------------------------------------------------------------------------------------------
    "distill.kd_loss": E(lambda t: dict(student_logits=logits(), teacher_logits=logits(),
                                        targets=(logits().argmax(1)), temperature=4.0, alpha=0.5),
                         partners={"targets": ("student_logits",)}),
    "distill.mlp_student": E(lambda t: dict(image_shape=(1, 8, 8), num_classes=3, hidden=8, mean=(0.5,),
                                            std=(0.25,))),
    "distill.compute_teacher_logits": E(lambda t: dict(teacher=cnn(), X=tensors()[0], batch_size=4, device="cpu")),
    "distill.pseudo_labels": E(lambda t: dict(logits=logits())),
    "distill.select_confident": E(lambda t: dict(confidence=logits().softmax(1).max(1).values, min_confidence=0.4)),
    "distill.distill": E(lambda t: dict(teacher=cnn(), student=cnn(), data=tensors(), mode="kd", temperature=4.0,
                                        alpha=0.5, teacher_batch_size=4, epochs=1, lr=0.01,
                                        device="cpu", progress=False)),
    "distill.distill_grid": E(lambda t: dict(teacher=cnn(), student=cnn(), data=tensors(), temperatures=[2.0, 4.0],
                                             alphas=[0.5, 1.0], teacher_batch_size=4, epochs=1, lr=0.01,
                                             device="cpu", progress=False)),
    "distill.count_parameters": E(lambda t: dict(model=cnn(), trainable_only=True)),
    "distill.set_trainable": E(lambda t: dict(model=cnn(), trainable=("fc",))),
    "distill.partial_update": E(lambda t: dict(model=cnn(), train=tensors(), trainable=("fc",), epochs=1, lr=0.01,
                                               progress=False, device="cpu")),
    "distill.backward_seconds": E(lambda t: dict(model=cnn(), X=tensors()[0], y=tensors()[1], repeats=1,
                                                 device="cpu"),
                                  partners={"y": ("X",)}),
    # --- plots ----------------------------------------------------------------------------------------------
    "plots.decision_boundary": E(lambda t: dict(model=_fitted_2d(), X=D()["X"][:, :2], y=D()["y"], title="t",
                                                resolution=20),
                                 skip={"title": "free text", "y:one class": "one class can be drawn"},
                                 partners={"y": ("X",)}),
    "plots.plot_class_counts": E(lambda t: dict(counts=pd.DataFrame({0: [3, 4], 1: [5, 2]}, index=["a", "b"]),
                                                class_names=["x", "y"], title="t"), skip={"title": "free text"}),
    "plots.active_learning_curves": E(lambda t: dict(results=D()["results"], target=0.6, title="t"),
                                      skip={"title": "free text"}),
    "plots.queried_class_histogram": E(lambda t: dict(labeled=_bought(), y_pool=D()["y"], n_initial=10,
                                                      class_names=["a", "b", "c"], title="t"),
                                       skip={"title": "free text", "y_pool:one class": "one class can be counted",
                                             "y_pool:one entry short": "labeled holds pool indices, not the pool "
                                                                       "size: any y_pool covering them is valid"}),
    "plots.queried_thumbnails": E(lambda t: dict(images=tensors()[0].numpy(), rows={"random": np.arange(4)},
                                                 labels=tensors()[1].numpy(), class_names=["a", "b", "c"], n=4,
                                                 title="t"),
                                  skip={"title": "free text", "labels:one class": "one class can be shown"}),
    "plots.plot_reconstructions": E(lambda t: dict(X=tensors()[0].numpy(), X_hat=tensors()[0].numpy(), n=3,
                                                   title="t"), skip={"title": "free text"}),
    "plots.subset_map": E(lambda t: dict(ax=_ax(), background=D()["X"][:, :2], points=D()["X"][:10, :2],
                                         labels=D()["y"][:10], title="t", n_classes=3, point_size=5.0),
                          skip={"title": "free text", "labels:one class": "a subset of one class can be drawn"},
                          partners={"labels": ("points",)}),
    "plots.subset_maps": E(lambda t: dict(background=D()["X"][:, :2],
                                          subsets={"a": (D()["X"][:10, :2], D()["y"][:10])},
                                          class_names=["a", "b", "c"], ncols=2)),
    "plots.smoothing_curves": E(lambda t: dict(eps=np.array([0.01, 0.1]), curves={"kl": [1.0, 2.0]}, title="t",
                                               ylabel="nats"), skip={"title": "free text", "ylabel": "free text"}),
    "plots.soft_targets": E(lambda t: dict(ax=_ax(), logits=np.array([2.0, 1.0, 0.1]), temperatures=[1.0, 4.0],
                                           class_names=["a", "b", "c"], title="t"), skip={"title": "free text"}),
    "plots.kd_grid": E(lambda t: dict(ax=_ax(), sweep=_sweep(), value="accuracy", baseline=0.5, title="t"),
                       skip={"title": "free text"}),
    # --- widgets --------------------------------------------------------------------------------------------
    "widgets.imbalance_explorer": E(lambda t: dict(n_repeats=1, random_state=0, minority_share=0.1, method="under",
                                                   n_samples=200, flip_y=0.01)),
    "widgets.SelectionExplorer": E(lambda t: dict(run=_selection_run, k_min=0, k_max=10, k_step=5, k=5)),
    "widgets.selection_explorer": E(lambda t: dict(run=_selection_run, k_min=0, k_max=10, k_step=5, k=5)),
    "widgets.ActiveExplorer": E(lambda t: dict(estimator=lr(), X_pool=D()["X"], y_pool=D()["y"], X_test=D()["Xt"],
                                               y_test=D()["yt"], n_initial=10, budget=20, batch_size=5,
                                               strategy="entropy", beta=10.0, target=0.6, n_repeats=1,
                                               random_state=0),
                                partners={"y_pool": ("X_pool",), "y_test": ("X_test",)}),
    "widgets.active_explorer": E(lambda t: dict(estimator=lr(), X_pool=D()["X"], y_pool=D()["y"], X_test=D()["Xt"],
                                                y_test=D()["yt"], n_initial=10, budget=20, batch_size=5),
                                 partners={"y_pool": ("X_pool",), "y_test": ("X_test",)}),
    "widgets.OracleGame": E(lambda t: dict(estimator=lr(), X_pool=D()["X"][:12], y_pool=D()["y"][:12],
                                           images=tensors()[0].numpy(), X_test=D()["Xt"], y_test=D()["yt"],
                                           class_names=["a", "b", "c"], strategy="entropy", n_initial=6,
                                           batch_size=2, random_state=0, scale=2),
                            partners={"y_pool": ("X_pool", "images"), "y_test": ("X_test",)}),
    "widgets.oracle_game": E(lambda t: dict(estimator=lr(), X_pool=D()["X"][:12], y_pool=D()["y"][:12],
                                            images=tensors()[0].numpy(), X_test=D()["Xt"], y_test=D()["yt"],
                                            class_names=["a", "b", "c"], n_initial=6, batch_size=2),
                             partners={"y_pool": ("X_pool", "images"), "y_test": ("X_test",)}),
    "widgets.TransferExplorer": E(lambda t: dict(run=lambda labels, unfreeze: {"accuracy": 0.5},
                                                 labels_options=[1, 5], unfreeze_options=[0, 1], labels=1, unfreeze=1)),
    "widgets.transfer_explorer": E(lambda t: dict(run=lambda labels, unfreeze: {"accuracy": 0.5},
                                                  labels_options=[1, 5], unfreeze_options=[0, 1])),
    "widgets.DiversityExplorer": E(lambda t: _diversity_args()),
    "widgets.diversity_explorer": E(lambda t: _diversity_args()),
    "widgets.KDExplorer": E(lambda t: dict(sweep=_sweep(), example_logits=np.array([[2.0, 1.0, 0.1]]), baseline=0.5,
                                           teacher=0.8, class_names=["a", "b", "c"])),
    "widgets.kd_explorer": E(lambda t: dict(sweep=_sweep(), example_logits=np.array([[2.0, 1.0, 0.1]]),
                                            baseline=0.5, teacher=0.8)),
    # --- stats (new) ----------------------------------------------------------------------------------------
    "stats.ci_text": E(lambda t: dict(mean=0.5, ci=0.1, n=5, digits=3, signed=False),
                       skip={"mean:an out-of-range number": ANY_SIGN, "mean:NaN": "a NaN mean is a missing value by design: prints 'n/a (n = N)'",
                              "ci:NaN": "a NaN half-width is 'no interval' by design (one run)"}),
    "stats.paired_differences": E(lambda t: dict(df=D()["runs"], a="a", b="b", by="method", pair="repeat",
                                                 value="accuracy", nan_policy="raise"),
                                  skip={"a": "any value of column by (checked: names a)",
                                        "b": "any value of column by (checked: names b)"}),
    # --- lesson ---------------------------------------------------------------------------------------------
    "lesson.Lesson": E(lambda t: dict(stem="contract", parameters={"N_REPEATS": 3}),
                       skip={"stem": "free text: any stem names a results folder"}),
    "lesson.StageTimer": E(lambda t: dict()),
    "lesson.timer": E(lambda t: dict()),
    "lesson.start": E(lambda t: dict(stem="contract", namespace={"N_REPEATS": 3, "other": 1}),
                      skip={"stem": "free text: any stem names a results folder"}),
    "lesson.results_dir": E(lambda t: dict(stem="contract"),
                            skip={"stem": "free text: any stem names a results folder"}),
    "lesson.ci_text": E(lambda t: dict(mean=0.5, ci=0.1, n=5, digits=3, signed=False),
                        skip={"mean:an out-of-range number": ANY_SIGN, "mean:NaN": "a NaN mean is a missing value by design: prints 'n/a (n = N)'",
                              "ci:NaN": "a NaN half-width is 'no interval' by design (one run)"}),
    "lesson.verdict": E(lambda t: dict(diff=0.1, ci=0.05, n=5, a="a", b="b", metric="accuracy",
                                       higher_is_better=True, digits=3),
                        skip={"diff:an out-of-range number": ANY_SIGN, "a": "a free label", "b": "a free label",
                              "metric": "free text",
                              "ci:NaN": "a NaN half-width is 'no interval from n = 1' by design"}),
    "lesson.compare": E(lambda t: dict(df=D()["runs"], a="a", b="b", by="method", pair="repeat", value="accuracy",
                                       higher_is_better=True, metric=None, nan_policy="raise"),
                        skip={"a": "any value of column by (checked: names a)",
                              "b": "any value of column by (checked: names b)"}),
    "lesson.verdict_table": E(lambda t: dict(df=D()["runs"], pairs=[("a", "b")], by="method", pair="repeat",
                                             value="accuracy", within=None, higher_is_better=True)),
    "lesson.best_on_validation": E(lambda t: dict(df=_split_runs(), by="method", value="accuracy",
                                                  split_col="split", validation="validation", test="test",
                                                  higher_is_better=True)),
    "lesson.claim": E(lambda t: dict(text_or_verdict="a beats b"), skip={"text_or_verdict": "free text"}),
    "lesson.expect": E(lambda t: dict(condition=True, effect="a beats b", strict=False),
                       skip={"effect": "free text"}),
    "lesson.load_images": E(lambda t: dict(name="digits", split="test", fallback=None, n=20, random_state=0)),
    "lesson.load_train_test": E(lambda t: dict(source="digits", target=None, fallback=None)),
    "lesson.pixel_features": E(lambda t: dict(X=tensors()[0]),
                               skip={"X:images missing a dimension": "[1, 8, 8] is one 8-row image of 8 values"}),
    "lesson.ratio_interval": E(lambda t: dict(numerators=[1.0, 2.0, 3.0], denominators=[1.0, 1.5, 2.0], n_boot=50,
                                              random_state=0, statistic="median", confidence=0.95, paired=True,
                                              nan_policy="raise")),
    "lesson.reached": E(lambda t: dict(values=np.array([True, False, True]), noun="repeats"),
                        skip={"noun": "free text"}),
    "lesson.summary_cells": E(lambda t: dict(nb=_nb(), tags=("summary",)),
                              skip={"tags": "any tag may be looked for"}),
    "lesson.comparative_sentences": E(lambda t: dict(nb=_nb(), tags=("summary",), markdown=False),
                                      skip={"tags": "any tag may be looked for"}),
    "lesson.unlabelled_small_n": E(lambda t: dict(nb=_nb(), require_n=True)),
    # --- parallel -------------------------------------------------------------------------------------------
    "parallel.check_cluster": E(lambda t: dict(cluster="local", name="cluster"), skip={"name": "free text"}),
    "parallel.require_distributed": E(lambda t: dict(what="a sweep"), skip={"what": "free text"}),
    "parallel.usable_cores": E(lambda t: dict()),
    "parallel.get_client": E(lambda t: dict(cluster=None)),
    "parallel.shutdown": E(lambda t: dict()),
    "parallel.where": E(lambda t: dict(n_jobs=1, cluster=None),
                        skip={"n_jobs:an out-of-range int": "joblib reads any negative n_jobs as 'all but a few'"}),
    "parallel.iter_jobs": E(lambda t: dict(fn=abs, jobs=[(1,), (-2,)], n_jobs=1, cluster=None, desc="jobs",
                                           progress=False),
                            skip={"desc": "free text",
                                  "n_jobs:an out-of-range int": "joblib reads any negative n_jobs as 'all but a few'"}),
    "parallel.run_jobs": E(lambda t: dict(fn=abs, jobs=[(1,), (-2,)], n_jobs=1, cluster=None, desc="jobs",
                                          progress=False),
                           skip={"desc": "free text",
                                 "n_jobs:an out-of-range int": "joblib reads any negative n_jobs as 'all but a few'"}),
    # --- parameters -----------------------------------------------------------------------------------------
    "parameters.parameters_cell": E(lambda t: dict(nb_or_path=_nb())),
    "parameters.notebook_parameters": E(lambda t: dict(nb_or_path=_nb())),
    "parameters.parse_parameters": E(lambda t: dict(source="N_REPEATS = 3  # repeats\n"),
                                     skip={"source": "any source: a line without an assignment is no parameter"}),
    "parameters.parse_value": E(lambda t: dict(text="5"), skip={"text": "a bare word is a string value by design"}),
    "parameters.parse_assignments": E(lambda t: dict(items=["N_REPEATS=3"]),
                                      skip={"items:an empty sequence": "no -p option is valid"},
                                      partners={"items": ("-p",)}),  # the CLI option the user typed
    "parameters.check_names": E(lambda t: dict(values={"N_REPEATS": 2}, params=_params(), notebook="01"),
                                skip={"notebook": "free text (the notebook's name in the message)"}),
    "parameters.inject": E(lambda t: dict(nb=_nb(), values={"N_REPEATS": 2}, notebook="01"),
                           skip={"notebook": "free text (the notebook's name in the message)"}),
    # --- notebook (new) -------------------------------------------------------------------------------------
    "notebook.prepare": E(lambda t: dict(path=_nb_file(t), parameters={"N_REPEATS": 2})),
    "notebook.merge_run_json": E(lambda t: dict(folder=t / "merged", facts={"seconds": 1.0})),
    "notebook.split_parameters": E(lambda t: dict(values={"N_REPEATS": 2}, paths=[_nb_file(t)])),
    # --- pages ----------------------------------------------------------------------------------------------
    "pages.mathjax_source": E(lambda t: dict()),
    "pages.static_widgets": E(lambda t: dict(nb=_nb(), note="a note"), skip={"note": "free text"}),
    "pages.widget_note": E(lambda t: dict(stem="01_imbalanced_svm"), skip={"stem": "free text"}),
    "pages.to_html": E(lambda t: dict(nb=_nb(), stem="contract", static_url="_static"),
                       skip={"stem": "free text", "static_url": "any relative URL"}),
    "pages.title": E(lambda t: dict(nb=_nb())),
    "pages.question": E(lambda t: dict(nb=_nb())),
    "pages.main_figure": E(lambda t: dict(nb=_nb())),
    "pages.write_thumbnail": E(lambda t: dict(nb=_nb(), path=t / "thumb.png", size=(48, 32))),
    "pages.read_entry": E(lambda t: dict(out_dir=t, notebook=_nb_file(t))),
    "pages.write_index": E(lambda t: dict(out_dir=t / "report", entries=[_page_entry()], profile="quick",
                                          device=None)),
    # --- app ------------------------------------------------------------------------------------------------
    "app.voila_available": E(lambda t: dict()),
    "app.free_port": E(lambda t: dict()),
    "app.write_template": E(lambda t: dict(data_dir=t / "jupyter-data")),
    "app.App": E(lambda t: dict(notebook=_nb_file(t), profile="quick", port=None)),
    # --- course ---------------------------------------------------------------------------------------------
    "course.find_exercises": E(lambda t: dict(nb=_nb())),
    "course.student_version": E(lambda t: dict(nb=_nb(), use_nbgrader=False)),
    "course.instructor_version": E(lambda t: dict(nb=_nb())),
    "course.validate": E(lambda t: dict(nb=_nb(), name="01"), skip={"name": "free text (the name in messages)"}),
    "course.write_csv": E(lambda t: dict(results=[_graded()], path=t / "grades.csv")),
    # --- exercises (new) ------------------------------------------------------------------------------------
    "exercises.exercise_ids": E(lambda t: dict(notebook="01")),
    "exercises.get": E(lambda t: dict(exercise="01-1")),
    "exercises.paired_verdict": E(lambda t: dict(df=D()["runs"], a="a", b="b", by="method", pair="repeat",
                                                 value="accuracy", label=None),
                                  skip={"a": "any value of column by (checked: names a)",
                                        "b": "any value of column by (checked: names b)"}),
    # --- data (new) -----------------------------------------------------------------------------------------
    "data.is_builtin": E(lambda t: dict(source="digits"), skip={"source": "a predicate: any name gets an answer"}),
    "data.source_kind": E(lambda t: dict(source="digits")),
    "data.describe": E(lambda t: dict(source="digits", target=None)),
    "data.train_test": E(lambda t: dict(source=_fraud_csv(t), target="is_fraud", test_size=0.25, random_state=0,
                                        download=False)),
    "data.pixel_features": E(lambda t: dict(X=tensors()[0]),
                             skip={"X:images missing a dimension": "[1, 8, 8] is one 8-row image of 8 values"}),
    "data.load_table": E(lambda t: dict(path=_table_file(t), target="label", impute=None, drop=("note",),
                                        categorical=(), max_categories=50, verbose=False),
                        skip={"drop:an empty sequence": "dropping no column is valid"}),
    # --- models (new) ---------------------------------------------------------------------------------------
    "models.resolve_weights": E(lambda t: dict(arch="resnet18", weights="DEFAULT")),
    "models.torchvision_model": E(lambda t: dict(arch="resnet18", weights=None)),
    # --- train (new) ----------------------------------------------------------------------------------------
    "train.prepare_images": E(lambda t: dict(x=tensors()[0], device="cpu", channels_last=False),
                              skip={"x:images missing a dimension": "any shape of images is converted"}),
    "train.image_batches": E(lambda t: dict(X=tensors()[0], batch_size=4, device="cpu", channels_last=False,
                                            order=None, model=cnn()),
                             skip={"model:None for a model": "model is optional (None: no channel check)"}),
    # --- transfer (new) -------------------------------------------------------------------------------------
    "transfer.default_cache_dir": E(lambda t: dict()),
    "transfer.frozen": E(lambda t: dict(model=cnn(), trainable=("fc",)),
                         skip={"trainable:an empty sequence": "() freezes everything, by design (documented)"}),
    "transfer.unfreeze": E(lambda t: dict(model=cnn())),
    # --- plots (new) ----------------------------------------------------------------------------------------
    "plots.ci_plot": E(lambda t: dict(summary=_summary(["method", "k"]), x="k", y="accuracy", by="method",
                                      kind=None, log_x=False, annotate=False, title="t"),
                       skip={"title": "free text"}),
    "plots.queried_class_shares": E(lambda t: dict(labeled=_bought(), y_pool=D()["y"], n_initial=10,
                                                   class_names=["a", "b", "c"]),
                                    skip={"y_pool:one class": "one class can be counted",
                                          "y_pool:one entry short": "labeled holds pool indices, not the pool size: "
                                                                    "any y_pool covering them is valid"}),
    # --- widgets (new) --------------------------------------------------------------------------------------
    "widgets.Explorer": E(lambda t: dict(controls=_controls(), rows=None, live=True)),
    "widgets.ImbalanceExplorer": E(lambda t: dict(n_repeats=1, random_state=0, minority_share=0.1, method="under",
                                                  n_samples=200, flip_y=0.01)),
    # --- added with the notebooks' own-data and verdict work -----------------------------------------------
    "active.seed_indices": E(lambda t: dict(y_pool=D()["y"], n_initial=6, random_state=0, max_draws=10),
                             skip={"y_pool:one entry short": "any length (a pool has no partner here)"}),
    "active.labels_needed": E(lambda t: dict(results=D()["results"], target=0.6)),
    "distill.split_sizes": E(lambda t: dict(available=100, wanted={"teacher": 50, "pool": 20}, minimum=1)),
    "metrics.measures_in": E(lambda t: dict(group="diversity")),
    "metrics.compare_subsets": E(lambda t: dict(results=_subset_runs(), pairs=[("kcenter", "random")],
                                                measures=["vendi"], by="subset", pair="repeat"),
                                 skip={"pairs": "any (a, b) values of column by"}),
    "metrics.difference_sentence": E(lambda t: dict(v=_subset_verdict(), label="Vendi score", digits=3),
                                     skip={"label": "free text: how the sentence names the measure"}),
    "metrics.direction_table": E(lambda t: dict(verdicts=_subset_verdicts(), measures=["vendi"])),
    "metrics.noticed": E(lambda t: dict(verdicts=_subset_verdicts(), a="kcenter", b="random", digits=3)),
    "metrics.standing": E(lambda t: dict(verdicts=_subset_verdicts(), a="kcenter", measure="vendi", digits=3)),
    "results.read_runs": E(lambda t: dict(out_dir=_recorded_run(t))),
    "results.results_markdown": E(lambda t: dict(out_dir=_recorded_run(t))),
    "results.update_readme": E(lambda t: dict(readme=_marked_readme(t), out_dir=_recorded_run(t))),
    "transfer.evaluation_modes": E(lambda t: dict(model=cnn(), X=tensors()[0], y=tensors()[1], batch_sizes=(4, 12),
                                                  device="cpu"),
                                   partners={"y": ("X",)}),
}


def _split_runs() -> pd.DataFrame:
    runs = data()["runs"]
    return pd.concat([runs.assign(split="validation"), runs.assign(split="test")], ignore_index=True)


def _nb():
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    return new_notebook(cells=[
        new_markdown_cell("# A notebook\n\n**Question:** does a beat b?"),
        new_code_cell("N_REPEATS = 3  # repeats", metadata={"tags": ["parameters"]}),
        new_markdown_cell("## Summary\n\nA beats b."),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )


def _nb_file(folder: Path) -> Path:
    import nbformat

    path = folder / "99_contract.ipynb"
    if not path.exists():
        nbformat.write(_nb(), path)
    return path


def _params():
    from labkit.parameters import Parameter

    return [Parameter("N_REPEATS", "3", "repeats")]


def _page_entry():
    from labkit.pages import Entry

    return Entry(stem="99_contract", title="A notebook", page="99_contract.html")


def _graded():
    from labkit.course import GradedNotebook

    return GradedNotebook(notebook="01", rows=[dict(notebook="01", exercise="01-1", status="correct", message="")],
                          seconds=1.0)


def _table_file(folder: Path) -> Path:
    path = folder / "table.csv"
    if not path.exists():
        d = data()
        df = pd.DataFrame(d["X"], columns=[f"f{i}" for i in range(d["X"].shape[1])])
        df.assign(label=d["y"], note="x").to_csv(path, index=False)
    return path


def _controls() -> dict:
    import ipywidgets

    return {"k": ipywidgets.IntSlider(value=1, min=0, max=5)}


def _transfer_net_parts() -> dict:
    from torch import nn

    from labkit import models

    return dict(preprocess=models.Normalize((0.5,), (0.25,)), backbone=nn.Sequential(nn.Flatten()),
                fc=nn.Linear(64, 3))


def _linear():
    from torch import nn

    return nn.Linear(4, 3)


def _imagenet_args() -> dict:
    import torch

    X = torch.randint(0, 256, (6, 3, 16, 16), dtype=torch.uint8, generator=torch.Generator().manual_seed(2))
    y = torch.arange(6) % 2
    return dict(X_train=X, y_train=y, X_test=X.clone(), y_test=y.clone(), arch="resnet18", weights=None,
                input_size=16, finetune_epochs=1, lr=0.01, weight_decay=1e-4, batch_size=4, feature_batch_size=4,
                augment=False, document_subset=0, device="cpu", cache=False, random_state=0, progress=False)


def _label_sweep_args() -> dict:
    d = data()

    def method(train_idx, random_state=None):
        return np.resize(d["yt"], len(d["yt"]))

    method.n_pool = len(d["y"])  # the pool it holds, as network_method's and probe_method's methods say
    return dict(methods={"m": method}, y_pool=d["y"], y_test=d["yt"], labels_per_class=[2, 4], n_repeats=1,
                random_state=0, progress=False)


def _summary(by=("method",)) -> pd.DataFrame:
    return labkit.stats.summarize(data()["runs"], list(by), ["accuracy"])


def _bought() -> pd.DataFrame:
    return pd.DataFrame({"strategy": "random", "repeat": 0, "order": np.arange(20), "pool_index": np.arange(20)})


def _sweep() -> pd.DataFrame:
    return pd.DataFrame({"temperature": [1.0, 1.0, 4.0, 4.0], "alpha": [0.5, 0.9, 0.5, 0.9],
                         "accuracy": [0.5, 0.6, 0.7, 0.65]})


def _ax():
    import matplotlib.pyplot as plt

    return plt.subplots()[1]


@cache
def _fitted_2d():
    d = data()
    return lr().fit(d["X"][:, :2], d["y"])


def _selection_run(k, strategy, weighting):
    return {"accuracy": 0.5, "count_0": k}


def _diversity_args() -> dict:
    d = data()

    def draw(size, skew, seed):
        return np.arange(size)

    def score(indices):
        return {"n": len(indices)}

    return dict(draw=draw, score=score, background=d["X"][:, :2], coords=d["X"][:, :2], labels=d["y"],
                sizes=(2, 20, 2), size=10, skew=0.5, seeds=3)


# --- bad inputs that fit a parameter ---------------------------------------------------------------------------

LABEL_NAMES = re.compile(r"^(y|y_.*|.*_y|labels|targets|subset|reference|clusters|reference_clusters)$")
INDEX_NAMES = re.compile(r"^(.*_idx|indices|labeled|rows)$")
PROB_NAMES = re.compile(r"^(probs|p|q|.*_probs)$")
PATH_NAMES = re.compile(r"^(path|root|out_dir|directory|checkpoint)$")


def bad_inputs(name: str, value) -> list[tuple[str, object]]:
    """``(label, bad value)`` pairs that fit a parameter whose valid value is ``value``."""
    import torch
    from torch import nn

    if value is None or PATH_NAMES.match(name):
        return []
    if isinstance(value, bool | np.bool_):
        return [("a string for a flag", "no")]
    if isinstance(value, numbers.Integral):
        return [("a bool for an int", True), ("a float for an int", 2.5), ("a string for an int", "3"),
                ("an out-of-range int", -10**6)]
    if isinstance(value, numbers.Real):
        return [("a bool for a number", True), ("a string for a number", "x"), ("NaN", float("nan")),
                ("an out-of-range number", -1e6)]
    if isinstance(value, str):
        return [("an unknown name", "no_such_option")]
    if isinstance(value, torch.Tensor):
        return _bad_tensors(name, value)
    if isinstance(value, np.ndarray):
        return _bad_arrays(name, value)
    if isinstance(value, tuple) and value and all(isinstance(v, torch.Tensor) for v in value):
        X, y = value[0], value[1]
        bad = X.float().clone()
        bad.view(-1)[0] = float("nan")
        return [("images with NaN", (bad, *value[1:])), ("labels one entry short", (X, y[:-1], *value[2:]))]
    if isinstance(value, dict) and isinstance(value.get("cells"), list):
        return [("a string for a notebook", "x.ipynb"), ("a dict that is no notebook", {"x": 1})]
    if isinstance(value, pd.DataFrame):
        return [("a string for a table", "x"), ("a table without its columns", pd.DataFrame({"other": [1]}))]
    if isinstance(value, nn.Module):
        return [("None for a model", None), ("a string for a model", "resnet")]
    if hasattr(value, "fit") and hasattr(value, "get_params"):
        return [("a string for an estimator", "svc")]
    if isinstance(value, list | tuple) and value:
        if all(isinstance(v, str) for v in value):
            return [("an empty sequence", []), ("an unknown name in a sequence", ["no_such_option"])]
        if all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value):
            return [("an empty sequence", []), ("NaN in a sequence", [float("nan")] * len(value))]
        return []
    if callable(value) and not isinstance(value, type):
        return [("a string for a callable", "x")]
    return []


def _bad_arrays(name: str, value: np.ndarray) -> list[tuple[str, object]]:
    if value.ndim == 2 and value.dtype.kind == "f":
        nan = value.copy()
        nan[0, 0] = np.nan
        out = [("NaN", nan), ("1-D", value[:, 0].copy()), ("no rows", value[:0])]
        if PROB_NAMES.match(name):
            out.append(("rows not summing to 1", value * 2))
        return out
    if value.ndim == 1 and INDEX_NAMES.match(name):
        return [("an index out of range", value + 10**6), ("float indices", value + 0.5)]
    if value.ndim == 1 and LABEL_NAMES.match(name):
        nan = value.astype(float)
        nan[0] = np.nan
        return [("one class", np.zeros_like(value)), ("NaN labels", nan), ("one entry short", value[:-1])]
    if value.ndim == 1 and value.dtype.kind == "f":
        nan = value.copy()
        nan[0] = np.nan
        out = [("NaN", nan), ("empty", value[:0])]
        if PROB_NAMES.match(name):
            out.append(("not summing to 1", value * 2))
        return out
    return []


def _bad_tensors(name: str, value) -> list[tuple[str, object]]:
    import torch

    if value.dtype == torch.uint8:
        return [("images missing a dimension", value[0]), ("float images in 0..255", value.float())]
    if value.is_floating_point():
        nan = value.clone()
        nan.view(-1)[0] = float("nan")
        return [("NaN", nan), ("a dimension missing", value[0])]
    if value.ndim == 1:
        return [("labels one entry short", value[:-1]), ("a label out of range", value + 100)]
    return []


def names_parameter(message: str, names) -> bool:
    return any(re.search(rf"(?<![A-Za-z0-9_]){re.escape(n)}(?![A-Za-z0-9_])", message) for n in names)


def labkit_errors() -> tuple[type[BaseException], ...]:
    errors = [ValueError, TypeError]
    for module, name in (("data", "DatasetUnavailable"), ("transfer", "WeightsUnavailable")):
        try:
            errors.append(getattr(importlib.import_module(f"labkit.{module}"), name))
        except (ImportError, AttributeError):
            pass
    return tuple(errors)


def call(fn, kwargs: dict):
    """``fn(**kwargs)`` (positional-only parameters passed by position); a generator is run to its end and a
    context manager entered, so that checks made lazily count."""
    import contextlib
    import types

    import matplotlib.pyplot as plt

    kwargs = dict(kwargs)
    try:
        params = inspect.signature(fn).parameters.values()
    except ValueError:
        params = []
    args = [kwargs.pop(p.name) for p in params if p.kind is p.POSITIONAL_ONLY and p.name in kwargs]
    try:
        result = fn(*args, **kwargs)
        if isinstance(result, types.GeneratorType):
            result = list(result)
        elif isinstance(result, contextlib.AbstractContextManager) and type(result).__name__.startswith("_Generator"):
            with result:
                pass
        return result
    finally:
        plt.close("all")


# --- the tests ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tmp(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("contract")


@pytest.fixture(autouse=True)
def _quiet(monkeypatch, tmp):
    import matplotlib

    monkeypatch.chdir(tmp)  # a call that writes where it should not writes here, not into the checkout
    matplotlib.use("Agg")
    monkeypatch.setenv("LABKIT_DATA", str(Path(__file__).parent / "no-data-here"))
    monkeypatch.setenv("LABKIT_OUT", str(tmp / "out"))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


FUNCTIONS = public_functions()
COVERED = sorted(k for k in FUNCTIONS if k in REGISTRY)


def test_every_public_function_has_an_entry():
    missing = [k for k in FUNCTIONS if k not in REGISTRY and not exempt_reason(k) and not is_reproduction(k)]
    assert not missing, "new public function(s) with no entry in tests/test_contract.py REGISTRY (add a valid " \
                        f"call, or an EXEMPT reason): {missing}"
    stale = [k for k in [*REGISTRY, *EXEMPT] if k not in FUNCTIONS]
    assert not stale, f"registry entries for functions that no longer exist: {stale}"
    assert not [k for k in REGISTRY if is_reproduction(k)], "reproductions are exempt, not registered"
    assert not [k for k in PENDING if k.split(" ")[0] not in REGISTRY], "PENDING names an unregistered function"


@pytest.mark.parametrize("key", COVERED)
def test_valid_call_runs(key, tmp):
    """The registry's call is valid, so a bad input is the only thing wrong in the cases below."""
    if key in SLOW_VALID:
        pytest.skip(SLOW_VALID[key])
    call(FUNCTIONS[key], REGISTRY[key].call(tmp))


@pytest.mark.parametrize("key", COVERED)
def test_bad_input_is_refused_naming_the_parameter(key, tmp):
    entry = REGISTRY[key]
    fn = FUNCTIONS[key]
    params = inspect.signature(fn).parameters
    errors = labkit_errors()
    failures = []
    for name, value in entry.call(tmp).items():
        if name in entry.skip or name not in params:
            continue
        for label, bad in bad_inputs(name, value):
            if f"{name}:{label}" in entry.skip:
                continue
            kwargs = entry.call(tmp)
            kwargs[name] = bad
            pending = f"{key} {name}:{label}" in PENDING
            try:
                call(fn, kwargs)
            except errors as err:
                if not names_parameter(str(err), (name, *entry.partners.get(name, ()))):
                    problem = f"{name} = {label}: {type(err).__name__} does not name {name!r}: {err}"
                elif pending:
                    problem = f"{name} = {label}: fixed — delete its line in PENDING"
                    pending = False
                else:
                    continue
            except Exception as err:  # noqa: BLE001 - any other exception is a contract failure
                problem = f"{name} = {label}: {type(err).__name__} (not ValueError/TypeError): {err}"
            else:
                problem = f"{name} = {label}: accepted silently"
            if not pending:
                failures.append(problem)
    assert not failures, f"{key}:\n  " + "\n  ".join(failures)


# --- issue 13's examples, one by one --------------------------------------------------------------------------
# Every example the issue lists as "accepted silently" or "unclear": (id, the bad call, names its error may
# use). Damaged files and offline weights are tested where the files are read: tests/test_data.py
# (test_damaged_fashion_mnist_file_..., test_damaged_cifar10_archive_...), tests/test_train.py
# (test_damaged_checkpoints_raise_value_error_naming_the_file) and tests/test_transfer.py
# (test_every_offline_path_to_imagenet_weights_raises_weights_unavailable).


def _nan_images():
    X, y = tensors()
    X = X.float() / 255
    X[0, 0, 0, 0] = float("nan")
    return X, y


def _fit(**kw):
    from labkit import train

    args = dict(model=cnn(), train=tensors(), epochs=1, lr=0.01, batch_size=4, device="cpu", progress=False,
                random_state=0) | kw
    return train.fit(**args)


def _active(fn, **kw):
    from labkit import active

    d = data()
    args = dict(estimator=lr(), X_pool=d["X"], y_pool=d["y"], X_test=d["Xt"], y_test=d["yt"], n_initial=10,
                batch_size=5, budget=20, random_state=0) | kw
    if fn == "run":
        return active.run(strategy=args.pop("strategy", "margin"), **args)
    return active.compare(strategies=["random"], n_repeats=1, progress=False, **args)


def _distill(**kw):
    from labkit import distill

    return distill.distill(cnn(), cnn(), tensors(), epochs=1, lr=0.01, device="cpu", progress=False,
                           teacher_batch_size=4, **kw)


def _one_class(y):
    return np.zeros_like(y)


def _nan_labels(y):
    y = y.astype(float)
    y[0] = np.nan
    return y


def _lm(name):
    return importlib.import_module(f"labkit.{name}")


ISSUE_13 = [
    # accepted silently
    ("fit NaN images", lambda: _fit(train=_nan_images()), ("train",)),
    ("fit float images 0..255", lambda: _fit(train=(tensors()[0].float(), tensors()[1])), ("train", "255")),
    ("fit lr=1e6", lambda: _fit(lr=1e6, epochs=2), ("lr", "learning rate")),
    ("fit NaN loss_fn", lambda: _fit(loss_fn=lambda out, y, *rest: out.sum() * float("nan")), ("loss_fn",)),
    ("evaluate NaN images", lambda: _lm("train").evaluate(cnn(), _nan_images(), device="cpu"), ("data",)),
    ("predict_logits NaN images", lambda: _lm("train").predict_logits(cnn(), _nan_images()[0], device="cpu"), ("X",)),
    ("extract_features NaN images",
     lambda: _lm("transfer").extract_features(cnn(), _nan_images()[0], device="cpu", cache=False), ("X",)),
    ("distill NaN images", lambda: _lm("distill").distill(
        cnn(), cnn(), _nan_images(), epochs=1, lr=0.01, device="cpu", progress=False), ("data", "X")),
    ("finetune NaN images", lambda: _lm("transfer").finetune(cnn(), _nan_images(), epochs=1, lr=0.01, device="cpu",
                                                            progress=False), ("train",)),
    ("partial_update NaN images", lambda: _lm("distill").partial_update(cnn(), _nan_images(), epochs=1, lr=0.01,
                                                                       device="cpu", progress=False), ("train",)),
    ("Normalize mean=(nan,)", lambda: _lm("models").Normalize((float("nan"),), (1.0,)), ("mean",)),
    ("Normalize std=(inf,)", lambda: _lm("models").Normalize((0.5,), (float("inf"),)), ("std",)),
    ("small_cnn mean=(nan,)", lambda: _lm("models").small_cnn(1, 3, mean=(float("nan"),), std=(1.0,)), ("mean",)),
    ("FrozenBatchNorm eps=-1", lambda: _lm("transfer").FrozenBatchNorm(4, eps=-1), ("eps",)),
    ("one_cycle total_steps=0", lambda: _lm("train").one_cycle(5, total_steps=0), ("total_steps",)),
    ("one_cycle negative step", lambda: _lm("train").one_cycle(-1, total_steps=10), ("step",)),
    ("one_cycle warmup=1.5", lambda: _lm("train").one_cycle(3, total_steps=10, warmup=1.5), ("warmup",)),
    ("kd_loss NaN logits", lambda: _lm("distill").kd_loss(logits() * float("nan"), logits()), ("student_logits",)),
    ("pseudo_labels NaN logits", lambda: _lm("distill").pseudo_labels(logits() * float("nan")), ("logits",)),
    ("select_confident confidence > 1",
     lambda: _lm("distill").select_confident(logits().softmax(1).max(1).values + 1, 0.5), ("confidence",)),
    ("select_confident min_confidence > 1",
     lambda: _lm("distill").select_confident(logits().softmax(1).max(1).values, 1.5), ("min_confidence",)),
    ("active.run single-class y_test", lambda: _active("run", y_test=_one_class(data()["yt"])), ("y_test",)),
    ("active.run NaN y_test", lambda: _active("run", y_test=_nan_labels(data()["yt"])), ("y_test",)),
    ("active.compare single-class y_test", lambda: _active("compare", y_test=_one_class(data()["yt"])), ("y_test",)),
    ("active.compare NaN y_test", lambda: _active("compare", y_test=_nan_labels(data()["yt"])), ("y_test",)),
    ("evaluate_minority minority=7",
     lambda: _lm("balance").evaluate_minority(fitted_lr(), data()["Xt"], data()["yt"], minority=7), ("minority",)),
    ("seed_model y one short",
     lambda: _lm("select").seed_model(data()["X"], data()["y"][:-1], np.arange(15), random_state=0), ("y", "X")),
    ("network_method y one short",
     lambda: _lm("transfer").network_method(lambda n: cnn(), tensors()[0], tensors()[1][:-1], tensors()[0], steps=1,
                                            lr=0.01, device="cpu"), ("y_pool", "X_pool")),
    ("load_images download='no'", lambda: _lm("data").load_images("fashion_mnist", download="no"), ("download",)),
    ("fit progress='no'", lambda: _fit(progress="no"), ("progress",)),
    ("expect strict='no'", lambda: _lm("lesson").expect(False, "an effect", strict="no"), ("strict",)),
    ("load_checkpoint strict='no'", lambda: _lm("train").load_checkpoint(cnn(), saved_checkpoint(Path.cwd()),
                                                                         strict="no"), ("strict",)),
    ("make_imbalanced flip_y=True", lambda: _lm("data").make_imbalanced(100, flip_y=True), ("flip_y",)),
    ("mean_ci drops a NaN", lambda: _lm("stats").mean_ci([0.5, float("nan"), 0.7]), ("values", "nan_policy")),
    ("balance.compare methods=[]",
     lambda: _lm("balance").compare(data()["X"], (data()["y"] == 0).astype(int), methods=[], n_repeats=1), ("methods",)),
    ("run strategy='entropy' beta='x'", lambda: _active("run", strategy="entropy", beta="x"), ("beta",)),
    ("distill mode='kd' min_confidence=1.5", lambda: _distill(mode="kd", min_confidence=1.5), ("min_confidence",)),
    # unclear
    ("fit device='cuda:7'", lambda: _fit(device="cuda:7"), ("device",)),
    ("imagenet_transfer feature_batch_size=0",
     lambda: _lm("transfer").imagenet_transfer(**(_imagenet_args() | {"feature_batch_size": 0})),
     ("feature_batch_size",)),
    ("kcenter_subset k=0", lambda: _lm("select").kcenter_subset(data()["X"], 0, random_state=0), ("k",)),
    ("fit labels out of range", lambda: _fit(train=(tensors()[0], tensors()[1] + 10)), ("train", "y")),
    ("fit float labels", lambda: _fit(train=(tensors()[0], tensors()[1].float())), ("train", "y")),
    ("fit wrong channel count", lambda: _fit(train=(tensors()[0].repeat(1, 3, 1, 1), tensors()[1])), ("train",)),
    ("fit_and_score NaN X_train",
     lambda: _lm("select").fit_and_score(lr(), _nan_rows(data()["X"]), data()["y"], data()["Xt"], data()["yt"]),
     ("X_train",)),
    ("seed_model 1-D X", lambda: _lm("select").seed_model(data()["X"][:, 0], data()["y"], np.arange(15)), ("X",)),
    ("evaluate_selection mismatched y",
     lambda: _lm("select").evaluate_selection(**(REGISTRY["select.evaluate_selection"].call(Path.cwd())
                                                 | {"y": data()["y"][:-1]})), ("y", "X")),
    ("evaluate_minority NaN X_test",
     lambda: _lm("balance").evaluate_minority(fitted_lr(), _nan_rows(data()["Xt"]), data()["yt"], minority=2),
     ("X_test",)),
    ("make_imbalanced n_redundant=-1", lambda: _lm("data").make_imbalanced(100, n_redundant=-1), ("n_redundant",)),
    ("predict_logits model None", lambda: _lm("train").predict_logits(None, tensors()[0]), ("model",)),
    ("fit model a string", lambda: _fit(model="resnet"), ("model",)),
]


def _nan_rows(X):
    X = X.copy()
    X[0, 0] = np.nan
    return X


@pytest.mark.parametrize("example, bad_call, names", ISSUE_13, ids=[e[0] for e in ISSUE_13])
def test_issue_13_example_raises_naming_its_parameter(example, bad_call, names):
    with pytest.raises(labkit_errors()) as info:
        call(lambda: bad_call(), {})
    assert names_parameter(str(info.value), names), f"{example}: {type(info.value).__name__}: {info.value}"


def test_fit_with_a_huge_learning_rate_stops_in_the_first_epoch_and_keeps_finite_weights():
    import torch

    from labkit import train

    model = cnn()
    with pytest.raises(ValueError, match=r"epoch 1\b") as info:
        train.fit(model, tensors(), epochs=3, lr=1e6, batch_size=4, device="cpu", progress=False, random_state=0)
    assert "learning rate" in str(info.value) or "lr" in str(info.value)
    assert all(torch.isfinite(p).all() for p in model.parameters())
