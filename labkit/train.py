"""The one training loop of labkit: ``fit``, ``evaluate``, ``predict_logits`` and checkpoints.

Two data paths:

* **tensors on the device** (the fast path): ``train=(X, y, *extras)`` with ``X`` uint8 (or float in
  [0, 1]) ``[N, C, H, W]`` and ``y`` int64 ``[N]``. The whole tuple is moved to the device once; every
  batch is an index into it, and augmentation (random crop with zero padding + horizontal flip) runs on
  the batch, on the device. No per-image Python, no PIL, no collate.
* **a torch ``Dataset`` or ``DataLoader``** (the regular path) for data that does not fit; batches must be
  tuples ``(X, y, *extras)`` of tensors.

One image-batch path: :func:`prepare_images` turns images into what a model takes (uint8 / 255 → float32 in
[0, 1], on the device, optionally ``channels_last``) and :func:`image_batches` yields them batch by batch;
``predict_logits``, ``labkit.transfer.extract_features`` and ``labkit.distill`` all use them. Models
normalise their inputs themselves (see ``labkit.models.Normalize``). Inputs are checked before anything
runs: uint8 images, or float images within [0, 1] (float images above 1 are refused, with a hint to divide
by 255), no NaN, the channel count the model takes, integer labels within the model's classes. A loss that
becomes NaN or infinite stops ``fit`` with :class:`TrainingDiverged`, the model back on finite weights.

``amp="auto"`` runs under bf16 autocast on CUDA and on CPUs with native bf16 (AVX512-BF16/AMX);
``channels_last="auto"`` uses that memory format on CUDA and the CPU (oneDNN's fast convolution layout:
measured 1.7× for the small CNN on a 2-core AVX-512 CPU); ``compile=True`` uses ``torch.compile``.
``amp=False, channels_last=False`` gives the plain float32 loop.
"""

from __future__ import annotations

import functools
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from labkit._validation import (
    RandomState,
    as_seed,
    check_bool,
    check_choice,
    check_device,
    check_images,
    check_int,
    check_module,
    check_number,
    check_targets,
    check_tensor,
    input_channels,
)

__all__ = [
    "HISTORY_COLUMNS",
    "OPTIMIZERS",
    "SCHEDULES",
    "TrainingDiverged",
    "cpu_has_native_bf16",
    "evaluate",
    "fit",
    "image_batches",
    "load_checkpoint",
    "one_cycle",
    "predict_logits",
    "prepare_images",
    "random_crop_flip",
    "reconstruction_loss",
    "save_checkpoint",
]

OPTIMIZERS = ("sgd", "adamw")
SCHEDULES = ("onecycle", "cosine", "constant")
HISTORY_COLUMNS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds")
LossFn = Callable[..., torch.Tensor]
OptimizerFactory = Callable[..., torch.optim.Optimizer]


class TrainingDiverged(ValueError):
    """The training loss became NaN or infinite, or exploded; ``fit`` stopped, the model on finite weights."""


EXPLODED = 1e4
"""A training loss above ``EXPLODED × max(first batch's loss, 1)`` has diverged, even while still finite."""


# ----------------------------------------------------------------------------------------------- checks
def _check_auto(value, name: str) -> str | bool:
    if value == "auto" or isinstance(value, bool):
        return value
    raise ValueError(f"{name} must be 'auto', True or False, got {value!r}")


@functools.lru_cache(maxsize=1)
def cpu_has_native_bf16() -> bool:
    """True where the CPU computes bf16 natively (AVX512-BF16 or AMX flags in /proc/cpuinfo).

    Only there does bf16 autocast pay off on the CPU (measured 1.3-2× for the small CNN); elsewhere it is
    emulated and slower, so ``amp="auto"`` stays in float32.
    """
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    flags = set(text.split())
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def _use_amp(amp, device: torch.device) -> bool:
    amp = _check_auto(amp, "amp")
    if amp == "auto":
        if device.type == "cuda":
            return torch.cuda.is_bf16_supported()
        return device.type == "cpu" and cpu_has_native_bf16()
    if amp and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise ValueError("amp=True asks for bf16 autocast, which this CUDA device does not support")
    return bool(amp)


def _use_channels_last(channels_last, device: torch.device) -> bool:
    value = _check_auto(channels_last, "channels_last")
    return device.type in ("cuda", "cpu") if value == "auto" else bool(value)


# ------------------------------------------------------------------------------------------------- data
def _to_device(t: torch.Tensor, device: torch.device) -> torch.Tensor:
    return t.to(device, non_blocking=True) if t.device != device else t


def _as_float(x: torch.Tensor, channels_last: bool) -> torch.Tensor:
    """The conversion itself: uint8 → float32 in [0, 1]; float → float32; channels_last if asked."""
    x = x.float().div_(255) if x.dtype == torch.uint8 else x.float()
    if channels_last and x.ndim == 4:
        x = x.contiguous(memory_format=torch.channels_last)
    return x


