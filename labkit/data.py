"""Data sets that work offline, and the user's own data, in the shapes the rest of labkit expects.

- :func:`make_imbalanced`: the synthetic imbalanced set of document 000 §4.
- :func:`load_images`: a built-in image set (``digits``, ``fashion_mnist``, ``cifar10``) or the user's own
  images — a folder in torchvision's ImageFolder layout or an ``.npz`` with ``X`` and ``y`` — as
  ``(X uint8 [N, C, H, W], y int64 [N])`` torch tensors.
- :func:`load_table`: a CSV or Parquet table as ``(X float [N, D], y int64 [N], info)``.
- :func:`class_names`, :func:`is_builtin`, :func:`source_kind`, :func:`describe`: what a source holds.

Built-in sets are looked for in this order, and never silently swapped for another:
explicit ``root`` → ``$LABKIT_DATA`` (default: the checkout's ``data/`` folder, or ``~/.cache/labkit``
for an installed package) → system copies (Debian's ``dataset-fashion-mnist`` package) → download (https)
with a sha256 check → :class:`DatasetUnavailable`, whose message says how to get the data. A damaged file
raises :class:`DatasetUnavailable` too, naming the file and what is wrong with it.
"""

from __future__ import annotations

import difflib
import gzip
import hashlib
import http.client
import importlib.util
import os
import tarfile
import urllib.request
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from labkit._validation import (
    RandomState,
    as_seed,
    check_bool,
    check_choice,
    check_int,
    check_number,
    check_path,
)

IMAGE_DATASETS = ("digits", "fashion_mnist", "cifar10")
SPLITS = ("train", "test")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
TABLE_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq")
IMPUTE_CHOICES = ("mean", "median", "most_frequent")
# 8-bit PIL modes; grayscale ones are read as one channel, the others as RGB (alpha dropped).
_GRAY_MODES = ("1", "L", "LA")
_READABLE_MODES = (*_GRAY_MODES, "P", "PA", "RGB", "RGBA", "RGBX", "CMYK", "YCbCr")

CLASS_NAMES = {
    "digits": [str(i) for i in range(10)],
    "fashion_mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
    "cifar10": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
}

# sha256 and size of the *decompressed* idx files, so Debian's re-gzipped copy, the upstream download and
# a copy a user unpacked by hand all check against the same value.
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
FASHION_MNIST_SIZES = {("train", "images"): 16 + 60000 * 784, ("train", "labels"): 8 + 60000,
                       ("test", "images"): 16 + 10000 * 784, ("test", "labels"): 8 + 10000}
# The authors' repository serves the same files over https (the S3 website mirror is http only).
FASHION_MNIST_URL = "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"
FASHION_MNIST_SYSTEM_DIRS = (Path("/usr/share/datasets/fashion-mnist"),)

# The binary version (no pickle). The authors publish md5 c32a1d4ab5d03f1284b67883e8d87530 for it.
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
CIFAR10_ARCHIVE = "cifar-10-binary.tar.gz"
CIFAR10_SHA256 = "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"
CIFAR10_MEMBERS = {
    "train": [f"cifar-10-batches-bin/data_batch_{i}.bin" for i in range(1, 6)],
    "test": ["cifar-10-batches-bin/test_batch.bin"],
}
_CIFAR10_RECORD = 1 + 3 * 32 * 32

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
    """A data set could not be found, read or downloaded; the message says what is wrong and how to get it."""


