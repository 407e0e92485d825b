"""The one training loop of labkit: ``fit``, ``evaluate``, ``predict_logits`` and checkpoints.

Two data paths:

* **tensors on the device** (the fast path): ``train=(X, y, *extras)`` with ``X`` uint8 (or float in
  [0, 1]) ``[N, C, H, W]`` and ``y`` int64 ``[N]``. The whole tuple is moved to the device once; every
  batch is an index into it, and augmentation (random crop with zero padding + horizontal flip) runs on
  the batch, on the device. No per-image Python, no PIL, no collate.
* **a torch ``Dataset`` or ``DataLoader``** (the regular path) for data that does not fit; batches must be
  tuples ``(X, y, *extras)`` of tensors.

Models get float32 images in [0, 1] (``uint8 / 255``) and normalise them themselves (see
``labkit.models.Normalize``). ``amp="auto"`` runs under bf16 autocast on CUDA and on CPUs with native
bf16 (AVX512-BF16/AMX); ``channels_last="auto"`` uses that memory format on CUDA and the CPU (oneDNN's
fast convolution layout: measured 1.7× for the small CNN on a 2-core AVX-512 CPU); ``compile=True``
uses ``torch.compile``. ``amp=False, channels_last=False`` gives the plain float32 loop.
"""

from __future__ import annotations

import functools
import math
import numbers
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from labkit._validation import RandomState, as_seed, check_positive_int
from labkit.core import get_device

__all__ = [
    "HISTORY_COLUMNS",
    "cpu_has_native_bf16",
    "OPTIMIZERS",
    "SCHEDULES",
    "evaluate",
    "fit",
    "load_checkpoint",
    "one_cycle",
    "predict_logits",
    "random_crop_flip",
    "reconstruction_loss",
    "save_checkpoint",
]

OPTIMIZERS = ("sgd", "adamw")
SCHEDULES = ("onecycle", "cosine", "constant")
HISTORY_COLUMNS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds")
LossFn = Callable[..., torch.Tensor]


# ----------------------------------------------------------------------------------------------- checks

def _check_float(value, name: str, *, low: float, high: float = math.inf, low_open: bool = False,
                 high_open: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    value = float(value)
    bad_low = value <= low if low_open else value < low
    bad_high = value >= high if high_open else value > high
    if not math.isfinite(value) or bad_low or bad_high:
        lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
        raise ValueError(f"{name} must be in {lo}{low}, {high}{hi}, got {value!r}")
    return value


def _check_auto(value, name: str) -> str | bool:
    if value == "auto" or isinstance(value, bool):
        return value
    raise ValueError(f"{name} must be 'auto', True or False, got {value!r}")


def _resolve_device(device) -> torch.device:
    return get_device() if device is None else get_device(prefer=device)


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
def _as_tensor(value, name: str) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value)
    raise TypeError(f"{name} must be a torch.Tensor or numpy array, got {type(value).__name__}")


def _check_images(X: torch.Tensor, name: str) -> torch.Tensor:
    if X.ndim < 2:
        raise ValueError(f"{name} must have shape [N, ...] (images [N, C, H, W]), got {tuple(X.shape)}")
    if X.dtype != torch.uint8 and not X.is_floating_point():
        raise TypeError(f"{name} must be uint8 (0..255) or float (0..1) images, got dtype {X.dtype}")
    return X


def _to_device(t: torch.Tensor, device: torch.device) -> torch.Tensor:
    return t.to(device, non_blocking=True) if t.device != device else t


