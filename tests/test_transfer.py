"""labkit.transfer: freezing (BatchNorm included), cached feature extraction, probes, fine-tuning."""

import numpy as np
import pytest
import torch
from torch import nn

from labkit import errata, transfer

torch.set_num_threads(2)


class Tiny(nn.Module):
    """conv-BN-ReLU ×2, pool, Linear head named ``fc`` — the shape of the kit's CNNs."""

    def __init__(self, num_classes=3, dropout=0.0):
        super().__init__()
        self.block1 = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU())
        self.block2 = nn.Sequential(nn.Conv2d(4, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(8, num_classes)

    def forward(self, x):
        return self.fc(self.drop(torch.flatten(self.pool(self.block2(self.block1(x))), 1)))


def tiny(seed=0, **kw):
    torch.manual_seed(seed)
    model = Tiny(**kw)
    # non-trivial statistics, so "unchanged" is not "still at the defaults"
    model.train()
    with torch.no_grad():
        model(torch.rand(16, 1, 8, 8) * 3 + 1)
    return model


def images(n=12, seed=0, size=8):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 1, size, size), dtype=torch.uint8, generator=g)


def bn_stats(model):
    return {k: v.clone() for k, v in model.state_dict().items() if "running" in k}


# ---------------------------------------------------------------- freeze


def test_freeze_leaves_exactly_the_named_parts_trainable():
    model = transfer.freeze(tiny(), trainable=("fc",))
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"fc.weight", "fc.bias"}
    assert transfer.count_trainable(model) == 8 * 3 + 3

    model = transfer.freeze(tiny(), trainable=("block2", "fc"))
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"block2.0.weight", "block2.0.bias", "block2.1.weight", "block2.1.bias",
                         "fc.weight", "fc.bias"}
    # the trainable block keeps a real BatchNorm; the frozen one does not
    assert isinstance(model.block2[1], nn.BatchNorm2d)
    assert isinstance(model.block1[1], transfer.FrozenBatchNorm)


def test_freeze_nested_name_and_nothing():
    model = transfer.freeze(tiny(), trainable=("block1.0",))
    assert {n for n, p in model.named_parameters() if p.requires_grad} == {"block1.0.weight", "block1.0.bias"}
    model = transfer.freeze(tiny(), trainable=())
    assert transfer.count_trainable(model) == 0


