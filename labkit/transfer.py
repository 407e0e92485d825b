"""Reusing a trained network (document 004, 002 §3.1/§4): freeze it, extract features, probe, fine-tune.

The two deployments of 004 §3.2 — end-to-end fine-tuning and frozen feature extraction with a new head —
plus the pieces they need done right (ERRATA 004, 002 §4):

- :func:`freeze` freezes everything but the named parts *and* their BatchNorm statistics: a frozen
  ``BatchNorm`` becomes a ``FrozenBatchNorm`` (eval-mode BatchNorm, no train mode) and a frozen ``Dropout``
  an ``Identity`` — what they compute in ``eval()`` — so ``model.train()`` cannot change a frozen part.
  The model remembers what was changed: :func:`unfreeze` puts it back, and ``with frozen(model, ...)``
  freezes for the length of a block (``labkit.distill``'s partial updates use it).
- :func:`extract_features` runs the model in ``eval()`` mode without gradients, batched on the device
  (``labkit.train.image_batches``), and caches the result as ``.npz`` keyed by a hash of the weights and the data: extracted once, reused.
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
import random
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from labkit._validation import (
    RandomState,
    as_generator,
    as_seed,
    check_bool,
    check_choice,
    check_classes,
    check_images,
    check_int,
    check_labels,
    check_module,
    check_number,
    check_same_length,
    check_samples,
    check_targets,
    input_channels,
)
from labkit.models import WeightsUnavailable, resolve_weights, torchvision_model

__all__ = [
    "FrozenBatchNorm",
    "TransferNet",
    "WeightsUnavailable",
    "blocks",
    "count_parameters",
    "count_trainable",
    "default_cache_dir",
    "evaluation_modes",
    "extract_features",
    "feature_cache_key",
    "finetune",
    "freeze",
    "frozen",
    "imagenet_transfer",
    "unfreeze",
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

    It computes exactly what the original BatchNorm computes in ``eval()`` mode (the same
    ``F.batch_norm`` call, so the same numbers and dtypes under autocast), and has no train mode: the
    running statistics and affine terms are buffers that nothing updates. (For 4-D inputs this is
    ``torchvision.ops.FrozenBatchNorm2d``; this version also covers ``BatchNorm1d``/``BatchNorm3d``.)
    """

    def __init__(self, num_features: int, eps: float = 1e-5):
        super().__init__()
        num_features = check_int(num_features, "num_features", low=1)
        self.eps = check_number(eps, "eps", low=0.0, low_open=True)
        self.register_buffer("weight", torch.ones(num_features))
        self.register_buffer("bias", torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    @classmethod
    def from_batchnorm(cls, bn: nn.modules.batchnorm._BatchNorm) -> FrozenBatchNorm:
        if not isinstance(bn, nn.modules.batchnorm._BatchNorm):
            raise TypeError(f"bn must be a BatchNorm layer, got {type(bn).__name__}")
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
        return nn.functional.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                                        training=False, eps=self.eps)

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


@dataclass
class _Frozen:
    """What :func:`freeze` changed, kept on the model (not a module, so not in its state dict)."""

    trainable: tuple[str, ...]
    requires_grad: dict[str, bool]  # every parameter's flag before freezing
    replaced: list[tuple[str, nn.Module, nn.Module]]  # (name, original module, its frozen stand-in)


_RECORD = "_labkit_frozen"


def _set_module(model: nn.Module, name: str, module: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent_name) if parent_name else model, child, module)