class _TensorSource:
    """A tuple ``(X, y, *extras)`` kept on the device; batches are index slices of it."""

    def __init__(self, tensors: Sequence, name: str, device: torch.device, *, min_fields: int = 2):
        if len(tensors) < min_fields:
            what = "(X, y, *extras)" if min_fields >= 2 else "(X, ...)"
            raise ValueError(f"{name} must be a tuple {what} of tensors, got {len(tensors)} element(s)")
        tensors = [_as_tensor(t, f"{name}[{i}]") for i, t in enumerate(tensors)]
        _check_images(tensors[0], f"{name}[0] (X)")
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
        self.n, self.fields, self.device = n, len(tensors), device

    def num_batches(self, batch_size: int, *, shuffle: bool) -> int:
        full, rest = divmod(self.n, batch_size)
        return full + (rest > 1 or (rest == 1 and (not shuffle or full == 0)))

    def batches(self, batch_size: int, *, shuffle: bool, generator: torch.Generator | None = None
                ) -> Iterator[list[torch.Tensor]]:
        if shuffle:
            order = torch.randperm(self.n, device=self.device, generator=generator)
            for start in range(0, self.n, batch_size):
                idx = order[start:start + batch_size]
                if len(idx) == 1 and self.n > 1:  # a lone sample breaks BatchNorm; it is drawn next epoch
                    break
                yield [t[idx] for t in self.tensors]
        else:
            for start in range(0, self.n, batch_size):
                yield [t[start:start + batch_size] for t in self.tensors]


class _LoaderSource:
    """A ``DataLoader`` (built from a ``Dataset`` if needed) whose tuple batches are moved to the device."""

    def __init__(self, data, name: str, device: torch.device, *, batch_size: int, shuffle: bool,
                 seed: int | None):
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

    def num_batches(self, batch_size: int, *, shuffle: bool) -> int:
        return self._len

    def batches(self, batch_size: int, *, shuffle: bool, generator: torch.Generator | None = None
                ) -> Iterator[list[torch.Tensor]]:
        for batch in self.loader:
            if not isinstance(batch, (tuple, list)) or not all(isinstance(t, torch.Tensor) for t in batch):
                raise TypeError(f"{self.name} must yield tuples (X, y, *extras) of tensors, got "
                                f"{type(batch).__name__}")
            _check_images(batch[0], f"{self.name} batch X")
            yield [_to_device(t, self.device) for t in batch]


def _source(data, name: str, device: torch.device, *, batch_size: int, shuffle: bool, seed: int | None,
            min_fields: int = 2):
    from torch.utils.data import DataLoader, Dataset

    if isinstance(data, (DataLoader, Dataset)):
        return _LoaderSource(data, name, device, batch_size=batch_size, shuffle=shuffle, seed=seed)
    if isinstance(data, (tuple, list)):
        return _TensorSource(data, name, device, min_fields=min_fields)
    raise TypeError(f"{name} must be a tuple (X, y, *extras) of tensors, a Dataset or a DataLoader, "
                    f"got {type(data).__name__}")


def _prepare_x(x: torch.Tensor, channels_last: bool) -> torch.Tensor:
    """uint8 → float32 in [0, 1]; float → float32 unchanged; channels_last memory format if asked."""
    x = x.float().div_(255) if x.dtype == torch.uint8 else x.float()
    if channels_last and x.ndim == 4:
        x = x.contiguous(memory_format=torch.channels_last)
    return x


