import gzip
import io
import shutil
import tarfile

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import needs_fashion_mnist
from sklearn.datasets import make_classification
from userdata import make_fraud_csv, make_image_folder, make_image_npz

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


# --- validation (issue 13) -------------------------------------------------------------------------------------


def test_make_imbalanced_refuses_bool_flip_y():
    with pytest.raises(TypeError, match="flip_y"):
        data.make_imbalanced(flip_y=True)


@pytest.mark.parametrize(("kwargs", "exc", "name"), [
    ({"n_redundant": -1}, ValueError, "n_redundant"),
    ({"n_samples": 10.5}, TypeError, "n_samples"),
    ({"n_features": True}, TypeError, "n_features"),
    ({"n_informative": 0}, ValueError, "n_informative"),
    ({"weights": ("a", "b")}, TypeError, "weights"),
    ({"weights": "ab"}, TypeError, "weights"),
    ({"flip_y": float("nan")}, ValueError, "flip_y"),
    ({"shuffle": "yes"}, TypeError, "shuffle"),
])
def test_make_imbalanced_names_the_bad_parameter(kwargs, exc, name):
    with pytest.raises(exc, match=name):
        data.make_imbalanced(**kwargs)


@pytest.mark.parametrize("download", ["no", 0, None])
def test_load_images_refuses_a_non_bool_download(download):
    with pytest.raises(TypeError, match="download"):
        data.load_images("digits", download=download)


@pytest.mark.parametrize(("kwargs", "exc", "name"), [
    ({"image_size": 0}, ValueError, "image_size"),
    ({"image_size": "big"}, TypeError, "image_size"),
    ({"image_size": (8, 8, 8)}, ValueError, "image_size"),
    ({"test_size": 1.5}, ValueError, "test_size"),
    ({"test_size": 0}, ValueError, "test_size"),
    ({"random_state": np.random.default_rng(0)}, TypeError, "random_state"),
    ({"root": 3}, TypeError, "root"),
    ({"verbose": "no"}, TypeError, "verbose"),
])
def test_load_images_names_the_bad_keyword(kwargs, exc, name):
    with pytest.raises(exc, match=name):
        data.load_images("digits", **kwargs)


def test_check_path_names_parameter_and_path(tmp_path):
    from labkit._validation import PathNotFoundError, check_path

    assert check_path(tmp_path, "root", kind="dir") == tmp_path
    with pytest.raises(TypeError, match="root"):
        check_path(7, "root")
    with pytest.raises(ValueError, match="root.*empty"):
        check_path("  ", "root")
    with pytest.raises(PathNotFoundError, match="nowhere") as info:
        check_path(tmp_path / "nowhere", "path")
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, ValueError)
    with pytest.raises(ValueError, match="must be a file"):
        check_path(tmp_path, "path", kind="file")
    with pytest.raises(ValueError, match=r"\.csv"):
        check_path(tmp_path / "x.xlsx", "path", suffixes=(".csv",), must_exist=False)


# --- damaged files (issue 13) ----------------------------------------------------------------------------------


def _idx_bytes(array, dims=None):
    dims = array.shape if dims is None else dims
    return bytes([0, 0, 8, len(dims)]) + b"".join(int(d).to_bytes(4, "big") for d in dims) + \
        array.astype(np.uint8).tobytes()


def _fashion_folder(tmp_path, images: bytes, labels: bytes | None = None):
    """Write the test split's two files; ``images`` is the raw content of the images .gz file."""
    folder = tmp_path / "fashion_mnist"
    folder.mkdir(exist_ok=True)
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(images)
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(_idx_bytes(np.zeros(3))) if labels is None else labels)
    return folder / "t10k-images-idx3-ubyte.gz"


