import os

import pytest

os.environ.setdefault("LABKIT_PROFILE", "smoke")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def rng():
    import numpy as np

    return np.random.default_rng(0)


def fashion_mnist_available() -> bool:
    from labkit import data

    try:
        data.load_images("fashion_mnist", "test", download=False)
    except data.DatasetUnavailable:
        return False
    return True


needs_fashion_mnist = pytest.mark.skipif(
    not fashion_mnist_available(),
    reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)",
)


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


needs_cuda = pytest.mark.skipif(not cuda_available(), reason="no CUDA device here: GPU path not exercised")