# --- synthetic data ------------------------------------------------------------------------------------------


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

    check_int(n_samples, "n_samples", low=2)
    if isinstance(weights, str | bytes) or not isinstance(weights, Sequence | np.ndarray):
        raise TypeError(f"weights must be a sequence of class shares, got {weights!r}")
    if any(isinstance(v, bool | np.bool_) for v in weights):
        raise TypeError(f"weights must be numbers, got booleans in {weights!r}")
    try:
        w = np.asarray(weights, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(f"weights must be a sequence of numbers, got {weights!r}") from err
    if w.ndim != 1 or len(w) < 2:
        raise ValueError(f"weights must be a sequence of at least two class shares, got {weights!r}")
    if not np.isfinite(w).all() or (w <= 0).any():
        raise ValueError(f"weights must all be positive, got {weights!r}")
    if not np.isclose(w.sum(), 1.0, atol=1e-6):
        raise ValueError(f"weights must sum to 1, got {weights!r} (sum {w.sum():.6g})")
    flip_y = check_number(flip_y, "flip_y", low=0.0, high=1.0)
    check_int(n_features, "n_features", low=1)
    check_int(n_informative, "n_informative", low=1)
    check_int(n_redundant, "n_redundant", low=0)
    shuffle = check_bool(shuffle, "shuffle")
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


# --- what a source is -----------------------------------------------------------------------------------------


def is_builtin(source) -> bool:
    """Whether ``source`` names a built-in image set (``digits``, ``fashion_mnist``, ``cifar10``).

    Notebooks use it for ``USING_DEFAULT_DATA``: taught effects are asserted on built-in data only.
    """
    return isinstance(source, str) and source in IMAGE_DATASETS


def source_kind(source) -> str:
    """``"builtin"``, ``"images"`` (an ImageFolder-layout folder), ``"npz"`` or ``"table"`` (CSV/Parquet)."""
    if is_builtin(source):
        return "builtin"
    if isinstance(source, bytes) or not isinstance(source, str | os.PathLike):
        raise TypeError(
            f"source must be a data set name ({', '.join(IMAGE_DATASETS)}) or a path, got {source!r} "
            f"({type(source).__name__})"
        )
    path = Path(source).expanduser()
    name = path.name.lower()
    if not path.exists():
        raise ValueError(
            f"source must be a built-in data set name (one of {list(IMAGE_DATASETS)}) or the path of an image "
            f"folder, an .npz file or a CSV/Parquet table; got {str(source)!r}, which is neither "
            f"(no such file or folder)"
        )
    if path.is_dir():
        return "images"
    if name.endswith(".npz"):
        return "npz"
    if name.endswith(TABLE_SUFFIXES):
        return "table"
    raise ValueError(
        f"source {str(path)!r} is a file labkit cannot read: expected a folder of images, an .npz file "
        f"or a table ending in {' or '.join(TABLE_SUFFIXES)}"
    )


def describe(source, *, target: str | None = None) -> str:
    """One line naming the data a notebook ran on, for its summary (no images are decoded)."""
    kind = source_kind(source)
    if kind == "builtin":
        return f"the built-in {source!r} images ({len(CLASS_NAMES[source])} classes)"
    path = Path(source).expanduser()
    if kind == "table":
        return f"the table {path.name} (target {target!r})" if target is not None else f"the table {path.name}"
    names = class_names(path)
    what = "image folder" if kind == "images" else "image arrays"
    return f"your {what} {path.name} ({len(names)} classes: {', '.join(names[:6])}{', ...' if len(names) > 6 else ''})"


def class_names(source, *, target: str | None = None) -> list[str]:
    """Class names, in label order (label ``i`` is ``class_names(...)[i]``), of any source.

    Built-in names; an image folder's class subfolders (sorted); an ``.npz``'s ``class_names`` array or its
    sorted label values; a table's sorted ``target`` values (as :func:`load_table` encodes them).
    """
    kind = source_kind(source)
    if kind != "table" and target is not None:
        raise ValueError(f"target= applies to tables (CSV/Parquet) only; source {str(source)!r} holds images")
    if kind == "builtin":
        return list(CLASS_NAMES[source])
    path = Path(source).expanduser()
    if kind == "images":
        return list(_image_folder_index(path)[0])
    if kind == "npz":
        _, y, names = _read_npz(path, labels_only=True)
        return _encode_labels(y, f"y in {path}", names)[1]
    if target is None:
        raise ValueError(f"target must name the class column of the table {str(path)!r}, got None")
    df = _read_table(path)
    _check_target_column(df, target, path)
    return _encode_target(df[target], target, path)[1]


def pixel_features(X) -> np.ndarray:
    """uint8 images ``[N, ...]`` (numpy or a CPU torch tensor) -> float32 features ``[N, D]`` in [0, 1]."""
    if hasattr(X, "detach"):
        X = X.detach().cpu().numpy()
    arr = np.asarray(X)
    if arr.dtype != np.uint8:
        raise TypeError(f"X must hold uint8 images (0..255), got dtype {arr.dtype}")
    if arr.ndim < 2 or arr.shape[0] == 0:
        raise ValueError(f"X must be images [N, ...] with N >= 1, got shape {arr.shape}")
    out = arr.reshape(len(arr), -1).astype(np.float32)
    out /= np.float32(255)
    return out


class TrainTest(NamedTuple):
    """Features and labels of a training part and a test part, from :func:`train_test`."""

    X_train: np.ndarray  # images: float32 pixels in [0, 1] (pixel_features); a table: load_table's columns
    y_train: np.ndarray  # int64 labels 0..C-1
    X_test: np.ndarray
    y_test: np.ndarray
    images_train: np.ndarray | None  # uint8 images [N, C, H, W]; None for a table
    images_test: np.ndarray | None
    class_names: list[str]
    description: str  # one line for the notebook's text (describe)
    name: str  # the data set as loaded: a built-in name or the path given

    def grey_train(self) -> np.ndarray | None:
        """The training images as grey-scale uint8 ``[N, H, W]`` (channel mean, rounded), or None for a table."""
        if self.images_train is None:
            return None
        return self.images_train.astype(np.float32).mean(axis=1).round().astype(np.uint8)


def train_test(source, *, target: str | None = None, test_size: float = 0.2, random_state: int = 0,
               download: bool = True) -> TrainTest:
    """Any data a notebook accepts, as features and labels of a training part and a test part.

    The one route from a notebook's ``DATASET`` (and ``TARGET``) to numbers. A built-in image set or an image
    folder / ``.npz`` gives its own ``train`` and ``test`` splits (:func:`load_images`: a seeded stratified
    split when a folder has none), as :func:`pixel_features`; a CSV/Parquet table (:func:`load_table` with
    ``target``) gets a stratified split of ``test_size`` seeded by ``random_state``. Each notebook then draws
    its own pool, reference or repeats from these parts.
    """
    test_size = check_number(test_size, "test_size", low=0.0, high=1.0, low_open=True, high_open=True)
    random_state = check_int(random_state, "random_state", low=0)
    download = check_bool(download, "download")
    kind = source_kind(source)
    if kind == "table":
        from sklearn.model_selection import train_test_split

        if target is None:
            raise ValueError(f"TARGET must name the class column of the table {str(source)!r}, got None")
        X, y, info = load_table(source, target=target)
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size, stratify=y,
                                                            random_state=random_state)
        return TrainTest(X_train, y_train.astype(np.int64), X_test, y_test.astype(np.int64), None, None,
                         [str(c) for c in info.class_names], describe(source, target=target), str(source))
    if target is not None:
        raise ValueError(f"TARGET applies to tables only; {str(source)!r} holds images (set TARGET = None)")
    kwargs = {"download": download} if kind == "builtin" else {"test_size": test_size, "random_state": random_state}
    parts = []
    for split in ("train", "test"):
        X, y = load_images(source, split, **kwargs)
        parts.append((np.asarray(X.numpy() if hasattr(X, "numpy") else X),
                      np.asarray(y.numpy() if hasattr(y, "numpy") else y).astype(np.int64)))
    (img_train, y_train), (img_test, y_test) = parts
    return TrainTest(pixel_features(img_train), y_train, pixel_features(img_test), y_test, img_train, img_test,
                     [str(c) for c in class_names(source)], describe(source), str(source))


