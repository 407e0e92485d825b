"""The documents' code as written, mistakes included: the reproductions that ERRATA.md corrects.

Each function here copies a document's code (or its loop) on purpose, so that a notebook or a benchmark can
run it beside the corrected version in the production modules and measure what the mistake costs. None of
it is meant for real use, and none of it validates its input the way the rest of labkit does: the
mistakes are the point. The corrected versions live in :mod:`labkit.metrics`, :mod:`labkit.select`,
:mod:`labkit.active`, :mod:`labkit.distill` and :mod:`labkit.transfer`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from labkit._validation import (
    RandomState,
    as_generator,
    check_features,
    check_images,
    check_int,
    check_labels,
    check_module,
    check_positive_int,
    check_tensor,
)

if TYPE_CHECKING:  # pragma: no cover
    import torch
    from torch import nn


__all__ = [
    "document_entropy",
    "document_entropy_loop",
    "document_extract_features",
    "document_kd_loss",
    "document_linear_head",
    "document_loop",
    "document_sample_by_entropy",
    "document_weight_by_entropy",
]


# --- 001 §4.1–4.2 entropy selection and weighting (corrected: labkit.metrics.entropy, labkit.select) ------


def document_entropy(probs):
    """001 §4.1/§4.2 as written: ``-np.sum(probs * np.log(probs))``. NaN as soon as one probability is 0."""
    return -np.sum(probs * np.log(probs))


def document_entropy_loop(probs) -> np.ndarray:
    """001 §4.1 as written: :func:`document_entropy` row by row in a Python loop."""
    return np.array([document_entropy(p) for p in probs])


def document_sample_by_entropy(data, probs, num_samples):
    """001 §4.1 ``sample_by_entropy`` as written. NaN entropies sort last in ``argsort``, so rows with a
    zero probability are picked *first*. Pass ``data=np.arange(n)`` to get the chosen indices."""
    entropies = np.array([document_entropy(p) for p in probs])
    indices = np.argsort(entropies)[-num_samples:]
    return data[indices], probs[indices]


def document_weight_by_entropy(probs):
    """001 §4.2 ``weight_by_entropy`` as written: one NaN entropy makes the sum, hence every weight, NaN;
    all-one-hot predictions give 0/0."""
    entropies = np.array([document_entropy(p) for p in probs])
    return entropies / np.sum(entropies)


# --- 003 §4 the active-learning loop (corrected: labkit.active.run) ---------------------------------------


def document_loop(X_pool, y_pool, X_test, y_test, *, n_steps: int = 100, n_initial: int = 20,
                  beta: float = 1.0, score: str = "certainty", oracle: str = "random",
                  label_calls: int = 2, retrain: str = "one_sample", random_state: RandomState = None,
                  ) -> tuple[pd.DataFrame, int]:
    """Document 003 §4's loop on real data, each ERRATA 003 mistake switchable so its cost can be measured.

    As written (the defaults): ``uncertainty(x) = sum(p**2)`` (``score="certainty"``), a sample is drawn
    uniformly among those with ``1 / (exp(−β·U) + 1) > u``, u ~ U(0, 1), the label is ``randint(0, 2)``
    (``oracle="random"``), the label function is called twice per step (``label_calls=2``), and the model is
    updated with that one sample (``retrain="one_sample"``: ``SGDClassifier.partial_fit``).
    Corrections: ``score="entropy"``, ``oracle="true"``, ``label_calls=1``, ``retrain="all"`` (refit on
    every label so far). Two changes are needed for the code to run at all: ``model.predict`` →
    ``predict_proba`` and the sum per sample (``axis=1``); the document sums over the whole pool, one scalar.
    When no sample passes the threshold the document's ``np.random.choice`` would raise; here that step draws
    uniformly from the pool instead and is flagged in the ``no_candidate`` column.
    Returns the learning curve (``step``, ``n_labeled``, ``accuracy``, ``no_candidate``) and the number of
    oracle calls.
    """
    from sklearn.linear_model import SGDClassifier
    from threadpoolctl import threadpool_limits

    from labkit.active import initial_indices
    from labkit.metrics import entropy

    if score not in ("certainty", "entropy"):
        raise ValueError(f"score must be 'certainty' (the document) or 'entropy', got {score!r}")
    if oracle not in ("random", "true"):
        raise ValueError(f"oracle must be 'random' (the document) or 'true', got {oracle!r}")
    if retrain not in ("one_sample", "all"):
        raise ValueError(f"retrain must be 'one_sample' (the document) or 'all', got {retrain!r}")
    label_calls = check_positive_int(label_calls, "label_calls")
    n_steps = check_positive_int(n_steps, "n_steps")
    X_pool = check_features(X_pool, "X_pool")
    y_pool = check_labels(y_pool, len(X_pool), "y_pool")
    X_test = check_features(X_test, "X_test")
    y_test = check_labels(y_test, len(X_test), "y_test")
    if n_initial + n_steps > len(X_pool):
        raise ValueError(f"n_initial + n_steps must be <= the pool size {len(X_pool)}, got "
                         f"{n_initial} + {n_steps}")
    rng = as_generator(random_state)
    classes = np.unique(np.concatenate([y_pool, y_test]))
    calls = 0

    def new_model():
        return SGDClassifier(loss="log_loss", random_state=int(rng.integers(2**31 - 1)))

    def label_strategy(i):
        nonlocal calls
        calls += 1
        return int(rng.integers(0, 2)) if oracle == "random" else y_pool[i]

    with threadpool_limits(limits=1, user_api="blas"):  # small fits: see labkit.active.run
        labeled = list(initial_indices(len(X_pool), n_initial, random_state=rng))
        labels = list(y_pool[labeled])  # step 1 of §3: train on an initial labelled set
        model = new_model()
        model.partial_fit(X_pool[labeled], labels, classes=classes)
        rows = [(0, len(labeled), float(np.mean(model.predict(X_test) == y_test)), False)]
        for step in range(1, n_steps + 1):
            pool = np.setdiff1d(np.arange(len(X_pool)), labeled)
            p = model.predict_proba(X_pool[pool])
            u = np.sum(p**2, axis=1) if score == "certainty" else entropy(p)
            q = 1 / (np.exp(-beta * u) + 1)
            passed = np.flatnonzero(q > rng.random())  # the document: np.where(query_strategy(data) > rand)
            no_candidate = len(passed) == 0
            if no_candidate:  # the document's np.random.choice raises here; recorded, then drawn uniformly
                passed = np.arange(len(pool))
            i = int(pool[rng.choice(passed)])
            y = label_strategy(i)
            for _ in range(label_calls - 1):
                label_strategy(i)  # the document calls label_strategy(x) again and throws the answer away
            labeled.append(i)
            labels.append(y)
            if retrain == "one_sample":
                model.partial_fit(X_pool[[i]], [y])
            else:
                model = new_model().fit(X_pool[labeled], labels)
            rows.append((step, len(labeled), float(np.mean(model.predict(X_test) == y_test)), no_candidate))
    return pd.DataFrame(rows, columns=["step", "n_labeled", "accuracy", "no_candidate"]), calls


# --- 001 §4.4-4.6 distillation and 004 transfer ------------------------------------------------------------
# ERRATA 001 §4.5/§4.6 (the KL loss on raw logits) and 004 §4.2 (train-mode extraction, a 10-step head). The
# corrected versions: labkit.distill.kd_loss, labkit.transfer.extract_features and labkit.transfer.linear_probe.
# (001 §4.4, the incremental update that still computes frozen gradients, is the notebook's own verbatim cell;
# labkit.distill.partial_update is the correction.)


def document_kd_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor) -> torch.Tensor:
    """Document 001 §4.5/§4.6 as written: ``nn.KLDivLoss()(student_logits, teacher_logits)``.

    Kept only to be measured. It is wrong three ways (ERRATA 001): ``KLDivLoss`` wants log-probabilities
    as input and probabilities as target, but gets raw logits for both; ``reduction='mean'`` divides by
    classes too; there is no temperature. With a negative teacher logit the value is NaN, yet its gradient,
    ``-teacher_logits / numel``, is finite: the student is pushed to grow its logits along the teacher's
    without bound instead of matching a distribution. (The teacher's logits are detached here; the
    document also lets gradients flow into the teacher — see notebook 06.)
    """
    import warnings

    from torch import nn

    for name, value in (("student_logits", student_logits), ("teacher_logits", teacher_logits)):
        value = check_tensor(value, name)
        if value.ndim != 2:
            raise ValueError(f"{name} must be 2-D (batch, classes), got shape {tuple(value.shape)}")
        if not value.is_floating_point():
            raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(f"teacher_logits has shape {tuple(teacher_logits.shape)} but student_logits has shape "
                         f"{tuple(student_logits.shape)}; they must match")
    with warnings.catch_warnings():  # PyTorch warns that 'mean' is not the KL mean: that is the point
        warnings.simplefilter("ignore", UserWarning)
        return nn.KLDivLoss()(student_logits, teacher_logits.detach().to(student_logits.dtype))


def document_extract_features(model: nn.Module, X, *, batch_size: int = 64,
                              random_state: RandomState = None) -> np.ndarray:
    """004 §4.2's feature extraction as written: ``torch.no_grad()`` but **no** ``model.eval()``, shuffled
    batches of 64. BatchNorm normalises each batch with that batch's statistics (a sample's features
    depend on which batch it lands in) and updates its running averages — the model is changed.
    Returns the features in the order of ``X``. The correction: ``labkit.transfer.extract_features``.
    """
    import torch

    from labkit.train import image_batches

    check_module(model, "model")
    X = check_images(X, "X", caller="document_extract_features")
    batch_size = check_int(batch_size, "batch_size", low=1)
    order = torch.as_tensor(as_generator(random_state).permutation(len(X)))
    first = next(model.parameters(), None)
    device = first.device if first is not None else torch.device("cpu")
    model.train()  # what a freshly built torchvision model is in, and the document never leaves
    out = torch.empty(0)
    with torch.no_grad():
        batches = image_batches(X, batch_size=batch_size, device=device, order=order)
        for start, batch in zip(range(0, len(X), batch_size), batches, strict=True):
            idx = order[start:start + batch_size]
            feats = model(batch).flatten(1).float().cpu()
            if out.numel() == 0:
                out = torch.empty(len(X), feats.shape[1])
            out[idx] = feats
    return out.numpy()


def document_linear_head(features, y, *, steps: int = 10, lr: float = 0.001, momentum: float = 0.9,
                         random_state: int | None = None) -> nn.Linear:
    """004 §4.2's classifier as written: ``nn.Linear`` on the raw features, plain SGD (lr 0.001, momentum
    0.9), ``steps`` full-batch steps (the document's "10 epochs" of one step each). It is barely trained
    (ERRATA 004 §4.2); ``labkit.transfer.linear_probe`` is the fix. Returns the layer (CPU); predict with
    ``labkit.transfer.predict_linear``."""
    import numpy as np
    import torch
    from torch import nn

    F = torch.as_tensor(check_features(features, "features"), dtype=torch.float32)
    y = torch.as_tensor(check_labels(np.asarray(y), len(F)), dtype=torch.int64)
    check_int(steps, "steps", low=1)
    if random_state is not None:
        torch.manual_seed(check_int(random_state, "random_state", low=0))
    classifier = nn.Linear(F.shape[1], int(y.max()) + 1)
    optimizer = torch.optim.SGD(classifier.parameters(), lr=lr, momentum=momentum)
    for _ in range(steps):  # the document's loop: one full-batch step per "epoch"
        loss = nn.functional.cross_entropy(classifier(F), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return classifier