def freeze(model: nn.Module, *, trainable: Sequence[str] | str = ("fc",)) -> nn.Module:
    """Freeze every part of ``model`` except the modules named in ``trainable``; return the model.

    Frozen parameters get ``requires_grad=False`` (so backward skips them and ``fit`` does not optimise
    them), and frozen BatchNorm/Dropout layers are replaced by what they compute in ``eval()`` mode
    (:class:`FrozenBatchNorm`, ``nn.Identity``), so ``model.train()`` cannot change their statistics —
    the mistake of 002 §4, which sets ``requires_grad=False`` and trains with BatchNorm in train mode.
    ``trainable`` holds qualified module names as in ``model.named_modules()`` (``"fc"``, ``"layer4"``,
    ``"backbone.layer4.1"``); ``()`` freezes everything. The model is changed in place and remembers what
    changed: :func:`unfreeze` undoes it. Freezing a frozen model starts from the unfrozen one, so the last
    call decides what trains.
    """
    check_module(model, "model")
    trainable = _check_module_names(model, trainable, "trainable")
    _undo_freeze(model)
    record = _Frozen(trainable, {n: p.requires_grad for n, p in model.named_parameters()}, [])
    for name, param in model.named_parameters():
        param.requires_grad_(_inside(name.rpartition(".")[0], trainable))
    for name, module in list(model.named_modules()):
        if name == "" or _inside(name, trainable):
            continue
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            record.replaced.append((name, module, FrozenBatchNorm.from_batchnorm(module)))
        elif isinstance(module, nn.modules.dropout._DropoutNd):
            record.replaced.append((name, module, nn.Identity()))
    for name, _, stand_in in record.replaced:
        _set_module(model, name, stand_in)
    model.__dict__[_RECORD] = record
    return model


def unfreeze(model: nn.Module) -> nn.Module:
    """Undo :func:`freeze`: the original BatchNorm (with the frozen statistics and affine terms, which may
    have been loaded since) and Dropout layers go back, and every parameter gets back the ``requires_grad``
    it had before freezing. A model that is not frozen is returned unchanged."""
    check_module(model, "model")
    return _undo_freeze(model)


def _undo_freeze(model: nn.Module) -> nn.Module:
    record = model.__dict__.pop(_RECORD, None)
    if record is None:
        return model
    for name, original, stand_in in reversed(record.replaced):
        try:
            current = model.get_submodule(name)
        except AttributeError:
            continue  # the part was removed or renamed since
        if current is not stand_in:
            continue  # replaced by the user since: leave it
        if isinstance(stand_in, FrozenBatchNorm):
            original.to(device=stand_in.running_mean.device, dtype=stand_in.running_mean.dtype)
            with torch.no_grad():
                for key in ("weight", "bias", "running_mean", "running_var"):
                    if getattr(original, key) is not None:
                        getattr(original, key).copy_(getattr(stand_in, key))
        _set_module(model, name, original)
    for name, param in model.named_parameters():
        if name in record.requires_grad:
            param.requires_grad_(record.requires_grad[name])
    return model


@contextmanager
def frozen(model: nn.Module, *, trainable: Sequence[str] | str = ("fc",)) -> Iterator[nn.Module]:
    """``with frozen(model, trainable=...):`` — :func:`freeze` for the length of the block, then
    :func:`unfreeze` (back to the freezing the model had before, if any)."""
    before = model.__dict__.get(_RECORD) if isinstance(model, nn.Module) else None
    freeze(model, trainable=trainable)
    try:
        yield model
    finally:
        unfreeze(model)
        if before is not None:
            freeze(model, trainable=before.trainable)


def count_trainable(model: nn.Module) -> int:
    """Number of parameters (scalars) with ``requires_grad=True`` — what an optimiser would update."""
    check_module(model, "model")
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def count_parameters(model: nn.Module) -> int:
    """Number of parameters (scalars), trainable or not (frozen BatchNorm's buffers are not parameters)."""
    check_module(model, "model")
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
    check_module(model, "model")
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
    check_module(model, "model")
    check_int(num_classes, "num_classes", low=1)
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