def test_frozen_batchnorm_statistics_do_not_change_in_train_mode():
    model = transfer.freeze(tiny(), trainable=("fc",))
    before = bn_stats(model)
    model.train()
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    for _ in range(3):
        loss = nn.functional.cross_entropy(model(torch.rand(8, 1, 8, 8) * 5), torch.randint(0, 3, (8,)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = bn_stats(model)
    assert before.keys() == after.keys() and len(before) == 4
    for key in before:
        assert torch.equal(before[key], after[key]), key


def test_requires_grad_alone_does_not_freeze_batchnorm():
    """002 §4's freezing (requires_grad=False, model in train mode): the statistics drift. This is the
    mistake freeze() fixes, and shows the test above can fail."""
    model = tiny()
    for p in model.parameters():
        p.requires_grad_(False)
    before = bn_stats(model)
    model.train()
    with torch.no_grad():
        model(torch.rand(8, 1, 8, 8) * 5)
    changed = [k for k in before if not torch.equal(before[k], bn_stats(model)[k])]
    assert changed


def test_frozen_model_in_train_mode_computes_what_the_original_computes_in_eval_mode():
    original = tiny(dropout=0.5)
    x = torch.rand(5, 1, 8, 8)
    with torch.no_grad():
        expected = original.eval()(x)
    frozen = transfer.freeze(tiny(dropout=0.5), trainable=())
    assert isinstance(frozen.drop, nn.Identity)
    with torch.no_grad():
        got = frozen.train()(x)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)


def test_frozen_batchnorm_1d_and_state_dict_round_trip():
    bn = nn.BatchNorm1d(3)
    bn.train()
    bn(torch.randn(20, 3) * 2 + 1)
    bn.eval()
    x = torch.randn(4, 3)
    frozen = transfer.FrozenBatchNorm.from_batchnorm(bn)
    torch.testing.assert_close(frozen.train()(x), bn(x))
    again = transfer.FrozenBatchNorm(3, eps=bn.eps)
    again.load_state_dict(bn.state_dict())  # num_batches_tracked is dropped, the rest loads
    torch.testing.assert_close(again(x), bn(x))


def test_freeze_rejects_bad_input():
    with pytest.raises(ValueError, match="'nope'"):
        transfer.freeze(tiny(), trainable=("nope",))
    with pytest.raises(TypeError, match="model"):
        transfer.freeze("model")
    with pytest.raises(TypeError, match="trainable"):
        transfer.freeze(tiny(), trainable=(3,))
    with pytest.raises(ValueError, match="track_running_stats"):
        transfer.freeze(nn.Sequential(nn.BatchNorm2d(2, track_running_stats=False), nn.Linear(2, 2)),
                        trainable=("1",))


def test_count_trainable_and_parameters():
    model = tiny()
    total = sum(p.numel() for p in model.parameters())
    assert transfer.count_trainable(model) == transfer.count_parameters(model) == total
    transfer.freeze(model, trainable=("fc",))
    assert transfer.count_trainable(model) == 27
    assert transfer.count_parameters(model) < total  # frozen BatchNorm affine terms became buffers


def test_blocks():
    assert transfer.blocks(tiny()) == [("block1",), ("block2",)]
    import torchvision

    net = torchvision.models.resnet18(weights=None)
    assert transfer.blocks(net) == [("conv1", "bn1"), ("layer1",), ("layer2",), ("layer3",), ("layer4",)]
    tn = transfer.pretrained_resnet("resnet18", num_classes=4, weights=None, input_size=32)
    assert transfer.blocks(tn)[-1] == ("backbone.layer4",)
    from labkit import models

    cnn = models.small_cnn(num_classes=3, width=4)
    assert transfer.blocks(cnn) == [("features.0", "features.1"), ("features.4", "features.5"),
                                    ("features.8", "features.9")]
    with pytest.raises(ValueError, match="head"):
        transfer.blocks(tiny(), head="classifier")


def test_replace_head():
    model = transfer.replace_head(tiny(), 7)
    assert model.fc.out_features == 7 and model(torch.rand(2, 1, 8, 8)).shape == (2, 7)
    with pytest.raises(TypeError, match="nn.Linear"):
        transfer.replace_head(tiny(), 2, head="block1")
    with pytest.raises(ValueError, match="num_classes"):
        transfer.replace_head(tiny(), 0)


# ---------------------------------------------------------------- features


def feature_net(seed=0):
    model = tiny(seed)
    model.fc = nn.Identity()
    return model


def test_extract_features_runs_in_eval_mode_without_side_effects(tmp_path):
    model = feature_net().train()
    X = images(10)
    before = bn_stats(model)
    feats = transfer.extract_features(model, X, batch_size=3, cache=False, device="cpu")
    assert feats.shape == (10, 8) and feats.dtype == np.float32
    assert model.training, "the previous mode is restored"
    for key, value in bn_stats(model).items():
        assert torch.equal(value, before[key])
    with torch.no_grad():
        expected = model.eval()(X.float() / 255).numpy()
    np.testing.assert_allclose(feats, expected, rtol=1e-5, atol=1e-6)
    # and not what train mode (004 §4.2) gives
    with torch.no_grad():
        train_mode = feature_net().train()(X.float() / 255).numpy()
    assert not np.allclose(feats, train_mode, atol=1e-4)


def test_extract_features_caches_by_model_and_data(tmp_path):
    model = feature_net()
    X = images(6)
    first = transfer.extract_features(model, X, cache=tmp_path, device="cpu")
    files = list(tmp_path.glob("features-*.npz"))
    assert len(files) == 1

    calls = []
    model.register_forward_hook(lambda *a: calls.append(1))
    again = transfer.extract_features(model, X, cache=tmp_path, device="cpu")
    assert calls == [] and np.array_equal(first, again), "a cache hit does not run the model"

    with torch.no_grad():
        model.block1[0].weight[0, 0, 0, 0] += 1.0  # a changed weight misses the cache
    transfer.extract_features(model, X, cache=tmp_path, device="cpu")
    assert calls and len(list(tmp_path.glob("features-*.npz"))) == 2

    X2 = X.clone()
    X2[0, 0, 0, 0] ^= 1  # so does a changed pixel
    assert transfer.feature_cache_key(model, X2) != transfer.feature_cache_key(model, X)


def test_extract_features_default_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_DATA", str(tmp_path))
    assert transfer.default_cache_dir() == tmp_path / "features"
    transfer.extract_features(feature_net(), images(4), device="cpu")
    assert len(list((tmp_path / "features").glob("*.npz"))) == 1


def test_extract_features_rejects_bad_input():
    with pytest.raises(TypeError, match="X"):
        transfer.extract_features(feature_net(), [[1, 2]], cache=False)
    with pytest.raises(TypeError, match="X"):
        transfer.extract_features(feature_net(), torch.zeros(2, 1, 4, 4, dtype=torch.int32), cache=False)
    with pytest.raises(ValueError, match="batch_size"):
        transfer.extract_features(feature_net(), images(2), batch_size=0, cache=False)
    with pytest.raises(TypeError, match="cache"):
        transfer.extract_features(feature_net(), images(2), cache=3)


# ---------------------------------------------------------------- probe


def test_linear_probe_fits_separable_features(rng):
    centers = rng.normal(size=(3, 10)) * 4
    y = rng.integers(0, 3, 300)
    F = centers[y] + rng.normal(size=(300, 10))
    probe = transfer.linear_probe(F[:200], y[:200], random_state=0)
    assert (probe.predict(F[200:]) == y[200:]).mean() > 0.95


def test_linear_probe_rejects_bad_input(rng):
    F = rng.normal(size=(10, 3))
    with pytest.raises(ValueError, match="C"):
        transfer.linear_probe(F, np.arange(10) % 2, C=0)
    with pytest.raises(ValueError, match="two classes"):
        transfer.linear_probe(F, np.zeros(10))
    with pytest.raises(ValueError, match="NaN"):
        transfer.linear_probe(np.full((10, 3), np.nan), np.arange(10) % 2)
    with pytest.raises(ValueError, match="y"):
        transfer.linear_probe(F, np.arange(9) % 2)


# ---------------------------------------------------------------- subsets and sweep


def test_per_class_indices_exact_and_distinct():
    y = np.repeat(np.arange(4), [5, 7, 9, 11])
    idx = transfer.per_class_indices(y, 3, random_state=0)
    assert len(set(idx.tolist())) == 12
    assert np.bincount(y[idx]).tolist() == [3, 3, 3, 3]
    assert np.array_equal(idx, transfer.per_class_indices(y, 3, random_state=0))
    with pytest.raises(ValueError, match="n_per_class"):
        transfer.per_class_indices(y, 6)


def test_label_sweep_gives_every_method_the_same_subset():
    y = np.repeat(np.arange(3), 20)
    y_test = np.array([0, 1, 2])
    seen = {}

    def remember(name):
        def method(idx, seed):
            seen.setdefault(seed, {})[name] = sorted(idx.tolist())
            return np.zeros(3, dtype=int), {"trainable_params": 1}
        return method

    df = transfer.label_sweep({"a": remember("a"), "b": remember("b")}, y, y_test,
                              labels_per_class=[1, 5, "all"], n_repeats=2, random_state=0)
    assert len(df) == 2 * 3 * 2
    assert set(df.n_labels) == {3, 15, 60}
    np.testing.assert_allclose(df.accuracy, 1 / 3)
    assert (df.trainable_params == 1).all()
    assert len(seen) == 6
    for chosen in seen.values():
        assert chosen["a"] == chosen["b"]
    with pytest.raises(ValueError, match="labels_per_class"):
        transfer.label_sweep({"a": remember("a")}, y, y_test, labels_per_class=[21], n_repeats=1)
    with pytest.raises(TypeError, match="methods"):
        transfer.label_sweep({"a": 3}, y, y_test, labels_per_class=[1], n_repeats=1)
    seen.clear()
    df = transfer.label_sweep({"a": remember("a")}, y, y_test, labels_per_class=[1, "all"],
                              n_repeats={1: 3, "all": 1}, random_state=0)
    assert df.groupby("labels_per_class").size().to_dict() == {1: 3, "all": 1}
    ones = [v["a"] for v in seen.values() if len(v["a"]) == 3]
    seen.clear()
    transfer.label_sweep({"a": remember("a")}, y, y_test, labels_per_class=[1, "all"],
                         n_repeats={1: 3, "all": 3}, random_state=0)
    assert [v["a"] for v in seen.values() if len(v["a"]) == 3] == ones, "more repeats elsewhere, same subsets here"
    with pytest.raises(ValueError, match="n_repeats"):
        transfer.label_sweep({"a": remember("a")}, y, y_test, labels_per_class=[1, 5], n_repeats={1: 3})
    with pytest.raises(ValueError, match="predictions"):
        transfer.label_sweep({"a": lambda idx, seed: np.zeros(2)}, y, y_test, labels_per_class=[1],
                             n_repeats=1)


def test_epochs_for_steps():
    assert transfer.epochs_for_steps(5, 40, 128) == 40  # one batch per epoch
    assert transfer.epochs_for_steps(500, 40, 128) == 10  # four batches per epoch
    assert transfer.epochs_for_steps(50_000, 40, 128) == 1
    with pytest.raises(ValueError, match="steps"):
        transfer.epochs_for_steps(5, 0, 128)


# ---------------------------------------------------------------- fine-tuning (through labkit.train.fit)


def blobs(n_per_class=20, seed=0):
    """Three classes of 8×8 images that differ in brightness of one quadrant: learnable in a few steps."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randint(0, 60, (3 * n_per_class, 1, 8, 8), dtype=torch.uint8, generator=g)
    y = torch.arange(3).repeat_interleave(n_per_class)
    for c, (r, q) in enumerate([(0, 0), (0, 4), (4, 0)]):
        X[y == c, :, r:r + 4, q:q + 4] += 150
    return X, y


def test_finetune_last_block_only_changes_that_block_and_the_head():
    X, y = blobs()
    model = tiny()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    history = transfer.finetune(model, (X, y), unfreeze=1, epochs=3, lr=0.05, batch_size=16,
                                progress=False, device="cpu", random_state=0)
    assert len(history) == 3
    assert {n for n, p in model.named_parameters() if p.requires_grad} == {
        "block2.0.weight", "block2.0.bias", "block2.1.weight", "block2.1.bias", "fc.weight", "fc.bias"}
    after = model.state_dict()
    for key in ("block1.0.weight", "block1.1.running_mean", "block1.1.running_var", "block1.1.weight"):
        assert torch.equal(before[key], after[key]), key
    for key in ("block2.0.weight", "block2.1.running_mean", "fc.weight"):
        assert not torch.equal(before[key], after[key]), key


def test_finetune_all_trains_everything_and_rejects_bad_unfreeze():
    X, y = blobs()
    model = transfer.freeze(tiny(), trainable=("fc",))
    transfer.finetune(model, (X, y), unfreeze="all", epochs=1, lr=0.05, progress=False, device="cpu")
    assert all(p.requires_grad for p in model.parameters())
    with pytest.raises(ValueError, match="unfreeze"):
        transfer.finetune(tiny(), (X, y), unfreeze=3, epochs=1, lr=0.05)
    with pytest.raises(TypeError, match="unfreeze"):
        transfer.finetune(tiny(), (X, y), unfreeze="some", epochs=1, lr=0.05)


def test_network_and_probe_methods_learn_an_easy_task():
    from labkit import models

    X, y = blobs(30)
    X_test, y_test = blobs(10, seed=1)

    def build(seed):
        torch.manual_seed(seed)
        return models.small_cnn(num_classes=3, width=4)

    method = transfer.network_method(build, X, y, X_test, steps=30, lr=0.05, device="cpu")
    pred, info = method(np.arange(len(y)), 0)
    assert (pred == y_test.numpy()).mean() > 0.9
    assert info["trainable_params"] == transfer.count_parameters(build(0)) and info["epochs"] == 30
    feats = (X.float().flatten(1) / 255).numpy()
    probe = transfer.probe_method(feats, y, (X_test.float().flatten(1) / 255).numpy())
    pred, info = probe(np.arange(len(y)), 0)
    assert (pred == y_test.numpy()).mean() > 0.9 and info["trainable_params"] == 64 * 3 + 3


# ---------------------------------------------------------------- pretrained ResNet (weights API)


def test_pretrained_resnet_without_weights_on_small_data(tmp_path):
    torch.manual_seed(0)
    net = transfer.pretrained_resnet("resnet18", num_classes=4, weights=None, input_size=32)
    X = torch.randint(0, 256, (6, 3, 20, 20), dtype=torch.uint8)  # resized to 32 inside the model
    assert net(X.float() / 255).shape == (6, 4)
    assert net.preprocess.crop_size == [32]
    feats = transfer.extract_features(net.features, X, cache=tmp_path, device="cpu")
    assert feats.shape == (6, 512)
    transfer.freeze(net, trainable=("fc",))
    assert transfer.count_trainable(net) == 512 * 4 + 4
    assert net.backbone.layer4[1].bn2.__class__ is transfer.FrozenBatchNorm


def test_pretrained_resnet_uses_the_weights_transforms(monkeypatch):
    import torchvision

    real = torchvision.models.resnet18
    monkeypatch.setattr(torchvision.models, "resnet18", lambda weights=None: real())
    net = transfer.pretrained_resnet("resnet18", num_classes=10, weights="DEFAULT")
    preset = torchvision.models.ResNet18_Weights.DEFAULT.transforms()
    assert net.preprocess.crop_size == preset.crop_size and net.preprocess.resize_size == preset.resize_size
    assert list(net.preprocess.mean) == list(preset.mean)


def test_pretrained_resnet_offline_raises_a_clear_error(monkeypatch):
    import urllib.error

    import torchvision

    def offline(weights=None):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torchvision.models, "resnet50", offline)
    with pytest.raises(transfer.WeightsUnavailable, match="offline protocol"):
        transfer.pretrained_resnet("resnet50", num_classes=10, weights="IMAGENET1K_V2")


def test_pretrained_resnet_rejects_bad_input():
    with pytest.raises(ValueError, match="weights"):
        transfer.pretrained_resnet("resnet18", num_classes=2, weights="bogus")
    with pytest.raises(ValueError, match="arch"):
        transfer.pretrained_resnet("vgg16", num_classes=2)
    with pytest.raises(TypeError, match="weights"):
        transfer.pretrained_resnet("resnet18", num_classes=2, weights=3)


# ---------------------------------------------------------------- the documents' code (for the errata)


def test_document_extraction_is_batch_dependent_and_changes_the_model():
    model = feature_net().eval()
    X = images(20)
    before = bn_stats(model)
    eval_feats = transfer.extract_features(model, X, cache=False, device="cpu")
    doc_a = errata.document_extract_features(model, X, batch_size=8, random_state=0)
    assert model.training, "004 §4.2 never calls eval()"
    assert any(not torch.equal(before[k], v) for k, v in bn_stats(model).items()), "running stats moved"
    assert not np.allclose(doc_a, eval_feats, atol=1e-4)
    doc_b = errata.document_extract_features(feature_net(), X, batch_size=8, random_state=1)
    assert not np.allclose(doc_a, doc_b, atol=1e-4), "a sample's features depend on its batch"


def test_document_extraction_keeps_sample_order():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.Flatten())  # no BatchNorm: train mode changes nothing
    X = images(13)
    doc = errata.document_extract_features(model, X, batch_size=4, random_state=0)
    np.testing.assert_allclose(doc, transfer.extract_features(model, X, cache=False, device="cpu"),
                               rtol=1e-5, atol=1e-6)


def test_document_linear_head_is_barely_trained(rng):
    centers = rng.normal(size=(5, 20)) * 3
    y = rng.integers(0, 5, 400)
    F = centers[y] + rng.normal(size=(400, 20))
    torch.manual_seed(0)
    untrained = nn.Linear(20, 5)
    head = errata.document_linear_head(F, y, random_state=0)
    ten_more = errata.document_linear_head(F, y, steps=300, lr=0.05, random_state=0)
    Ft, yt = torch.as_tensor(F, dtype=torch.float32), torch.as_tensor(y)
    with torch.no_grad():
        loss0 = nn.functional.cross_entropy(untrained(Ft), yt).item()
        loss10 = nn.functional.cross_entropy(head(Ft), yt).item()
    assert loss10 > 0.5 * loss0, "10 steps at lr 0.001 barely move the loss"
    probe = transfer.linear_probe(F, y, random_state=0)
    assert (probe.predict(F) == y).mean() > 0.97
    assert (transfer.predict_linear(ten_more, F) == y).mean() > 0.97
    assert (transfer.predict_linear(head, F) == y).mean() < (probe.predict(F) == y).mean()


def test_imagenet_transfer_runs_end_to_end_without_weights(tmp_path):
    g = torch.Generator().manual_seed(0)
    X = torch.randint(0, 256, (30, 3, 16, 16), dtype=torch.uint8, generator=g)
    y = torch.arange(3).repeat(10)
    # input_size 32, not 16: at 16 layer4's stride-2 3x3 conv sees a 1x1 map, where PyTorch 2.14's CPU bf16
    # channels_last convolution backward now and then returns non-finite weight gradients (fit then stops)
    result = transfer.imagenet_transfer(X[:24], y[:24], X[24:], y[24:], arch="resnet18", weights=None,
                                        input_size=32, finetune_epochs=1, batch_size=8, device="cpu",
                                        document_subset=12, cache=tmp_path, progress=False)
    assert result["feature_dim"] == 512
    for key in ("probe_accuracy", "document_head_accuracy", "finetune_accuracy",
                "subset_eval_probe_accuracy", "subset_document_extraction_accuracy"):
        assert 0.0 <= result[key] <= 1.0
    assert len(result["finetune_history"]) == 1
    assert len(list(tmp_path.glob("features-*.npz"))) == 2  # train and test features, cached


# ---------------------------------------------------------------- notebook 05's widget and plots


def test_transfer_explorer_runs_caches_and_validates():
    from labkit import widgets

    calls = []

    def run(labels, unfreeze):
        calls.append((labels, unfreeze))
        return {"accuracy": 0.5, "trainable_params": 10, "seconds_per_epoch": 0.01, "scratch_accuracy": 0.4}

    explorer = widgets.transfer_explorer(run, labels_options=[1, 10, "all"], unfreeze_options=[0, 1, "all"])
    assert explorer.update(labels=10, unfreeze=1)["accuracy"] == 0.5
    explorer.update(labels=10, unfreeze=1)
    assert calls == [(10, 1)], "a setting already computed comes from the cache"
    explorer.unfreeze.value = "all"  # moving a slider runs the callback
    assert calls[-1] == (10, "all")
    assert len(explorer.table()) == 2
    assert "from scratch: 0.400" in explorer.describe(explorer.cache[(10, 1)])
    with pytest.raises(ValueError, match="labels"):
        explorer.update(labels=7)
    with pytest.raises(ValueError, match="unfreeze"):
        explorer.update(unfreeze=5)
    with pytest.raises(TypeError, match="run"):
        widgets.transfer_explorer(3, labels_options=[1], unfreeze_options=[0])


def test_plots_for_notebook_05():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    from labkit import plots

    summary = pd.DataFrame({"method": ["a", "a", "b", "b"], "labels_per_class": [1, "all", 1, "all"],
                            "per_class": [1, 600, 1, 600], "accuracy": [0.5, 0.9, 0.6, 0.9],
                            "accuracy_ci": [0.1, 0.01, 0.1, float("nan")]})
    ax = plots.ci_plot(summary, x="per_class", y="accuracy", by="method", kind="errorbar", log_x=True,
                       tick_labels="labels_per_class")
    assert len(ax.get_lines()) >= 2 and ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "all\n(600)"]
    with pytest.raises(ValueError, match="accuracy_ci"):
        plots.ci_plot(summary.drop(columns="accuracy_ci"), x="per_class", y="accuracy", by="method")
    fig = plots.plot_reconstructions(np.zeros((3, 1, 4, 4)), np.ones((3, 1, 4, 4)), n=2)
    assert len(fig.axes) == 4
    with pytest.raises(ValueError, match="same shape"):
        plots.plot_reconstructions(np.zeros((3, 1, 4, 4)), np.ones((2, 1, 4, 4)))
    plt.close("all")


# ---------------------------------------------------------------- freezing is reversible, in one place


def test_unfreeze_restores_modules_statistics_and_flags():
    model = tiny(dropout=0.5)
    model.block1[0].weight.requires_grad_(False)  # a flag set before freezing comes back as it was
    before_state = {k: v.clone() for k, v in model.state_dict().items()}
    before_flags = {n: p.requires_grad for n, p in model.named_parameters()}
    bn, drop = model.block1[1], model.drop
    transfer.freeze(model, trainable=("fc",))
    assert isinstance(model.block1[1], transfer.FrozenBatchNorm) and isinstance(model.drop, nn.Identity)
    assert transfer.unfreeze(model) is model
    assert model.block1[1] is bn and model.drop is drop
    assert {n: p.requires_grad for n, p in model.named_parameters()} == before_flags
    assert model.state_dict().keys() == before_state.keys()
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before_state.items())
    assert transfer.unfreeze(model) is model  # not frozen: nothing to do


def test_freezing_again_starts_from_the_unfrozen_model():
    model = transfer.freeze(tiny(), trainable=("fc",))
    transfer.freeze(model, trainable=("block2", "fc"))
    assert isinstance(model.block2[1], nn.BatchNorm2d) and isinstance(model.block1[1], transfer.FrozenBatchNorm)
    assert transfer.count_trainable(model) == 4 * 8 * 9 + 8 + 8 + 8 + 27
    transfer.unfreeze(model)
    assert isinstance(model.block1[1], nn.BatchNorm2d) and transfer.count_trainable(model) == \
        transfer.count_parameters(model)


def test_frozen_context_and_state_loaded_while_frozen():
    model = tiny()
    with transfer.frozen(model, trainable=("fc",)) as m:
        assert m is model and transfer.count_trainable(model) == 27
        new_stats = model.block1[1].running_mean + 1
        model.block1[1].running_mean.copy_(new_stats)  # e.g. a checkpoint loaded into the frozen model
    assert isinstance(model.block1[1], nn.BatchNorm2d)
    assert torch.equal(model.block1[1].running_mean, new_stats)
    assert all(p.requires_grad for p in model.parameters())
    transfer.freeze(model, trainable=("block2", "fc"))
    with transfer.frozen(model, trainable=("fc",)):
        assert isinstance(model.block2[1], transfer.FrozenBatchNorm)
    assert isinstance(model.block2[1], nn.BatchNorm2d)  # the outer freezing is back
    assert isinstance(model.block1[1], transfer.FrozenBatchNorm)


def test_frozen_batchnorm_is_eval_batchnorm_exactly_also_under_autocast():
    bn = nn.BatchNorm2d(4)
    bn.train()
    bn(torch.randn(8, 4, 5, 5) * 3 + 1)
    bn.eval()
    frozen = transfer.FrozenBatchNorm.from_batchnorm(bn)
    x = torch.randn(2, 4, 5, 5)
    assert torch.equal(frozen(x), bn(x))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        h = x.to(torch.bfloat16)
        assert frozen(h).dtype == bn(h).dtype and torch.equal(frozen(h), bn(h))
    with pytest.raises(ValueError, match="eps"):
        transfer.FrozenBatchNorm(4, eps=-1)
    with pytest.raises(TypeError, match="num_features"):
        transfer.FrozenBatchNorm(4.0)


def test_finetune_refreezes_from_scratch_and_a_bad_unfreeze_keeps_the_freezing():
    X, y = blobs()
    model = transfer.freeze(tiny(), trainable=())
    with pytest.raises(ValueError, match="unfreeze"):
        transfer.finetune(model, (X, y), unfreeze=5, epochs=1, lr=0.05, progress=False, device="cpu")
    assert transfer.count_trainable(model) == 0
    transfer.finetune(model, (X, y), unfreeze=1, epochs=1, lr=0.05, progress=False, device="cpu")
    assert isinstance(model.block2[1], nn.BatchNorm2d) and isinstance(model.block1[1], transfer.FrozenBatchNorm)


# ---------------------------------------------------------------- garbage in: clear errors


def test_extract_features_refuses_garbage_naming_function_and_argument():
    X = images(4)
    with pytest.raises(ValueError, match=r"extract_features: X holds float images with values up to .*/ 255"):
        transfer.extract_features(feature_net(), X.float(), cache=False, device="cpu")
    nan = X.float() / 255
    nan[1, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="extract_features: X contains NaN"):
        transfer.extract_features(feature_net(), nan, cache=False, device="cpu")
    with pytest.raises(ValueError, match="extract_features: X has 3 channel"):
        transfer.extract_features(feature_net(), X.expand(-1, 3, -1, -1), cache=False, device="cpu")
    with pytest.raises(TypeError, match="model"):
        transfer.extract_features(None, X, cache=False)
    with pytest.raises(TypeError, match="progress"):
        transfer.extract_features(feature_net(), X, cache=False, progress="no")
    with pytest.raises(ValueError, match="device"):
        transfer.extract_features(feature_net(), X, cache=False, device="cuda:7")


def test_a_damaged_feature_cache_is_recomputed(tmp_path):
    model, X = feature_net(), images(5)
    first = transfer.extract_features(model, X, cache=tmp_path, device="cpu")
    (path,) = tmp_path.glob("features-*.npz")
    path.write_bytes(b"garbage")
    with pytest.warns(UserWarning, match="could not be read"):
        again = transfer.extract_features(model, X, cache=tmp_path, device="cpu")
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(transfer.extract_features(model, X, cache=tmp_path, device="cpu"), first)


def test_imagenet_transfer_checks_every_argument_before_any_work():
    X = torch.zeros(6, 3, 8, 8, dtype=torch.uint8)
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    common = dict(arch="resnet18", weights=None, device="cpu", progress=False, cache=False)
    with pytest.raises(ValueError, match="feature_batch_size"):
        transfer.imagenet_transfer(X, y, X, y, feature_batch_size=0, **common)
    with pytest.raises(ValueError, match="X_train has 1 channel"):
        transfer.imagenet_transfer(X[:, :1], y, X, y, **common)
    with pytest.raises(ValueError, match="y_train"):
        transfer.imagenet_transfer(X, y[:5], X, y, **common)
    with pytest.raises(TypeError, match="augment"):
        transfer.imagenet_transfer(X, y, X, y, augment="no", **common)
    with pytest.raises(ValueError, match="weights"):
        transfer.imagenet_transfer(X, y, X, y, **{**common, "weights": "bogus"})


def test_network_method_checks_its_data():
    X, y = blobs(4)
    with pytest.raises(ValueError, match="y_pool"):
        transfer.network_method(lambda s: tiny(), X, y[:-1], X, steps=2, lr=0.1)
    with pytest.raises(ValueError, match=r"network_method: X_test holds float images"):
        transfer.network_method(lambda s: tiny(), X, y, X.float(), steps=2, lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        transfer.network_method(lambda s: tiny(), X, y, X, steps=2, lr=0)


def test_network_method_checks_what_depends_on_the_model_at_call_time():
    X, y = blobs(4)  # labels 0..2; tiny() has a 3-output head "fc", blocks block1 and block2, 1 channel
    calls = []

    def build(seed):
        calls.append(seed)
        return tiny(seed)

    method = transfer.network_method(build, X, y, X, steps=2, lr=0.1, device="cpu")
    assert calls == [0], "the model is built once at call time, to check it"
    assert method.n_pool == len(y)
    with pytest.raises(ValueError, match=r"^head names a module the model does not have: 'classifier'; "
                                         r"top-level modules are \['block1', 'block2', 'pool', 'drop', 'fc'\]$"):
        transfer.network_method(build, X, y, X, steps=2, lr=0.1, head="classifier")
    with pytest.raises(ValueError, match=r"^y_pool must hold class labels in \[0, 3\) for a model with 3 outputs, "
                                         r"got 5$"):
        transfer.network_method(build, X, torch.where(y == 2, 5, y), X, steps=2, lr=0.1)
    with pytest.raises(ValueError, match=r"^y_pool must hold class labels in \[0, 3\) for a model with 3 outputs, "
                                         r"got -1$"):
        transfer.network_method(build, X, y - 1, X, steps=2, lr=0.1)
    with pytest.raises(ValueError, match=r"^unfreeze must be 'all' or in \[0, 2\] for the model build makes "
                                         r"\(blocks \[\('block1',\), \('block2',\)\]\), got 3$"):
        transfer.network_method(build, X, y, X, steps=2, lr=0.1, unfreeze=3)
    with pytest.raises(ValueError, match=r"^network_method: X_pool has 3 channel\(s\) \(shape \(12, 3, 8, 8\)\) "
                                         r"but the model takes 1-channel images"):
        transfer.network_method(build, X.repeat(1, 3, 1, 1), y, X.repeat(1, 3, 1, 1), steps=2, lr=0.1)
    with pytest.raises(TypeError, match=r"^build must return a torch.nn.Module, but build\(0\) returned 'tiny'$"):
        transfer.network_method(lambda seed: "tiny", X, y, X, steps=2, lr=0.1)
    # unfreeze within the blocks, and a head that is not an nn.Linear (its outputs unknown here): accepted
    transfer.network_method(build, X, y, X, steps=2, lr=0.1, unfreeze=2)
    transfer.network_method(build, X, y, X, steps=2, lr=0.1, head="block2")


def test_network_method_check_leaves_the_random_streams_alone():
    import random

    from labkit import set_seed

    X, y = blobs(4)

    def build(seed):  # a build that seeds and draws from every global generator
        random.seed(seed)
        np.random.seed(seed)  # noqa: NPY002
        model = tiny(seed)
        _ = random.random(), np.random.rand(), torch.rand(1)  # noqa: NPY002
        return model

    def draws():
        return random.random(), float(np.random.rand()), float(torch.rand(1))  # noqa: NPY002

    set_seed(7)
    expected = draws()
    set_seed(7)
    method = transfer.network_method(build, X, y, X, steps=2, lr=0.1, device="cpu")
    assert draws() == expected
    # and the method itself gives what training the same build by hand gives
    pred, _ = method(np.arange(len(y)), 3)
    model = build(3)
    transfer.finetune(model, (X, y), epochs=transfer.epochs_for_steps(len(y), 2, 128), lr=0.1, batch_size=128,
                      device="cpu", progress=False, random_state=3)
    from labkit import train

    assert np.array_equal(pred, train.predict_logits(model, X, batch_size=256, device="cpu").argmax(1).numpy())


def test_label_sweep_checks_y_pool_against_the_pool_the_methods_hold():
    X, y = blobs(4)
    y_np = y.numpy()
    feats = (X.float().flatten(1) / 255).numpy()
    probe = transfer.probe_method(feats, y_np, feats)
    network = transfer.network_method(lambda seed: tiny(seed), X, y, X, steps=1, lr=0.1, device="cpu")
    assert probe.n_pool == network.n_pool == 12
    for name, method in (("probe", probe), ("net", network)):
        with pytest.raises(ValueError, match=rf"^y_pool has 11 entries but methods\['{name}'\] holds a pool of 12 "
                                             "samples: y_pool must label the pool the methods train on, one entry "
                                             "per sample$"):
            transfer.label_sweep({name: method}, y_np[:-1], y_np, labels_per_class=[1], n_repeats=1)
        with pytest.raises(ValueError, match=rf"^y_pool has 13 entries but methods\['{name}'\] holds a pool of 12"):
            transfer.label_sweep({name: method}, np.append(y_np, 0), y_np, labels_per_class=[1], n_repeats=1)
    df = transfer.label_sweep({"probe": probe}, y_np, y_np, labels_per_class=[1, "all"], n_repeats=1)
    assert df.n_labels.tolist() == [3, 12]

    def plain(idx, seed):  # no n_pool: nothing to check it against
        return np.zeros(len(y_np), dtype=int)

    transfer.label_sweep({"plain": plain}, y_np[:-1], y_np, labels_per_class=[1], n_repeats=1)
    plain.n_pool = "12"
    with pytest.raises(TypeError, match=r"^methods\['plain'\]\.n_pool must be an int, got '12'"):
        transfer.label_sweep({"plain": plain}, y_np, y_np, labels_per_class=[1], n_repeats=1)


def test_every_offline_path_to_imagenet_weights_raises_weights_unavailable(monkeypatch):
    import urllib.error

    import torchvision

    from labkit import models

    def offline(weights=None):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torchvision.models, "resnet18", offline)
    assert transfer.WeightsUnavailable is models.WeightsUnavailable
    with pytest.raises(models.WeightsUnavailable, match="offline protocol"):
        models.torchvision_resnet("resnet18", weights="DEFAULT")
    with pytest.raises(models.WeightsUnavailable, match="offline protocol"):
        models.torchvision_model("resnet18", weights="IMAGENET1K_V1")
    with pytest.raises(models.WeightsUnavailable):
        transfer.pretrained_resnet("resnet18", num_classes=2, weights="DEFAULT")
    with pytest.raises(urllib.error.URLError):  # without weights nothing is downloaded: not this error
        models.torchvision_model("resnet18", weights=None)


def test_document_reproductions_live_in_errata_only():
    for name in ("document_extract_features", "document_linear_head"):
        assert not hasattr(transfer, name) and name in errata.__all__


# ---------------------------------------------------------------- evaluation mode (ERRATA 004 §4.1)

def test_evaluation_modes_train_mode_depends_on_the_batch_and_changes_the_model():
    model = tiny().eval()
    X, y = images(40, seed=3), torch.arange(40) % 3
    before = bn_stats(model)
    table = transfer.evaluation_modes(model, X, y, batch_sizes=(4, 64), device="cpu")
    assert list(table["mode"]) == ["eval", "train", "train"] and list(table["batch_size"]) == [64, 4, 64]
    for key, value in bn_stats(model).items():   # the model handed in is left as it was
        assert torch.equal(value, before[key])
    assert not model.training
    with torch.no_grad():
        expected = float((model(X.float() / 255).argmax(1) == y).float().mean())
    assert table.accuracy.iloc[0] == pytest.approx(expected)
    assert table.running_stats_change.iloc[0] == 0 and (table.running_stats_change.iloc[1:] > 0).all()
    assert table.accuracy.between(0, 1).all() and table.accuracy_after.between(0, 1).all()
    assert table.agreement_with_eval.iloc[0] == 1 and table.agreement_with_eval.between(0, 1).all()
    # train-mode logits depend on the batch size: what the accuracy rows were computed from
    with torch.no_grad():
        small = torch.cat([tiny().train()(X[i:i + 4].float() / 255) for i in range(0, 40, 4)])
        large = tiny().train()(X.float() / 255)
    assert not torch.allclose(small, large, atol=1e-4)


def test_evaluation_modes_rejects_bad_input():
    model, X, y = tiny(), images(8), torch.zeros(8, dtype=torch.int64)
    with pytest.raises(ValueError, match="batch_sizes"):
        transfer.evaluation_modes(model, X, y, batch_sizes=())
    with pytest.raises(ValueError, match="batch_sizes"):
        transfer.evaluation_modes(model, X, y, batch_sizes=(1,))
    with pytest.raises((ValueError, TypeError)):
        transfer.evaluation_modes(model, X, y[:5])


def test_network_method_counts_blocks_of_a_frozen_build_unfrozen_and_leaves_it_frozen():
    X, y = blobs(4)
    shared = transfer.freeze(tiny(), trainable=("fc",))
    transfer.network_method(lambda seed: shared, X, y, X, steps=1, lr=0.1, unfreeze=2)
    assert transfer.count_trainable(shared) == 8 * 3 + 3, "the check left build's model as it was"
    with pytest.raises(ValueError, match=r"^unfreeze must be 'all' or in \[0, 2\]"):
        transfer.network_method(lambda seed: shared, X, y, X, steps=1, lr=0.1, unfreeze=3)