@pytest.mark.parametrize(("content", "what"), [
    (gzip.compress(_idx_bytes(np.arange(3 * 28 * 28).reshape(3, 28, 28) % 251))[:300],
     "truncated: the gzip stream ends early"),
    (b"this is not gzip at all" * 10, "not a gzip file"),
    (gzip.compress(_idx_bytes(np.zeros((2, 28, 28)), dims=(3, 28, 28))), "truncated: its header declares"),
    (gzip.compress(_idx_bytes(np.zeros((4, 28, 28)), dims=(3, 28, 28))), "wrong size"),
    (gzip.compress(b"\x89PNG not an idx file"), "not an idx file"),
    (gzip.compress(_idx_bytes(np.zeros((3, 28, 28)))), "checksum mismatch"),
], ids=["truncated-gz", "garbage", "short-payload", "wrong-size", "not-idx", "checksum"])
def test_damaged_fashion_mnist_file_is_named_with_what_is_wrong(tmp_path, content, what):
    path = _fashion_folder(tmp_path, content)
    with pytest.raises(data.DatasetUnavailable) as info:
        data.load_images("fashion_mnist", "test", root=tmp_path, download=False)
    message = str(info.value)
    assert str(path) in message and what in message
    assert "apt-get install dataset-fashion-mnist" in message  # today's how-to-get-it hint


def test_fashion_mnist_downloads_over_https_and_removes_a_bad_download(tmp_path, monkeypatch):
    urls = []

    def fake_urlopen(url, timeout):
        urls.append(url)
        return io.BytesIO(b"<html>captive portal</html>")

    monkeypatch.setattr(data.urllib.request, "urlopen", fake_urlopen)
    with pytest.raises(data.DatasetUnavailable, match="not a gzip file.*removed it.*apt-get"):
        data.load_images("fashion_mnist", "test", root=tmp_path)
    assert urls and all(u.startswith("https://") for u in urls)
    assert not list((tmp_path / "fashion_mnist").glob("*.gz"))  # the next try downloads again
    assert data.FASHION_MNIST_URL.startswith("https://")


def _cifar_archive(tmp_path, members=None, record_bytes=3073, labels=None):
    folder = tmp_path / "cifar10"
    folder.mkdir(exist_ok=True)
    path = folder / data.CIFAR10_ARCHIVE
    members = data.CIFAR10_MEMBERS["train"] + data.CIFAR10_MEMBERS["test"] if members is None else members
    rng = np.random.default_rng(0)
    with tarfile.open(path, "w:gz") as tar:
        for member in members:
            payload = rng.integers(0, 10, size=4 * record_bytes, dtype=np.uint8)
            payload[::record_bytes] = 0 if labels is None else labels
            info = tarfile.TarInfo(member)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload.tobytes()))
    return path


@pytest.mark.parametrize(("damage", "what"), [
    ("garbage", "not a gzip"),
    ("truncated", "truncated"),
    ("missing_member", "has no member cifar-10-batches-bin/test_batch.bin"),
    ("wrong_size", "wrong size"),
    ("bad_label", "label 12"),
])
def test_damaged_cifar10_archive_is_named_with_what_is_wrong(tmp_path, damage, what):
    if damage == "garbage":
        (tmp_path / "cifar10").mkdir()
        path = tmp_path / "cifar10" / data.CIFAR10_ARCHIVE
        path.write_bytes(b"garbage" * 100)
    elif damage == "truncated":
        path = _cifar_archive(tmp_path)
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "missing_member":
        path = _cifar_archive(tmp_path, members=data.CIFAR10_MEMBERS["train"])
    elif damage == "wrong_size":
        path = _cifar_archive(tmp_path, record_bytes=3000)
    else:
        path = _cifar_archive(tmp_path, labels=12)
    with pytest.raises(data.DatasetUnavailable) as info:
        data.load_images("cifar10", "test", root=tmp_path, download=False)
    message = str(info.value)
    assert str(path) in message and what in message and "cifar-10-binary.tar.gz" in message


def test_cifar10_download_with_bad_checksum_is_removed(tmp_path, monkeypatch):
    monkeypatch.setattr(data.urllib.request, "urlopen", lambda url, timeout: io.BytesIO(b"not the archive"))
    with pytest.raises(data.DatasetUnavailable, match="checksum mismatch.*removed it"):
        data.load_images("cifar10", "test", root=tmp_path)
    assert not (tmp_path / "cifar10" / data.CIFAR10_ARCHIVE).exists()


def test_read_cifar10_archive_validates_its_arguments(tmp_path):
    with pytest.raises(ValueError, match="path"):
        data.read_cifar10_archive(tmp_path / "missing.tar.gz", "test")
    with pytest.raises(ValueError, match="split"):
        data.read_cifar10_archive(_cifar_archive(tmp_path), "valid")