def prepare_images(x, *, device=None, channels_last: bool = False) -> torch.Tensor:
    """Images as a model takes them: uint8 (0..255) → float32 in [0, 1], float images (already in [0, 1])
    as float32, moved to ``device`` (``labkit.get_device()`` by default; moved before the conversion, so
    uint8 travels 4× smaller), in ``channels_last`` memory format if asked. Checked first: no NaN, no float
    images above 1."""
    x = check_images(x, "x", caller="prepare_images", min_rows=0)
    dev = check_device(device)
    return _as_float(_to_device(x, dev), check_bool(channels_last, "channels_last"))


class _TensorSource:
    """A tuple ``(X, y, *extras)`` kept on the device; batches are index slices of it."""

    def __init__(self, tensors: Sequence, name: str, device: torch.device, *, min_fields: int = 2,
                 caller: str | None = None, channels: int | None = None):
        if len(tensors) < min_fields:
            what = "(X, y, *extras)" if min_fields >= 2 else "(X, ...)"
            raise ValueError(f"{name} must be a tuple {what} of tensors, got {len(tensors)} element(s)")
        tensors = [check_tensor(t, f"{name}[{i}]") for i, t in enumerate(tensors)]
        check_images(tensors[0], f"{name}[0] (X)" if len(tensors) > 1 or min_fields > 1 else name,
                     caller=caller, channels=channels, min_rows=0)
        n = tensors[0].shape[0]
        for i, t in enumerate(tensors[1:], start=1):
            if t.ndim == 0 or t.shape[0] != n:
                field = "y" if i == 1 else f"extra {i - 1}"
                length = "a scalar" if t.ndim == 0 else f"{t.shape[0]} rows"
                raise ValueError(f"{name}[{i}] ({field}) has {length} but {name}[0] (X) has {n}: "
                                 f"every tensor in {name} must have one row per image")
        if n == 0:
            raise ValueError(f"{name} is empty (0 images)")
        self.tensors = [_to_device(t, device) for t in tensors]
        self.n, self.fields, self.device, self.name = n, len(tensors), device, name

    def num_batches(self, batch_size: int, *, shuffle: bool) -> int:
        full, rest = divmod(self.n, batch_size)
        return full + (rest > 1 or (rest == 1 and (not shuffle or full == 0)))

    def batches(self, batch_size: int, *, shuffle: bool, generator: torch.Generator | None = None,
                order: torch.Tensor | None = None) -> Iterator[list[torch.Tensor]]:
        if shuffle:
            order = torch.randperm(self.n, device=self.device, generator=generator)
        if order is not None:
            for start in range(0, len(order), batch_size):
                idx = order[start:start + batch_size]
                if shuffle and len(idx) == 1 and self.n > 1:  # a lone sample breaks BatchNorm; drawn next epoch
                    break
                yield [t[idx] for t in self.tensors]
        else:
            for start in range(0, self.n, batch_size):
                yield [t[start:start + batch_size] for t in self.tensors]


class _LoaderSource:
    """A ``DataLoader`` (built from a ``Dataset`` if needed) whose tuple batches are moved to the device."""

    def __init__(self, data, name: str, device: torch.device, *, batch_size: int, shuffle: bool,
                 seed: int | None, caller: str | None = None, channels: int | None = None):
        from torch.utils.data import DataLoader, Dataset

        if isinstance(data, DataLoader):
            loader = data
        elif isinstance(data, Dataset):
            generator = torch.Generator().manual_seed(seed) if seed is not None else None
            loader = DataLoader(data, batch_size=batch_size, shuffle=shuffle, generator=generator,
                                pin_memory=device.type == "cuda")
        else:  # pragma: no cover - filtered by _source
            raise TypeError(name)
        try:
            self._len = len(loader)
        except TypeError as err:
            raise TypeError(f"{name} must have a length (a map-style Dataset or a DataLoader over one)") from err
        self.loader, self.name, self.device, self.fields = loader, name, device, None
        self.caller, self.channels = caller, channels

    def num_batches(self, batch_size: int, *, shuffle: bool) -> int:
        return self._len

    def batches(self, batch_size: int, *, shuffle: bool, generator: torch.Generator | None = None,
                order: torch.Tensor | None = None) -> Iterator[list[torch.Tensor]]:
        for batch in self.loader:
            if not isinstance(batch, (tuple, list)) or not all(isinstance(t, torch.Tensor) for t in batch):
                raise TypeError(f"{self.name} must yield tuples (X, y, *extras) of tensors, got "
                                f"{type(batch).__name__}")
            check_images(batch[0], f"{self.name} batch X", caller=self.caller, channels=self.channels)
            yield [_to_device(t, self.device) for t in batch]


def _source(data, name: str, device: torch.device, *, batch_size: int, shuffle: bool, seed: int | None,
            min_fields: int = 2, caller: str | None = None, channels: int | None = None):
    from torch.utils.data import DataLoader, Dataset

    if isinstance(data, (DataLoader, Dataset)):
        return _LoaderSource(data, name, device, batch_size=batch_size, shuffle=shuffle, seed=seed,
                             caller=caller, channels=channels)
    if isinstance(data, (tuple, list)):
        return _TensorSource(data, name, device, min_fields=min_fields, caller=caller, channels=channels)
    raise TypeError(f"{name} must be a tuple (X, y, *extras) of tensors, a Dataset or a DataLoader, "
                    f"got {type(data).__name__}")


