"""Data sets that work offline: a synthetic imbalanced set (000 §4) and image sets as uint8 tensors.

``load_images`` looks for a data set in this order, and never silently swaps one for another:
explicit ``root`` → ``$LABKIT_DATA`` (default: the checkout's ``data/`` folder, or ``~/.cache/labkit``
for an installed package) → system copies (Debian's ``dataset-fashion-mnist`` package) → download with a
sha256 check → :class:`DatasetUnavailable`, whose message says how to get the data.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tarfile
import urllib.request
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from labkit._validation import RandomState, as_seed, check_positive_int

IMAGE_DATASETS = ("digits", "fashion_mnist", "cifar10")
SPLITS = ("train", "test")

CLASS_NAMES = {
    "digits": [str(i) for i in range(10)],
    "fashion_mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
    "cifar10": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
}

# sha256 of the *decompressed* idx files, so Debian's re-gzipped copy, the upstream download and a copy
# a user unpacked by hand all check against the same value.
FASHION_MNIST_FILES = {
    ("train", "images"): ("train-images-idx3-ubyte.gz",
                          "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
    ("train", "labels"): ("train-labels-idx1-ubyte.gz",
                          "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
    ("test", "images"): ("t10k-images-idx3-ubyte.gz",
                         "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
    ("test", "labels"): ("t10k-labels-idx1-ubyte.gz",
                         "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
}
FASHION_MNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
FASHION_MNIST_SYSTEM_DIRS = (Path("/usr/share/datasets/fashion-mnist"),)

# The binary version (no pickle). The authors publish md5 c32a1d4ab5d03f1284b67883e8d87530 for it.
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
CIFAR10_ARCHIVE = "cifar-10-binary.tar.gz"
CIFAR10_SHA256 = "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"
CIFAR10_MEMBERS = {
    "train": [f"cifar-10-batches-bin/data_batch_{i}.bin" for i in range(1, 6)],
    "test": ["cifar-10-batches-bin/test_batch.bin"],
}

HOW_TO_GET = {
    "fashion_mnist": (
        "Install Debian's copy with `sudo apt-get install dataset-fashion-mnist` (files land in "
        "/usr/share/datasets/fashion-mnist/), or put the four *-idx?-ubyte.gz files from "
        f"{FASHION_MNIST_URL} into $LABKIT_DATA/fashion_mnist/ (or pass root=)."
    ),
    "cifar10": (
        f"Download {CIFAR10_URL} (about 160 MB) into $LABKIT_DATA/cifar10/ (or pass root=); "
        "labkit reads the archive directly."
    ),
}


class DatasetUnavailable(RuntimeError):
    """A data set could not be found locally nor downloaded; the message says how to get it."""


def make_imbalanced(
    n_samples: int = 1000,
    weights: Sequence[float] = (0.99, 0.01),
    *,
    n_features: int = 20,
    n_informative: int = 2,
    n_redundant: int = 10,
    flip_y: float = 0.01,
    random_state: RandomState = None,
    shuffle: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """The imbalanced classification set of document 000 §4 (``make_classification``), seedable.

    Note the default ``flip_y=0.01`` (kept to reproduce the document): it relabels about 1 % of *all*
    samples at random, which is about as many samples as the whole 1 % minority class (ERRATA 000 §4).
    """
    from sklearn.datasets import make_classification

    check_positive_int(n_samples, "n_samples", minimum=2)
    w = np.asarray(weights, dtype=float)
    if w.ndim != 1 or len(w) < 2:
        raise ValueError(f"weights must be a sequence of at least two class shares, got {weights!r}")
    if not np.isfinite(w).all() or (w <= 0).any():
        raise ValueError(f"weights must all be positive, got {weights!r}")
    if not np.isclose(w.sum(), 1.0, atol=1e-6):
        raise ValueError(f"weights must sum to 1, got {weights!r} (sum {w.sum():.6g})")
    if not 0.0 <= flip_y <= 1.0:
        raise ValueError(f"flip_y must be in [0, 1], got {flip_y!r}")
    check_positive_int(n_features, "n_features")
    check_positive_int(n_informative, "n_informative")
    if n_informative + n_redundant > n_features:
        raise ValueError(
            f"n_informative + n_redundant must be <= n_features, got {n_informative} + {n_redundant} "
            f"> {n_features}"
        )
    n_classes = len(w)
    n_clusters = 2 if n_classes * 2 <= 2**n_informative else 1
    if n_classes * n_clusters > 2**n_informative:
        raise ValueError(
            f"n_informative={n_informative} is too small for {n_classes} classes "
            f"(needs 2**n_informative >= {n_classes})"
        )
    X, y = make_classification(
        n_samples=n_samples, n_features=n_features, n_informative=n_informative,
        n_redundant=n_redundant, n_classes=n_classes, n_clusters_per_class=n_clusters,
        weights=list(w), flip_y=flip_y, shuffle=shuffle, random_state=as_seed(random_state),
    )
    return X, y


def default_data_root() -> Path:
    """``$LABKIT_DATA``, else the checkout's ``data/`` folder, else ``~/.cache/labkit``."""
    env = os.environ.get("LABKIT_DATA", "").strip()
    if env:
        return Path(env).expanduser()
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "data").is_dir():
        return checkout / "data"
    return Path.home() / ".cache" / "labkit"