# --- image sets -------------------------------------------------------------------------------------------------


def default_data_root() -> Path:
    """``$LABKIT_DATA``, else the checkout's ``data/`` folder, else ``~/.cache/labkit``."""
    env = os.environ.get("LABKIT_DATA", "").strip()
    if env:
        return Path(env).expanduser()
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "data").is_dir():
        return checkout / "data"
    return Path.home() / ".cache" / "labkit"


def load_images(source, split: str = "train", *, root: str | os.PathLike | None = None,
                download: bool = True, image_size: int | tuple[int, int] | None = None,
                test_size: float = 0.2, random_state: int = 0, verbose: bool = True):
    """Load images as ``(X uint8 [N, C, H, W], y int64 [N])`` torch tensors.

    ``source`` is a built-in name — ``"digits"`` (8×8, ships with scikit-learn; a fixed stratified 1437/360
    split), ``"fashion_mnist"`` (28×28) or ``"cifar10"`` (3×32×32) — or a path:

    - a folder in torchvision's ImageFolder layout: one subfolder per class holding PNG/JPEG/BMP files
      (labels follow the sorted folder names, see :func:`class_names`); with ``train/`` and ``test/``
      subfolders (each in that layout) those are the splits, otherwise a stratified split of
      ``test_size`` seeded by ``random_state`` (the same seed gives complementary train and test parts).
      Images come in a seeded random order (as in the built-in sets), so a prefix is a fair sample.
      Grayscale images give one channel, any colour image makes all RGB (alpha is dropped). Images of
      different sizes are resized to ``image_size`` or, without it, to the most common size (printed).
    - an ``.npz`` holding ``X`` (uint8, [N, H, W] or [N, C, H, W]) and ``y`` (labels: integers or strings,
      encoded to ``0..K-1`` in sorted order), optionally ``class_names``; split as above.

    ``image_size`` (an int or ``(height, width)``) resizes every image, built-in ones included. ``root`` and
    ``download`` apply to the built-in sets; ``test_size`` and ``random_state`` to sources without a split.
    """
    import torch

    check_choice(split, "split", SPLITS)
    download = check_bool(download, "download")
    verbose = check_bool(verbose, "verbose")
    size = _check_image_size(image_size)
    test_size = check_number(test_size, "test_size", low=0.0, high=1.0, low_open=True, high_open=True)
    random_state = check_int(random_state, "random_state", low=0)
    if root is not None:
        root = check_path(root, "root", must_exist=False)
    kind = source_kind(source)
    if kind == "table":
        raise ValueError(f"source {str(source)!r} is a table; load it with load_table(path, target=...)")
    if kind == "images":
        X, y = _load_image_folder(Path(source).expanduser(), split, size, test_size, random_state, verbose)
        size = None  # already resized while decoding
    elif kind == "npz":
        X, y = _load_npz(Path(source).expanduser(), split, test_size, random_state, verbose)
    elif source == "digits":
        X, y = _load_digits(split)
    elif source == "fashion_mnist":
        X, y = _load_fashion_mnist(split, root, download)
    else:
        X, y = _load_cifar10(split, root, download)
    X = torch.from_numpy(np.ascontiguousarray(X))
    if size is not None and tuple(X.shape[-2:]) != size:
        from torchvision.transforms.functional import resize

        X = resize(X, list(size), antialias=True)
    return X, torch.from_numpy(np.asarray(y).astype(np.int64))


def _check_image_size(image_size) -> tuple[int, int] | None:
    if image_size is None:
        return None
    if isinstance(image_size, tuple | list) and len(image_size) == 2:
        return (check_int(image_size[0], "image_size[0] (height)", low=1),
                check_int(image_size[1], "image_size[1] (width)", low=1))
    if isinstance(image_size, tuple | list):
        raise ValueError(f"image_size must be an int or (height, width), got {image_size!r}")
    side = check_int(image_size, "image_size", low=1)
    return side, side


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
    except (OSError, http.client.HTTPException) as err:
        tmp.unlink(missing_ok=True)
        raise DatasetUnavailable(f"could not download {url}: {err}") from err
    tmp.replace(dest)


class _Damaged(Exception):
    """Internal: what is wrong with a data file (turned into DatasetUnavailable with the file's name)."""