def _image_batches(X, *, batch_size: int, device: torch.device, channels_last: bool = False, order=None,
                   name: str = "X", caller: str | None = None, model: nn.Module | None = None
                   ) -> Iterator[torch.Tensor]:
    """``X`` checked now, then model-ready batches: :func:`image_batches` with the caller named in errors."""
    channels = None if model is None else input_channels(model)
    if isinstance(X, (torch.Tensor, np.ndarray)):
        src = _TensorSource([X], name, device, min_fields=1, caller=caller, channels=channels)
    else:
        src = _source(X, name, device, batch_size=batch_size, shuffle=False, seed=None, min_fields=1,
                      caller=caller, channels=channels)
    if order is not None:
        if not isinstance(src, _TensorSource):
            raise TypeError(f"order needs {name} as a tensor or array, not a {type(X).__name__}")
        order = check_tensor(order, "order")
        if order.ndim != 1 or order.is_floating_point() or order.dtype == torch.bool:
            raise ValueError(f"order must be a 1-D sequence of row indices, got {order.dtype} {tuple(order.shape)}")
        if len(order) and (int(order.min()) < -src.n or int(order.max()) >= src.n):
            raise ValueError(f"order holds indices outside [0, {src.n}) (rows of {name})")
        order = order.to(device)
    return (_as_float(b[0], channels_last) for b in src.batches(batch_size, shuffle=False, order=order))


def image_batches(X, *, batch_size: int = 1024, device=None, channels_last: bool = False, order=None,
                  model: nn.Module | None = None) -> Iterator[torch.Tensor]:
    """Model-ready batches of ``X``: each as :func:`prepare_images` makes it (float32 in [0, 1], on
    ``device``), in row order or in the order of the row indices ``order``.

    ``X``: images ``[N, C, H, W]`` (or feature rows) as a tensor or array, or a ``Dataset``/``DataLoader``
    whose batches' first field is the images. ``X`` is checked once, before the first batch; with
    ``model``, also its channel count against the model's input layer. A tensor ``X`` is moved to the device
    once, then sliced.
    """
    batch_size = check_int(batch_size, "batch_size", low=1)
    dev = check_device(device)
    channels_last = check_bool(channels_last, "channels_last")
    if model is not None:
        check_module(model, "model")
    return _image_batches(X, batch_size=batch_size, device=dev, channels_last=channels_last, order=order,
                          caller="image_batches", model=model)


