"""The documents' code, reproduced so the notebooks can run it beside the corrected version.

This module mirrors ``shared/ERRATA.md``: each function here is a document's code kept verbatim on purpose —
its mistakes included — for side-by-side runs in the notebooks' "Erratum" cells. Nothing else in labkit
uses these functions for a result; the production modules hold the corrected methods. They are exempt from
the input-contract test by design (they copy what the documents do, however wrong).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from labkit._validation import (
    RandomState,
    as_generator,
    check_features,
    check_images,
    check_int,
    check_labels,
    check_module,
    check_tensor,
)

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import torch
    from torch import nn

__all__ = [
    "document_extract_features",
    "document_kd_loss",
    "document_linear_head",
]


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
