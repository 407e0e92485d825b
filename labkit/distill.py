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
The document's own loss, ``nn.KLDivLoss()(student_logits, teacher_logits)``, is kept as
:func:`document_kd_loss` so the notebook can run it beside the corrected one.
"""

from __future__ import annotations

import math
import numbers
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from labkit._validation import check_positive_int

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import torch
    from torch import nn

MODES = ("kd", "pseudo", "document")
IGNORE_INDEX = -100
"""Label of a row that has none (an unlabeled pool image): it gets the distillation term only."""


# --------------------------------------------------------------------------------------------- losses
def _check_logits(student_logits, teacher_logits) -> None:
    import torch

    for name, value in (("student_logits", student_logits), ("teacher_logits", teacher_logits)):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
        if value.ndim != 2:
            raise ValueError(f"{name} must be 2-D (batch, classes), got shape {tuple(value.shape)}")
        if not value.is_floating_point():
            raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(
            f"teacher_logits has shape {tuple(teacher_logits.shape)} but student_logits has shape "
            f"{tuple(student_logits.shape)}; they must match"
        )


def _check_temperature(temperature) -> float:
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real):
        raise TypeError(f"temperature must be a number, got {temperature!r}")
    if not math.isfinite(temperature) or temperature <= 0:
        raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")
    return float(temperature)


def _check_alpha(alpha) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        raise TypeError(f"alpha must be a number, got {alpha!r}")
    if not 0.0 <= alpha <= 1.0:  # also rejects NaN
        raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
    return float(alpha)


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
    the cross-entropy is the mean over the labelled rows (0 when a batch has none).
    """
    import torch
    import torch.nn.functional as F

    _check_logits(student_logits, teacher_logits)
    T = _check_temperature(temperature)
    alpha = _check_alpha(alpha)
    log_p_student = F.log_softmax(student_logits / T, dim=1)
    log_p_teacher = F.log_softmax(teacher_logits.detach().to(student_logits.dtype) / T, dim=1)
    kl = F.kl_div(log_p_student, log_p_teacher, reduction="batchmean", log_target=True) * (T * T)
    if targets is None:
        return kl
    _check_targets(targets, student_logits.shape[0])
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


def document_kd_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor) -> torch.Tensor:
    """Document 001 §4.5/§4.6 as written: ``nn.KLDivLoss()(student_logits, teacher_logits)``.

    Kept only to be measured. It is wrong three ways (ERRATA 001): ``KLDivLoss`` wants log-probabilities
    as input and probabilities as target, but gets raw logits for both; ``reduction='mean'`` divides by
    classes too; there is no temperature. With a negative teacher logit the value is NaN, yet its gradient,
    ``-teacher_logits / numel``, is finite: the student is pushed to grow its logits along the teacher's
    without bound instead of matching a distribution. (The teacher's logits are detached here; the
    document also lets gradients flow into the teacher — see the notebook.)
    """
    import warnings

    from torch import nn

    _check_logits(student_logits, teacher_logits)
    with warnings.catch_warnings():  # PyTorch warns that 'mean' is not the KL mean: that is the point
        warnings.simplefilter("ignore", UserWarning)
        return nn.KLDivLoss()(student_logits, teacher_logits.detach().to(student_logits.dtype))


# -------------------------------------------------------------------------------------------- student
def mlp_student(image_shape: Sequence[int] = (1, 28, 28), num_classes: int = 10, hidden: int = 64, *,
                mean: Sequence[float] | None = None, std: Sequence[float] | None = None) -> nn.Module:
    """A one-hidden-layer perceptron on the pixels: a small, fast student (Hinton et al. 2015's students
    were MLPs too). Layers: ``normalize`` (:class:`labkit.models.Normalize`, Fashion-MNIST statistics by
    default), ``flatten``, ``hidden``, ``relu``, ``fc``. 14×14 images and 64 units: 13 k parameters.
    """
    from torch import nn

    from labkit.models import FASHION_MNIST_MEAN, FASHION_MNIST_STD, Normalize

    shape = tuple(image_shape)
    if len(shape) != 3 or not all(isinstance(d, numbers.Integral) and d >= 1 for d in shape):
        raise ValueError(f"image_shape must be (channels, height, width) of positive ints, got {image_shape!r}")
    check_positive_int(hidden, "hidden")
    check_positive_int(num_classes, "num_classes", minimum=2)
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

    _check_module(teacher, "teacher")
    teacher.eval()
    return predict_logits(teacher, X, batch_size=batch_size, device=device)