def random_crop_flip(x: torch.Tensor, *, padding: int | None = None, flip: bool = True,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """Random crop after zero padding plus random horizontal flip, for a whole batch ``[N, C, H, W]``.

    Runs on ``x``'s device with vectorised indexing (no per-image loop). ``padding`` defaults to
    ``H // 8`` (3 for 28×28, 4 for 32×32).
    """
    x = check_tensor(x, "x")
    if x.ndim != 4:
        raise ValueError(f"x must be a batch of images [N, C, H, W], got shape {tuple(x.shape)}")
    x = check_images(x, "x", caller="random_crop_flip", min_rows=0)
    check_bool(flip, "flip")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    n, _, h, w = x.shape
    pad = max(1, h // 8) if padding is None else check_int(padding, "padding", low=0)
    if flip:
        flips = torch.rand(n, device=x.device, generator=generator) < 0.5
        x = torch.where(flips.view(-1, 1, 1, 1), x.flip(3), x)
    if pad:
        padded = F.pad(x, (pad, pad, pad, pad))
        dy = torch.randint(0, 2 * pad + 1, (n,), device=x.device, generator=generator)
        dx = torch.randint(0, 2 * pad + 1, (n,), device=x.device, generator=generator)
        rows = (dy.view(n, 1) + torch.arange(h, device=x.device)).view(n, 1, h, 1)
        cols = (dx.view(n, 1) + torch.arange(w, device=x.device)).view(n, 1, 1, w)
        batch = torch.arange(n, device=x.device).view(n, 1, 1, 1)
        chans = torch.arange(x.shape[1], device=x.device).view(1, -1, 1, 1)
        x = padded[batch, chans, rows, cols]
    return x


# ------------------------------------------------------------------------------------------------ losses
def _is_classification(out: torch.Tensor, y: torch.Tensor) -> bool:
    return out.ndim == 2 and y.ndim == 1 and not y.is_floating_point() and out.shape[0] == y.shape[0]


def reconstruction_loss(output: torch.Tensor, target: torch.Tensor, *extras: torch.Tensor) -> torch.Tensor:
    """Mean squared error between a reconstruction in [0, 1] and the target images (uint8 scaled by 1/255).

    The ``loss_fn`` for an autoencoder trained with ``fit(ae, (X, X), loss_fn=reconstruction_loss)``.
    """
    output, target = check_tensor(output, "output"), check_tensor(target, "target")
    for t, name in ((output, "output"), (target, "target")):
        if t.is_floating_point() and not bool(torch.isfinite(t.detach()).all()):
            raise ValueError(f"reconstruction_loss: {name} contains NaN or infinity")
    target = target.float().div(255) if target.dtype == torch.uint8 else target.float()
    if output.shape != target.shape:
        raise ValueError(f"output shape {tuple(output.shape)} differs from target shape {tuple(target.shape)}")
    return F.mse_loss(output.float(), target)


class _LabelCheck:
    """Class labels in ``[0, classes)`` before cross-entropy sees them: once for the whole ``y`` of a tensor
    source (one look at the data, not one per batch), every batch for a DataLoader."""

    def __init__(self, src, name: str):
        self.src, self.name, self.done = src, f"{name}[1] (y)" if src.fields else f"{name} batch y", False

    def __call__(self, logits: torch.Tensor, y: torch.Tensor) -> None:
        if self.done or logits.ndim != 2:
            return
        whole = isinstance(self.src, _TensorSource)
        check_targets(self.src.tensors[1] if whole else y, self.name, num_classes=logits.shape[1])
        self.done = whole


# ----------------------------------------------------------------------------------------------- evaluate
def _sum_dtype(device: torch.device) -> torch.dtype:
    return torch.float32 if device.type == "mps" else torch.float64  # MPS has no float64


@torch.no_grad()
def _evaluate(net: nn.Module, src, *, batch_size: int, loss_fn: LossFn | None, loss_fields: int | None,
              amp: bool, channels_last: bool, device: torch.device) -> dict[str, float]:
    loss_sum = torch.zeros((), device=device, dtype=_sum_dtype(device))
    correct = torch.zeros((), device=device, dtype=torch.int64)
    n_seen, n_class = 0, 0
    check_labels = _LabelCheck(src, src.name)
    for batch in src.batches(batch_size, shuffle=False):
        x, y, *extras = batch
        x = _as_float(x, channels_last)
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=amp):
            out = net(x)
        out = out.float()
        classification = _is_classification(out, y)
        if loss_fn is not None and (loss_fields is None or len(batch) == loss_fields):
            loss = loss_fn(out, y, *extras)
        elif classification:
            check_labels(out, y)
            loss = F.cross_entropy(out, y)
        else:
            raise ValueError("the targets are not class labels and no loss_fn was given: pass loss_fn")
        bs = x.shape[0]
        loss_sum += loss.detach().to(loss_sum.dtype) * bs
        n_seen += bs
        if classification:
            correct += (out.argmax(1) == y).sum()
            n_class += bs
    return {"loss": float(loss_sum) / n_seen,
            "accuracy": float(correct) / n_class if n_class else float("nan"),
            "n": n_seen}


class _EvalMode:
    """Put a model in eval mode and restore its previous mode afterwards."""

    def __init__(self, model: nn.Module):
        self.model, self.was_training = model, model.training

    def __enter__(self):
        self.model.eval()
        return self.model

    def __exit__(self, *exc):
        if self.was_training:
            self.model.train()
        return False


def evaluate(model: nn.Module, data, *, batch_size: int = 1024, device=None,
             loss_fn: LossFn | None = None, amp: str | bool = "auto") -> dict[str, float]:
    """Mean loss and accuracy of ``model`` on ``data`` (``(X, y, *extras)`` tensors, Dataset or DataLoader).

    The loss is cross-entropy unless ``loss_fn(logits, y, *extras)`` is given; ``accuracy`` is NaN when the
    targets are not class labels. The model runs in eval mode without gradients (its previous mode is
    restored); returns ``{"loss", "accuracy", "n"}``.
    """
    check_module(model, "model")
    batch_size = check_int(batch_size, "batch_size", low=1)
    if loss_fn is not None and not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable or None, got {loss_fn!r}")
    dev = check_device(device)
    use_amp = _use_amp(amp, dev)
    src = _source(data, "data", dev, batch_size=batch_size, shuffle=False, seed=None, caller="evaluate",
                  channels=input_channels(model))
    model.to(dev)
    with _EvalMode(model):
        return _evaluate(model, src, batch_size=batch_size, loss_fn=loss_fn, loss_fields=None,
                         amp=use_amp, channels_last=False, device=dev)


@torch.no_grad()
def predict_logits(model: nn.Module, X, *, batch_size: int = 1024, device=None,
                   amp: str | bool = "auto") -> torch.Tensor:
    """The model's outputs for images ``X`` (uint8 or float tensor/array, or a Dataset/DataLoader whose
    first field is X) as one float32 CPU tensor; eval mode (previous mode restored), no gradients."""
    check_module(model, "model")
    batch_size = check_int(batch_size, "batch_size", low=1)
    dev = check_device(device)
    use_amp = _use_amp(amp, dev)
    batches = _image_batches(X, batch_size=batch_size, device=dev, caller="predict_logits", model=model)
    model.to(dev)
    outputs = []
    with _EvalMode(model):
        for x in batches:
            with torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=use_amp):
                outputs.append(model(x).float().cpu())
    return torch.cat(outputs)


# ---------------------------------------------------------------------------------------------- checkpoints
def save_checkpoint(model: nn.Module, path: str | os.PathLike) -> Path:
    """Save ``model.state_dict()`` with ``torch.save`` (atomically: a temporary file, then a rename)."""
    check_module(model, "model")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a file path, got {type(path).__name__}")
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(model.state_dict(), tmp)
    os.replace(tmp, path)
    return path