def _gunzip(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise _Damaged(f"cannot be read ({err})") from err
    try:
        return gzip.decompress(raw)
    except EOFError as err:
        raise _Damaged(f"is truncated: the gzip stream ends early ({len(raw)} bytes on disk)") from err
    except gzip.BadGzipFile as err:
        raise _Damaged(f"is not a gzip file ({err})") from err
    except zlib.error as err:
        raise _Damaged(f"holds corrupt gzip data ({err})") from err


def _read_idx(raw: bytes, expected_sha256: str, source: Path, *, expected_size: int | None = None,
              expected_ndim: int | None = None) -> np.ndarray:
    """Parse an idx file (ubyte): check its header against its length, then its sha256."""
    if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] != 8:
        raise _Damaged(f"is not an idx file of bytes (header {raw[:4].hex() or 'empty'}, expected 000008..)")
    ndim = raw[3]
    if expected_ndim is not None and ndim != expected_ndim:
        raise _Damaged(f"has {ndim} dimensions in its header, expected {expected_ndim}")
    if len(raw) < 4 + 4 * ndim:
        raise _Damaged(f"is truncated: {len(raw)} bytes, shorter than its own header")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    payload = len(raw) - 4 - 4 * ndim
    if payload != int(np.prod(dims)):
        what = "is truncated" if payload < int(np.prod(dims)) else "has the wrong size"
        raise _Damaged(
            f"{what}: its header declares {' x '.join(map(str, dims))} = {int(np.prod(dims))} bytes of data, "
            f"the (decompressed) file holds {payload}"
        )
    digest = _sha256(raw)
    if digest != expected_sha256:
        size = "" if expected_size is None or expected_size == len(raw) else \
            f"; decompressed size {len(raw)} bytes, expected {expected_size}"
        raise _Damaged(
            f"does not match the published Fashion-MNIST data: checksum mismatch (sha256 of the decompressed "
            f"file is {digest}, expected {expected_sha256}{size})"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims).copy()


def _read_fashion_file(path: Path, split: str, kind: str) -> np.ndarray:
    _, sha = FASHION_MNIST_FILES[(split, kind)]
    return _read_idx(_gunzip(path), sha, path, expected_size=FASHION_MNIST_SIZES[(split, kind)],
                     expected_ndim=3 if kind == "images" else 1)


def _damaged(dataset: str, path: Path, err: _Damaged, removed: bool = False) -> DatasetUnavailable:
    fix = "removed it" if removed else "delete or replace it"
    return DatasetUnavailable(f"{dataset} file {path} {err}; {fix}. " + HOW_TO_GET[_KEY[dataset]])


_KEY = {"Fashion-MNIST": "fashion_mnist", "CIFAR-10": "cifar10"}


def _load_fashion_mnist(split: str, root, download: bool) -> tuple[np.ndarray, np.ndarray]:
    files = {kind: FASHION_MNIST_FILES[(split, kind)][0] for kind in ("images", "labels")}
    searched = []
    for _, folder in _candidate_dirs("fashion_mnist", root):
        searched.append(str(folder))
        if all((folder / fname).is_file() for fname in files.values()):
            arrays = {}
            for kind, fname in files.items():
                try:
                    arrays[kind] = _read_fashion_file(folder / fname, split, kind)
                except _Damaged as err:
                    raise _damaged("Fashion-MNIST", folder / fname, err) from None
            return _fashion_pair(arrays, folder)
    if not download:
        raise DatasetUnavailable(
            f"Fashion-MNIST ({split}) not found in {searched} and download=False. " + HOW_TO_GET["fashion_mnist"]
        )
    target = (Path(root).expanduser() if root is not None else default_data_root()) / "fashion_mnist"
    arrays = {}
    for kind, fname in files.items():
        fetched = not (target / fname).is_file()
        if fetched:
            try:
                _download(FASHION_MNIST_URL + fname, target / fname)
            except DatasetUnavailable as err:
                raise DatasetUnavailable(
                    f"Fashion-MNIST ({split}) is not available: looked in {searched}; {err}. "
                    + HOW_TO_GET["fashion_mnist"]
                ) from err
        try:
            arrays[kind] = _read_fashion_file(target / fname, split, kind)
        except _Damaged as err:
            if fetched:
                (target / fname).unlink(missing_ok=True)
            raise _damaged("Fashion-MNIST", target / fname, err, removed=fetched) from None
    return _fashion_pair(arrays, target)


def _fashion_pair(arrays: dict, folder: Path) -> tuple[np.ndarray, np.ndarray]:
    images, labels = arrays["images"], arrays["labels"]
    if len(images) != len(labels):
        raise DatasetUnavailable(
            f"Fashion-MNIST files in {folder} do not match: {len(images)} images but {len(labels)} labels. "
            + HOW_TO_GET["fashion_mnist"]
        )
    return images[:, None], labels