def feature_cache_key(model: nn.Module, X) -> str:
    """A sha256 over the model's architecture (``repr``), its weights and buffers, and the data's bytes."""
    check_module(model, "model")
    X = check_images(X, "X", caller="feature_cache_key")
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
    (``labkit.get_device()`` by default) from ``labkit.train.image_batches``; its previous mode and device are
    restored afterwards. uint8 images are fed as float32 in [0, 1]. ``cache=True`` stores the result under
    :func:`default_cache_dir` (a folder path chooses another place, ``False`` turns caching off) as
    ``features-<hash>.npz``, keyed by :func:`feature_cache_key`: a changed weight or image misses. A cache
    file that cannot be read is recomputed (with a warning) and overwritten.
    """
    from labkit import train as engine
    from labkit._validation import check_device, input_channels

    check_module(model, "model")
    X = check_images(X, "X", caller="extract_features", channels=input_channels(model))
    batch_size = check_int(batch_size, "batch_size", low=1)
    progress = check_bool(progress, "progress")
    if not isinstance(cache, (bool, str, os.PathLike)):
        raise TypeError(f"cache must be True, False or a folder path, got {cache!r}")
    device = check_device(device)
    path = None
    if cache is not False:
        folder = default_cache_dir() if cache is True else Path(cache).expanduser()
        path = folder / f"features-{feature_cache_key(model, X)[:32]}.npz"
        if path.is_file():
            try:
                with np.load(path, allow_pickle=False) as stored:
                    return stored["features"]
            except Exception as err:  # a damaged cache file is a miss, not a failure
                warnings.warn(f"feature cache {str(path)!r} could not be read ({type(err).__name__}: {err}); "
                              "extracting again", stacklevel=2)
    was_training = model.training
    first = next(model.parameters(), None)
    home = first.device if first is not None else torch.device("cpu")
    batches = engine.image_batches(X, batch_size=batch_size, device=device)
    if progress:
        from tqdm.auto import tqdm

        batches = tqdm(batches, total=-(-len(X) // batch_size), desc="features", unit="batch")
    model.to(device).eval()
    chunks = []
    try:
        with torch.no_grad():
            for batch in batches:
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

    F = check_samples(features, "features")
    y = check_labels(y, len(F))
    if len(np.unique(y)) < 2:
        raise ValueError(f"y must hold at least two classes, got {np.unique(y).tolist()}")
    check_classes(y, "y")
    C = check_number(C, "C", low=0.0, low_open=True)
    check_int(max_iter, "max_iter", low=1)
    clf = LogisticRegression(C=C, max_iter=max_iter, random_state=as_seed(random_state))
    return make_pipeline(StandardScaler(), clf).fit(F, y)


def finetune(model: nn.Module, train, val=None, *, unfreeze: int | str = "all", head: str = "fc",
             epochs: int, lr: float, **fit_kwargs) -> pd.DataFrame:
    """Fine-tune ``model`` with ``labkit.train.fit``: all layers (``unfreeze="all"``, 004 §3.2.1), or
    the head plus the last ``unfreeze`` blocks of :func:`blocks` (``0`` = the head only, i.e. a
    linear probe trained by SGD), the rest frozen with :func:`freeze`. Returns ``fit``'s history.
    A model frozen before is unfrozen first: ``unfreeze`` alone decides what trains.
    """
    from labkit import train as engine

    check_module(model, "model")
    if isinstance(unfreeze, str) and unfreeze == "all":
        _check_module_names(model, (head,), "head")
        _undo_freeze(model)
        for param in model.parameters():
            param.requires_grad_(True)
    else:
        if isinstance(unfreeze, bool) or not isinstance(unfreeze, (int, np.integer)):
            raise TypeError(f"unfreeze must be 'all' or an int, got {unfreeze!r}")
        before = model.__dict__.get(_RECORD)
        _undo_freeze(model)  # blocks are counted on the whole model
        found = blocks(model, head=head)
        if not 0 <= unfreeze <= len(found):
            if before is not None:
                freeze(model, trainable=before.trainable)
            raise ValueError(f"unfreeze must be 'all' or in [0, {len(found)}] (blocks {found}), "
                             f"got {unfreeze!r}")
        names = [name for block in found[len(found) - int(unfreeze):] for name in block]
        freeze(model, trainable=(*names, head))
    return engine.fit(model, train, val, epochs=epochs, lr=lr, **fit_kwargs)


# --------------------------------------------------------------------------------------------------
# ImageNet-pretrained ResNet (full profile)
# --------------------------------------------------------------------------------------------------

class TransferNet(nn.Module):
    """``fc(flatten(backbone(preprocess(x))))``: a backbone with its input transform and a new head.

    Inputs are float images in [0, 1] of any size (the engine's convention); ``preprocess`` resizes and
    normalises them as the backbone's weights expect. :attr:`features` is the feature extractor
    (preprocess + backbone) to pass to :func:`extract_features`.
    """

    def __init__(self, preprocess: nn.Module, backbone: nn.Module, fc: nn.Linear):
        super().__init__()
        check_module(preprocess, "preprocess")
        check_module(backbone, "backbone")
        check_module(fc, "fc")
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
    from torchvision.transforms._presets import ImageClassification

    from labkit.models import RESNETS

    check_choice(arch, "arch", RESNETS)
    check_int(num_classes, "num_classes", low=1)
    if input_size is not None:
        check_int(input_size, "input_size", low=8)
    weight = resolve_weights(arch, weights)
    net = torchvision_model(arch, weights=weight)  # WeightsUnavailable offline
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
    columns (see :func:`network_method`, :func:`probe_method`). A method may say how many samples its pool
    holds in an ``n_pool`` attribute (the methods of :func:`network_method` and :func:`probe_method` do):
    ``y_pool`` must then have that many entries. ``n_repeats`` is an int, or a dict
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
    for name, fn in methods.items():
        n_pool = getattr(fn, "n_pool", None)
        if n_pool is None:
            continue  # a plain callable: its pool is its own business
        n_pool = check_int(n_pool, f"methods[{name!r}].n_pool", low=1)
        if len(y_pool) != n_pool:
            raise ValueError(f"y_pool has {len(y_pool)} entries but methods[{name!r}] holds a pool of {n_pool} "
                             "samples: y_pool must label the pool the methods train on, one entry per sample")
    y_test = check_labels(np.asarray(y_test), name="y_test")
    check_classes(y_pool, "y_pool", min_classes=2)
    check_classes(y_test, "y_test", min_classes=1)
    progress = check_bool(progress, "progress")
    if isinstance(labels_per_class, (str, bytes)) or not hasattr(labels_per_class, "__iter__"):
        raise TypeError(f"labels_per_class must be a sequence of ints and 'all', got {labels_per_class!r}")
    labels_per_class = list(labels_per_class)
    if not labels_per_class:
        raise ValueError("labels_per_class must name at least one label count")
    if isinstance(n_repeats, dict):
        missing = [n for n in labels_per_class if n not in n_repeats]
        if missing:
            raise ValueError(f"n_repeats has no entry for labels_per_class {missing} (has {list(n_repeats)})")
        repeats = {n: check_int(n_repeats[n], "n_repeats", low=1) for n in labels_per_class}
    else:
        repeats = dict.fromkeys(labels_per_class, check_int(n_repeats, "n_repeats", low=1))
    smallest = np.unique(y_pool, return_counts=True)[1].min()
    for n in labels_per_class:
        if isinstance(n, str) and n == "all":
            continue
        check_int(n, "labels_per_class", low=1)
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
    check_int(n_samples, "n_samples", low=1)
    check_int(steps, "steps", low=1)
    check_int(batch_size, "batch_size", low=1)
    return max(1, -(-steps // -(-n_samples // batch_size)))


def network_method(build: Callable[[int], nn.Module], X_pool, y_pool, X_test, *, steps: int, lr: float,
                   unfreeze: int | str = "all", head: str = "fc", batch_size: int = 128,
                   eval_batch_size: int = 256, device=None, **fit_kwargs) -> Callable:
    """A :func:`label_sweep` method that trains a network: ``build(seed)`` makes the model (a fresh one
    for training from scratch, a copy of a pretrained one with a new head for fine-tuning), then
    :func:`finetune` trains it for about ``steps`` optimiser steps and it predicts ``X_test``.

    ``build(0)`` is called once here, so that what depends on the model is checked now rather than when the
    method runs: ``head`` must name one of its modules, an int ``unfreeze`` must not exceed its
    :func:`blocks`, ``X_pool`` must have the channels it takes, and ``y_pool`` must hold labels in
    ``[0, outputs)`` of an ``nn.Linear`` head. That model is thrown away, and the global random states
    (Python, NumPy, torch) are put back as they were, so the methods' results are those without the check.

    Info columns: ``trainable_params``, ``epochs`` and ``seconds_per_epoch``. The method's ``n_pool``
    attribute (the number of pool samples) lets :func:`label_sweep` check its ``y_pool``.
    """
    from labkit import train as engine
    from labkit._validation import check_device

    if not callable(build):
        raise TypeError(f"build must be a callable seed -> model, got {build!r}")
    X_pool = check_images(X_pool, "X_pool", caller="network_method")
    X_test = check_images(X_test, "X_test", caller="network_method")
    if X_test.shape[1:] != X_pool.shape[1:]:
        raise ValueError(f"X_test has images of shape {tuple(X_test.shape[1:])}, X_pool {tuple(X_pool.shape[1:])}")
    y_pool = torch.as_tensor(check_labels(np.asarray(y_pool), name="y_pool"))
    check_same_length("X_pool", X_pool, "y_pool", y_pool)
    check_int(steps, "steps", low=1)
    check_number(lr, "lr", low=0.0, low_open=True)
    if not (isinstance(unfreeze, str) and unfreeze == "all"):
        check_int(unfreeze, "unfreeze", low=0)
    if not isinstance(head, str):
        raise TypeError(f"head must be a module name (str), got {head!r}")
    check_int(batch_size, "batch_size", low=1)
    check_int(eval_batch_size, "eval_batch_size", low=1)
    check_device(device)
    _check_against_model(build, X_pool, y_pool, unfreeze=unfreeze, head=head)

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

    method.n_pool = len(y_pool)
    return method


@contextmanager
def _global_random_states_kept() -> Iterator[None]:
    """Put Python's, NumPy's (legacy global) and torch's random states back as they were after the block.

    torch: the CPU generator, every CUDA device's when CUDA is initialised (reading them otherwise would
    initialise it) and the MPS generator where there is one.
    """
    py, legacy, cpu = random.getstate(), np.random.get_state(), torch.get_rng_state()  # noqa: NPY002
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None
    mps = torch.mps.get_rng_state() if torch.backends.mps.is_available() else None
    try:
        yield
    finally:
        random.setstate(py)
        np.random.set_state(legacy)  # noqa: NPY002
        torch.set_rng_state(cpu)
        if cuda is not None:
            torch.cuda.set_rng_state_all(cuda)
        if mps is not None:
            torch.mps.set_rng_state(mps)


def _check_against_model(build: Callable[[int], nn.Module], X_pool: torch.Tensor, y_pool: torch.Tensor, *,
                         unfreeze: int | str, head: str) -> None:
    """:func:`network_method`'s checks that need the model: one ``build(0)``, thrown away afterwards."""
    with _global_random_states_kept():
        model = build(0)
    if not isinstance(model, nn.Module):
        raise TypeError(f"build must return a torch.nn.Module, but build(0) returned {model!r}")
    if _RECORD in model.__dict__:  # finetune unfreezes it first: look at it unfrozen, leaving build's model be
        model = _undo_freeze(copy.deepcopy(model))
    _check_module_names(model, (head,), "head")
    if not (isinstance(unfreeze, str) and unfreeze == "all"):
        found = blocks(model, head=head)
        if unfreeze > len(found):
            raise ValueError(f"unfreeze must be 'all' or in [0, {len(found)}] for the model build makes "
                             f"(blocks {found}), got {unfreeze!r}")
    check_images(X_pool, "X_pool", caller="network_method", channels=input_channels(model))
    layer = model.get_submodule(head)
    outputs = layer.out_features if isinstance(layer, nn.Linear) else None
    check_targets(y_pool, "y_pool", num_classes=outputs)