def load_checkpoint(model: nn.Module, path: str | os.PathLike, *, strict: bool = True) -> nn.Module:
    """Load a state dict saved by ``fit(..., checkpoint=path)`` into ``model`` (``weights_only=True``).

    A file that is missing, truncated, not a ``torch.save`` state dict, or whose tensors do not fit the
    model raises ``ValueError`` naming the file.
    """
    check_module(model, "model")
    strict = check_bool(strict, "strict")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a file path, got {type(path).__name__}")
    path = Path(path).expanduser()
    if not path.is_file():
        raise ValueError(f"path {str(path)!r} is not a checkpoint file")
    try:
        device = next(model.parameters()).device
    except StopIteration:
        device = torch.device("cpu")
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except Exception as err:  # truncated: RuntimeError/EOFError; garbage: UnpicklingError; ...
        raise ValueError(f"checkpoint {str(path)!r} could not be read ({type(err).__name__}: {err}); it is "
                         "damaged or not a file written by torch.save / labkit.train.save_checkpoint") from err
    if not isinstance(state, dict):
        raise ValueError(f"checkpoint {str(path)!r} holds a {type(state).__name__}, not a state dict")
    try:
        model.load_state_dict(state, strict=strict)
    except RuntimeError as err:
        raise ValueError(f"checkpoint {str(path)!r} does not fit this model: {err}") from err
    return model


# --------------------------------------------------------------------------------------------- fit: setup
def one_cycle(step: int, total_steps: int, *, warmup: float = 0.25, start: float = 1 / 25) -> float:
    """Learning-rate factor of the one-cycle schedule at ``step``: linear from ``start`` up to 1 over the
    first ``warmup`` fraction of the steps, then linear down to 0 (a triangle, as in fast CIFAR recipes)."""
    step = check_int(step, "step", low=0)
    total_steps = check_int(total_steps, "total_steps", low=1)
    warmup = check_number(warmup, "warmup", low=0.0, high=1.0)
    start = check_number(start, "start", low=0.0, high=1.0)
    peak = max(1, round(warmup * total_steps))
    return float(np.interp(step, [0, peak, total_steps], [start, 1.0, 0.0]))


def _check_optimizer(optimizer, momentum, weight_decay) -> tuple[float | None, float | None]:
    """A name or a factory, and only the settings it uses (one set but ignored is an error)."""
    if isinstance(optimizer, str) or not callable(optimizer):
        check_choice(optimizer, "optimizer", OPTIMIZERS)
    if momentum is not None:
        momentum = check_number(momentum, "momentum", low=0.0, high=1.0, high_open=True)
        if isinstance(optimizer, str) and optimizer != "sgd":
            raise ValueError(f"momentum={momentum!r} applies to optimizer='sgd' only, not {optimizer!r}")
    if weight_decay is not None:
        weight_decay = check_number(weight_decay, "weight_decay", low=0.0)
    if not isinstance(optimizer, str):
        for value, name in ((momentum, "momentum"), (weight_decay, "weight_decay")):
            if value is not None:
                raise ValueError(f"{name}={value!r} applies to the named optimizers only; an optimizer factory "
                                 f"sets its own (e.g. functools.partial(torch.optim.SGD, {name}=...))")
    return momentum, weight_decay


def _make_optimizer(optimizer: str | OptimizerFactory, params, lr: float, momentum: float | None,
                    weight_decay: float | None) -> torch.optim.Optimizer:
    """A named optimizer (SGD with Nesterov momentum, AdamW), or ``optimizer(params, lr=lr)``."""
    if not isinstance(optimizer, str):
        opt = optimizer(params, lr=lr)
        if not isinstance(opt, torch.optim.Optimizer):
            raise TypeError(f"optimizer(params, lr=...) must return a torch.optim.Optimizer, got "
                            f"{type(opt).__name__}")
        return opt
    weight_decay = 5e-4 if weight_decay is None else weight_decay
    if optimizer == "sgd":
        momentum = 0.9 if momentum is None else momentum
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay,
                               nesterov=momentum > 0)
    return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)


def _make_schedule(name: str, optimizer, total_steps: int):
    if name == "onecycle":
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: one_cycle(step, total_steps))
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    return None


@dataclass
class _Run:
    """Everything one epoch needs, built once by :func:`_setup`."""

    model: nn.Module
    net: nn.Module  # the model, or its torch.compile wrapper
    device: torch.device
    amp: bool
    channels_last: bool
    train_src: Any
    val_src: Any
    loss_fn: LossFn
    val_loss_fn: LossFn | None
    optimizer: torch.optim.Optimizer
    schedule: Any
    generator: torch.Generator
    batch_size: int
    augment: bool
    check_finite: bool
    lr: float
    seed: int
    steps: int
    loss_limit: float | None = None  # EXPLODED × max(first batch's loss, 1), set by the first look


