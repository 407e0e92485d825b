import gzip
import io
import tarfile

import numpy as np
import pytest
import torch
from conftest import needs_fashion_mnist
from sklearn.datasets import make_classification

from labkit import data


def test_make_imbalanced_matches_document_call():
    X, y = data.make_imbalanced(random_state=7)
    X_doc, y_doc = make_classification(n_samples=1000, n_features=20, n_informative=2, n_redundant=10,
                                       n_classes=2, weights=[0.99, 0.01], random_state=7)
    assert np.array_equal(X, X_doc) and np.array_equal(y, y_doc)
    assert X.shape == (1000, 20)


def test_make_imbalanced_is_deterministic_and_imbalanced():
    a = data.make_imbalanced(2000, (0.9, 0.1), flip_y=0, random_state=1)
    b = data.make_imbalanced(2000, (0.9, 0.1), flip_y=0, random_state=1)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert abs(a[1].mean() - 0.1) < 0.01


@pytest.mark.parametrize("weights", [(0.9, 0.2), (0.5,), (1.2, -0.2)])
def test_make_imbalanced_rejects_bad_weights(weights):
    with pytest.raises(ValueError, match="weights"):
        data.make_imbalanced(weights=weights)


def test_make_imbalanced_rejects_bad_flip_y():
    with pytest.raises(ValueError, match="flip_y"):
        data.make_imbalanced(flip_y=1.5)


def test_flipped_labels_finds_exactly_the_changed_labels():
    mask = data.flipped_labels(random_state=0)
    _, y = data.make_imbalanced(random_state=0)
    assert mask.dtype == bool and mask.shape == y.shape
    assert 0 < mask.sum() < 30
    assert not data.flipped_labels(flip_y=0.0, random_state=0).any()
    # a much larger flip rate flips many more labels
    assert data.flipped_labels(flip_y=0.5, random_state=0).sum() > 100


def test_load_digits_shapes_and_split():
    X, y = data.load_images("digits", "train")
    Xt, yt = data.load_images("digits", "test")
    assert X.dtype == torch.uint8 and y.dtype == torch.int64
    assert X.shape[1:] == (1, 8, 8) and len(X) == 1437 and len(Xt) == 360
    assert int(X.max()) == 255 and set(yt.tolist()) == set(range(10))


@pytest.mark.parametrize(("name", "split"), [("mnist", "train"), ("digits", "validation")])
def test_load_images_rejects_unknown(name, split):
    with pytest.raises(ValueError, match="name|split"):
        data.load_images(name, split)


def _write_idx(path, array):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


def test_fashion_mnist_checksum_mismatch_is_reported(tmp_path):
    folder = tmp_path / "fashion_mnist"
    folder.mkdir()
    _write_idx(folder / "t10k-images-idx3-ubyte.gz", np.zeros((3, 28, 28)))
    _write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.zeros(3))
    with pytest.raises(data.DatasetUnavailable, match="sha256"):
        data.load_images("fashion_mnist", "test", root=tmp_path, download=False)


def test_missing_data_without_download_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "FASHION_MNIST_SYSTEM_DIRS", ())
    monkeypatch.setenv("LABKIT_DATA", str(tmp_path))
    with pytest.raises(data.DatasetUnavailable, match="apt-get install dataset-fashion-mnist"):
        data.load_images("fashion_mnist", "train", download=False)
    with pytest.raises(data.DatasetUnavailable, match="cifar-10-binary"):
        data.load_images("cifar10", "train", root=tmp_path, download=False)


def test_failed_download_raises_dataset_unavailable(tmp_path, monkeypatch):
    def offline(url, timeout):
        raise OSError("network unreachable")

    monkeypatch.setattr(data.urllib.request, "urlopen", offline)
    monkeypatch.setattr(data, "FASHION_MNIST_SYSTEM_DIRS", ())
    with pytest.raises(data.DatasetUnavailable, match="network unreachable"):
        data.load_images("fashion_mnist", "test", root=tmp_path)
    with pytest.raises(data.DatasetUnavailable, match="network unreachable"):
        data.load_images("cifar10", "test", root=tmp_path)
    assert not list(tmp_path.rglob("*.part"))


def test_cifar10_binary_archive_is_parsed(tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "cifar10"
    folder.mkdir()
    labels = {}
    with tarfile.open(folder / data.CIFAR10_ARCHIVE, "w:gz") as tar:
        for member in data.CIFAR10_MEMBERS["train"] + data.CIFAR10_MEMBERS["test"]:
            y = rng.integers(0, 10, size=4, dtype=np.uint8)
            x = rng.integers(0, 256, size=(4, 3072), dtype=np.uint8)
            payload = np.concatenate([y[:, None], x], axis=1).tobytes()
            info = tarfile.TarInfo(member)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
            labels[member] = (y, x)
    X, y = data.load_images("cifar10", "test", root=tmp_path, download=False)
    y_ref, x_ref = labels[data.CIFAR10_MEMBERS["test"][0]]
    assert X.shape == (4, 3, 32, 32) and X.dtype == torch.uint8
    assert np.array_equal(y.numpy(), y_ref) and np.array_equal(X.numpy().reshape(4, -1), x_ref)
    assert len(data.load_images("cifar10", "train", root=tmp_path, download=False)[0]) == 20


@needs_fashion_mnist
@pytest.mark.data
def test_fashion_mnist_real_files():
    X, y = data.load_images("fashion_mnist", "test", download=False)
    assert X.shape == (10000, 1, 28, 28) and X.dtype == torch.uint8
    assert torch.bincount(y).tolist() == [1000] * 10
