"""Reusing a trained network (document 004, 002 §3.1/§4): freeze it, extract features, probe, fine-tune.

The two deployments of 004 §3.2 — end-to-end fine-tuning and frozen feature extraction with a new head —
plus the pieces they need done right (ERRATA 004, 002 §4):

- :func:`freeze` freezes everything but the named parts *and* their BatchNorm statistics: a frozen
  ``BatchNorm`` becomes a ``FrozenBatchNorm`` (a fixed affine map, no train mode) and a frozen ``Dropout``
  an ``Identity`` — what they compute in ``eval()`` — so ``model.train()`` cannot change a frozen part.
- :func:`extract_features` runs the model in ``eval()`` mode without gradients, batched on the device,
  and caches the result as ``.npz`` keyed by a hash of the weights and the data: extracted once, reused.
- :func:`linear_probe` fits a logistic regression (a convex solver run to convergence) on features, not
  10 full-batch SGD steps.
- :func:`finetune` trains all layers or the head plus the last ``k`` blocks with ``labkit.train.fit``.
- :func:`pretrained_resnet` loads ImageNet weights through torchvision's weights API
  (``ResNet50_Weights``, not the deprecated ``pretrained=True``) and puts the weights' own transforms
  (resize, crop, ImageNet mean/std) inside the model, so inputs are resized as the weights expect.
"""

from __future__ import annotations

import copy
import hashlib
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from labkit._validation import RandomState, as_generator, check_features, check_labels, check_positive_int

__all__ = [
    "FrozenBatchNorm",
    "TransferNet",
    "WeightsUnavailable",
    "blocks",
    "document_extract_features",
    "document_linear_head",
    "count_parameters",
    "count_trainable",
    "extract_features",
    "feature_cache_key",
    "finetune",
    "imagenet_transfer",
    "freeze",
    "epochs_for_steps",
    "label_sweep",
    "network_method",
    "probe_method",
    "linear_probe",
    "per_class_indices",
    "predict_linear",
    "pretrained_resnet",
    "replace_head",
]


# --------------------------------------------------------------------------------------------------
# freezing
# --------------------------------------------------------------------------------------------------

