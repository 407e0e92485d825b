"""Distillation and incremental (partial) updates, document 001 §3.4–3.6 and §4.4–4.6, done correctly.

Three ways to reuse a trained model, all trained by the kit's one loop (:func:`labkit.train.fit`):

* **pseudo-label distillation** (001 §3.5, "model distillation"): the student fits the teacher's argmax
  labels, e.g. on an unlabeled pool;
* **knowledge distillation** (001 §3.6, Hinton et al. 2015): the student matches the teacher's
  temperature-softened distribution — :func:`kd_loss`, scaled by T² and mixed with the true-label
  cross-entropy;
* **incremental update** (001 §3.4/§4.4): only some parameters are trained; the rest get
  ``requires_grad=False`` so the backward pass skips them (:func:`partial_update`).

The teacher is put in ``eval()`` mode and its logits are computed once, without gradients, and cached: the
training loop then receives them as an extra tensor next to ``(X, y)`` and never calls the teacher.
:func:`distill_grid` trains a whole temperature × α grid in one run: copies of one student side by side, on
the same batches, each ending as its own :func:`distill` run would leave it.
The document's own loss, ``nn.KLDivLoss()(student_logits, teacher_logits)``, is kept as
``labkit.errata.document_kd_loss`` (``mode="document"``) so the notebook can run it beside the corrected one.
Freezing is ``labkit.transfer.freeze`` (BatchNorm statistics included), undone after a partial update.
"""

from __future__ import annotations

import math
import numbers
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from labkit._validation import (
    check_bool,
    check_choice,
    check_device,
    check_finite_tensor,
    check_images,
    check_int,
    check_module,
    check_number,
    check_targets,
    input_channels,
    output_classes,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import torch
    from torch import nn

MODES = ("kd", "pseudo", "document")
IGNORE_INDEX = -100
"""Label of a row that has none (an unlabeled pool image): it gets the distillation term only."""
DEFAULT_TEMPERATURE, DEFAULT_ALPHA = 4.0, 0.5


# --------------------------------------------------------------------------------------------- losses
def _check_logits(student_logits, teacher_logits, *, finite: bool = True) -> None:
    for name, value in (("student_logits", student_logits), ("teacher_logits", teacher_logits)):
        if not hasattr(value, "ndim") or not hasattr(value, "is_floating_point"):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
        if value.ndim != 2:
            raise ValueError(f"{name} must be 2-D (batch, classes), got shape {tuple(value.shape)}")
        if finite:
            check_finite_tensor(value, name)
        elif not value.is_floating_point():
            raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(
            f"teacher_logits has shape {tuple(teacher_logits.shape)} but student_logits has shape "
            f"{tuple(student_logits.shape)}; they must match"
        )


def _check_temperature(temperature) -> float:
    return check_number(temperature, "temperature", low=0.0, low_open=True)


def _check_alpha(alpha) -> float:
    return check_number(alpha, "alpha", low=0.0, high=1.0)


def _check_targets(targets, n: int):
    import torch

    if not isinstance(targets, torch.Tensor):
        raise TypeError(f"targets must be a torch.Tensor of class indices, got {type(targets).__name__}")
    if targets.ndim != 1 or targets.shape[0] != n:
        raise ValueError(f"targets must have shape ({n},) to match the logits, got {tuple(targets.shape)}")
    if targets.is_floating_point() or targets.dtype == torch.bool:
        raise TypeError(f"targets must be integer class indices, got dtype {targets.dtype}")


def kd_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, targets: torch.Tensor | None = None,
            *, temperature: float = 4.0, alpha: float = 0.5) -> torch.Tensor:
    """Hinton-style knowledge-distillation loss (the corrected 001 §4.6).

    ``alpha · T² · KL(softmax(t/T) ‖ softmax(s/T))`` (summed over classes, averaged over the batch)
    ``+ (1 − alpha) · CE(s, targets)``; with ``targets=None`` it is ``T² · KL`` alone. The T² keeps the
    gradient of the soft term on the same scale as the hard term as T changes. The teacher's logits are
    detached, so no gradient ever reaches the teacher.

    Rows whose target is ``IGNORE_INDEX`` (-100, an unlabeled pool image) contribute only the KL term;
    the cross-entropy is the mean over the labelled rows (0 when a batch has none). NaN or infinite logits
    raise ``ValueError``.
    """
    _check_logits(student_logits, teacher_logits)
    T = _check_temperature(temperature)
    alpha = _check_alpha(alpha)
    if targets is not None:
        _check_targets(targets, student_logits.shape[0])
        classes = student_logits.shape[1]
        bad = (targets != IGNORE_INDEX) & ((targets < 0) | (targets >= classes))
        if bool(bad.any()):
            raise ValueError(f"targets must be class indices in [0, {classes}) or IGNORE_INDEX "
                             f"({IGNORE_INDEX}), got {int(targets[bad][0])}")
    return _kd_loss(student_logits, teacher_logits, targets, T, alpha)