def read_cifar10_archive(path: str | os.PathLike, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Read one split of CIFAR-10's binary archive: records of 1 label byte + 3072 pixel bytes (CHW).

    A damaged archive (not gzip, truncated, a member missing or of the wrong size) raises
    :class:`DatasetUnavailable` naming the file and what is wrong.
    """
    path = check_path(path, "path", kind="file")
    check_choice(split, "split", SPLITS)
    try:
        return _read_cifar10_members(path, split)
    except _Damaged as err:
        raise _damaged("CIFAR-10", path, err) from None


def _read_cifar10_members(path: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    images, labels = [], []
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member in CIFAR10_MEMBERS[split]:
                try:
                    fh = tar.extractfile(member)
                except KeyError:
                    raise _Damaged(f"has no member {member} (is it the binary version, "
                                   f"{CIFAR10_ARCHIVE}?)") from None
                if fh is None:
                    raise _Damaged(f"member {member} is not a regular file")
                raw = fh.read()
                if not raw or len(raw) % _CIFAR10_RECORD:
                    raise _Damaged(f"member {member} has the wrong size: {len(raw)} bytes is not a whole number "
                                   f"of {_CIFAR10_RECORD}-byte records")
                records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, _CIFAR10_RECORD)
                if records[:, 0].max() > 9:
                    raise _Damaged(f"member {member} holds label {int(records[:, 0].max())}; CIFAR-10 labels are 0..9")
                labels.append(records[:, 0].astype(np.int64))
                images.append(records[:, 1:].reshape(-1, 3, 32, 32))
    except EOFError as err:
        raise _Damaged(f"is truncated ({err or 'the compressed stream ends early'})") from err
    except gzip.BadGzipFile as err:
        raise _Damaged(f"is not a gzip-compressed tar archive ({err})") from err
    except (tarfile.TarError, zlib.error, OSError) as err:
        raise _Damaged(f"is not a readable .tar.gz archive, or is truncated ({type(err).__name__}: {err})") from err
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
    h = hashlib.sha256()
    with open(archive, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    if h.hexdigest() != CIFAR10_SHA256:
        archive.unlink()
        raise _damaged("CIFAR-10", archive, _Damaged(
            f"(downloaded from {CIFAR10_URL}) does not match the published archive: checksum mismatch "
            f"(sha256 {h.hexdigest()}, expected {CIFAR10_SHA256})"), removed=True)
    return read_cifar10_archive(archive, split)


# --- the user's own images ------------------------------------------------------------------------------------


def _class_folders(folder: Path, what: str) -> dict[str, list[Path]]:
    """ImageFolder layout: ``{class name: sorted image files}`` (files found recursively, as torchvision does)."""
    subdirs = sorted(d for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not subdirs:
        loose = [p.name for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES]
        found = f"; it holds {len(loose)} images directly (e.g. {loose[0]!r})" if loose else ""
        raise ValueError(
            f"{what} {str(folder)!r} has no class subfolders{found}. Expected torchvision's ImageFolder layout: "
            f"one subfolder per class, e.g. {folder / 'cat' / '001.png'}"
        )
    classes = {d.name: sorted(p for p in d.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
               for d in subdirs}
    empty = [name for name, files in classes.items() if not files]
    if empty:
        raise ValueError(
            f"class folder(s) {empty} in {what} {str(folder)!r} hold no PNG/JPEG/BMP images "
            f"({', '.join(IMAGE_SUFFIXES)})"
        )
    if len(classes) < 2:
        name = next(iter(classes))
        raise ValueError(
            f"{what} {str(folder)!r} has a single class folder ({name!r}); a classifier needs at least 2 "
            f"class subfolders (ImageFolder layout: one subfolder per class)"
        )
    return classes


def _image_folder_index(folder: Path) -> tuple[list[str], dict[str, list[tuple[Path, int]]] | list[tuple[Path, int]]]:
    """Class names and either ``{split: [(file, label)]}`` (train/ and test/ given) or one ``[(file, label)]``."""
    has_train, has_test = (folder / "train").is_dir(), (folder / "test").is_dir()
    if has_train and has_test:
        splits = {s: _class_folders(folder / s, f"source folder's {s}/") for s in SPLITS}
        names = sorted(splits["train"])
        extra = sorted(set(splits["test"]) - set(names))
        if extra:
            raise ValueError(f"source folder {str(folder)!r}: test/ has class folder(s) {extra} that train/ lacks")
        index = {name: i for i, name in enumerate(names)}
        return names, {s: [(p, index[c]) for c, files in classes.items() for p in files]
                       for s, classes in splits.items()}
    if has_train or has_test:
        there, missing = ("train", "test") if has_train else ("test", "train")
        raise ValueError(
            f"source folder {str(folder)!r} has a {there}/ subfolder but no {missing}/: give both (each in "
            f"ImageFolder layout) or neither (then labkit splits the images, seeded by random_state)"
        )
    classes = _class_folders(folder, "source folder")
    names = sorted(classes)
    return names, [(p, i) for i, c in enumerate(names) for p in classes[c]]


def _open_image(path: Path):
    from PIL import Image

    try:
        return Image.open(path)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as err:
        raise ValueError(f"could not read image {str(path)!r}: {err}") from None


def _stratified_split(y: np.ndarray, split: str, test_size: float, random_state: int, names: list[str],
                      where: str) -> np.ndarray:
    """Indices of ``split`` in a stratified split seeded by ``random_state`` (same seed: complementary parts)."""
    from sklearn.model_selection import train_test_split

    counts = np.bincount(y, minlength=len(names))
    if counts.min() < 2:
        small = [names[i] for i in np.flatnonzero(counts < 2)]
        raise ValueError(
            f"class(es) {small} in {where} have fewer than 2 images; a stratified train/test split needs at "
            f"least 2 per class (add images, or give train/ and test/ yourself)"
        )
    try:
        train, test = train_test_split(np.arange(len(y)), test_size=test_size, stratify=y,
                                       random_state=random_state)
    except ValueError as err:
        raise ValueError(
            f"test_size={test_size} cannot split {len(y)} images of {len(names)} classes in {where}: {err}"
        ) from None
    return train if split == "train" else test  # in shuffled order, so a prefix is a fair sample


def _load_image_folder(folder: Path, split: str, size: tuple[int, int] | None, test_size: float,
                       random_state: int, verbose: bool) -> tuple[np.ndarray, np.ndarray]:
    names, index = _image_folder_index(folder)
    everything = [item for part in index.values() for item in part] if isinstance(index, dict) else index
    # read every header once (cheap, no decoding) so train and test agree on channels and size
    modes, sizes = set(), Counter()
    for path, _ in everything:
        with _open_image(path) as im:
            if im.mode not in _READABLE_MODES:
                raise ValueError(
                    f"could not read image {str(path)!r}: mode {im.mode!r} is not 8-bit grayscale or colour "
                    f"(labkit reads 8-bit PNG/JPEG/BMP)"
                )
            modes.add(im.mode)
            sizes[(im.height, im.width)] += 1
    gray = modes <= set(_GRAY_MODES)
    if size is None and len(sizes) > 1:
        size, count = max(sizes.items(), key=lambda kv: (kv[1], kv[0]))
        if verbose:
            print(f"Images in {folder} have {len(sizes)} different sizes; resizing all to {size[0]}x{size[1]} "
                  f"(height x width), the most common size ({count} of {len(everything)} images). "
                  f"Pass image_size= to choose another.")
    if isinstance(index, dict):  # given splits: in a seeded random order too, as the built-in sets come
        items = [index[split][i] for i in np.random.default_rng(random_state).permutation(len(index[split]))]
    else:
        labels = np.array([label for _, label in index])
        items = [index[i] for i in _stratified_split(labels, split, test_size, random_state, names,
                                                      f"source folder {str(folder)!r}")]
    X = np.stack([_decode(path, "L" if gray else "RGB", size) for path, _ in items])
    X = X[:, None] if gray else X.transpose(0, 3, 1, 2)
    return X, np.array([label for _, label in items], dtype=np.int64)


def _decode(path: Path, mode: str, size: tuple[int, int] | None) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(path) as im:
            im = im.convert(mode)
            if size is not None and (im.height, im.width) != size:
                im = im.resize((size[1], size[0]), Image.Resampling.BILINEAR)
            return np.asarray(im, dtype=np.uint8)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as err:
        raise ValueError(f"could not read image {str(path)!r}: {err}") from None


def _read_npz(path: Path, *, labels_only: bool = False):
    """``(X or None, y, class_names or None)`` from an ``.npz``; clear errors for anything else."""
    import zipfile

    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(f"could not read {str(path)!r} as an .npz file of arrays: {err}") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{str(path)!r} holds a single array, not an .npz archive with 'X' and 'y' "
                         f"(save one with np.savez(path, X=X, y=y))")
    with archive:
        missing = [k for k in ("X", "y") if k not in archive.files]
        if missing:
            raise ValueError(f".npz file {str(path)!r} has no {' and no '.join(repr(k) for k in missing)} array; "
                             f"it must hold 'X' (images) and 'y' (labels), it holds {archive.files}")
        try:
            y = archive["y"]
            X = None if labels_only else archive["X"]
            names = archive["class_names"] if "class_names" in archive.files else None
        except ValueError as err:  # object arrays need pickle
            raise ValueError(f"could not read the arrays of {str(path)!r} without pickle ({err}); save labels "
                             f"as numbers or as np.asarray(labels, dtype=str)") from None
    if names is not None:
        names = [str(n) for n in np.asarray(names).ravel()]
    return X, y, names


def _encode_labels(y, where: str, names: list[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """Labels to ``0..K-1`` (sorted values) and their names; with ``names`` given, ``y`` must index them."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{where} must be 1-D (one label per image), got shape {y.shape}")
    if y.dtype.kind == "f":
        if not np.isfinite(y).all():
            raise ValueError(f"{where} contains NaN or infinity")
        if not np.array_equal(y, np.round(y)):
            raise ValueError(f"{where} must hold class labels, got non-integer numbers such as "
                             f"{y[y != np.round(y)][0]!r}")
        y = y.astype(np.int64)
    if y.dtype.kind not in "iubUS":
        raise TypeError(f"{where} must hold class labels (integers or strings), got dtype {y.dtype}")
    if names is not None:
        if y.dtype.kind not in "iu" or (y.size and (y.min() < 0 or y.max() >= len(names))):
            raise ValueError(f"{where} must be integers in [0, {len(names)}) to index its class_names, "
                             f"got values {np.unique(y)[:5].tolist()}")
        codes = y.astype(np.int64)
    else:
        values, codes = np.unique(y, return_inverse=True)
        names = [str(v) for v in values.tolist()]
    if len(np.unique(codes)) < 2:
        raise ValueError(f"{where} has a single class ({names[int(codes[0])] if codes.size else 'no labels'}); "
                         f"a classifier needs at least 2")
    return codes.astype(np.int64), names