# --- your own images (issue 14) --------------------------------------------------------------------------------


def test_image_folder_loads_with_a_seeded_stratified_split(tmp_path):
    root = make_image_folder(tmp_path / "imgs", n_classes=3, per_class=10)
    X, y = data.load_images(root, "train")
    Xt, yt = data.load_images(str(root), "test")  # str or Path
    assert X.dtype == torch.uint8 and y.dtype == torch.int64
    assert X.shape == (24, 3, 12, 12) and Xt.shape == (6, 3, 12, 12)
    assert torch.bincount(y).tolist() == [8, 8, 8] and torch.bincount(yt).tolist() == [2, 2, 2]
    # complementary: every image once, none in both parts
    rows = {bytes(x.numpy().tobytes()) for x in torch.cat([X, Xt])}
    assert len(rows) == 30
    again, _ = data.load_images(root, "train")
    other, _ = data.load_images(root, "train", random_state=1)
    assert torch.equal(X, again) and not torch.equal(X, other)
    assert len(set(y[:6].tolist())) > 1  # a seeded random order, not sorted by class
    assert data.class_names(root) == ["cat", "dog", "fox"]


def test_image_folder_signal_is_learnable(tmp_path):
    from sklearn.linear_model import LogisticRegression

    root = make_image_folder(tmp_path / "imgs", n_classes=4, per_class=15)
    X, y = data.load_images(root, "train")
    Xt, yt = data.load_images(root, "test")
    clf = LogisticRegression(max_iter=2000).fit(X.reshape(len(X), -1).numpy() / 255, y.numpy())
    assert clf.score(Xt.reshape(len(Xt), -1).numpy() / 255, yt.numpy()) >= 0.9


def test_image_folder_with_train_and_test_subfolders_and_grayscale(tmp_path):
    root = make_image_folder(tmp_path / "imgs", per_class=6, split=True, test_per_class=3, grayscale=True)
    X, y = data.load_images(root, "train")
    Xt, yt = data.load_images(root, "test")
    assert X.shape == (18, 1, 12, 12) and Xt.shape == (9, 1, 12, 12)
    assert torch.bincount(yt).tolist() == [3, 3, 3]
    assert data.class_names(root) == ["cat", "dog", "fox"]


def test_mixed_sizes_are_resized_to_the_most_common_and_said_so(tmp_path, capsys):
    root = make_image_folder(tmp_path / "imgs", per_class=9, size=(10, 14), mixed_sizes=True)
    X, _ = data.load_images(root, "train")
    assert X.shape[1:] == (3, 10, 14)
    out = capsys.readouterr().out
    assert "2 different sizes" in out and "10x14" in out and "image_size=" in out
    X, _ = data.load_images(root, "test", image_size=(8, 6))
    assert X.shape[1:] == (3, 8, 6)
    X, _ = data.load_images(root, "test", image_size=16)
    assert X.shape[1:] == (3, 16, 16)


def test_jpeg_and_bmp_are_read_and_other_files_ignored(tmp_path):
    from PIL import Image

    root = make_image_folder(tmp_path / "imgs", n_classes=2, per_class=4)
    for cls in ("cat", "dog"):
        png = next((root / cls).glob("*.png"))
        Image.open(png).convert("RGB").save(root / cls / "extra.JPG")
        Image.open(png).save(root / cls / "extra.bmp")
        (root / cls / "notes.txt").write_text("not an image")
    X, y = data.load_images(root, "train", test_size=0.25)
    Xt, _ = data.load_images(root, "test", test_size=0.25)
    assert len(X) + len(Xt) == 12


def test_builtin_images_can_be_resized():
    X, _ = data.load_images("digits", "test", image_size=16)
    assert X.shape == (360, 1, 16, 16) and X.dtype == torch.uint8


