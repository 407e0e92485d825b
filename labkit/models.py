"""Models for notebooks 05 and 06: a small CNN, CIFAR-style ResNets, torchvision ResNets, an autoencoder.

Every model takes float images in [0, 1] (``labkit.train`` feeds ``uint8 / 255``) and normalises them
itself, with a :class:`Normalize` layer whose mean and std are buffers saved in the ``state_dict``, so
``labkit.train.evaluate`` and ``predict_logits`` need no preprocessing arguments. Classifiers name their
last layer ``fc``, so ``labkit.transfer.freeze(model, trainable=("fc",))`` works on all of them.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from labkit._validation import check_bool, check_choice, check_int, check_number

__all__ = [
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "FASHION_MNIST_MEAN",
    "FASHION_MNIST_STD",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "ConvAutoencoder",
    "CifarResNet",
    "Normalize",
    "SmallCNN",
    "RESNETS",
    "WeightsUnavailable",
    "cifar_resnet",
    "conv_autoencoder",
    "small_cnn",
    "resolve_weights",
    "torchvision_model",
    "torchvision_resnet",
]

# Per-channel statistics of the training splits (pixels scaled to [0, 1]).
FASHION_MNIST_MEAN, FASHION_MNIST_STD = (0.2860,), (0.3530,)
CIFAR10_MEAN, CIFAR10_STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def _stats(values, name: str, *, positive: bool = False) -> tuple[float, ...]:
    """A non-empty sequence of finite numbers (positive ones for a std)."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError(f"{name} must be a sequence of numbers (one per channel), got {values!r}")
    values = tuple(values)
    if not values:
        raise ValueError(f"{name} must be a non-empty sequence of floats, got {values!r}")
    for i, v in enumerate(values):
        check_number(v, f"{name}[{i}]", low=0.0 if positive else None, low_open=positive)
    return tuple(float(v) for v in values)


def _default_stats(in_channels: int, mean, std) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Fashion-MNIST statistics for 1 channel, CIFAR-10's for 3, 0.5/0.25 otherwise, unless given."""
    if mean is None:
        mean = {1: FASHION_MNIST_MEAN, 3: CIFAR10_MEAN}.get(in_channels, (0.5,) * in_channels)
    if std is None:
        std = {1: FASHION_MNIST_STD, 3: CIFAR10_STD}.get(in_channels, (0.25,) * in_channels)
    mean, std = _stats(mean, "mean"), _stats(std, "std", positive=True)
    if len(mean) != in_channels or len(std) != in_channels:
        raise ValueError(f"mean and std must have one entry per channel (in_channels={in_channels}), got "
                         f"mean={mean!r}, std={std!r}")
    return mean, std


class Normalize(nn.Module):
    """``(x - mean) / std`` per channel; the statistics are buffers, so they move and save with the model."""

    def __init__(self, mean: Sequence[float], std: Sequence[float]):
        super().__init__()
        mean, std = _stats(mean, "mean"), _stats(std, "std", positive=True)
        if len(std) != len(mean):
            raise ValueError(f"std must have one entry per channel like mean ({len(mean)}), got {std!r}")
        mean_t = torch.as_tensor(mean, dtype=torch.float32)
        std_t = torch.as_tensor(std, dtype=torch.float32)
        self.register_buffer("mean", mean_t.view(1, -1, 1, 1))
        self.register_buffer("std", std_t.view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != self.mean.shape[1]:
            raise ValueError(
                f"expected images of shape [N, {self.mean.shape[1]}, H, W], got {tuple(x.shape)}"
            )
        return (x - self.mean) / self.std

    def extra_repr(self) -> str:
        return f"mean={self.mean.flatten().tolist()}, std={self.std.flatten().tolist()}"


def _conv_bn(c_in: int, c_out: int, stride: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True)]


class SmallCNN(nn.Module):
    """Three 3×3 conv/BatchNorm/ReLU blocks with max-pooling, global average pooling and a linear ``fc``."""

    def __init__(self, in_channels: int = 1, num_classes: int = 10, width: int = 32,
                 mean: Sequence[float] | None = None, std: Sequence[float] | None = None):
        super().__init__()
        check_int(in_channels, "in_channels", low=1)
        check_int(num_classes, "num_classes", low=2)
        check_int(width, "width", low=1)
        self.normalize = Normalize(*_default_stats(in_channels, mean, std))
        w = width
        self.features = nn.Sequential(
            *_conv_bn(in_channels, w), nn.MaxPool2d(2),
            *_conv_bn(w, 2 * w), nn.MaxPool2d(2),
            *_conv_bn(2 * w, 4 * w), nn.AdaptiveMaxPool2d(1), nn.Flatten(),
        )
        self.num_features = 4 * w
        self.fc = nn.Linear(self.num_features, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(self.normalize(x)))