class FrozenBatchNorm(nn.Module):
    """BatchNorm with fixed statistics and affine parameters, for inputs of any rank ``(N, C, ...)``.

    It computes what the original BatchNorm computes in ``eval()`` mode, and has no train mode: the
    running statistics are buffers that nothing updates. (For 4-D inputs this is
    ``torchvision.ops.FrozenBatchNorm2d``; this version also covers ``BatchNorm1d``/``BatchNorm3d``.)
    """

    def __init__(self, num_features: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.register_buffer("weight", torch.ones(num_features))
        self.register_buffer("bias", torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    @classmethod
    def from_batchnorm(cls, bn: nn.modules.batchnorm._BatchNorm) -> FrozenBatchNorm:
        if bn.running_mean is None or bn.running_var is None:
            raise ValueError(
                f"cannot freeze {bn!r}: it has track_running_stats=False, so it has no statistics to freeze"
            )
        frozen = cls(bn.num_features, eps=bn.eps)
        with torch.no_grad():
            if bn.weight is not None:
                frozen.weight.copy_(bn.weight.detach())
            if bn.bias is not None:
                frozen.bias.copy_(bn.bias.detach())
            frozen.running_mean.copy_(bn.running_mean)
            frozen.running_var.copy_(bn.running_var)
        return frozen.to(device=bn.running_mean.device)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        state_dict.pop(prefix + "num_batches_tracked", None)  # a BatchNorm's state dict loads as is
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = (1, -1) + (1,) * (x.dim() - 2)
        scale = self.weight * (self.running_var + self.eps).rsqrt()
        shift = self.bias - self.running_mean * scale
        return x * scale.reshape(shape) + shift.reshape(shape)

    def extra_repr(self) -> str:
        return f"{self.weight.shape[0]}, eps={self.eps}"


def _check_module_names(model: nn.Module, names, param: str) -> tuple[str, ...]:
    if isinstance(names, str):
        names = (names,)
    try:
        names = tuple(names)
    except TypeError as err:
        raise TypeError(f"{param} must be a sequence of module names, got {names!r}") from err
    known = dict(model.named_modules())
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"{param} must hold module names (str), got {name!r}")
        if name not in known or name == "":
            raise ValueError(
                f"{param} names a module the model does not have: {name!r}; top-level modules are "
                f"{[n for n, _ in model.named_children()]}"
            )
    return names


def _inside(name: str, prefixes: Sequence[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def freeze(model: nn.Module, *, trainable: Sequence[str] | str = ("fc",)) -> nn.Module:
    """Freeze every part of ``model`` except the modules named in ``trainable``; return the model.

    Frozen parameters get ``requires_grad=False`` (so backward skips them and ``fit`` does not optimise
    them), and frozen BatchNorm/Dropout layers are replaced by what they compute in ``eval()`` mode
    (:class:`FrozenBatchNorm`, ``nn.Identity``), so ``model.train()`` cannot change their statistics —
    the mistake of 002 §4, which sets ``requires_grad=False`` and trains with BatchNorm in train mode.
    ``trainable`` holds qualified module names as in ``model.named_modules()`` (``"fc"``, ``"layer4"``,
    ``"backbone.layer4.1"``); ``()`` freezes everything. The model is changed in place.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    trainable = _check_module_names(model, trainable, "trainable")
    for name, param in model.named_parameters():
        param.requires_grad_(_inside(name.rpartition(".")[0], trainable))
    replacements = []
    for name, module in model.named_modules():
        if name == "" or _inside(name, trainable):
            continue
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            replacements.append((name, FrozenBatchNorm.from_batchnorm(module)))
        elif isinstance(module, nn.modules.dropout._DropoutNd):
            replacements.append((name, nn.Identity()))
    for name, new in replacements:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, new)
    return model


def count_trainable(model: nn.Module) -> int:
    """Number of parameters (scalars) with ``requires_grad=True`` — what an optimiser would update."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def count_parameters(model: nn.Module) -> int:
    """Number of parameters (scalars), trainable or not (frozen BatchNorm's buffers are not parameters)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters())


def _has_params(module: nn.Module) -> bool:
    return any(True for _ in module.parameters())


_NORMS = (nn.modules.batchnorm._BatchNorm, FrozenBatchNorm, nn.GroupNorm, nn.LayerNorm,
          nn.modules.instancenorm._InstanceNorm)


def blocks(model: nn.Module, *, head: str = "fc") -> list[tuple[str, ...]]:
    """The model's blocks in forward order, the head excluded: what "unfreeze the last k blocks" counts.

    A block is one of the model's top-level children that holds parameters, with a normalisation layer
    joined to the layer before it (a conv and its BatchNorm are one block). Where only one such child
    exists besides the head (a ``features``, ``backbone`` or ``encoder`` container), its children are the
    blocks, and so on down. A torchvision ResNet gives ``(conv1, bn1), (layer1,) … (layer4,)``; the kit's
    ``small_cnn`` gives its three conv/BatchNorm pairs.
    """
    _check_module_names(model, (head,), "head")
    prefix, module = "", model
    while True:
        children = [(n, m) for n, m in module.named_children() if _has_params(m) and prefix + n != head]
        if len(children) == 1 and any(True for _ in children[0][1].named_children()):
            prefix, module = prefix + children[0][0] + ".", children[0][1]
            continue
        out: list[list[str]] = []
        for name, child in children:
            if isinstance(child, _NORMS) and out:
                out[-1].append(prefix + name)
            else:
                out.append([prefix + name])
        return [tuple(b) for b in out]


def replace_head(model: nn.Module, num_classes: int, *, head: str = "fc") -> nn.Module:
    """Swap the final ``nn.Linear`` named ``head`` for a freshly initialised one with ``num_classes`` outputs."""
    check_positive_int(num_classes, "num_classes")
    _check_module_names(model, (head,), "head")
    old = model.get_submodule(head)
    if not isinstance(old, nn.Linear):
        raise TypeError(f"head {head!r} must be an nn.Linear, got {type(old).__name__}")
    parent_name, _, child = head.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, nn.Linear(old.in_features, num_classes).to(old.weight.device))
    return model


# --------------------------------------------------------------------------------------------------
# feature extraction, cached
# --------------------------------------------------------------------------------------------------

def _as_tensor(X, name: str = "X") -> torch.Tensor:
    """The engine's image check (tensor or array, uint8 or float, [N, ...]) plus N >= 1."""
    from labkit import train as engine

    X = engine._check_images(engine._as_tensor(X, name), name)
    if len(X) == 0:
        raise ValueError(f"{name} must have shape [N, ...] with N >= 1, got {tuple(X.shape)}")
    return X


def _to_model_input(batch: torch.Tensor) -> torch.Tensor:
    """The engine's convention: uint8 images become float32 in [0, 1]; models own their normalisation."""
    return batch.float().div_(255) if batch.dtype == torch.uint8 else batch.float()


def feature_cache_key(model: nn.Module, X) -> str:
    """A sha256 over the model's architecture (``repr``), its weights and buffers, and the data's bytes."""
    X = _as_tensor(X)
    h = hashlib.sha256()
    h.update(repr(model).encode())
    for name, tensor in model.state_dict().items():
        h.update(name.encode())
        h.update(str(tuple(tensor.shape)).encode() + str(tensor.dtype).encode())
        h.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    h.update(str((tuple(X.shape), str(X.dtype))).encode())
    h.update(X.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def default_cache_dir() -> Path:
    """``labkit.data.default_data_root() / "features"``: where extracted features are cached."""
    from labkit.data import default_data_root

    return default_data_root() / "features"


def extract_features(model: nn.Module, X, *, batch_size: int = 512, device=None,
                     cache: bool | str | os.PathLike = True, progress: bool = False) -> np.ndarray:
    """Features of ``X`` under ``model`` as a float32 array ``[N, D]`` (outputs flattened per sample).

    The model runs in ``eval()`` mode (BatchNorm uses its running statistics and does not update them —
    004 §4.2 extracts in train mode) under ``torch.no_grad()``, in batches on ``device``
    (``labkit.get_device()`` by default); its previous mode and device are restored afterwards. uint8
    images are fed as float32 in [0, 1]. ``cache=True`` stores the result under
    :func:`default_cache_dir` (a folder path chooses another place, ``False`` turns caching off) as
    ``features-<hash>.npz``, keyed by :func:`feature_cache_key`: a changed weight or image misses.
    """
    from labkit.core import get_device

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    X = _as_tensor(X)
    check_positive_int(batch_size, "batch_size")
    if not isinstance(cache, (bool, str, os.PathLike)):
        raise TypeError(f"cache must be True, False or a folder path, got {cache!r}")
    path = None
    if cache is not False:
        folder = default_cache_dir() if cache is True else Path(cache).expanduser()
        path = folder / f"features-{feature_cache_key(model, X)[:32]}.npz"
        if path.is_file():
            with np.load(path, allow_pickle=False) as stored:
                return stored["features"]
    device = get_device(device)
    was_training = model.training
    first = next(model.parameters(), None)
    home = first.device if first is not None else torch.device("cpu")
    model.to(device).eval()
    chunks = []
    starts = range(0, len(X), batch_size)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="features", unit="batch")
    try:
        with torch.no_grad():
            for start in starts:
                batch = _to_model_input(X[start:start + batch_size].to(device, non_blocking=True))
                chunks.append(model(batch).flatten(1).float().cpu())
    finally:
        model.to(home).train(was_training)
    features = torch.cat(chunks).numpy()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.stem + ".part.npz")
        np.savez(tmp, features=features)
        tmp.replace(path)
    return features


# --------------------------------------------------------------------------------------------------
# linear probe and fine-tuning
# --------------------------------------------------------------------------------------------------

def linear_probe(features, y, *, C: float = 1.0, max_iter: int = 2000, random_state: RandomState = None):
    """A logistic-regression head on (cached) features: standardise, then L2-regularised multinomial
    logistic regression solved to convergence (lbfgs). Returns the fitted scikit-learn pipeline.

    This is the "new model on the extracted features" of 004 §3.2.2, trained properly: the document's
    head gets 10 full-batch SGD steps at lr 0.001 and is barely trained (ERRATA 004 §4.2).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from labkit._validation import as_seed

    F = check_features(features, "features")
    y = check_labels(y, len(F))
    if len(np.unique(y)) < 2:
        raise ValueError(f"y must hold at least two classes, got {np.unique(y).tolist()}")
    if not np.isfinite(C) or C <= 0:
        raise ValueError(f"C must be a positive number, got {C!r}")
    check_positive_int(max_iter, "max_iter")
    clf = LogisticRegression(C=C, max_iter=max_iter, random_state=as_seed(random_state))
    return make_pipeline(StandardScaler(), clf).fit(F, y)


def finetune(model: nn.Module, train, val=None, *, unfreeze: int | str = "all", head: str = "fc",
             epochs: int, lr: float, **fit_kwargs) -> pd.DataFrame:
    """Fine-tune ``model`` with ``labkit.train.fit``: all layers (``unfreeze="all"``, 004 §3.2.1), or
    the head plus the last ``unfreeze`` blocks of :func:`blocks` (``0`` = the head only, i.e. a
    linear probe trained by SGD), the rest frozen with :func:`freeze`. Returns ``fit``'s history.
    """
    from labkit import train as engine

    if unfreeze != "all":
        found = blocks(model, head=head)
        if isinstance(unfreeze, bool) or not isinstance(unfreeze, (int, np.integer)):
            raise TypeError(f"unfreeze must be 'all' or an int, got {unfreeze!r}")
        if not 0 <= unfreeze <= len(found):
            raise ValueError(f"unfreeze must be 'all' or in [0, {len(found)}] (blocks {found}), "
                             f"got {unfreeze!r}")
        names = [name for block in found[len(found) - int(unfreeze):] for name in block]
        freeze(model, trainable=(*names, head))
    else:
        _check_module_names(model, (head,), "head")
        for param in model.parameters():
            param.requires_grad_(True)
    return engine.fit(model, train, val, epochs=epochs, lr=lr, **fit_kwargs)


# --------------------------------------------------------------------------------------------------
# ImageNet-pretrained ResNet (full profile)
# --------------------------------------------------------------------------------------------------

class WeightsUnavailable(RuntimeError):
    """Pretrained weights could not be loaded (typically: offline); the message says what to do."""


class TransferNet(nn.Module):
    """``fc(flatten(backbone(preprocess(x))))``: a backbone with its input transform and a new head.

    Inputs are float images in [0, 1] of any size (the engine's convention); ``preprocess`` resizes and
    normalises them as the backbone's weights expect. :attr:`features` is the feature extractor
    (preprocess + backbone) to pass to :func:`extract_features`.
    """

    def __init__(self, preprocess: nn.Module, backbone: nn.Module, fc: nn.Linear):
        super().__init__()
        self.preprocess = preprocess
        self.backbone = backbone
        self.fc = fc

    @property
    def features(self) -> nn.Sequential:
        return nn.Sequential(self.preprocess, self.backbone, nn.Flatten(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.backbone(self.preprocess(x)), 1))


def pretrained_resnet(arch: str = "resnet50", *, num_classes: int, weights: str | None = "DEFAULT",
                      input_size: int | None = None) -> TransferNet:
    """A torchvision ResNet with ImageNet weights (the weights API, e.g. ``ResNet50_Weights.DEFAULT``;
    004 §4 uses the deprecated ``pretrained=True``) and a new ``num_classes`` head.

    The weights' own ``transforms()`` (resize to 232, centre-crop 224, ImageNet mean/std) go inside the
    model as ``preprocess``; ``input_size`` overrides resize and crop (e.g. a small size for tests).
    ``weights=None`` gives random weights with the same preprocessing (ImageNet statistics). Raises
    :class:`WeightsUnavailable` when the weights cannot be downloaded or read.
    """
    import torchvision
    from torchvision.transforms._presets import ImageClassification

    archs = ("resnet18", "resnet34", "resnet50", "resnet101")
    if arch not in archs:
        raise ValueError(f"arch must be one of {archs}, got {arch!r}")
    check_positive_int(num_classes, "num_classes")
    if input_size is not None:
        check_positive_int(input_size, "input_size", minimum=8)
    enum = torchvision.models.get_model_weights(arch)
    if weights is None:
        weight = None
    elif isinstance(weights, enum):
        weight = weights
    elif isinstance(weights, str):
        try:
            weight = enum[weights.split(".")[-1]]
        except KeyError as err:
            raise ValueError(f"weights must be None or one of {[w.name for w in enum] + ['DEFAULT']}, "
                             f"got {weights!r}") from err
    else:
        raise TypeError(f"weights must be None, a name or a {enum.__name__}, got {weights!r}")
    try:
        net = torchvision.models.get_model(arch, weights=weight)
    except Exception as err:  # network errors come as URLError, OSError, RuntimeError...
        raise WeightsUnavailable(
            f"could not load {weight} ({type(err).__name__}: {err}). torchvision downloads it from "
            f"{weight.url} into {torch.hub.get_dir()}/checkpoints; with no network, copy the file there, "
            "or use the offline protocol (a source model pretrained here)."
        ) from err
    if weight is not None:
        preset = weight.transforms()
        mean, std = list(preset.mean), list(preset.std)
        crop, resize = preset.crop_size[0], preset.resize_size[0]
    else:
        mean, std, crop, resize = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225], 224, 232
    if input_size is not None:
        crop = resize = input_size
    preprocess = ImageClassification(crop_size=crop, resize_size=resize, mean=mean, std=std)
    fc = nn.Linear(net.fc.in_features, num_classes)
    net.fc = nn.Identity()
    return TransferNet(preprocess, net, fc)


# --------------------------------------------------------------------------------------------------
# labels-per-class sweep
# --------------------------------------------------------------------------------------------------

def per_class_indices(y, n_per_class: int, *, random_state: RandomState = None) -> np.ndarray:
    """Indices of ``n_per_class`` samples drawn without replacement from every class of ``y``."""
    from labkit.balance import balance_per_class

    y = check_labels(np.asarray(y))
    idx, _ = balance_per_class(np.arange(len(y))[:, None], y, n_per_class, random_state=random_state,
                               replace=False)
    return idx[:, 0]


def label_sweep(methods: dict[str, Callable], y_pool, y_test, *, labels_per_class: Sequence[int | str],
                n_repeats: int | dict, random_state: RandomState = 0, progress: bool = False) -> pd.DataFrame:
    """Test accuracy of each method against the number of labelled target samples per class.

    For every repeat and every ``labels_per_class`` entry (an int, or ``"all"`` for the whole pool) one
    labelled subset of the pool is drawn and given to every method: a paired comparison. A method is a
    callable ``method(idx, seed)`` that trains on the pool samples ``idx`` (labels ``y_pool[idx]``) and
    returns its predicted labels for the test set, or ``(predictions, info)`` with a dict of extra
    columns (see :func:`network_method`, :func:`probe_method`). ``n_repeats`` is an int, or a dict
    ``{labels_per_class: repeats}`` — few-label subsets vary most and cost least, so they can get more
    repeats. Returns one row per (method, labels_per_class, repeat) with ``n_labels``, ``accuracy``,
    ``seconds`` (training and prediction) and the info columns. The (repeat, label count) jobs run where
    :mod:`labkit.parallel` says (``$LABKIT_CLUSTER``; else serially, in this process).
    """
    if not isinstance(methods, dict) or not methods:
        raise ValueError(f"methods must be a non-empty dict of name -> callable, got {methods!r}")
    for name, fn in methods.items():
        if not callable(fn):
            raise TypeError(f"methods[{name!r}] must be callable, got {fn!r}")
    y_pool = check_labels(np.asarray(y_pool), name="y_pool")
    y_test = check_labels(np.asarray(y_test), name="y_test")
    if isinstance(n_repeats, dict):
        missing = [n for n in labels_per_class if n not in n_repeats]
        if missing:
            raise ValueError(f"n_repeats has no entry for labels_per_class {missing} (has {list(n_repeats)})")
        repeats = {n: check_positive_int(n_repeats[n], "n_repeats") for n in labels_per_class}
    else:
        repeats = dict.fromkeys(labels_per_class, check_positive_int(n_repeats, "n_repeats"))
    smallest = np.unique(y_pool, return_counts=True)[1].min()
    for n in labels_per_class:
        if isinstance(n, str) and n == "all":
            continue
        check_positive_int(n, "labels_per_class")
        if n > smallest:
            raise ValueError(f"labels_per_class={n} exceeds the smallest class of the pool ({smallest})")
    base = int(as_generator(random_state).integers(0, 2**31 - 1))
    jobs = [(r, i, n) for r in range(max(repeats.values())) for i, n in enumerate(labels_per_class)
            if r < repeats[n]]
    from labkit.parallel import run_jobs

    def one(repeat, level, n):
        rows = []
        # one seed per (repeat, label count): adding repeats to one count leaves the others' subsets alone
        seed = int(np.random.default_rng([base, repeat, level]).integers(0, 2**31 - 1))
        idx = np.arange(len(y_pool)) if n == "all" else per_class_indices(y_pool, n, random_state=seed)
        for name, method in methods.items():
            start = time.perf_counter()
            out = method(idx, seed)
            seconds = time.perf_counter() - start
            pred, info = out if isinstance(out, tuple) else (out, {})
            pred = np.asarray(pred)
            if pred.shape != y_test.shape:
                raise ValueError(f"methods[{name!r}] returned {pred.shape} predictions for {len(y_test)} "
                                 "test samples")
            rows.append({"method": name, "labels_per_class": n, "repeat": repeat, "n_labels": len(idx),
                         "accuracy": float(np.mean(pred == y_test)), "seconds": seconds, **info})
        return rows

    return pd.DataFrame([row for rows in run_jobs(one, jobs, desc="label sweep", progress=progress) for row in rows])


def epochs_for_steps(n_samples: int, steps: int, batch_size: int) -> int:
    """Epochs that give at least ``steps`` optimiser steps on ``n_samples`` samples: a fixed step budget,
    so a run on 5 labelled images takes as many updates as a run on 5 000."""
    check_positive_int(n_samples, "n_samples")
    check_positive_int(steps, "steps")
    check_positive_int(batch_size, "batch_size")
    return max(1, -(-steps // -(-n_samples // batch_size)))


def network_method(build: Callable[[int], nn.Module], X_pool, y_pool, X_test, *, steps: int, lr: float,
                   unfreeze: int | str = "all", head: str = "fc", batch_size: int = 128,
                   eval_batch_size: int = 256, device=None, **fit_kwargs) -> Callable:
    """A :func:`label_sweep` method that trains a network: ``build(seed)`` makes the model (a fresh one
    for training from scratch, a copy of a pretrained one with a new head for fine-tuning), then
    :func:`finetune` trains it for about ``steps`` optimiser steps and it predicts ``X_test``.

    Info columns: ``trainable_params``, ``epochs`` and ``seconds_per_epoch``.
    """
    from labkit import train as engine

    if not callable(build):
        raise TypeError(f"build must be a callable seed -> model, got {build!r}")
    y_pool = torch.as_tensor(np.asarray(y_pool))
    check_positive_int(steps, "steps")

    def method(idx, seed):
        model = build(seed)
        idx_t = torch.as_tensor(np.asarray(idx))
        epochs = epochs_for_steps(len(idx_t), steps, batch_size)
        history = finetune(model, (X_pool[idx_t], y_pool[idx_t]), unfreeze=unfreeze, head=head,
                           epochs=epochs, lr=lr, batch_size=batch_size, device=device, progress=False,
                           random_state=seed, **fit_kwargs)
        pred = engine.predict_logits(model, X_test, batch_size=eval_batch_size, device=device).argmax(1).numpy()
        return pred, {"trainable_params": count_trainable(model), "epochs": epochs,
                      "seconds_per_epoch": float(history["seconds"].mean())}

    return method


def probe_method(F_pool, y_pool, F_test, *, C: float = 1.0) -> Callable:
    """A :func:`label_sweep` method: :func:`linear_probe` on precomputed (cached) features ``F_pool``,
    predicting ``F_test``. Info columns: ``trainable_params`` (the head's weights and biases)."""
    F_pool = check_features(F_pool, "F_pool")
    F_test = check_features(F_test, "F_test")
    y_pool = check_labels(np.asarray(y_pool), len(F_pool), "y_pool")
    if F_pool.shape[1] != F_test.shape[1]:
        raise ValueError(f"F_test has {F_test.shape[1]} features, F_pool {F_pool.shape[1]}")

    def method(idx, seed):
        probe = linear_probe(F_pool[idx], y_pool[idx], C=C, random_state=seed)
        n_classes = len(np.unique(y_pool[idx]))
        return probe.predict(F_test), {"trainable_params": F_pool.shape[1] * n_classes + n_classes}

    return method


# --------------------------------------------------------------------------------------------------
# the documents' code, reproduced so the notebook can measure what it costs (ERRATA 004 §4.2)
# --------------------------------------------------------------------------------------------------

def document_extract_features(model: nn.Module, X, *, batch_size: int = 64,
                              random_state: RandomState = None) -> np.ndarray:
    """004 §4.2's feature extraction as written: ``torch.no_grad()`` but **no** ``model.eval()``, shuffled
    batches of 64. BatchNorm normalises each batch with that batch's statistics (a sample's features
    depend on which batch it lands in) and updates its running averages — the model is changed.
    Returns the features in the order of ``X``. For the erratum only; use :func:`extract_features`.
    """
    X = _as_tensor(X)
    check_positive_int(batch_size, "batch_size")
    order = torch.as_tensor(as_generator(random_state).permutation(len(X)))
    first = next(model.parameters(), None)
    device = first.device if first is not None else torch.device("cpu")
    model.train()  # what a freshly built torchvision model is in, and the document never leaves
    out = torch.empty(0)
    with torch.no_grad():
        for start in range(0, len(X), batch_size):
            idx = order[start:start + batch_size]
            feats = model(_to_model_input(X[idx].to(device))).flatten(1).float().cpu()
            if out.numel() == 0:
                out = torch.empty(len(X), feats.shape[1])
            out[idx] = feats
    return out.numpy()


def document_linear_head(features, y, *, steps: int = 10, lr: float = 0.001, momentum: float = 0.9,
                         random_state: int | None = None) -> nn.Linear:
    """004 §4.2's classifier as written: ``nn.Linear`` on the raw features, plain SGD (lr 0.001, momentum
    0.9), ``steps`` full-batch steps (the document's "10 epochs" of one step each). It is barely trained
    (ERRATA 004 §4.2); :func:`linear_probe` is the fix. Returns the layer (CPU)."""
    F = torch.as_tensor(check_features(features, "features"), dtype=torch.float32)
    y = torch.as_tensor(check_labels(np.asarray(y), len(F)), dtype=torch.int64)
    check_positive_int(steps, "steps")
    if random_state is not None:
        torch.manual_seed(check_positive_int(random_state, "random_state", minimum=0))
    classifier = nn.Linear(F.shape[1], int(y.max()) + 1)
    optimizer = torch.optim.SGD(classifier.parameters(), lr=lr, momentum=momentum)
    for _ in range(steps):  # the document's loop: one full-batch step per "epoch"
        loss = nn.functional.cross_entropy(classifier(F), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return classifier


def predict_linear(classifier: nn.Linear, features) -> np.ndarray:
    """Class predictions of a torch linear head on a feature matrix."""
    with torch.no_grad():
        return classifier(torch.as_tensor(np.asarray(features), dtype=torch.float32)).argmax(1).numpy()


# --------------------------------------------------------------------------------------------------
# the full path: ImageNet-pretrained ResNet on CIFAR-10 (004 §4.1/§4.2, corrected)
# --------------------------------------------------------------------------------------------------

def imagenet_transfer(X_train, y_train, X_test, y_test, *, arch: str = "resnet50",
                      weights: str | None = "DEFAULT", input_size: int | None = None,
                      finetune_epochs: int = 3, lr: float = 0.01, weight_decay: float = 1e-4,
                      batch_size: int = 128, feature_batch_size: int = 256, augment: bool = True,
                      document_subset: int = 5000, device=None, cache: bool | str | os.PathLike = True,
                      random_state: int = 0, progress: bool = True) -> dict:
    """004 §4's two deployments done right, on images ``X_*`` (uint8 ``[N, 3, H, W]``, e.g. CIFAR-10):

    1. feature extraction: :func:`pretrained_resnet` (weights API, the weights' own resize and
       normalisation inside the model), features extracted once in ``eval()`` mode on ``device`` and
       cached, then :func:`linear_probe` — and, beside it, the document's 10-step head on the same features;
    2. end-to-end fine-tuning of a fresh copy with :func:`finetune` (``labkit.train.fit``: on the GPU,
       bf16 autocast, mini-batches, one-cycle schedule).

    Beside them, 004 §4.2's extraction as written (:func:`document_extract_features`: train mode, shuffled
    batches of 64, on a copy of the network) on the first ``document_subset`` training and test images,
    probed like the corrected features of the same images (``0`` skips it).

    Returns a dict: ``probe_accuracy``, ``document_head_accuracy``, ``finetune_accuracy``,
    ``finetune_history`` (DataFrame), ``feature_seconds`` (extraction, train and test),
    ``feature_dim``, ``weights``, and for the subset ``subset_eval_probe_accuracy`` and
    ``subset_document_extraction_accuracy``. Raises :class:`WeightsUnavailable` offline.
    """
    from labkit import train as engine
    from labkit.core import get_device

    y_train_np = check_labels(np.asarray(y_train), len(X_train), "y_train")
    y_test_np = check_labels(np.asarray(y_test), len(X_test), "y_test")
    check_positive_int(finetune_epochs, "finetune_epochs", minimum=0)
    check_positive_int(document_subset, "document_subset", minimum=0)
    num_classes = int(max(y_train_np.max(), y_test_np.max())) + 1
    device = get_device(device)
    torch.manual_seed(random_state)
    net = pretrained_resnet(arch, num_classes=num_classes, weights=weights, input_size=input_size)

    start = time.perf_counter()
    F_train = extract_features(net.features, X_train, batch_size=feature_batch_size, device=device,
                               cache=cache, progress=progress)
    F_test = extract_features(net.features, X_test, batch_size=feature_batch_size, device=device,
                              cache=cache, progress=progress)
    feature_seconds = time.perf_counter() - start
    probe = linear_probe(F_train, y_train_np, random_state=random_state)
    doc_head = document_linear_head(F_train, y_train_np, random_state=random_state)
    result = {
        "weights": str(weights), "feature_dim": int(F_train.shape[1]), "feature_seconds": feature_seconds,
        "probe_accuracy": float(np.mean(probe.predict(F_test) == y_test_np)),
        "document_head_accuracy": float(np.mean(predict_linear(doc_head, F_test) == y_test_np)),
        "finetune_accuracy": float("nan"), "finetune_history": None,
        "subset_eval_probe_accuracy": float("nan"), "subset_document_extraction_accuracy": float("nan"),
    }
    if document_subset:
        n_tr, n_te = min(document_subset, len(X_train)), min(document_subset, len(X_test))
        doc_net = copy.deepcopy(net.features).to(device)
        D_train = document_extract_features(doc_net, X_train[:n_tr], random_state=random_state)
        D_test = document_extract_features(doc_net, X_test[:n_te], random_state=random_state)
        del doc_net
        doc_probe = linear_probe(D_train, y_train_np[:n_tr], random_state=random_state)
        sub_probe = linear_probe(F_train[:n_tr], y_train_np[:n_tr], random_state=random_state)
        result["subset_document_extraction_accuracy"] = float(np.mean(doc_probe.predict(D_test) == y_test_np[:n_te]))
        result["subset_eval_probe_accuracy"] = float(np.mean(sub_probe.predict(F_test[:n_te]) == y_test_np[:n_te]))
    if finetune_epochs:
        history = finetune(net, (torch.as_tensor(np.asarray(X_train)), torch.as_tensor(y_train_np)),
                           (torch.as_tensor(np.asarray(X_test)), torch.as_tensor(y_test_np)),
                           unfreeze="all", epochs=finetune_epochs, lr=lr, weight_decay=weight_decay,
                           batch_size=batch_size, augment=augment, device=device, progress=progress,
                           random_state=random_state)
        result["finetune_history"] = history
        result["finetune_accuracy"] = engine.evaluate(net, (torch.as_tensor(np.asarray(X_test)),
                                                            torch.as_tensor(y_test_np)),
                                                      device=device)["accuracy"]
    return result