def _load_npz(path: Path, split: str, test_size: float, random_state: int,
              verbose: bool) -> tuple[np.ndarray, np.ndarray]:
    X, y, names = _read_npz(path)
    where = f".npz file {str(path)!r}"
    if X.dtype != np.uint8:
        hint = " (images in 0..1? use np.round(X * 255).astype(np.uint8))" if X.dtype.kind == "f" else ""
        raise ValueError(f"X in {where} must be uint8 images (0..255), got dtype {X.dtype}{hint}")
    if X.ndim == 3:
        X = X[:, None]
    elif X.ndim != 4:
        raise ValueError(f"X in {where} must be [N, H, W] or [N, C, H, W], got shape {X.shape}")
    elif X.shape[1] not in (1, 3):
        hint = "; it looks channels-last: save X.transpose(0, 3, 1, 2)" if X.shape[-1] in (1, 3) else ""
        raise ValueError(f"X in {where} must have 1 or 3 channels in [N, C, H, W], got shape {X.shape}{hint}")
    if len(y) != len(X):
        raise ValueError(f"y in {where} has {len(y)} labels but X has {len(X)} images; they must match")
    stored = names is not None
    codes, names = _encode_labels(y, f"y in {where}", names)
    if verbose and not stored and names != [str(i) for i in range(len(names))]:
        shown = ", ".join(f"{i} = {n!r}" for i, n in enumerate(names[:6]))
        print(f"Labels in {where} encoded as 0..{len(names) - 1} in sorted order: {shown}"
              f"{', ...' if len(names) > 6 else ''}")
    idx = _stratified_split(codes, split, test_size, random_state, names, where)
    return X[idx], codes[idx]