def _default_loss(train_src, label_smoothing: float) -> LossFn:
    check_labels = _LabelCheck(train_src, "train")

    def loss_fn(logits, y, *extras):
        if extras:
            raise ValueError(f"train batches carry {len(extras)} extra field(s) after (X, y) but no "
                             "loss_fn uses them: pass loss_fn(logits, y, *extras)")
        check_labels(logits, y)
        return F.cross_entropy(logits, y, label_smoothing=label_smoothing)

    return loss_fn


def _setup(model, train, val, *, epochs, lr, batch_size, optimizer, momentum, weight_decay, schedule,
           label_smoothing, augment, loss_fn, device, amp, channels_last, compile, random_state,
           allow_nonfinite_loss) -> _Run:
    """Check every argument, move model and data to the device, build optimizer and schedule."""
    check_module(model, "model")
    lr = check_number(lr, "lr", low=0.0, low_open=True)
    batch_size = check_int(batch_size, "batch_size", low=1)
    momentum, weight_decay = _check_optimizer(optimizer, momentum, weight_decay)
    check_choice(schedule, "schedule", SCHEDULES)
    label_smoothing = check_number(label_smoothing, "label_smoothing", low=0.0, high=1.0, high_open=True)
    augment, compile = check_bool(augment, "augment"), check_bool(compile, "compile")
    check_finite = not check_bool(allow_nonfinite_loss, "allow_nonfinite_loss")
    if loss_fn is not None and not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable or None, got {loss_fn!r}")
    if loss_fn is not None and label_smoothing:
        raise ValueError(f"label_smoothing={label_smoothing!r} applies to the default loss only; "
                         "build it into loss_fn instead")

    dev = check_device(device)
    use_amp, use_cl = _use_amp(amp, dev), _use_channels_last(channels_last, dev)
    seed = as_seed(random_state)
    if seed is None:
        seed = int(np.random.default_rng().integers(0, 2**62))
    generator = torch.Generator(device=dev).manual_seed(seed)
    channels = input_channels(model)
    try:
        train_src = _source(train, "train", dev, batch_size=batch_size, shuffle=True, seed=seed, caller="fit",
                            channels=channels)
        val_src = None if val is None else _source(val, "val", dev, batch_size=max(batch_size, 1024),
                                                   shuffle=False, seed=None, caller="fit", channels=channels)
    except torch.cuda.OutOfMemoryError as err:
        raise torch.cuda.OutOfMemoryError(
            "CUDA ran out of memory moving the data set to the GPU; pass a Dataset or DataLoader instead "
            "of tensors for data this large") from err
    val_loss_fn = loss_fn  # None: validation reports plain (unsmoothed) cross-entropy
    if loss_fn is None:
        if train_src.fields is not None and train_src.fields > 2:
            raise ValueError(f"train has {train_src.fields - 2} extra field(s) after (X, y) but no loss_fn "
                             "uses them: pass loss_fn(logits, y, *extras)")
        if isinstance(train_src, _TensorSource):
            check_targets(train_src.tensors[1], "train[1] (y)")
        loss_fn = _default_loss(train_src, label_smoothing)

    model.to(dev)
    if use_cl:
        model.to(memory_format=torch.channels_last)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("model has no parameters with requires_grad=True: nothing to train")
    opt = _make_optimizer(optimizer, params, lr, momentum, weight_decay)
    steps = train_src.num_batches(batch_size, shuffle=True)
    sched = _make_schedule(schedule, opt, epochs * steps)
    net = torch.compile(model) if compile else model
    return _Run(model, net, dev, use_amp, use_cl, train_src, val_src, loss_fn, val_loss_fn, opt, sched,
                generator, batch_size, augment, check_finite, lr, seed, steps)


# ----------------------------------------------------------------------------------------- fit: one epoch
def _all_finite(model: nn.Module) -> bool:
    flags = [torch.isfinite(p).all() for p in model.parameters()]
    return bool(torch.stack(flags).all()) if flags else True


def _diverged(run: _Run, epoch: int, batch: int | None, value: float | None,
              snapshot: dict[str, torch.Tensor]) -> TrainingDiverged:
    """Put the model back on finite weights and build the error that says where and why it diverged.

    A NaN loss found before its step (on the CPU, every batch is looked at) leaves the model on the weights
    of the step before, if they are finite; otherwise (weights not finite, a loss that exploded on weights
    already damaged, or a GPU run that only looks at the end of the epoch) the model gets back the weights it
    had when the epoch started.
    """
    if value is not None and not math.isfinite(value) and _all_finite(run.model):
        kept = "its weights from before that batch (the last finite ones)"
    else:
        run.model.load_state_dict(snapshot)
        kept = f"the weights it had at the start of epoch {epoch} (the last finite ones), restored"
    if value is None:
        what = f"became NaN or infinite, or exploded (above {EXPLODED:g} × its first batch's value)"
    elif math.isfinite(value):
        what = f"exploded to {value:.3g} (above {EXPLODED:g} × its first batch's value)"
    else:
        what = f"became {value!r}"
    where = f"batch {batch} of {run.steps}" if batch is not None else "its last batch (the weights overflowed)"
    return TrainingDiverged(
        f"fit diverged at epoch {epoch}, {where}: the training loss {what}. Training stopped; the model keeps "
        f"{kept}. Likely causes: a learning rate too high (lr={run.lr:g}: try {run.lr / 10:g} or less); "
        "NaN or infinite values reaching the model (the images are checked: look at extra tensors and at the "
        "model's own layers); a loss_fn that returns NaN or inf (log of 0, division by 0). "
        "To train on regardless, as the documents' losses do, pass allow_nonfinite_loss=True.")