def _kd_loss(student_logits, teacher_logits, targets, T: float, alpha: float):
    """:func:`kd_loss` without the checks: the training loop's loss, called every batch (a NaN here is
    fit's divergence check's to catch, without a device sync per batch)."""
    import torch
    import torch.nn.functional as F

    log_p_student = F.log_softmax(student_logits / T, dim=1)
    log_p_teacher = F.log_softmax(teacher_logits.detach().to(student_logits.dtype) / T, dim=1)
    kl = F.kl_div(log_p_student, log_p_teacher, reduction="batchmean", log_target=True) * (T * T)
    if targets is None:
        return kl
    if alpha == 1.0:
        return kl
    labelled = targets != IGNORE_INDEX
    if bool(labelled.all()):
        ce = F.cross_entropy(student_logits, targets)
    elif bool(labelled.any()):
        ce = F.cross_entropy(student_logits[labelled], targets[labelled])
    else:
        ce = torch.zeros((), dtype=kl.dtype, device=kl.device)
    return alpha * kl + (1.0 - alpha) * ce


# -------------------------------------------------------------------------------------------- student
def mlp_student(image_shape: Sequence[int] = (1, 28, 28), num_classes: int = 10, hidden: int = 64, *,
                mean: Sequence[float] | None = None, std: Sequence[float] | None = None) -> nn.Module:
    """A one-hidden-layer perceptron on the pixels: a small, fast student (Hinton et al. 2015's students
    were MLPs too). Layers: ``normalize`` (:class:`labkit.models.Normalize`, Fashion-MNIST statistics by
    default), ``flatten``, ``hidden``, ``relu``, ``fc``. 14×14 images and 64 units: 13 k parameters.
    """
    from torch import nn

    from labkit.models import FASHION_MNIST_MEAN, FASHION_MNIST_STD, Normalize

    if isinstance(image_shape, (str, bytes)) or not hasattr(image_shape, "__iter__"):
        raise TypeError(f"image_shape must be (channels, height, width), got {image_shape!r}")
    shape = tuple(image_shape)
    if len(shape) != 3 or not all(isinstance(d, numbers.Integral) and not isinstance(d, bool) and d >= 1
                                  for d in shape):
        raise ValueError(f"image_shape must be (channels, height, width) of positive ints, got {image_shape!r}")
    check_int(hidden, "hidden", low=1)
    check_int(num_classes, "num_classes", low=2)
    channels = shape[0]
    if mean is None:
        mean = FASHION_MNIST_MEAN * channels if channels == 1 else (0.5,) * channels
    if std is None:
        std = FASHION_MNIST_STD * channels if channels == 1 else (0.25,) * channels
    return nn.Sequential(OrderedDict([
        ("normalize", Normalize(mean, std)),
        ("flatten", nn.Flatten()),
        ("hidden", nn.Linear(math.prod(shape), hidden)),
        ("relu", nn.ReLU()),
        ("fc", nn.Linear(hidden, num_classes)),
    ]))


# ------------------------------------------------------------------------------------- teacher outputs
def compute_teacher_logits(teacher: nn.Module, X: torch.Tensor, *, batch_size: int = 1024,
                           device=None) -> torch.Tensor:
    """The teacher's logits for ``X``, computed once in ``eval()`` mode without gradients (a CPU tensor).

    Cache the result and pass it to :func:`distill` (``teacher_logits=``) to train many students from one
    teacher pass. The teacher is left in ``eval()`` mode.
    """
    from labkit.train import predict_logits

    check_module(teacher, "teacher")
    logits = predict_logits(teacher, X, batch_size=batch_size, device=device)
    teacher.eval()
    return logits