# --- tables -------------------------------------------------------------------------------------------------


@dataclass
class TableInfo:
    """What :func:`load_table` read and did: class and feature names, encodings, imputations, notes."""

    path: Path
    target: str
    class_names: list[str]
    feature_names: list[str]
    numeric: list[str] = field(default_factory=list)
    one_hot: dict[str, list[str]] = field(default_factory=dict)   # column -> its categories, in column order
    imputed: dict[str, tuple[int, object]] = field(default_factory=dict)  # column -> (cells filled, value)
    dropped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was printed

    @property
    def n_classes(self) -> int:
        return len(self.class_names)


def load_table(path: str | os.PathLike, *, target: str, impute: str | None = None,
               drop: Sequence[str] = (), categorical: Sequence[str] = (), max_categories: int = 50,
               verbose: bool = True) -> tuple[np.ndarray, np.ndarray, TableInfo]:
    """Read a CSV or Parquet table as ``(X float64 [N, D], y int64 [N], info)`` for a classifier.

    - ``target``: the class column, encoded to ``0..K-1`` in sorted order (``info.class_names[k]`` is the
      value of class ``k``; a 0/1 column stays 0/1). A single class is an error.
    - Numeric columns become float features. Text, category and bool columns, and those listed in
      ``categorical``, are one-hot encoded into ``column=value`` features (printed); one with more than
      ``max_categories`` values is an error (an ID or free text? ``drop`` it). A column that is mostly
      numbers but holds some text is an error naming the column and a value, not a category.
    - Missing values are an error naming the columns, unless ``impute`` says how to fill them: ``"mean"``
      or ``"median"`` (numeric columns; categorical ones get their most frequent value) or
      ``"most_frequent"``; what was filled is printed and kept in ``info.imputed``. Missing targets are
      always an error.
    - ``drop``: columns to leave out (IDs, timestamps, leaks of the target).
    """

    path = check_path(path, "path", kind="file", suffixes=TABLE_SUFFIXES)
    if not isinstance(target, str):
        raise TypeError(f"target must be a column name (str), got {target!r} ({type(target).__name__})")
    if impute is not None:
        check_choice(impute, "impute", IMPUTE_CHOICES)
    drop = _check_names(drop, "drop")
    categorical = _check_names(categorical, "categorical")
    max_categories = check_int(max_categories, "max_categories", low=2)
    verbose = check_bool(verbose, "verbose")

    df = _read_table(path)
    _check_target_column(df, target, path)
    for name, cols in (("drop", drop), ("categorical", categorical)):
        unknown = [c for c in cols if c not in df.columns]
        if unknown:
            raise ValueError(f"{name} names column(s) {unknown} that {path.name} lacks; its columns are "
                             f"{list(df.columns)}")
    if target in drop or target in categorical:
        raise ValueError(f"target {target!r} cannot also be listed in drop or categorical")
    y, names = _encode_target(df[target], target, path)
    features = [c for c in df.columns if c != target and c not in drop]
    if not features:
        raise ValueError(f"{path.name} has no feature columns besides the target {target!r}"
                         + (f" and the dropped {list(drop)}" if drop else ""))
    info = TableInfo(path=path, target=target, class_names=names, feature_names=[], dropped=list(drop))

    kinds = {}  # column -> "numeric" | "categorical", and numeric text turned into numbers
    for col in features:
        kinds[col], converted = _column_kind(df[col], col, path, col in categorical)
        if converted is not None:
            df[col] = converted
            info.notes.append(f"column {col!r} holds numbers stored as text; read them as numbers")

    missing = {c: int(df[c].isna().sum()) for c in features if df[c].isna().any()}
    if missing and impute is None:
        where = ", ".join(f"{c!r} ({n} missing, first in row {int(np.flatnonzero(df[c].isna())[0])})"
                          for c, n in missing.items())
        raise ValueError(
            f"{path.name} has missing values in column(s) {where} (rows counted from 0). labkit never drops "
            f"rows silently: fill them in the file, drop= the column, or pass impute='mean', 'median' or "
            f"'most_frequent'"
        )
    for col, n in missing.items():
        values = df[col].dropna()
        if kinds[col] == "numeric" and impute in ("mean", "median"):
            fill = float(values.mean() if impute == "mean" else values.median())
        else:
            fill = values.value_counts().sort_index(kind="stable").idxmax()  # ties: the first in sorted order
            fill = fill.item() if hasattr(fill, "item") else fill
        df[col] = df[col].fillna(fill)
        info.imputed[col] = (n, fill)
    if info.imputed:
        filled = "; ".join(f"{c!r}: {n} cell{'s' * (n > 1)} with {v!r}" for c, (n, v) in info.imputed.items())
        info.notes.append(f"imputed missing values (impute={impute!r}): {filled}")

    blocks = []
    for col in features:
        if kinds[col] == "numeric":
            values = df[col].to_numpy(dtype=np.float64)
            if not np.isfinite(values).all():
                row = int(np.flatnonzero(~np.isfinite(values))[0])
                raise ValueError(f"column {col!r} of {path.name} holds an infinite value ({values[row]!r}) "
                                 f"in row {row}")
            blocks.append(values[:, None])
            info.feature_names.append(col)
            info.numeric.append(col)
        else:
            text = df[col].map(str)
            cats = sorted(text.unique().tolist())
            if len(cats) > max_categories:
                raise ValueError(
                    f"column {col!r} of {path.name} has {len(cats)} distinct values (e.g. {cats[:3]}); one-hot "
                    f"encoding would add {len(cats)} features. Is it an ID or free text? Pass drop=[{col!r}], "
                    f"or raise max_categories (now {max_categories})"
                )
            codes = np.searchsorted(np.array(cats, dtype=object), text.to_numpy(dtype=object))
            blocks.append(np.eye(len(cats))[codes])
            info.feature_names += [f"{col}={c}" for c in cats]
            info.one_hot[col] = cats
    if info.one_hot:
        cols = ", ".join(f"{c!r} ({len(v)} values)" for c, v in info.one_hot.items())
        info.notes.append(f"one-hot encoded the categorical column(s) {cols} into "
                          f"{sum(map(len, info.one_hot.values()))} features")
    X = np.hstack(blocks).astype(np.float64)
    if verbose:
        for note in info.notes:
            print(f"{path.name}: {note}")
    return X, y, info