def pseudo_labels(logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Pseudo labels and their confidence from teacher logits: ``(argmax, max softmax probability)``.

    A pure function of the logits; choosing which rows to keep is :func:`select_confident`.
    """
    import torch

    if not isinstance(logits, torch.Tensor) or logits.ndim != 2 or not logits.is_floating_point():
        raise ValueError(f"logits must be a 2-D float tensor (rows, classes), got {_describe(logits)}")
    probs = torch.softmax(logits.detach().float(), dim=1)
    confidence, labels = probs.max(dim=1)
    return labels, confidence


def select_confident(confidence: torch.Tensor, min_confidence: float) -> torch.Tensor:
    """Indices of the rows whose pseudo-label confidence is at least ``min_confidence`` (in [0, 1])."""
    import torch

    if isinstance(min_confidence, bool) or not isinstance(min_confidence, numbers.Real) \
            or not 0.0 <= min_confidence <= 1.0:
        raise ValueError(f"min_confidence must be a number in [0, 1], got {min_confidence!r}")
    return torch.nonzero(confidence >= min_confidence).flatten()


# -------------------------------------------------------------------------------------------- distill
def _describe(value) -> str:
    shape = getattr(value, "shape", None)
    return f"{type(value).__name__} of shape {tuple(shape)}" if shape is not None else repr(value)


def _check_module(model, name: str) -> None:
    from torch import nn

    if not isinstance(model, nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {type(model).__name__}")


def _split_data(data):
    """``(X, y)`` or ``X`` alone (unlabeled) → ``(X, y or None)``."""
    import torch

    if isinstance(data, torch.Tensor):
        return data, None
    if isinstance(data, (tuple, list)) and len(data) == 2 and all(isinstance(t, torch.Tensor) for t in data):
        X, y = data
        if X.shape[0] != y.shape[0]:
            raise ValueError(f"data: X has {X.shape[0]} rows but y has {y.shape[0]}")
        return X, y
    raise TypeError(f"data must be a tensor X (unlabeled) or a tuple (X, y) of tensors, got {_describe(data)}")


def distill(teacher: nn.Module | None, student: nn.Module, data, *, mode: str = "kd", unlabeled=None,
            temperature: float = 4.0, alpha: float = 0.5, min_confidence: float = 0.0,
            teacher_logits: torch.Tensor | None = None, teacher_batch_size: int = 1024,
            val=None, epochs: int, lr: float, device=None, **fit_kwargs) -> pd.DataFrame:
    """Train ``student`` from ``teacher`` with :func:`labkit.train.fit`; return fit's per-epoch history.

    ``data``: the labelled set ``(X, y)``, or an image tensor ``X`` alone when nothing is labelled;
    ``unlabeled``: an optional pool of images without labels that the teacher labels.

    ``mode``:
      * ``"kd"`` — knowledge distillation, :func:`kd_loss` with ``temperature`` and ``alpha``; pool images
        get only the soft term (their label is ``IGNORE_INDEX``);
      * ``"pseudo"`` — the student fits true labels where there are some and the teacher's argmax labels on
        the pool (001 §3.5), keeping pool rows whose teacher confidence ≥ ``min_confidence``;
        with ``data=X`` alone every row is pseudo-labelled;
      * ``"document"`` — 001 §4.5/§4.6 as written (:func:`document_kd_loss`), to measure it.

    The teacher is put in ``eval()`` mode and run once, without gradients, over all training images
    (labelled first, then pool); pass ``teacher_logits`` (in that order) to reuse a cached pass and skip it.
    Cached logits are for un-augmented images, so ``augment=True`` is refused in ``"kd"``/``"document"``.
    Other keyword arguments (``batch_size``, ``optimizer``, ``schedule``, ``random_state``, ...) go to
    ``fit`` unchanged.
    """
    import torch

    from labkit.train import fit

    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    _check_module(student, "student")
    T = _check_temperature(temperature)
    alpha = _check_alpha(alpha)
    check_positive_int(teacher_batch_size, "teacher_batch_size")
    if "loss_fn" in fit_kwargs:
        raise TypeError("distill sets fit's loss_fn from mode; pass mode= instead of loss_fn=")
    if mode != "pseudo" and fit_kwargs.get("augment"):
        raise ValueError(f"augment=True with mode={mode!r}: the cached teacher logits are for un-augmented "
                         "images, so the student would match the wrong targets")

    X, y = _split_data(data)
    if unlabeled is not None:
        if not isinstance(unlabeled, torch.Tensor):
            raise TypeError(f"unlabeled must be an image tensor, got {_describe(unlabeled)}")
        if tuple(unlabeled.shape[1:]) != tuple(X.shape[1:]):
            raise ValueError(f"unlabeled images have shape {tuple(unlabeled.shape[1:])} but data's have "
                             f"{tuple(X.shape[1:])}")
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
        raise ValueError(f"teacher_logits must be a 2-D tensor with one row per training image "
                         f"({X_all.shape[0]}: labelled, then unlabeled), got {_describe(teacher_logits)}")
    elif teacher is not None:
        teacher.eval()  # never trained or run in train mode here; the cached logits stand in for it
    t_logits = teacher_logits.detach().float().cpu()

    if mode == "pseudo":
        labels, confidence = pseudo_labels(t_logits)
        if y is not None:
            labels[:n_labelled] = y.to(labels.dtype)
            confidence[:n_labelled] = 1.0  # true labels are always kept
        keep = select_confident(confidence, min_confidence)
        return fit(student, (X_all[keep], labels[keep]), val, epochs=epochs, lr=lr, device=device,
                   **fit_kwargs)

    # fit sees (X, y, teacher_logits, labelled): y is the true label where there is one and the teacher's
    # argmax on the pool, so fit's train_acc reads as agreement with those labels; the loss uses the mask.
    fit_y = pseudo_labels(t_logits)[0]
    labelled = torch.zeros(X_all.shape[0], dtype=torch.bool)
    if y is not None:
        fit_y[:n_labelled] = y.to(fit_y.dtype)
        labelled[:n_labelled] = True
    any_labels = y is not None and n_labelled > 0
    if mode == "kd":
        def loss_fn(logits, target, t, is_labelled):
            if not any_labels:
                return kd_loss(logits, t, temperature=T, alpha=alpha)
            return kd_loss(logits, t, torch.where(is_labelled, target, IGNORE_INDEX), temperature=T,
                           alpha=alpha)
    else:
        def loss_fn(logits, target, t, is_labelled):
            return document_kd_loss(logits, t)
    return fit(student, (X_all, fit_y, t_logits, labelled), val, epochs=epochs, lr=lr, loss_fn=loss_fn,
               device=device, **fit_kwargs)


# ------------------------------------------------------------------------------------ partial updates
def count_parameters(model: nn.Module, *, trainable_only: bool = True) -> int:
    """Number of parameters (only those with ``requires_grad=True`` when ``trainable_only``)."""
    from labkit import transfer

    _check_module(model, "model")
    return transfer.count_trainable(model) if trainable_only else transfer.count_parameters(model)


def _keep_in_eval(module, inputs):  # forward pre-hook: a frozen BatchNorm never uses batch statistics
    module.training = False


def set_trainable(model: nn.Module, trainable: Sequence[str] | str | None) -> int:
    """Give ``requires_grad=False`` to every parameter outside the named sub-modules; return how many train.

    ``trainable``: prefixes of parameter names (``("fc",)``, ``("layer3", "fc")``), or ``None``/``"all"``
    for every parameter. BatchNorm layers wholly inside the frozen part are kept in ``eval()`` mode (their
    running statistics stop changing), so the frozen part computes exactly what it did before the update.
    Unknown prefixes raise ``ValueError``.
    """
    from torch import nn

    _check_module(model, "model")
    if trainable is None or trainable == "all":
        prefixes = None
    else:
        prefixes = (trainable,) if isinstance(trainable, str) else tuple(trainable)
        if not prefixes or not all(isinstance(p, str) and p for p in prefixes):
            raise ValueError(f"trainable must be None, 'all' or non-empty name prefixes, got {trainable!r}")
        names = [n for n, _ in model.named_parameters()]
        unknown = [p for p in prefixes if not any(n == p or n.startswith(p + ".") for n in names)]
        if unknown:
            tops = sorted({n.split(".")[0] for n in names})
            raise ValueError(f"trainable names {unknown} match no parameter; top-level modules are {tops}")

    def is_trainable(name: str) -> bool:
        return prefixes is None or any(name == p or name.startswith(p + ".") for p in prefixes)

    for name, param in model.named_parameters():
        param.requires_grad_(is_trainable(name))
    for name, module in model.named_modules():
        hook = getattr(module, "_labkit_eval_hook", None)
        if hook is not None:
            hook.remove()
            del module._labkit_eval_hook
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            own = [f"{name}.{n}" if name else n for n, _ in module.named_parameters()]
            if own and not any(is_trainable(n) for n in own):
                module._labkit_eval_hook = module.register_forward_pre_hook(_keep_in_eval)
    return count_parameters(model)


def partial_update(model: nn.Module, train, val=None, *, trainable: Sequence[str] | str | None = ("fc",),
                   epochs: int, lr: float, **fit_kwargs) -> pd.DataFrame:
    """Incremental update (001 §3.4/§4.4, corrected): train only ``trainable`` with :func:`labkit.train.fit`.

    The rest gets ``requires_grad=False`` (see :func:`set_trainable`), so autograd skips it — the document
    only left it out of the optimiser and still paid for its gradients. Returns fit's history (its
    ``seconds`` column is the time per epoch) with ``trainable_params`` and ``total_params`` columns added.
    """
    from labkit.train import fit

    n_trainable = set_trainable(model, trainable)
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

    from labkit.core import get_device

    _check_module(model, "model")
    check_positive_int(repeats, "repeats")
    device = get_device(device)
    was_training = model.training
    model.to(device).eval()  # eval: BatchNorm running statistics stay as they are
    X = X.to(device)
    X = X.float() / 255.0 if X.dtype == torch.uint8 else X.float()
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