def load_images(name: str, split: str = "train", *, root: str | os.PathLike | None = None,
                download: bool = True):
    """Load an image data set as ``(X uint8 [N, C, H, W], y int64 [N])`` torch tensors.

    ``name``: ``"digits"`` (8×8, ships with scikit-learn; a fixed stratified 1437/360 split),
    ``"fashion_mnist"`` (28×28) or ``"cifar10"`` (3×32×32).
    """
    import torch

    if name not in IMAGE_DATASETS:
        raise ValueError(f"name must be one of {IMAGE_DATASETS}, got {name!r}")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if name == "digits":
        X, y = _load_digits(split)
    elif name == "fashion_mnist":
        X, y = _load_fashion_mnist(split, root, download)
    else:
        X, y = _load_cifar10(split, root, download)
    return torch.from_numpy(np.ascontiguousarray(X)), torch.from_numpy(y.astype(np.int64))


def _load_digits(split: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    X = np.round(digits.images * (255.0 / 16.0)).astype(np.uint8)[:, None]
    idx_train, idx_test = train_test_split(
        np.arange(len(X)), test_size=360, stratify=digits.target, random_state=0
    )
    idx = idx_train if split == "train" else idx_test
    return X[idx], digits.target[idx]


def _candidate_dirs(name: str, root) -> list[tuple[str, Path]]:
    if root is not None:
        root = Path(root).expanduser()
        return [("root", root / name), ("root", root)]
    dirs = [("$LABKIT_DATA", default_data_root() / name)]
    if name == "fashion_mnist":
        dirs += [("system", d) for d in FASHION_MNIST_SYSTEM_DIRS]
    return dirs


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _download(url: str, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(dest.suffix + ".part")
    try:
        with urllib.request.urlopen(url, timeout=30) as response, open(tmp, "wb") as fh:
            while chunk := response.read(1 << 20):
                fh.write(chunk)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise DatasetUnavailable(f"could not download {url}: {err}") from err
    tmp.replace(dest)


def _read_idx(raw: bytes, expected_sha256: str, source: Path) -> np.ndarray:
    digest = _sha256(raw)
    if digest != expected_sha256:
        raise DatasetUnavailable(
            f"{source} does not match the published Fashion-MNIST data (sha256 of the decompressed file "
            f"is {digest}, expected {expected_sha256}); delete it and fetch it again"
        )
    ndim = raw[3]
    dims = np.frombuffer(raw, dtype=">u4", count=ndim, offset=4)
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(tuple(int(d) for d in dims)).copy()


def _load_fashion_mnist(split: str, root, download: bool) -> tuple[np.ndarray, np.ndarray]:
    files = {kind: FASHION_MNIST_FILES[(split, kind)] for kind in ("images", "labels")}
    searched = []
    for _, folder in _candidate_dirs("fashion_mnist", root):
        searched.append(str(folder))
        if all((folder / fname).is_file() for fname, _ in files.values()):
            arrays = {
                kind: _read_idx(gzip.decompress((folder / fname).read_bytes()), sha, folder / fname)
                for kind, (fname, sha) in files.items()
            }
            return arrays["images"][:, None], arrays["labels"]
    if download:
        target = (Path(root).expanduser() if root is not None else default_data_root()) / "fashion_mnist"
        try:
            for fname, sha in files.values():
                if not (target / fname).is_file():
                    _download(FASHION_MNIST_URL + fname, target / fname)
                _read_idx(gzip.decompress((target / fname).read_bytes()), sha, target / fname)
        except DatasetUnavailable as err:
            raise DatasetUnavailable(
                f"Fashion-MNIST ({split}) is not available: looked in {searched}; {err}. "
                + HOW_TO_GET["fashion_mnist"]
            ) from err
        return _load_fashion_mnist(split, target, download=False)
    raise DatasetUnavailable(
        f"Fashion-MNIST ({split}) not found in {searched} and download=False. " + HOW_TO_GET["fashion_mnist"]
    )


def read_cifar10_archive(path: str | os.PathLike, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Read one split of CIFAR-10's binary archive: records of 1 label byte + 3072 pixel bytes (CHW)."""
    images, labels = [], []
    with tarfile.open(path, "r:gz") as tar:
        for member in CIFAR10_MEMBERS[split]:
            fh = tar.extractfile(member)
            if fh is None:
                raise DatasetUnavailable(f"{path} has no member {member}")
            records = np.frombuffer(fh.read(), dtype=np.uint8).reshape(-1, 1 + 3 * 32 * 32)
            labels.append(records[:, 0].astype(np.int64))
            images.append(records[:, 1:].reshape(-1, 3, 32, 32))
    return np.concatenate(images), np.concatenate(labels)


def _load_cifar10(split: str, root, download: bool) -> tuple[np.ndarray, np.ndarray]:
    searched = []
    for _, folder in _candidate_dirs("cifar10", root):
        searched.append(str(folder))
        if (folder / CIFAR10_ARCHIVE).is_file():
            return read_cifar10_archive(folder / CIFAR10_ARCHIVE, split)
    if not download:
        raise DatasetUnavailable(
            f"CIFAR-10 not found in {searched} and download=False. " + HOW_TO_GET["cifar10"]
        )
    target = (Path(root).expanduser() if root is not None else default_data_root()) / "cifar10"
    archive = target / CIFAR10_ARCHIVE
    try:
        _download(CIFAR10_URL, archive)
    except DatasetUnavailable as err:
        raise DatasetUnavailable(
            f"CIFAR-10 is not available: looked in {searched}; {err}. " + HOW_TO_GET["cifar10"]
        ) from err
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    if digest != CIFAR10_SHA256:
        archive.unlink()
        raise DatasetUnavailable(
            f"downloaded {CIFAR10_URL} has sha256 {digest}, expected {CIFAR10_SHA256}; removed it. "
            + HOW_TO_GET["cifar10"]
        )
    return read_cifar10_archive(archive, split)


def class_names(name: str) -> list[str]:
    """Human-readable class names of an image data set."""
    if name not in CLASS_NAMES:
        raise ValueError(f"name must be one of {tuple(CLASS_NAMES)}, got {name!r}")
    return list(CLASS_NAMES[name])


def flipped_labels(n_samples: int = 1000, weights: Sequence[float] = (0.99, 0.01), *, flip_y: float = 0.01,
                   random_state: RandomState = None, **params) -> np.ndarray:
    """Boolean mask of the samples of :func:`make_imbalanced` whose label ``flip_y`` changed.

    scikit-learn assigns labels by cluster, flips some, then shuffles the rows. Unshuffled and without
    flips the labels are deterministic, so comparing them with the unshuffled noisy labels finds the
    flips; matching rows (by their sorted values: the columns are shuffled too) maps them through the
    final shuffle. A label re-drawn to its own class is not a
    change and is not counted.
    """
    if random_state is None or isinstance(random_state, np.random.Generator):
        raise ValueError(f"random_state must be an int seed here (the set is regenerated), got {random_state!r}")
    kwargs = dict(n_samples=n_samples, weights=weights, random_state=random_state, **params)
    X, _ = make_imbalanced(flip_y=flip_y, **kwargs)
    X_unshuffled, y_noisy = make_imbalanced(flip_y=flip_y, shuffle=False, **kwargs)
    _, y_clean = make_imbalanced(flip_y=0.0, shuffle=False, **kwargs)
    position = {np.sort(row).tobytes(): i for i, row in enumerate(X_unshuffled)}  # columns are shuffled too
    try:
        order = np.array([position[np.sort(row).tobytes()] for row in X])
    except KeyError as err:
        raise RuntimeError("make_classification's rows changed beyond a shuffle; cannot map the flipped labels") from err
    return (y_noisy != y_clean)[order]