def probe_method(F_pool, y_pool, F_test, *, C: float = 1.0) -> Callable:
    """A :func:`label_sweep` method: :func:`linear_probe` on precomputed (cached) features ``F_pool``,
    predicting ``F_test``. Info columns: ``trainable_params`` (the head's weights and biases). The method's
    ``n_pool`` attribute (the number of pool samples) lets :func:`label_sweep` check its ``y_pool``."""
    F_pool = check_samples(F_pool, "F_pool")
    F_test = check_samples(F_test, "F_test")
    y_pool = check_classes(check_labels(np.asarray(y_pool), len(F_pool), "y_pool"), "y_pool")
    C = check_number(C, "C", low=0.0, low_open=True)
    if F_pool.shape[1] != F_test.shape[1]:
        raise ValueError(f"F_test has {F_test.shape[1]} features, F_pool {F_pool.shape[1]}")

    def method(idx, seed):
        probe = linear_probe(F_pool[idx], y_pool[idx], C=C, random_state=seed)
        n_classes = len(np.unique(y_pool[idx]))
        return probe.predict(F_test), {"trainable_params": F_pool.shape[1] * n_classes + n_classes}

    method.n_pool = len(F_pool)
    return method


def predict_linear(classifier: nn.Module, features) -> np.ndarray:
    """Class predictions of a torch linear head (on the CPU) on a feature matrix."""
    check_module(classifier, "classifier")
    F = torch.as_tensor(check_samples(features, "features"), dtype=torch.float32)
    with torch.no_grad():
        return classifier(F).argmax(1).numpy()