def test_npz_images_load_with_encoded_labels(tmp_path, capsys):
    path = make_image_npz(tmp_path / "gray.npz", n_classes=3, per_class=10)
    X, y = data.load_images(path, "train")
    assert X.shape == (24, 1, 12, 12) and X.dtype == torch.uint8 and y.dtype == torch.int64
    assert data.class_names(path) == ["0", "1", "2"]
    path = make_image_npz(tmp_path / "rgb.npz", channels=3, labels=["zebra", "ant", "moth"])
    X, y = data.load_images(path, "test")
    assert X.shape[1:] == (3, 12, 12)
    assert data.class_names(path) == ["ant", "moth", "zebra"] and "encoded as 0..2" in capsys.readouterr().out
    np.savez(tmp_path / "named.npz", X=np.zeros((6, 4, 4), np.uint8), y=np.array([0, 1] * 3),
             class_names=np.array(["no", "yes"]))
    assert data.class_names(tmp_path / "named.npz") == ["no", "yes"]


def test_one_class_folder_is_refused(tmp_path):
    root = make_image_folder(tmp_path / "imgs", n_classes=1)
    with pytest.raises(ValueError, match="single class folder.*'cat'"):
        data.load_images(root)


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_unreadable_image_is_named(tmp_path, damage):
    root = make_image_folder(tmp_path / "imgs", n_classes=2, per_class=4)
    bad = root / "dog" / "dog_002.png"
    bad.write_bytes(b"not a png" if damage == "garbage" else bad.read_bytes()[:60])
    with pytest.raises(ValueError, match="could not read image") as info:
        data.load_images(root, "train", test_size=0.5)
        data.load_images(root, "test", test_size=0.5)
    assert str(bad) in str(info.value)


def test_bad_image_folder_layouts_are_explained(tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "a.png").write_bytes(b"")
    with pytest.raises(ValueError, match="no class subfolders.*ImageFolder"):
        data.load_images(flat)
    root = make_image_folder(tmp_path / "empty_class", n_classes=2)
    (root / "zebra").mkdir()
    with pytest.raises(ValueError, match=r"\['zebra'\].*no PNG/JPEG/BMP"):
        data.load_images(root)
    only_train = make_image_folder(tmp_path / "only_train", split=True)
    shutil.rmtree(only_train / "test")
    with pytest.raises(ValueError, match="train/ subfolder but no test/"):
        data.load_images(only_train)
    extra = make_image_folder(tmp_path / "extra", n_classes=2, split=True)
    make_image_folder(tmp_path / "other", n_classes=3)
    shutil.copytree(tmp_path / "other" / "fox", extra / "test" / "fox")
    with pytest.raises(ValueError, match=r"test/ has class folder\(s\) \['fox'\]"):
        data.load_images(extra, "test")
    tiny = make_image_folder(tmp_path / "tiny", n_classes=2, per_class=1)
    with pytest.raises(ValueError, match="fewer than 2 images"):
        data.load_images(tiny)
    small = make_image_folder(tmp_path / "small", n_classes=3, per_class=2)
    with pytest.raises(ValueError, match="test_size"):
        data.load_images(small, test_size=0.1)


def test_bad_split_and_unknown_sources_are_named(tmp_path):
    root = make_image_folder(tmp_path / "imgs", n_classes=2, per_class=4)
    with pytest.raises(ValueError, match="split"):
        data.load_images(root, "validation")
    with pytest.raises(ValueError, match="source.*no such file or folder"):
        data.load_images(tmp_path / "nowhere")
    with pytest.raises(TypeError, match="source"):
        data.load_images(42)
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match="cannot read"):
        data.load_images(tmp_path / "notes.txt")
    csv = make_fraud_csv(tmp_path / "fraud.csv")
    with pytest.raises(ValueError, match="load_table"):
        data.load_images(csv)


@pytest.mark.parametrize(("arrays", "match"), [
    ({"X": np.zeros((4, 8, 8), np.uint8)}, "no 'y' array"),
    ({"images": np.zeros((4, 8, 8), np.uint8), "labels": np.arange(4)}, "no 'X' and no 'y'"),
    ({"X": np.zeros((4, 8, 8)), "y": np.array([0, 1, 0, 1])}, "uint8.*X \\* 255"),
    ({"X": np.zeros((4, 8, 8, 3), np.uint8), "y": np.array([0, 1, 0, 1])}, "channels-last"),
    ({"X": np.zeros((4, 8), np.uint8), "y": np.array([0, 1, 0, 1])}, r"\[N, H, W\]"),
    ({"X": np.zeros((4, 8, 8), np.uint8), "y": np.array([0, 1, 0])}, "3 labels but X has 4"),
    ({"X": np.zeros((4, 8, 8), np.uint8), "y": np.zeros(4)}, "single class"),
    ({"X": np.zeros((4, 8, 8), np.uint8), "y": np.array([0, 1.5, 0, 1])}, "non-integer"),
])
def test_bad_npz_contents_are_named(tmp_path, arrays, match):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match=match) as info:
        data.load_images(path)
    assert "bad.npz" in str(info.value)