def pseudo_labels(logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Pseudo labels and their confidence from teacher logits: ``(argmax, max softmax probability)``.

    A pure function of the logits (2-D, finite); choosing which rows to keep is :func:`select_confident`.
    """
    import torch

    logits = check_finite_tensor(logits, "logits", ndim=2)
    probs = torch.softmax(logits.detach().float(), dim=1)
    confidence, labels = probs.max(dim=1)
    return labels, confidence


def select_confident(confidence: torch.Tensor, min_confidence: float) -> torch.Tensor:
    """Indices of the rows whose pseudo-label confidence (in [0, 1]) is at least ``min_confidence``."""
    import torch

    confidence = check_finite_tensor(confidence, "confidence", ndim=1)
    if confidence.numel() and (float(confidence.min()) < 0.0 or float(confidence.max()) > 1.0):
        raise ValueError(f"confidence must hold probabilities in [0, 1], got values in "
                         f"[{float(confidence.min()):g}, {float(confidence.max()):g}]")
    min_confidence = check_number(min_confidence, "min_confidence", low=0.0, high=1.0)
    return torch.nonzero(confidence >= min_confidence).flatten()


# -------------------------------------------------------------------------------------------- distill
def _split_data(data, channels: int | None):
    """``(X, y)`` or ``X`` alone (unlabeled) → ``(X, y or None)``, checked."""
    import torch

    if isinstance(data, torch.Tensor):
        return check_images(data, "data", caller="distill", channels=channels), None
    if isinstance(data, (tuple, list)) and len(data) == 2 and all(isinstance(t, torch.Tensor) for t in data):
        X = check_images(data[0], "data[0] (X)", caller="distill", channels=channels)
        y = check_targets(data[1], "data[1] (y)")
        if X.shape[0] != y.shape[0]:
            raise ValueError(f"data: X has {X.shape[0]} rows but y has {y.shape[0]}")
        return X, y
    shape = getattr(data, "shape", None)
    what = f"{type(data).__name__} of shape {tuple(shape)}" if shape is not None else type(data).__name__
    raise TypeError(f"data must be a tensor X (unlabeled) or a tuple (X, y) of tensors, got {what}")


def _check_settings(mode, temperature, alpha, min_confidence) -> tuple[float, float, float]:
    """The mode's own settings; one set for another mode is an error, not silently ignored."""
    check_choice(mode, "mode", MODES)
    owner = {"temperature": "kd", "alpha": "kd", "min_confidence": "pseudo"}
    given = {"temperature": temperature, "alpha": alpha, "min_confidence": min_confidence}
    for name, value in given.items():
        if value is not None and owner[name] != mode:
            raise ValueError(f"{name}={value!r} has no effect with mode={mode!r} (it applies to "
                             f"mode={owner[name]!r}); leave it out")
    T = _check_temperature(DEFAULT_TEMPERATURE if temperature is None else temperature)
    alpha = _check_alpha(DEFAULT_ALPHA if alpha is None else alpha)
    min_confidence = check_number(0.0 if min_confidence is None else min_confidence, "min_confidence",
                                  low=0.0, high=1.0)
    return T, alpha, min_confidence


def distill(teacher: nn.Module | None, student: nn.Module, data, *, mode: str = "kd", unlabeled=None,
            temperature: float | None = None, alpha: float | None = None, min_confidence: float | None = None,
            teacher_logits: torch.Tensor | None = None, teacher_batch_size: int = 1024,
            val=None, epochs: int, lr: float, device=None, **fit_kwargs) -> pd.DataFrame:
    """Train ``student`` from ``teacher`` with :func:`labkit.train.fit`; return fit's per-epoch history.

    ``data``: the labelled set ``(X, y)``, or an image tensor ``X`` alone when nothing is labelled;
    ``unlabeled``: an optional pool of images without labels that the teacher labels.

    ``mode``:
      * ``"kd"`` — knowledge distillation, :func:`kd_loss` with ``temperature`` (default 4) and ``alpha``
        (default 0.5); pool images get only the soft term (their label is ``IGNORE_INDEX``);
      * ``"pseudo"`` — the student fits true labels where there are some and the teacher's argmax labels on
        the pool (001 §3.5), keeping pool rows whose teacher confidence ≥ ``min_confidence`` (default 0);
        with ``data=X`` alone every row is pseudo-labelled;
      * ``"document"`` — 001 §4.5/§4.6 as written (``labkit.errata.document_kd_loss``), to measure it: its
        loss is NaN by design, so fit trains on regardless (``allow_nonfinite_loss=True``).
    A setting of another mode (``min_confidence`` with ``"kd"``, ``temperature`` with ``"pseudo"`` ...) is
    an error rather than silently ignored.

    The teacher is put in ``eval()`` mode and run once, without gradients, over all training images
    (labelled first, then pool); pass ``teacher_logits`` (in that order) to reuse a cached pass and skip it.
    Cached logits are for un-augmented images, so ``augment=True`` is refused in ``"kd"``/``"document"``.
    Images are checked as ``fit`` checks them (uint8 or [0, 1] floats, the student's channel count), labels
    against the teacher's classes, teacher logits for NaN. Other keyword arguments (``batch_size``,
    ``optimizer``, ``schedule``, ``random_state``, ...) go to ``fit`` unchanged.
    """
    import torch

    from labkit.errata import document_kd_loss
    from labkit.train import fit

    T, alpha, min_confidence = _check_settings(mode, temperature, alpha, min_confidence)
    X_all, y, n_labelled, t_logits = _distill_inputs(teacher, student, data, unlabeled, teacher_logits,
                                                     teacher_batch_size, device, fit_kwargs, mode=mode)

    if mode == "pseudo":
        labels, confidence = pseudo_labels(t_logits)
        if y is not None:
            labels[:n_labelled] = y.to(labels.dtype)
            confidence[:n_labelled] = 1.0  # true labels are always kept
        keep = select_confident(confidence, min_confidence)
        return fit(student, (X_all[keep], labels[keep]), val, epochs=epochs, lr=lr, device=device,
                   **fit_kwargs)

    fit_y, labelled = _fit_targets(t_logits, y, n_labelled)
    any_labels = y is not None and n_labelled > 0
    if mode == "kd":
        def loss_fn(logits, target, t, is_labelled):
            if not any_labels:
                return _kd_loss(logits, t, None, T, alpha)
            return _kd_loss(logits, t, torch.where(is_labelled, target, IGNORE_INDEX), T, alpha)
    else:
        def loss_fn(logits, target, t, is_labelled):
            return document_kd_loss(logits, t)
    return fit(student, (X_all, fit_y, t_logits, labelled), val, epochs=epochs, lr=lr, loss_fn=loss_fn,
               device=device, allow_nonfinite_loss=mode == "document", **fit_kwargs)


def _distill_inputs(teacher, student, data, unlabeled, teacher_logits, teacher_batch_size, device,
                    fit_kwargs, *, mode: str, caller: str = "distill"):
    """What :func:`distill` and :func:`distill_grid` train on, checked: ``(X_all, y, n_labelled, t_logits)``
    with ``X_all`` the labelled images then the pool, ``t_logits`` the teacher's (cached or computed once)."""
    import torch

    check_module(student, "student")
    if teacher is not None:
        check_module(teacher, "teacher")
    check_int(teacher_batch_size, "teacher_batch_size", low=1)
    if "loss_fn" in fit_kwargs:
        if caller == "distill_grid":
            raise TypeError("distill_grid sets fit's loss_fn (kd_loss at each setting); leave loss_fn out")
        raise TypeError("distill sets fit's loss_fn from mode; pass mode= instead of loss_fn=")
    if "allow_nonfinite_loss" in fit_kwargs:
        if caller == "distill_grid":
            raise TypeError("distill_grid sets fit's allow_nonfinite_loss (False: kd_loss is never NaN)")
        raise TypeError("distill sets fit's allow_nonfinite_loss from mode (True for mode='document' only)")
    if mode != "pseudo" and fit_kwargs.get("augment"):
        raise ValueError(f"augment=True with mode={mode!r}: the cached teacher logits are for un-augmented "
                         "images, so the student would match the wrong targets")

    channels = input_channels(student)
    X, y = _split_data(data, channels)
    if unlabeled is not None:
        if not isinstance(unlabeled, torch.Tensor):
            raise TypeError(f"unlabeled must be an image tensor, got {type(unlabeled).__name__}")
        if tuple(unlabeled.shape[1:]) != tuple(X.shape[1:]):
            raise ValueError(f"unlabeled images have shape {tuple(unlabeled.shape[1:])} but data's have "
                             f"{tuple(X.shape[1:])}")
        check_images(unlabeled, "unlabeled", caller="distill", channels=channels)
        X_all = torch.cat([X, unlabeled])
    else:
        X_all = X
    n_labelled = X.shape[0] if y is not None else 0

    if teacher_logits is None:
        if teacher is None:
            raise ValueError("teacher is None and no teacher_logits were given: nothing to distil from")
        teacher_logits = compute_teacher_logits(teacher, X_all, batch_size=teacher_batch_size, device=device)
    elif not isinstance(teacher_logits, torch.Tensor) or teacher_logits.ndim != 2 \
            or teacher_logits.shape[0] != X_all.shape[0]:
        shape = getattr(teacher_logits, "shape", None)
        raise ValueError(f"teacher_logits must be a 2-D tensor with one row per training image "
                         f"({X_all.shape[0]}: labelled, then unlabeled), got "
                         f"{type(teacher_logits).__name__}{'' if shape is None else f' of shape {tuple(shape)}'}")
    elif teacher is not None:
        teacher.eval()  # never trained or run in train mode here; the cached logits stand in for it
    t_logits = check_finite_tensor(teacher_logits, "teacher_logits").detach().float().cpu()
    if y is not None:
        check_targets(y, "data[1] (y)", num_classes=t_logits.shape[1])
    return X_all, y, n_labelled, t_logits


def _fit_targets(t_logits, y, n_labelled):
    """fit's ``y`` and labelled mask for the KD losses: the true label where there is one and the teacher's
    argmax on the pool (so fit's train_acc reads as agreement with those labels); the loss uses the mask."""
    import torch

    fit_y = pseudo_labels(t_logits)[0]
    labelled = torch.zeros(t_logits.shape[0], dtype=torch.bool)
    if y is not None:
        fit_y[:n_labelled] = y.to(fit_y.dtype)
        labelled[:n_labelled] = True
    return fit_y, labelled


def _check_grid(values, name: str, check) -> list[float]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise TypeError(f"{name} must be a non-empty sequence of numbers, got {values!r}")
    if not values:
        raise ValueError(f"{name} must be a non-empty sequence of numbers, got an empty one")
    checked = [check(v, f"{name}[{i}]") for i, v in enumerate(values)]
    if len(set(checked)) != len(checked):
        raise ValueError(f"{name} holds a value twice: {list(values)!r}")
    return checked


def distill_grid(teacher: nn.Module | None, student: nn.Module, data, *, temperatures: Sequence[float],
                 alphas: Sequence[float], unlabeled=None, teacher_logits: torch.Tensor | None = None,
                 teacher_batch_size: int = 1024, epochs: int, lr: float, device=None,
                 **fit_kwargs) -> dict[tuple[float, float], nn.Module]:
    """Knowledge distillation at every setting of ``temperatures × alphas``, all trained in one run.

    One copy of ``student`` per ``(T, α)``, trained side by side by one :func:`labkit.train.fit`: every copy
    starts from ``student``'s weights, sees the same batches in the same order and takes the same optimiser
    steps; only the T and α of its loss differ. The loss fit minimises is the sum of the copies' own
    :func:`kd_loss` terms, so each copy's gradient is its own loss's: each copy ends up as
    ``distill(teacher, copy, data, mode="kd", temperature=T, alpha=α, ...)`` would leave it (identical weights
    for a student without randomness in its forward pass, e.g. no dropout), while the batches, the optimiser
    step, the learning-rate schedule and the loss check are paid once per step for all settings, so it costs
    less than one run per setting; and the settings are compared on identical batches.

    Arguments as for :func:`distill` with ``mode="kd"`` (no ``val``: score the returned students with
    :func:`labkit.train.evaluate`). ``student`` itself is not trained. Returns ``{(T, α): trained copy}`` in
    the order of ``temperatures × alphas``, each in eval mode. A loss that turns NaN or infinite at any setting
    stops the whole run (:class:`labkit.train.TrainingDiverged`).
    """
    import copy

    import torch
    from torch import nn

    from labkit.train import fit

    class SideBySide(nn.Module):   # the copies as one module: its output stacks theirs, [settings, batch, classes]
        def __init__(self, copies):
            super().__init__()
            self.copies = nn.ModuleList(copies)

        def forward(self, x):
            return torch.stack([c(x) for c in self.copies])

    temperatures = _check_grid(temperatures, "temperatures", lambda v, n: check_number(v, n, low=0.0,
                                                                                         low_open=True))
    alphas = _check_grid(alphas, "alphas", lambda v, n: check_number(v, n, low=0.0, high=1.0))
    if "val" in fit_kwargs:
        raise TypeError("distill_grid takes no val: score the returned students with labkit.train.evaluate")
    X_all, y, n_labelled, t_logits = _distill_inputs(teacher, student, data, unlabeled, teacher_logits,
                                                     teacher_batch_size, device, fit_kwargs, mode="kd",
                                                     caller="distill_grid")
    fit_y, labelled = _fit_targets(t_logits, y, n_labelled)
    any_labels = y is not None and n_labelled > 0
    settings = [(T, a) for T in temperatures for a in alphas]
    copies = [copy.deepcopy(student) for _ in settings]

    def loss_fn(logits, target, t, is_labelled):   # logits: [settings, batch, classes]
        targets = torch.where(is_labelled, target, IGNORE_INDEX) if any_labels else None
        return sum(_kd_loss(logits[k], t, targets, T, a) for k, (T, a) in enumerate(settings))

    fit(SideBySide(copies), (X_all, fit_y, t_logits, labelled), epochs=epochs, lr=lr, loss_fn=loss_fn,
        device=device, **fit_kwargs)
    return {setting: c.eval() for setting, c in zip(settings, copies, strict=True)}


# ------------------------------------------------------------------------------------------ data splits
def split_sizes(available: int, wanted: Mapping[str, int], *, minimum: int = 1) -> dict[str, int]:
    """Sizes of disjoint parts (teacher, pool, validation ...) cut from ``available`` images.

    ``wanted`` as asked when they fit; otherwise every part is scaled by the same factor
    ``available / sum(wanted)`` (rounded down, at least ``minimum`` each), so a small data set keeps the
    profile's proportions instead of starving the last part. Compare the result with ``wanted`` to say
    what was capped. Too few images for ``minimum`` per part raise ``ValueError``.
    """
    available = check_int(available, "available", low=0)
    minimum = check_int(minimum, "minimum", low=0)
    if not isinstance(wanted, Mapping) or not wanted:
        raise TypeError(f"wanted must be a non-empty mapping of part name -> size, got {wanted!r}")
    sizes = {str(k): check_int(v, f"wanted[{k!r}]", low=0) for k, v in wanted.items()}
    total = sum(sizes.values())
    if total <= available:
        return sizes
    if available < minimum * len(sizes):
        raise ValueError(f"available={available} images cannot hold {len(sizes)} parts of at least {minimum} "
                         f"({', '.join(sizes)}); add images or ask for fewer parts")
    scale = available / total
    capped = {k: max(minimum, math.floor(v * scale)) for k, v in sizes.items()}
    excess = sum(capped.values()) - available
    for k in sorted(capped, key=capped.get, reverse=True):  # the minimums may overshoot: trim the largest
        if excess <= 0:
            break
        cut = min(excess, capped[k] - minimum)
        capped[k] -= cut
        excess -= cut
    return capped


# ------------------------------------------------------------------------------------ partial updates
def count_parameters(model: nn.Module, *, trainable_only: bool = True) -> int:
    """Number of parameters (only those with ``requires_grad=True`` when ``trainable_only``)."""
    from labkit import transfer

    check_module(model, "model")
    if check_bool(trainable_only, "trainable_only"):
        return transfer.count_trainable(model)
    return transfer.count_parameters(model)


def _check_trainable(model: nn.Module, trainable) -> tuple[str, ...] | None:
    if trainable is None or (isinstance(trainable, str) and trainable == "all"):
        return None
    prefixes = (trainable,) if isinstance(trainable, str) else tuple(trainable)
    if not prefixes or not all(isinstance(p, str) and p for p in prefixes):
        raise ValueError(f"trainable must be None, 'all' or non-empty module names, got {trainable!r}")
    return prefixes


def set_trainable(model: nn.Module, trainable: Sequence[str] | str | None) -> int:
    """Train only the named sub-modules; return how many parameters train.

    ``trainable``: module names (``("fc",)``, ``("layer3", "fc")``), or ``None``/``"all"`` for every
    parameter. Built on :func:`labkit.transfer.freeze`: everything else gets ``requires_grad=False`` and its
    BatchNorm layers become eval-mode ``FrozenBatchNorm`` (their statistics stop changing), so the frozen part
    computes exactly what it did before the update. Calling it again starts from the unfrozen model;
    ``None``/``"all"`` undoes the freezing (``labkit.transfer.unfreeze``) and makes every parameter train.
    Unknown names raise ``ValueError``.
    """
    from labkit import transfer

    check_module(model, "model")
    prefixes = _check_trainable(model, trainable)
    if prefixes is None:
        transfer.unfreeze(model)
        for param in model.parameters():
            param.requires_grad_(True)
    else:
        transfer.freeze(model, trainable=prefixes)
    return count_parameters(model)


def partial_update(model: nn.Module, train, val=None, *, trainable: Sequence[str] | str | None = ("fc",),
                   epochs: int, lr: float, **fit_kwargs) -> pd.DataFrame:
    """Incremental update (001 §3.4/§4.4, corrected): train only ``trainable`` with :func:`labkit.train.fit`.

    The rest is frozen for the update (``with labkit.transfer.frozen(model, ...)``: ``requires_grad=False``
    and eval-mode BatchNorm), so autograd skips it — the document only left it out of the optimiser and
    still paid for its gradients — and is unfrozen afterwards: the model comes back as it was, with the
    named part updated. Returns fit's history (its ``seconds`` column is the time per epoch) with
    ``trainable_params`` and ``total_params`` columns added.
    """
    from labkit import transfer
    from labkit.train import fit

    check_module(model, "model")
    prefixes = _check_trainable(model, trainable)
    if prefixes is None:
        n_trainable = set_trainable(model, None)
        history = fit(model, train, val, epochs=epochs, lr=lr, **fit_kwargs)
    else:
        with transfer.frozen(model, trainable=prefixes):
            n_trainable = count_parameters(model)
            if n_trainable == 0:
                raise ValueError(f"trainable={trainable!r} leaves no parameter to train")
            history = fit(model, train, val, epochs=epochs, lr=lr, **fit_kwargs)
    history["trainable_params"] = n_trainable
    history["total_params"] = count_parameters(model, trainable_only=False)
    return history


def backward_seconds(model: nn.Module, X: torch.Tensor, y: torch.Tensor, *, repeats: int = 5,
                     device=None) -> float:
    """Fastest of ``repeats`` timed forward + backward passes on ``(X, y)`` with the current ``requires_grad``.

    Measures what freezing saves per step: run it once with every parameter requiring gradients (the
    document's §4.4, which only leaves frozen layers out of the optimiser) and once after
    :func:`set_trainable`. The minimum, not the median, because other processes only ever add time.
    Runs in ``eval()`` mode so BatchNorm statistics stay as they are; gradients are
    cleared afterwards; no parameter or buffer changes.
    """
    import torch
    import torch.nn.functional as F

    from labkit.train import prepare_images

    check_module(model, "model")
    X = check_images(X, "X", caller="backward_seconds", channels=input_channels(model))
    y = check_targets(y, "y", num_classes=output_classes(model))
    if len(y) != len(X):
        raise ValueError(f"y has {len(y)} entries but X has {len(X)} rows")
    check_int(repeats, "repeats", low=1)
    device = check_device(device)
    was_training = model.training
    model.to(device).eval()  # eval: BatchNorm running statistics stay as they are
    X = prepare_images(X, device=device)
    y = y.to(device)
    times = []
    for _ in range(repeats + 1):  # the first pass warms up and is not counted
        start = time.perf_counter()
        loss = F.cross_entropy(model(X), y)
        loss.backward()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - start)
        model.zero_grad(set_to_none=True)
    model.train(was_training)
    return float(min(times[1:]))