def _check_names(value, name: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, Sequence | set | tuple) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"{name} must be a list of column names, got {value!r}")
    return list(value)


def _read_table(path: Path):
    import pandas as pd

    name = path.name.lower()
    try:
        if name.endswith((".parquet", ".pq")):
            if importlib.util.find_spec("pyarrow") is None and importlib.util.find_spec("fastparquet") is None:
                raise ImportError(
                    f"reading the Parquet file {str(path)!r} needs pyarrow, which is not installed: "
                    f"pip install 'labkit[parquet]' (or pip install pyarrow), or save the table as CSV"
                )
            df = pd.read_parquet(path)
        else:
            df = pd.read_csv(path, low_memory=False)
    except ImportError:
        raise
    except pd.errors.EmptyDataError:
        raise ValueError(f"path {str(path)!r} is empty (no columns)") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OSError) as err:
        raise ValueError(f"could not read the table {str(path)!r}: {err}") from None
    if len(df) == 0:
        raise ValueError(f"path {str(path)!r} has a header but no rows")
    df.columns = [str(c) for c in df.columns]
    return df


def _check_target_column(df, target: str, path: Path) -> None:
    if target not in df.columns:
        close = difflib.get_close_matches(target, list(df.columns), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"target {target!r} is not a column of {path.name}; its columns are "
                         f"{list(df.columns)}.{hint}")


def _column_kind(col, name: str, path: Path, force_categorical: bool):
    """``("numeric" | "categorical", converted values or None)`` for one feature column."""
    import pandas as pd
    from pandas.api import types

    if force_categorical:
        return "categorical", None
    if types.is_bool_dtype(col) or isinstance(col.dtype, pd.CategoricalDtype):
        return "categorical", None
    if types.is_datetime64_any_dtype(col) or types.is_timedelta64_dtype(col):
        raise ValueError(f"column {name!r} of {path.name} holds dates or times; drop= it or turn it into "
                         f"numbers (e.g. hour of day) in the file")
    if types.is_numeric_dtype(col):
        if types.is_complex_dtype(col):
            raise ValueError(f"column {name!r} of {path.name} holds complex numbers")
        return "numeric", None
    present = col.dropna()
    if present.map(lambda v: isinstance(v, bool)).all() and len(present):
        return "categorical", None  # True/False with missing cells (object dtype)
    numbers = pd.to_numeric(present.map(str).str.strip(), errors="coerce")
    n_numbers = int(numbers.notna().sum())
    if len(present) and n_numbers == len(present):
        return "numeric", pd.to_numeric(col.map(lambda v: v if pd.isna(v) else str(v).strip()), errors="coerce")
    if n_numbers > len(present) / 2:
        bad = numbers.isna()
        row = present.index[np.flatnonzero(bad.to_numpy())[0]]
        raise ValueError(
            f"column {name!r} of {path.name} is mostly numbers ({n_numbers} of {len(present)} values) but holds "
            f"text such as {present[row]!r} (row {row}, counted from 0). Fix those cells (leave a cell empty for "
            f"a missing value and choose impute=), or pass categorical=[{name!r}] if it really is a category"
        )
    return "categorical", None


def _encode_target(col, target: str, path: Path) -> tuple[np.ndarray, list[str]]:
    """The target column as ``0..K-1`` in sorted order, and the class names."""
    from pandas.api import types

    if col.isna().any():
        rows = np.flatnonzero(col.isna().to_numpy())
        raise ValueError(f"target {target!r} of {path.name} has {len(rows)} missing value(s) (first in row "
                         f"{int(rows[0])}, counted from 0); remove those rows: labkit does not guess classes")
    if types.is_bool_dtype(col):
        values = col.to_numpy(dtype=bool)
    elif types.is_numeric_dtype(col):
        values = col.to_numpy(dtype=np.float64)
        if not np.isfinite(values).all() or not np.array_equal(values, np.round(values)):
            bad = values[~np.isfinite(values) | (values != np.round(values))][0]
            raise ValueError(f"target {target!r} of {path.name} holds non-integer numbers such as {bad!r}; "
                             f"load_table reads class labels (a classification target), not a quantity")
        values = values.astype(np.int64)
    else:
        values = col.map(str).to_numpy(dtype=str)
    classes, codes = np.unique(values, return_inverse=True)
    names = [str(v) for v in classes.tolist()]
    if len(classes) < 2:
        raise ValueError(f"target {target!r} of {path.name} has a single class ({names[0]!r} in all "
                         f"{len(values)} rows); a classifier needs at least 2")
    return codes.astype(np.int64).ravel(), names


# --- the document's flip_y erratum ---------------------------------------------------------------------


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