def _look_every_batch(device: torch.device) -> bool:
    """Reading the loss every batch costs nothing on the CPU; on a GPU it would stall the queue of work."""
    return device.type == "cpu"


class _LossWatch:
    """Stops an epoch whose loss turns NaN/infinite or explodes, the model back on finite weights.

    On the CPU every loss is looked at as it comes (free); on a GPU each is written into a device buffer
    (one small copy, no stall) and the buffer is looked at when the epoch ends, where ``fit`` waits for the
    device anyway. The weights of the epoch's start are kept to go back to.
    """

    def __init__(self, run: _Run, epoch: int):
        self.run, self.epoch, self.on = run, epoch, run.check_finite
        self.snapshot = {k: v.detach().clone() for k, v in run.model.state_dict().items()} if self.on else {}
        self.now = _look_every_batch(run.device)
        self.losses = torch.empty(run.steps, device=run.device) if self.on and not self.now else None

    def see(self, loss: torch.Tensor, i: int) -> None:
        run = self.run
        if not self.on:
            return
        if not self.now:
            if i < len(self.losses):
                self.losses[i] = loss
            return
        value = loss.item()
        if run.loss_limit is None and math.isfinite(value):
            run.loss_limit = EXPLODED * max(value, 1.0)
        if not math.isfinite(value) or value > run.loss_limit:
            raise _diverged(run, self.epoch, i + 1, value, self.snapshot)

    def end(self, n_batches: int) -> None:
        run, first_bad = self.run, None
        if not self.on:
            return
        if self.losses is not None and n_batches:
            seen = self.losses[:min(n_batches, len(self.losses))].float()
            if run.loss_limit is None and math.isfinite(first := float(seen[0])):
                run.loss_limit = EXPLODED * max(first, 1.0)
            limit = math.inf if run.loss_limit is None else run.loss_limit
            bad = torch.nonzero(~(seen.abs() <= limit)).flatten()
            first_bad = int(bad[0]) + 1 if len(bad) else None
        if first_bad is not None or not _all_finite(run.model):
            # found only now, possibly many steps after the bad batch: back to the epoch's start
            raise _diverged(run, self.epoch, first_bad, None, self.snapshot)


def _train_epoch(run: _Run, epoch: int, bar) -> dict[str, float]:
    """One pass over the training data; returns train_loss, train_acc and the last batch's lr."""
    run.model.train()
    dev = run.device
    loss_sum = torch.zeros((), device=dev, dtype=_sum_dtype(dev))
    correct = torch.zeros((), device=dev, dtype=torch.int64)
    n_seen, n_class, n_batches, last_lr = 0, 0, 0, run.optimizer.param_groups[0]["lr"]
    watch = _LossWatch(run, epoch)
    for i, batch in enumerate(run.train_src.batches(run.batch_size, shuffle=True, generator=run.generator)):
        x, y, *extras = batch
        x = _as_float(x, run.channels_last)
        if run.augment:
            x = random_crop_flip(x, generator=run.generator)
        with torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=run.amp):
            out = run.net(x)
        out = out.float()
        loss = run.loss_fn(out, y, *extras)
        watch.see(loss.detach(), i)
        run.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        last_lr = run.optimizer.param_groups[0]["lr"]
        run.optimizer.step()
        if run.schedule is not None:
            run.schedule.step()
        bs = x.shape[0]
        loss_sum += loss.detach().to(loss_sum.dtype) * bs
        n_seen, n_batches = n_seen + bs, i + 1
        if _is_classification(out, y):
            correct += (out.detach().argmax(1) == y).sum()
            n_class += bs
        bar.update(1)
    watch.end(n_batches)
    return {"train_loss": float(loss_sum) / max(n_seen, 1),
            "train_acc": float(correct) / n_class if n_class else float("nan"), "lr": last_lr}


def _validate(run: _Run) -> dict[str, float]:
    if run.val_src is None:
        return {"val_loss": float("nan"), "val_acc": float("nan")}
    run.model.eval()
    metrics = _evaluate(run.net, run.val_src, batch_size=max(run.batch_size, 1024), loss_fn=run.val_loss_fn,
                        loss_fields=run.train_src.fields, amp=run.amp, channels_last=run.channels_last,
                        device=run.device)
    return {"val_loss": metrics["loss"], "val_acc": metrics["accuracy"]}


def _out_of_memory(err: Exception, run: _Run | None, batch_size: int) -> torch.cuda.OutOfMemoryError:
    if run is not None and run.device.type == "cuda":
        torch.cuda.empty_cache()
    return torch.cuda.OutOfMemoryError(
        f"CUDA ran out of memory training with batch_size={batch_size}: try a smaller batch_size "
        f"(e.g. {max(1, batch_size // 2)}), amp=True, or a smaller model")