def test_npz_that_is_not_an_archive_is_named(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"garbage bytes")
    with pytest.raises(ValueError, match="junk.npz"):
        data.load_images(tmp_path / "junk.npz")
    np.save(tmp_path / "single.npy", np.zeros(3))
    (tmp_path / "single.npy").rename(tmp_path / "single.npz")
    with pytest.raises(ValueError, match="single array"):
        data.load_images(tmp_path / "single.npz")


# --- tables (issue 14) -----------------------------------------------------------------------------------------


def test_fraud_csv_loads_with_one_hot_categorical_and_kept_names(tmp_path, capsys):
    path = make_fraud_csv(tmp_path / "fraud.csv", n=400)
    X, y, info = data.load_table(path, target="is_fraud")
    assert X.dtype == np.float64 and X.shape == (400, 7) and y.dtype == np.int64
    assert y.mean() == pytest.approx(0.1)
    assert info.class_names == ["0", "1"] and info.n_classes == 2
    assert info.feature_names == ["amount", "hour", "n_tx_24h", "distance_km",
                                  "channel=online", "channel=phone", "channel=store"]
    assert info.one_hot == {"channel": ["online", "phone", "store"]}
    assert np.array_equal(X[:, 4:].sum(axis=1), np.ones(400))
    assert "one-hot encoded" in capsys.readouterr().out and "'channel'" in info.notes[0]
    assert data.class_names(path, target="is_fraud") == ["0", "1"]


def test_fraud_csv_signal_is_learnable(tmp_path):
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y, _ = data.load_table(make_fraud_csv(tmp_path / "fraud.csv"), target="is_fraud", verbose=False)
    Xa, Xb, ya, yb = train_test_split(X, y, stratify=y, random_state=0)
    clf = make_pipeline(StandardScaler(), LogisticRegression()).fit(Xa, ya)
    assert balanced_accuracy_score(yb, clf.predict(Xb)) > 0.8


def _csv(tmp_path, name="t.csv", **columns):
    path = tmp_path / name
    pd.DataFrame(columns).to_csv(path, index=False)
    return path


def test_text_target_and_bool_feature_are_encoded(tmp_path):
    path = _csv(tmp_path, x=[1.0, 2.0, 3.0, 4.0], flag=[True, False, True, True],
                label=["spam", "ham", "spam", "eggs"])
    X, y, info = data.load_table(path, target="label", verbose=False)
    assert info.class_names == ["eggs", "ham", "spam"] and y.tolist() == [2, 1, 2, 0]
    assert info.feature_names == ["x", "flag=False", "flag=True"]
    assert data.class_names(path, target="label") == ["eggs", "ham", "spam"]


def test_parquet_loads_like_csv(tmp_path):
    pytest.importorskip("pyarrow")
    csv = make_fraud_csv(tmp_path / "fraud.csv")
    pd.read_csv(csv).to_parquet(tmp_path / "fraud.parquet")
    X, y, info = data.load_table(csv, target="is_fraud", verbose=False)
    Xp, yp, infop = data.load_table(tmp_path / "fraud.parquet", target="is_fraud", verbose=False)
    assert np.array_equal(X, Xp) and np.array_equal(y, yp) and info.feature_names == infop.feature_names


def test_parquet_numbers_stored_as_text_are_read_as_numbers(tmp_path):
    pytest.importorskip("pyarrow")
    path = tmp_path / "t.parquet"
    pd.DataFrame({"x": ["1.5", "2", "3"], "y": [0, 1, 1]}).to_parquet(path)
    X, _, info = data.load_table(path, target="y", verbose=False)
    assert X[:, 0].tolist() == [1.5, 2.0, 3.0] and info.numeric == ["x"] and "stored as text" in info.notes[0]


