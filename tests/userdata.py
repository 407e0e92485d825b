"""Builders of small "user data" on disk, for tests: an image folder and a fraud table with learnable signal.

Used by tests/test_data.py and by notebook tests that run ``labkit run ... -p DATASET=<path>``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

CLASS_NAMES = ("cat", "dog", "fox", "owl", "yak", "bee", "elk", "emu", "gnu", "ram")


def make_image_folder(root, n_classes: int = 3, per_class: int = 12, size: tuple[int, int] = (12, 12),
                      seed: int = 0, mixed_sizes: bool = False, *, split: bool = False,
                      test_per_class: int = 4, grayscale: bool = False) -> Path:
    """Write PNGs in torchvision's ImageFolder layout under ``root`` and return ``root``.

    Class ``k`` (folder ``CLASS_NAMES[k]``) has its own brightness, a bright horizontal bar at a
    class-dependent row and (in colour) a dominant channel, plus noise: easy to learn from pixels.
    ``size`` is (height, width); ``mixed_sizes=True`` makes every third image 4 pixels larger each way (the
    most common size stays ``size``); ``split=True`` writes ``train/`` and ``test/`` (``test_per_class`` each).
    """
    from PIL import Image

    if not 1 <= n_classes <= len(CLASS_NAMES):
        raise ValueError(f"n_classes must be in [1, {len(CLASS_NAMES)}], got {n_classes}")
    root = Path(root)
    rng = np.random.default_rng(seed)
    parts = {"train": per_class, "test": test_per_class} if split else {"": per_class}
    for part, count in parts.items():
        for k in range(n_classes):
            folder = root / part / CLASS_NAMES[k]
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                h, w = size
                if mixed_sizes and i % 3 == 2:
                    h, w = h + 4, w + 4
                img = _class_image(rng, k, n_classes, h, w, grayscale)
                Image.fromarray(img, mode=None).save(folder / f"{CLASS_NAMES[k]}_{i:03d}.png")
    return root


def _class_image(rng: np.random.Generator, k: int, n_classes: int, h: int, w: int, grayscale: bool) -> np.ndarray:
    level = 40 + 160 * k / max(n_classes - 1, 1)
    img = rng.normal(level, 12, size=(h, w, 3))
    bar = int(round((h - 1) * k / max(n_classes - 1, 1)))
    img[bar, :, :] = 250
    if not grayscale:
        img[:, :, k % 3] += 40
    img = np.clip(np.round(img), 0, 255).astype(np.uint8)
    return img[:, :, 0] if grayscale else img


def make_image_npz(path, n_classes: int = 3, per_class: int = 12, size: tuple[int, int] = (12, 12),
                   seed: int = 0, *, channels: int = 1, labels=None) -> Path:
    """Write an ``.npz`` with ``X`` (uint8, [N, H, W] for 1 channel, else [N, C, H, W]) and ``y``.

    ``labels``: optional label values per class (e.g. strings), else ``0..n_classes-1``.
    """
    rng = np.random.default_rng(seed)
    X = np.stack([_class_image(rng, k, n_classes, *size, channels == 1)
                  for k in range(n_classes) for _ in range(per_class)])
    X = X if channels == 1 else X.transpose(0, 3, 1, 2)
    codes = np.repeat(np.arange(n_classes), per_class)
    y = codes if labels is None else np.asarray(labels)[codes]
    path = Path(path)
    np.savez(path, X=X, y=y)
    return path


def make_fraud_csv(path, n: int = 400, seed: int = 0, *, positive_share: float = 0.1) -> Path:
    """Write a CSV of card transactions with an imbalanced binary target ``is_fraud`` (about 10 % ones).

    Numeric columns ``amount``, ``hour``, ``n_tx_24h`` and ``distance_km`` carry the signal (fraud: larger
    amounts, night hours, bursts of transactions, far from home); ``channel`` (online/store/phone) is the
    categorical column, online more often for fraud.
    """
    import pandas as pd

    rng = np.random.default_rng(seed)
    n_pos = int(round(positive_share * n))
    y = np.zeros(n, dtype=int)
    y[rng.choice(n, n_pos, replace=False)] = 1
    fraud = y == 1
    amount = np.where(fraud, rng.lognormal(5.0, 0.6, n), rng.lognormal(3.5, 0.7, n))
    hour = np.where(fraud, rng.choice([0, 1, 2, 3, 4, 23], n), rng.integers(7, 23, n))
    n_tx = np.where(fraud, rng.poisson(6, n), rng.poisson(2, n))
    distance = np.where(fraud, rng.gamma(4.0, 60.0, n), rng.gamma(2.0, 8.0, n))
    channel = np.where(fraud, rng.choice(["online", "phone", "store"], n, p=[0.7, 0.2, 0.1]),
                       rng.choice(["online", "phone", "store"], n, p=[0.3, 0.1, 0.6]))
    df = pd.DataFrame({"amount": np.round(amount, 2), "hour": hour, "n_tx_24h": n_tx,
                       "distance_km": np.round(distance, 1), "channel": channel, "is_fraud": y})
    path = Path(path)
    df.to_csv(path, index=False)
    return path