def _running_stats(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()
            if k.endswith(("running_mean", "running_var"))}


def evaluation_modes(model: nn.Module, X, y, *, batch_sizes: Sequence[int] = (16, 1024),
                     device=None) -> pd.DataFrame:
    """Test accuracy of a trained ``model`` evaluated as it should be (``eval()`` mode) and as 004 §4.1
    does it: straight out of training, still in ``train()`` mode, under ``torch.no_grad()``, in batches of
    each size in ``batch_sizes`` (test order, no shuffling).

    In ``train()`` mode every BatchNorm layer normalises each test batch with *that batch's* statistics, so
    a prediction depends on the batch it lands in and on the batch size, and it updates its running
    averages, so the evaluation changes the model. Each train-mode pass runs on its own copy of ``model``
    (``model`` itself is left as it was). Returns one row per evaluation: ``mode`` ("eval" / "train"),
    ``batch_size``, ``accuracy``, ``agreement_with_eval`` (share of test images predicted as in eval mode),
    ``running_stats_change`` (largest absolute change of any running mean or
    variance during the pass) and ``accuracy_after`` (eval-mode accuracy of the model after the pass: what
    the evaluation did to it).
    """
    from labkit import train as engine
    from labkit._validation import check_device, check_targets

    check_module(model, "model")
    X = check_images(X, "X", caller="evaluation_modes")
    y = torch.as_tensor(check_labels(np.asarray(y), len(X)), dtype=torch.int64)
    outputs = engine.predict_logits(model, X[:1], device="cpu").shape[1]
    y = check_targets(y, "y", num_classes=outputs)
    if isinstance(batch_sizes, int | str) or not len(batch_sizes):
        raise ValueError(f"batch_sizes must be a non-empty sequence of ints, got {batch_sizes!r}")
    batch_sizes = [check_int(b, "batch_sizes[i]", low=2) for b in batch_sizes]
    device = check_device(device)

    def accuracy(logits: torch.Tensor) -> float:
        return float((logits.argmax(1) == y).float().mean())

    eval_logits = engine.predict_logits(model, X, device=device)
    eval_pred = eval_logits.argmax(1)
    eval_acc = accuracy(eval_logits)
    rows = [{"mode": "eval", "batch_size": max(batch_sizes), "accuracy": eval_acc, "agreement_with_eval": 1.0,
             "running_stats_change": 0.0, "accuracy_after": eval_acc}]
    for size in batch_sizes:
        copy_ = copy.deepcopy(model).to(device).train()
        before = _running_stats(copy_)
        outputs = []
        with torch.no_grad():
            for x in engine.image_batches(X, batch_size=size, device=device, model=copy_):
                outputs.append(copy_(x).float().cpu())
        after = _running_stats(copy_)
        change = max((float((after[k].cpu() - v.cpu()).abs().max()) for k, v in before.items()), default=0.0)
        logits = torch.cat(outputs)
        rows.append({"mode": "train", "batch_size": size, "accuracy": accuracy(logits),
                     "agreement_with_eval": float((logits.argmax(1) == eval_pred).float().mean()),
                     "running_stats_change": change,
                     "accuracy_after": accuracy(engine.predict_logits(copy_, X, device=device))})
    return pd.DataFrame(rows)


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

    Beside them, 004 §4.2's extraction as written (``labkit.errata.document_extract_features``: train mode,
    shuffled batches of 64, on a copy of the network) on the first ``document_subset`` training and test images,
    probed like the corrected features of the same images (``0`` skips it).

    Returns a dict: ``probe_accuracy``, ``document_head_accuracy``, ``finetune_accuracy``,
    ``finetune_history`` (DataFrame), ``feature_seconds`` (extraction, train and test),
    ``feature_dim``, ``weights``, and for the subset ``subset_eval_probe_accuracy`` and
    ``subset_document_extraction_accuracy``. Raises :class:`WeightsUnavailable` offline. Every argument is
    checked before anything is downloaded or computed.
    """
    from labkit import train as engine
    from labkit._validation import check_device
    from labkit.errata import document_extract_features, document_linear_head
    from labkit.models import RESNETS

    X_train = check_images(X_train, "X_train", caller="imagenet_transfer", channels=3)
    X_test = check_images(X_test, "X_test", caller="imagenet_transfer", channels=3)
    y_train_np = check_classes(check_labels(np.asarray(y_train), len(X_train), "y_train"), "y_train")
    y_test_np = check_classes(check_labels(np.asarray(y_test), len(X_test), "y_test"), "y_test", min_classes=1)
    if not np.isin(y_test_np, y_train_np).all():
        raise ValueError(f"y_test holds classes y_train lacks: {sorted(set(y_test_np.tolist()) - set(y_train_np.tolist()))[:5]}")
    check_choice(arch, "arch", RESNETS)
    resolve_weights(arch, weights)
    if input_size is not None:
        check_int(input_size, "input_size", low=8)
    check_int(finetune_epochs, "finetune_epochs", low=0)
    check_number(lr, "lr", low=0.0, low_open=True)
    check_number(weight_decay, "weight_decay", low=0.0)
    check_int(batch_size, "batch_size", low=1)
    check_int(feature_batch_size, "feature_batch_size", low=1)
    check_bool(augment, "augment")
    check_int(document_subset, "document_subset", low=0)
    if not isinstance(cache, (bool, str, os.PathLike)):
        raise TypeError(f"cache must be True, False or a folder path, got {cache!r}")
    check_int(random_state, "random_state", low=0)
    check_bool(progress, "progress")
    device = check_device(device)
    num_classes = int(max(y_train_np.max(), y_test_np.max())) + 1
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