def random_crop_flip(x: torch.Tensor, *, padding: int | None = None, flip: bool = True,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """Random crop after zero padding plus random horizontal flip, for a whole batch ``[N, C, H, W]``.

    Runs on ``x``'s device with vectorised indexing (no per-image loop). ``padding`` defaults to
    ``H // 8`` (3 for 28×28, 4 for 32×32).
    """
    if x.ndim != 4:
        raise ValueError(f"x must be a batch of images [N, C, H, W], got shape {tuple(x.shape)}")
    n, _, h, w = x.shape
    pad = max(1, h // 8) if padding is None else check_positive_int(padding, "padding", minimum=0)
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
    target = target.float().div(255) if target.dtype == torch.uint8 else target.float()
    if output.shape != target.shape:
        raise ValueError(f"output shape {tuple(output.shape)} differs from target shape {tuple(target.shape)}")
    return F.mse_loss(output.float(), target)


# ----------------------------------------------------------------------------------------------- evaluate
def _sum_dtype(device: torch.device) -> torch.dtype:
    return torch.float32 if device.type == "mps" else torch.float64  # MPS has no float64


@torch.no_grad()
def _evaluate(net: nn.Module, src, *, batch_size: int, loss_fn: LossFn | None, loss_fields: int | None,
              amp: bool, channels_last: bool, device: torch.device) -> dict[str, float]:
    loss_sum = torch.zeros((), device=device, dtype=_sum_dtype(device))
    correct = torch.zeros((), device=device, dtype=torch.int64)
    n_seen, n_class = 0, 0
    for batch in src.batches(batch_size, shuffle=False):
        x, y, *extras = batch
        x = _prepare_x(x, channels_last)
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=amp):
            out = net(x)
        out = out.float()
        classification = _is_classification(out, y)
        if loss_fn is not None and (loss_fields is None or len(batch) == loss_fields):
            loss = loss_fn(out, y, *extras)
        elif classification:
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
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    batch_size = check_positive_int(batch_size, "batch_size")
    if loss_fn is not None and not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable or None, got {loss_fn!r}")
    dev = _resolve_device(device)
    src = _source(data, "data", dev, batch_size=batch_size, shuffle=False, seed=None)
    model.to(dev)
    with _EvalMode(model):
        return _evaluate(model, src, batch_size=batch_size, loss_fn=loss_fn, loss_fields=None,
                         amp=_use_amp(amp, dev), channels_last=False, device=dev)


@torch.no_grad()
def predict_logits(model: nn.Module, X, *, batch_size: int = 1024, device=None,
                   amp: str | bool = "auto") -> torch.Tensor:
    """The model's outputs for images ``X`` (uint8 or float tensor/array, or a Dataset/DataLoader whose
    first field is X) as one float32 CPU tensor; eval mode (previous mode restored), no gradients."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    batch_size = check_positive_int(batch_size, "batch_size")
    dev = _resolve_device(device)
    if isinstance(X, (torch.Tensor, np.ndarray)):
        src = _TensorSource([X], "X", dev, min_fields=1)
    else:
        src = _source(X, "X", dev, batch_size=batch_size, shuffle=False, seed=None, min_fields=1)
    use_amp = _use_amp(amp, dev)
    model.to(dev)
    outputs = []
    with _EvalMode(model):
        for batch in src.batches(batch_size, shuffle=False):
            x = _prepare_x(batch[0], False)
            with torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=use_amp):
                outputs.append(model(x).float().cpu())
    return torch.cat(outputs)


# ---------------------------------------------------------------------------------------------- checkpoints
def save_checkpoint(model: nn.Module, path: str | os.PathLike) -> Path:
    """Save ``model.state_dict()`` with ``torch.save`` (atomically: a temporary file, then a rename)."""
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(model.state_dict(), tmp)
    os.replace(tmp, path)
    return path


def load_checkpoint(model: nn.Module, path: str | os.PathLike, *, strict: bool = True) -> nn.Module:
    """Load a state dict saved by ``fit(..., checkpoint=path)`` into ``model`` (``weights_only=True``)."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise ValueError(f"path {str(path)!r} is not a checkpoint file")
    try:
        device = next(model.parameters()).device
    except StopIteration:
        device = torch.device("cpu")
    state = torch.load(path, map_location=device, weights_only=True)
    model.load_state_dict(state, strict=strict)
    return model


# ---------------------------------------------------------------------------------------------------- fit
def _make_optimizer(name: str, params, lr: float, momentum: float, weight_decay: float):
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay,
                               nesterov=momentum > 0)
    return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)


def one_cycle(step: int, total_steps: int, *, warmup: float = 0.25, start: float = 1 / 25) -> float:
    """Learning-rate factor of the one-cycle schedule at ``step``: linear from ``start`` up to 1 over the
    first ``warmup`` fraction of the steps, then linear down to 0 (a triangle, as in fast CIFAR recipes)."""
    peak = max(1, round(warmup * total_steps))
    return float(np.interp(step, [0, peak, total_steps], [start, 1.0, 0.0]))