def test_parquet_without_pyarrow_says_what_to_install(tmp_path, monkeypatch):
    path = tmp_path / "t.parquet"
    path.write_bytes(b"PAR1")
    real = data.importlib.util.find_spec
    monkeypatch.setattr(data.importlib.util, "find_spec",
                        lambda name, *a: None if name in ("pyarrow", "fastparquet") else real(name, *a))
    with pytest.raises(ImportError, match=r"pip install 'labkit\[parquet\]'"):
        data.load_table(path, target="y")


def test_csv_without_the_target_lists_the_columns(tmp_path):
    path = make_fraud_csv(tmp_path / "fraud.csv")
    with pytest.raises(ValueError, match=r"target 'is_frau' is not a column.*'amount'.*Did you mean 'is_fraud'"):
        data.load_table(path, target="is_frau")
    with pytest.raises(ValueError, match="target must name"):
        data.class_names(path)
    with pytest.raises(TypeError, match="target"):
        data.load_table(path, target=5)


def test_single_class_target_is_refused(tmp_path):
    path = _csv(tmp_path, x=[1, 2, 3], y=[1, 1, 1])
    with pytest.raises(ValueError, match="target 'y'.*single class"):
        data.load_table(path, target="y")


def test_text_in_a_numeric_column_names_the_column_and_value(tmp_path):
    path = make_fraud_csv(tmp_path / "fraud.csv", n=50)
    df = pd.read_csv(path)
    df["amount"] = df["amount"].astype(object)
    df.loc[17, "amount"] = "12,50 EUR"
    df.to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"column 'amount'.*mostly numbers.*'12,50 EUR' \(row 17"):
        data.load_table(path, target="is_fraud")
    X, _, info = data.load_table(path, target="is_fraud", categorical=["amount"], verbose=False)
    assert "amount" in info.one_hot  # the user says it really is a category


def test_missing_values_are_an_error_naming_the_columns(tmp_path):
    path = _csv(tmp_path, a=[1.0, np.nan, 3.0, 4.0], b=[1.0, 2.0, 3.0, 4.0], c=["u", "v", None, "u"],
                y=[0, 1, 0, 1])
    with pytest.raises(ValueError, match=r"missing values in column\(s\) 'a' \(1 missing, first in row 1\), "
                                         r"'c'.*impute="):
        data.load_table(path, target="y")


@pytest.mark.parametrize(("impute", "a_fill"), [("mean", 8 / 3), ("median", 3.0), ("most_frequent", 1.0)])
def test_impute_fills_and_reports(tmp_path, capsys, impute, a_fill):
    path = _csv(tmp_path, a=[1.0, np.nan, 3.0, 4.0], c=["u", "v", None, "u"], y=[0, 1, 0, 1])
    X, _, info = data.load_table(path, target="y", impute=impute)
    assert X[1, 0] == pytest.approx(a_fill)
    assert info.imputed["a"][0] == 1 and info.imputed["c"] == (1, "u")
    assert X[2].tolist()[1:] == [1.0, 0.0]  # c filled with its most frequent value 'u'
    assert f"impute={impute!r}" in capsys.readouterr().out


def test_missing_target_values_are_always_an_error(tmp_path):
    path = _csv(tmp_path, a=[1.0, 2.0, 3.0], y=[0, np.nan, 1])
    with pytest.raises(ValueError, match="target 'y'.*1 missing"):
        data.load_table(path, target="y", impute="most_frequent")


@pytest.mark.parametrize(("kwargs", "exc", "match"), [
    ({"impute": "zero"}, ValueError, "impute"),
    ({"impute": True}, ValueError, "impute"),
    ({"drop": ["nope"]}, ValueError, "drop.*'nope'"),
    ({"drop": 3}, TypeError, "drop"),
    ({"categorical": ["is_fraud"]}, ValueError, "target"),
    ({"max_categories": 1}, ValueError, "max_categories"),
    ({"verbose": "yes"}, TypeError, "verbose"),
])
def test_load_table_names_the_bad_keyword(tmp_path, kwargs, exc, match):
    path = make_fraud_csv(tmp_path / "fraud.csv", n=40)
    with pytest.raises(exc, match=match):
        data.load_table(path, target="is_fraud", **kwargs)