def small_cnn(in_channels: int = 1, num_classes: int = 10, width: int = 32, *,
              mean: Sequence[float] | None = None, std: Sequence[float] | None = None) -> SmallCNN:
    """A small, fast CNN for 28×28 / 32×32 images (width 32: about 94 k parameters).

    Layers: ``normalize`` → ``features`` (conv w → pool → conv 2w → pool → conv 4w → global max pool)
    → ``fc``. ``mean``/``std`` default to Fashion-MNIST's (1 channel) or CIFAR-10's (3 channels).
    """
    return SmallCNN(in_channels, num_classes, width, mean, std)


class _BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Sequential()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.shortcut(x))


class CifarResNet(nn.Module):
    """He et al.'s CIFAR ResNet (3 stages of 16w/32w/64w channels, (depth-2)/6 basic blocks each)."""

    def __init__(self, depth: int = 20, width: int = 1, in_channels: int = 3, num_classes: int = 10,
                 mean: Sequence[float] | None = None, std: Sequence[float] | None = None):
        super().__init__()
        check_int(depth, "depth", low=8)
        if (depth - 2) % 6:
            raise ValueError(f"depth must be 6n+2 (8, 14, 20, 32, 44, 56, ...), got {depth!r}")
        check_int(width, "width", low=1)
        check_int(in_channels, "in_channels", low=1)
        check_int(num_classes, "num_classes", low=2)
        n = (depth - 2) // 6
        widths = (16 * width, 32 * width, 64 * width)
        self.normalize = Normalize(*_default_stats(in_channels, mean, std))
        self.stem = nn.Sequential(*_conv_bn(in_channels, widths[0]))
        layers, c_in = [], widths[0]
        for stage, c_out in enumerate(widths):
            blocks = []
            for i in range(n):
                blocks.append(_BasicBlock(c_in, c_out, 2 if stage > 0 and i == 0 else 1))
                c_in = c_out
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = layers
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.num_features = widths[2]
        self.fc = nn.Linear(widths[2], num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(self.normalize(x))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(self.pool(x))


def cifar_resnet(depth: int = 20, width: int = 1, in_channels: int = 3, num_classes: int = 10, *,
                 mean: Sequence[float] | None = None, std: Sequence[float] | None = None) -> CifarResNet:
    """ResNet-8/20/... for 28×28 and 32×32 inputs (global average pooling makes the size free).

    Layers: ``normalize``, ``stem``, ``layer1``–``layer3``, ``pool``, ``fc``. ResNet-20, width 1: 0.27 M
    parameters; ``width`` multiplies every channel count.
    """
    return CifarResNet(depth, width, in_channels, num_classes, mean, std)


def _normalize_input(module: nn.Module, args: tuple) -> tuple:
    return (module.normalize(args[0]), *args[1:])


_TORCHVISION_ARCHS = ("resnet18", "resnet34", "resnet50")


class WeightsUnavailable(RuntimeError):
    """Pretrained weights could not be loaded (typically: offline); the message says what to do."""


RESNETS = ("resnet18", "resnet34", "resnet50", "resnet101")


def resolve_weights(arch: str, weights):
    """The member of torchvision's weights enum for ``arch`` that ``weights`` names (``"DEFAULT"``,
    ``"IMAGENET1K_V2"``, ``"ResNet50_Weights.IMAGENET1K_V2"`` or the member itself); ``None`` stays ``None``."""
    import torchvision

    check_choice(arch, "arch", RESNETS)
    enum = torchvision.models.get_model_weights(arch)
    if weights is None or isinstance(weights, enum):
        return weights
    if isinstance(weights, str):
        try:
            return enum[weights.split(".")[-1]]
        except KeyError as err:
            raise ValueError(f"weights must be None or one of {[w.name for w in enum] + ['DEFAULT']}, "
                             f"got {weights!r}") from err
    raise TypeError(f"weights must be None, a name or a {enum.__name__}, got {weights!r}")


def torchvision_model(arch: str, *, weights=None) -> nn.Module:
    """``torchvision.models.<arch>(weights=weights)`` as torchvision builds it: the one way labkit fetches
    ImageNet weights (the weights API; never ``pretrained=True``). Weights that cannot be downloaded or read
    (offline, a damaged file) raise :class:`WeightsUnavailable`, which says how to get them."""
    import torchvision

    weight = resolve_weights(arch, weights)
    try:
        return getattr(torchvision.models, arch)(weights=weights)
    except Exception as err:  # network errors come as URLError, OSError, RuntimeError...
        if weight is None:
            raise
        raise WeightsUnavailable(
            f"could not load {weight} ({type(err).__name__}: {err}). torchvision downloads it from "
            f"{weight.url} into {torch.hub.get_dir()}/checkpoints; with no network, copy the file there, "
            "or use the offline protocol (a source model pretrained here)."
        ) from err


def torchvision_resnet(arch: str = "resnet18", num_classes: int = 10, in_channels: int = 3, *,
                       weights=None, small_input: bool = True,
                       mean: Sequence[float] | None = None, std: Sequence[float] | None = None) -> nn.Module:
    """A torchvision ResNet with a fresh ``fc`` for ``num_classes`` and a :class:`Normalize` in front.

    ``weights`` goes to torchvision's weights API unchanged (``None``, ``"DEFAULT"``, ``"IMAGENET1K_V1"``
    or a ``ResNet18_Weights`` member; never ``pretrained=True``); with weights, normalisation defaults to
    the ImageNet statistics. ``small_input=True`` adapts the stem to 28×28/32×32 images: ``conv1`` gets
    stride 1 (a new 3×3 kernel without weights; the pretrained 7×7 kernel, kept, with weights) and the
    max-pool is removed, so the last stage still sees 4×4 instead of 1×1 maps. ``in_channels=1`` with
    weights sums the pretrained RGB filters, which is exactly the RGB model on a grey image copied to
    3 channels (apart from normalisation, which then uses the mean of the ImageNet statistics).
    Parameter names are torchvision's (``conv1``, ``layer1``..``layer4``, ``fc``); the normalisation runs
    as a forward pre-hook of the submodule ``normalize``. Weights that cannot be downloaded (offline) raise
    :class:`WeightsUnavailable`.
    """
    check_choice(arch, "arch", _TORCHVISION_ARCHS)
    check_int(num_classes, "num_classes", low=2)
    check_int(in_channels, "in_channels", low=1)
    check_bool(small_input, "small_input")
    pretrained = resolve_weights(arch, weights) is not None
    if pretrained and in_channels not in (1, 3):
        raise ValueError(f"in_channels must be 1 or 3 with pretrained weights, got {in_channels!r}")
    _default_stats(in_channels, mean, std)  # checks mean and std before any download
    model = torchvision_model(arch, weights=weights)
    if pretrained and mean is None and std is None:
        if in_channels == 3:
            mean, std = IMAGENET_MEAN, IMAGENET_STD
        elif in_channels == 1:
            mean, std = (sum(IMAGENET_MEAN) / 3,), (sum(IMAGENET_STD) / 3,)
    old = model.conv1
    if small_input and not pretrained:
        conv1 = nn.Conv2d(in_channels, old.out_channels, 3, stride=1, padding=1, bias=False)
    elif pretrained:
        conv1 = nn.Conv2d(in_channels, old.out_channels, old.kernel_size, stride=1 if small_input else 2,
                          padding=old.padding, bias=False)
        with torch.no_grad():
            w = old.weight
            conv1.weight.copy_(w if in_channels == 3 else w.sum(dim=1, keepdim=True))
    else:
        conv1 = nn.Conv2d(in_channels, old.out_channels, old.kernel_size, stride=2, padding=old.padding,
                          bias=False)
    model.conv1 = conv1
    if small_input:
        model.maxpool = nn.Identity()
    model.fc = nn.Linear(model.fc.in_features, num_classes)
    model.num_features = model.fc.in_features
    model.normalize = Normalize(*_default_stats(in_channels, mean, std))
    model.register_forward_pre_hook(_normalize_input)
    return model


class ConvAutoencoder(nn.Module):
    """Convolutional autoencoder: ``encoder`` image → ``latent_dim`` vector, ``decoder`` vector → image.

    The encoder starts with the model's :class:`Normalize`, so ``nn.Sequential(ae.encoder,
    nn.Linear(ae.latent_dim, 10))`` is a classifier on [0, 1] images. The decoder ends with a sigmoid:
    reconstructions are in [0, 1], compared with the input by :func:`labkit.train.reconstruction_loss`.
    """

    def __init__(self, in_channels: int = 1, latent_dim: int = 64, width: int = 32, image_size: int = 28,
                 mean: Sequence[float] | None = None, std: Sequence[float] | None = None):
        super().__init__()
        check_int(in_channels, "in_channels", low=1)
        check_int(latent_dim, "latent_dim", low=1)
        check_int(width, "width", low=1)
        check_int(image_size, "image_size", low=4)
        if image_size % 4:
            raise ValueError(f"image_size must be a multiple of 4 (28, 32, ...), got {image_size!r}")
        self.in_channels, self.latent_dim, self.image_size = in_channels, latent_dim, image_size
        s, w = image_size // 4, width
        self.encoder = nn.Sequential(
            Normalize(*_default_stats(in_channels, mean, std)),
            *_conv_bn(in_channels, w, stride=2),
            *_conv_bn(w, 2 * w, stride=2),
            nn.Flatten(),
            nn.Linear(2 * w * s * s, latent_dim),
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, 2 * w * s * s), nn.ReLU(inplace=True),
            nn.Unflatten(1, (2 * w, s, s)),
            nn.ConvTranspose2d(2 * w, w, 3, stride=2, padding=1, output_padding=1, bias=False),
            nn.BatchNorm2d(w), nn.ReLU(inplace=True),
            nn.ConvTranspose2d(w, in_channels, 3, stride=2, padding=1, output_padding=1),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


def conv_autoencoder(in_channels: int = 1, latent_dim: int = 64, width: int = 32, image_size: int = 28, *,
                     mean: Sequence[float] | None = None, std: Sequence[float] | None = None
                     ) -> ConvAutoencoder:
    """A convolutional autoencoder with ``.encoder`` (→ ``latent_dim`` features) and ``.decoder``."""
    return ConvAutoencoder(in_channels, latent_dim, width, image_size, mean, std)