def _make_schedule(name: str, optimizer, total_steps: int):
    if name == "onecycle":
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: one_cycle(step, total_steps))
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    return None


def fit(model: nn.Module, train, val=None, *, epochs: int, lr: float, batch_size: int = 128,
        optimizer: str = "sgd", momentum: float = 0.9, weight_decay: float = 5e-4,
        schedule: str = "onecycle", label_smoothing: float = 0.0, augment: bool = False,
        loss_fn: LossFn | None = None, device=None, amp: str | bool = "auto",
        channels_last: str | bool = "auto", compile: bool = False, progress: bool = True,
        checkpoint: str | os.PathLike | None = None, random_state: RandomState = None) -> pd.DataFrame:
    """Train ``model`` on ``train`` for ``epochs`` epochs; return one history row per epoch.

    ``train``/``val``: ``(X, y, *extras)`` tensors (kept on the device, batches by index, augmentation on
    the device) or a ``Dataset``/``DataLoader`` (a DataLoader keeps its own batching and shuffling).
    ``loss_fn(logits, y, *extras) -> scalar batch mean`` defaults to cross-entropy with
    ``label_smoothing``; ``val_loss`` uses ``loss_fn`` when ``val`` has as many fields as ``train``,
    plain cross-entropy otherwise (e.g. distillation's ``val=(X, y)`` without teacher logits).
    Only parameters with ``requires_grad=True`` are optimised. SGD uses Nesterov momentum; the learning
    rate follows ``schedule`` per batch, peaking at ``lr`` (one-cycle) or starting there (cosine).
    ``random_state`` seeds shuffling and augmentation (not the model's initialisation: use
    ``labkit.set_seed``). ``amp="auto"``: bf16 autocast on CUDA and on CPUs with native bf16;
    ``channels_last="auto"``: on CUDA and CPU (both measured faster; ``False`` for the plain float32 loop).
    ``checkpoint`` saves the state dict after every epoch. Ctrl-C / interrupting the kernel stops at once
    and returns the history of the finished epochs (``history.attrs["interrupted"]``); the model keeps
    its latest weights and is left in eval mode either way.

    Returns a DataFrame with columns epoch, train_loss, train_acc, val_loss, val_acc, lr (of the epoch's
    last batch), seconds (wall time of the epoch, validation included).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    epochs = check_positive_int(epochs, "epochs")
    lr = _check_float(lr, "lr", low=0.0, low_open=True)
    batch_size = check_positive_int(batch_size, "batch_size")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    momentum = _check_float(momentum, "momentum", low=0.0, high=1.0)
    weight_decay = _check_float(weight_decay, "weight_decay", low=0.0)
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
    label_smoothing = _check_float(label_smoothing, "label_smoothing", low=0.0, high=1.0)
    if not isinstance(augment, bool):
        raise TypeError(f"augment must be a bool, got {augment!r}")
    if loss_fn is not None and not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable or None, got {loss_fn!r}")
    if loss_fn is not None and label_smoothing:
        raise ValueError(f"label_smoothing={label_smoothing!r} applies to the default loss only; "
                         "build it into loss_fn instead")
    for flag, name in ((compile, "compile"), (progress, "progress")):
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be a bool, got {flag!r}")
    if checkpoint is not None and not isinstance(checkpoint, (str, os.PathLike)):
        raise TypeError(f"checkpoint must be a path or None, got {checkpoint!r}")

    dev = _resolve_device(device)
    use_amp = _use_amp(amp, dev)
    use_cl = _use_channels_last(channels_last, dev)
    seed = as_seed(random_state)
    if seed is None:
        seed = int(np.random.default_rng().integers(0, 2**62))
    generator = torch.Generator(device=dev).manual_seed(seed)

    try:
        train_src = _source(train, "train", dev, batch_size=batch_size, shuffle=True, seed=seed)
        val_src = None if val is None else _source(val, "val", dev, batch_size=max(batch_size, 1024),
                                                   shuffle=False, seed=None)
    except torch.cuda.OutOfMemoryError as err:
        raise torch.cuda.OutOfMemoryError(
            "CUDA ran out of memory moving the data set to the GPU; pass a Dataset or DataLoader instead "
            "of tensors for data this large") from err
    if loss_fn is None and train_src.fields is not None and train_src.fields > 2:
        raise ValueError(f"train has {train_src.fields - 2} extra field(s) after (X, y) but no loss_fn "
                         "uses them: pass loss_fn(logits, y, *extras)")
    if loss_fn is None:
        def loss_fn(logits, y, *extras):
            if extras:
                raise ValueError(f"train batches carry {len(extras)} extra field(s) after (X, y) but no "
                                 "loss_fn uses them: pass loss_fn(logits, y, *extras)")
            return F.cross_entropy(logits, y, label_smoothing=label_smoothing)
        val_loss_fn = None  # validation reports plain (unsmoothed) cross-entropy
    else:
        val_loss_fn = loss_fn

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

    from tqdm.auto import tqdm

    history: list[dict[str, Any]] = []
    interrupted = False
    bar = tqdm(total=epochs * steps, disable=not progress, unit="batch", leave=True)
    try:
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            bar.set_description(f"epoch {epoch}/{epochs}")
            model.train()
            loss_sum = torch.zeros((), device=dev, dtype=_sum_dtype(dev))
            correct = torch.zeros((), device=dev, dtype=torch.int64)
            n_seen, n_class, last_lr = 0, 0, opt.param_groups[0]["lr"]
            for batch in train_src.batches(batch_size, shuffle=True, generator=generator):
                x, y, *extras = batch
                x = _prepare_x(x, use_cl)
                if augment:
                    x = random_crop_flip(x, generator=generator)
                with torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=use_amp):
                    out = net(x)
                out = out.float()
                loss = loss_fn(out, y, *extras)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                last_lr = opt.param_groups[0]["lr"]
                opt.step()
                if sched is not None:
                    sched.step()
                bs = x.shape[0]
                loss_sum += loss.detach().to(loss_sum.dtype) * bs
                n_seen += bs
                if _is_classification(out, y):
                    correct += (out.detach().argmax(1) == y).sum()
                    n_class += bs
                bar.update(1)
            row = {"epoch": epoch, "train_loss": float(loss_sum) / max(n_seen, 1),
                   "train_acc": float(correct) / n_class if n_class else float("nan"),
                   "val_loss": float("nan"), "val_acc": float("nan"), "lr": last_lr}
            if val_src is not None:
                model.eval()
                metrics = _evaluate(net, val_src, batch_size=max(batch_size, 1024), loss_fn=val_loss_fn,
                                    loss_fields=train_src.fields, amp=use_amp, channels_last=use_cl,
                                    device=dev)
                row["val_loss"], row["val_acc"] = metrics["loss"], metrics["accuracy"]
            row["seconds"] = time.perf_counter() - start
            history.append(row)
            bar.set_postfix({k: round(v, 4) for k, v in row.items()
                             if k in ("train_loss", "train_acc", "val_acc") and not math.isnan(v)})
            if checkpoint is not None:
                save_checkpoint(model, checkpoint)
    except KeyboardInterrupt:
        interrupted = True
        print(f"fit: interrupted during epoch {len(history) + 1}/{epochs}; returning the history of the "
              f"{len(history)} finished epoch(s). The model keeps the weights of its last step.",
              file=sys.stderr)
    except torch.cuda.OutOfMemoryError as err:
        if dev.type == "cuda":
            torch.cuda.empty_cache()
        raise torch.cuda.OutOfMemoryError(
            f"CUDA ran out of memory training with batch_size={batch_size}: try a smaller batch_size "
            f"(e.g. {max(1, batch_size // 2)}), amp=True, or a smaller model") from err
    finally:
        bar.close()
        model.eval()
    result = pd.DataFrame(history, columns=list(HISTORY_COLUMNS))
    result.attrs.update(interrupted=interrupted, device=str(dev), amp=use_amp, channels_last=use_cl,
                        compile=compile, random_state=seed)
    return result