# ---------------------------------------------------------------------------------------------------- fit
def fit(model: nn.Module, train, val=None, *, epochs: int, lr: float, batch_size: int = 128,
        optimizer: str | OptimizerFactory = "sgd", momentum: float | None = None,
        weight_decay: float | None = None, schedule: str = "onecycle", label_smoothing: float = 0.0,
        augment: bool = False, loss_fn: LossFn | None = None, device=None, amp: str | bool = "auto",
        channels_last: str | bool = "auto", compile: bool = False, progress: bool = True,
        checkpoint: str | os.PathLike | None = None, random_state: RandomState = None,
        allow_nonfinite_loss: bool = False) -> pd.DataFrame:
    """Train ``model`` on ``train`` for ``epochs`` epochs; return one history row per epoch.

    ``train``/``val``: ``(X, y, *extras)`` tensors (kept on the device, batches by index, augmentation on
    the device) or a ``Dataset``/``DataLoader`` (a DataLoader keeps its own batching and shuffling).
    ``loss_fn(logits, y, *extras) -> scalar batch mean`` defaults to cross-entropy with
    ``label_smoothing``; ``val_loss`` uses ``loss_fn`` when ``val`` has as many fields as ``train``,
    plain cross-entropy otherwise (e.g. distillation's ``val=(X, y)`` without teacher logits).
    Only parameters with ``requires_grad=True`` are optimised. ``optimizer``: ``"sgd"`` (Nesterov momentum,
    ``momentum`` 0.9 by default) or ``"adamw"``, both with ``weight_decay`` 5e-4 by default; or a factory
    called as ``optimizer(params, lr=lr)``, e.g. ``torch.optim.Adam`` or ``functools.partial(torch.optim.SGD,
    momentum=0.5)``. The learning rate follows ``schedule`` per batch, peaking at ``lr`` (one-cycle) or
    starting there (cosine). ``random_state`` seeds shuffling and augmentation (not the model's
    initialisation: use ``labkit.set_seed``). ``amp="auto"``: bf16 autocast on CUDA and on CPUs with native
    bf16; ``channels_last="auto"``: on CUDA and CPU (both measured faster; ``False`` for the plain float32
    loop). ``checkpoint`` saves the state dict after every epoch.

    Inputs are checked first (uint8 or [0, 1] float images, no NaN, the model's channel count, labels in
    ``[0, classes)`` for the default loss). A loss that turns NaN or infinite raises :class:`TrainingDiverged`
    naming the epoch and batch, with the model on its last finite weights (``allow_nonfinite_loss=True``
    trains on regardless). Ctrl-C / interrupting the kernel stops at once and returns the history of the
    finished epochs (``history.attrs["interrupted"]``); the model keeps its latest weights and is left in eval
    mode either way.

    Returns a DataFrame with columns epoch, train_loss, train_acc, val_loss, val_acc, lr (of the epoch's
    last batch), seconds (wall time of the epoch, validation included).
    """
    epochs = check_int(epochs, "epochs", low=1)
    progress = check_bool(progress, "progress")
    if checkpoint is not None and not isinstance(checkpoint, (str, os.PathLike)):
        raise TypeError(f"checkpoint must be a path or None, got {checkpoint!r}")
    run = _setup(model, train, val, epochs=epochs, lr=lr, batch_size=batch_size, optimizer=optimizer,
                 momentum=momentum, weight_decay=weight_decay, schedule=schedule, label_smoothing=label_smoothing,
                 augment=augment, loss_fn=loss_fn, device=device, amp=amp, channels_last=channels_last,
                 compile=compile, random_state=random_state, allow_nonfinite_loss=allow_nonfinite_loss)
    from tqdm.auto import tqdm

    history: list[dict[str, Any]] = []
    interrupted = False
    bar = tqdm(total=epochs * run.steps, disable=not progress, unit="batch", leave=True)
    try:
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            bar.set_description(f"epoch {epoch}/{epochs}")
            row = {"epoch": epoch, **_train_epoch(run, epoch, bar), **_validate(run)}
            row["seconds"] = time.perf_counter() - start
            history.append(row)
            bar.set_postfix({k: round(row[k], 4) for k in ("train_loss", "train_acc", "val_acc")
                             if not math.isnan(row[k])})
            if checkpoint is not None:
                save_checkpoint(model, checkpoint)
    except KeyboardInterrupt:
        interrupted = True
        print(f"fit: interrupted during epoch {len(history) + 1}/{epochs}; returning the history of the "
              f"{len(history)} finished epoch(s). The model keeps the weights of its last step.",
              file=sys.stderr)
    except torch.cuda.OutOfMemoryError as err:
        raise _out_of_memory(err, run, run.batch_size) from err
    finally:
        bar.close()
        model.eval()
    result = pd.DataFrame(history, columns=list(HISTORY_COLUMNS))
    result.attrs.update(interrupted=interrupted, device=str(run.device), amp=run.amp,
                        channels_last=run.channels_last, compile=compile, random_state=run.seed)
    return result