def test_other_bad_tables_are_explained(tmp_path):
    with pytest.raises(ValueError, match="regression|non-integer"):
        data.load_table(_csv(tmp_path, x=[1, 2, 3], y=[0.5, 1.5, 2.0]), target="y")
    ids = _csv(tmp_path, "ids.csv", id=[f"tx{i}" for i in range(60)], x=range(60), y=[0, 1] * 30)
    with pytest.raises(ValueError, match="'id' .*60 distinct values.*drop="):
        data.load_table(ids, target="y")
    X, _, info = data.load_table(ids, target="y", drop=["id"], verbose=False)
    assert X.shape == (60, 1) and info.dropped == ["id"]
    with pytest.raises(ValueError, match="no feature columns"):
        data.load_table(_csv(tmp_path, y=[0, 1]), target="y")
    with pytest.raises(ValueError, match="infinite"):
        data.load_table(_csv(tmp_path, x=[1.0, np.inf], y=[0, 1]), target="y")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ValueError, match="empty"):
        data.load_table(tmp_path / "empty.csv", target="y")
    (tmp_path / "header.csv").write_text("x,y\n")
    with pytest.raises(ValueError, match="no rows"):
        data.load_table(tmp_path / "header.csv", target="y")
    with pytest.raises(ValueError, match="path.*ending in .csv"):
        data.load_table(tmp_path / "t.xlsx", target="y")
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        data.load_table(tmp_path / "missing.csv", target="y")


# --- what a source is ---------------------------------------------------------------------------------------


def test_is_builtin_source_kind_and_describe(tmp_path):
    folder = make_image_folder(tmp_path / "imgs", n_classes=2, per_class=3)
    npz = make_image_npz(tmp_path / "x.npz")
    csv = make_fraud_csv(tmp_path / "fraud.csv", n=20)
    assert data.is_builtin("digits") and not data.is_builtin(str(folder)) and not data.is_builtin(None)
    assert [data.source_kind(s) for s in ("cifar10", folder, npz, csv)] == ["builtin", "images", "npz", "table"]
    assert "digits" in data.describe("digits")
    assert "imgs" in data.describe(folder) and "cat, dog" in data.describe(folder)
    assert "fraud.csv" in data.describe(csv, target="is_fraud") and "is_fraud" in data.describe(csv, target="is_fraud")
    with pytest.raises(ValueError, match="target= applies to tables"):
        data.class_names(folder, target="y")
    assert data.class_names("fashion_mnist")[0] == "T-shirt/top"


def test_train_test_reads_builtin_images_folders_and_tables(tmp_path):
    digits = data.train_test("digits")
    assert digits.X_train.shape == (1437, 64) and digits.X_test.shape == (360, 64)
    assert digits.grey_train().shape == (1437, 8, 8) and digits.X_train.max() <= 1.0
    folder = make_image_folder(tmp_path / "shapes", n_classes=3, per_class=20, size=(12, 12), seed=0)
    imgs = data.train_test(folder, random_state=1)
    assert len(imgs.y_train) + len(imgs.y_test) == 60 and imgs.grey_train().shape[1:] == (12, 12)
    assert imgs.class_names == sorted(imgs.class_names) and "shapes" in imgs.description
    csv = make_fraud_csv(tmp_path / "fraud.csv", n=200, seed=0)
    table = data.train_test(csv, target="is_fraud", test_size=0.25, random_state=0)
    assert table.images_train is None and table.grey_train() is None and len(table.y_test) == 50
    assert table.y_train.mean() == pytest.approx(table.y_test.mean(), abs=0.03)  # stratified
    with pytest.raises(ValueError, match="TARGET"):
        data.train_test(csv)
    with pytest.raises(ValueError, match="TARGET"):
        data.train_test(folder, target="is_fraud")

def test_train_test_features_are_the_pixel_features_of_its_images():
    parts = data.train_test("digits")
    assert parts.X_train.dtype == np.float32 and parts.images_train.dtype == np.uint8
    assert np.array_equal(parts.X_train, data.pixel_features(parts.images_train))
    assert np.array_equal(parts.X_test, data.pixel_features(parts.images_test))
    X, y = data.load_images("digits", "test")
    assert np.array_equal(parts.images_test, X.numpy()) and np.array_equal(parts.y_test, y.numpy())
    with pytest.raises(ValueError, match="test_size"):
        data.train_test("digits", test_size=1.0)
