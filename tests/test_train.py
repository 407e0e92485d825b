"""labkit.train: the training loop, evaluation, prediction and checkpoints, on tiny CPU data."""

import math

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import needs_cuda
from torch import nn

from labkit import train
from labkit.models import Normalize


def toy_images(n=96, seed=0, size=8):
    """Two classes: the bright half of a uint8 image is the left (class 0) or the right (class 1)."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    X = torch.randint(0, 60, (n, 1, size, size), generator=g, dtype=torch.uint8)
    half = size // 2
    X[y == 0, :, :, :half] += 150
    X[y == 1, :, :, half:] += 150
    return X, y


class Tiny(nn.Module):
    def __init__(self, num_classes=2, size=8):
        super().__init__()
        self.normalize = Normalize((0.5,), (0.25,))
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                                      nn.Flatten())
        self.fc = nn.Linear(4 * size * size, num_classes)

    def forward(self, x):
        return self.fc(self.features(self.normalize(x)))


def tiny(seed=0):
    torch.manual_seed(seed)
    return Tiny()


FAST = dict(progress=False, device="cpu")


def test_fit_learns_and_returns_history():
    X, y = toy_images(160)
    Xv, yv = toy_images(64, seed=1)
    model = tiny()
    h = train.fit(model, (X, y), (Xv, yv), epochs=3, lr=0.05, batch_size=32, random_state=0, **FAST)
    assert isinstance(h, pd.DataFrame)
    assert list(h.columns) == list(train.HISTORY_COLUMNS)
    assert h["epoch"].tolist() == [1, 2, 3]
    assert h["val_acc"].iloc[-1] >= 0.9
    assert h["train_loss"].iloc[-1] < h["train_loss"].iloc[0]
    assert (h["seconds"] > 0).all()
    assert not model.training  # left in eval mode
    assert h.attrs["interrupted"] is False and h.attrs["device"] == "cpu"


def test_history_without_val_has_nan_val_columns():
    X, y = toy_images(40)
    h = train.fit(tiny(), (X, y), epochs=1, lr=0.01, batch_size=16, **FAST)
    assert math.isnan(h["val_loss"].iloc[0]) and math.isnan(h["val_acc"].iloc[0])
    assert 0 <= h["train_acc"].iloc[0] <= 1


@pytest.mark.parametrize(
    "kwargs, name",
    [(dict(epochs=0), "epochs"), (dict(lr=0.0), "lr"), (dict(lr=-0.1), "lr"),
     (dict(lr=float("nan")), "lr"), (dict(batch_size=0), "batch_size"), (dict(optimizer="adam"), "optimizer"),
     (dict(schedule="step"), "schedule"), (dict(momentum=1.0), "momentum"),
     (dict(label_smoothing=1.0), "label_smoothing"), (dict(amp="yes"), "amp"),
     (dict(channels_last="maybe"), "channels_last"), (dict(weight_decay=-1.0), "weight_decay")],
)
def test_bad_arguments_raise_value_error_naming_parameter(kwargs, name):
    X, y = toy_images(16)
    args = dict(epochs=1, lr=0.01) | kwargs
    with pytest.raises(ValueError, match=name):
        train.fit(tiny(), (X, y), **args, **FAST)


def test_length_mismatch_names_the_data():
    X, y = toy_images(16)
    with pytest.raises(ValueError, match=r"train\[1\] \(y\) has 15 rows.*16"):
        train.fit(tiny(), (X, y[:15]), epochs=1, lr=0.01, **FAST)
    with pytest.raises(ValueError, match=r"val\[1\]"):
        train.fit(tiny(), (X, y), (X, y[:3]), epochs=1, lr=0.01, **FAST)
    with pytest.raises(ValueError, match=r"train\[2\] \(extra 1\)"):
        train.fit(tiny(), (X, y, torch.zeros(5, 2)), epochs=1, lr=0.01, loss_fn=lambda o, t, e: o.sum(),
                  **FAST)


def test_bad_types_raise_type_error():
    X, y = toy_images(16)
    with pytest.raises(TypeError, match="epochs"):
        train.fit(tiny(), (X, y), epochs=1.5, lr=0.1, **FAST)
    with pytest.raises(TypeError, match="train"):
        train.fit(tiny(), {"X": X}, epochs=1, lr=0.1, **FAST)
    with pytest.raises(TypeError, match="dtype"):
        train.fit(tiny(), (X.int(), y), epochs=1, lr=0.1, **FAST)
    with pytest.raises(TypeError, match="model"):
        train.fit("model", (X, y), epochs=1, lr=0.1, **FAST)


def test_label_smoothing_with_custom_loss_is_refused_and_extras_need_a_loss():
    X, y = toy_images(16)
    with pytest.raises(ValueError, match="label_smoothing"):
        train.fit(tiny(), (X, y), epochs=1, lr=0.1, label_smoothing=0.1,
                  loss_fn=lambda o, t: nn.functional.cross_entropy(o, t), **FAST)
    with pytest.raises(ValueError, match="extra field"):
        train.fit(tiny(), (X, y, torch.zeros(16, 2)), epochs=1, lr=0.1, **FAST)


def test_only_trainable_parameters_change():
    X, y = toy_images(32)
    model = tiny()
    for p in model.features.parameters():
        p.requires_grad_(False)
    frozen = [p.detach().clone() for p in model.features.parameters()]
    head = model.fc.weight.detach().clone()
    train.fit(model, (X, y), epochs=1, lr=0.1, batch_size=8, weight_decay=0.1, **FAST)
    assert all(torch.equal(a, b) for a, b in zip(frozen, model.features.parameters(), strict=True))
    assert not torch.equal(head, model.fc.weight)


def test_no_trainable_parameters_is_an_error():
    X, y = toy_images(16)
    model = tiny().requires_grad_(False)
    with pytest.raises(ValueError, match="requires_grad"):
        train.fit(model, (X, y), epochs=1, lr=0.1, **FAST)


def test_random_state_makes_runs_repeatable():
    X, y = toy_images(64)
    runs = []
    for seed in (3, 3, 4):
        model = tiny(0)
        h = train.fit(model, (X, y), epochs=2, lr=0.05, batch_size=16, augment=True, random_state=seed,
                      **FAST)
        runs.append((h["train_loss"].tolist(), model.fc.weight.detach().clone()))
    assert runs[0][0] == runs[1][0] and torch.equal(runs[0][1], runs[1][1])
    assert not torch.equal(runs[0][1], runs[2][1])


def test_tensor_and_dataset_paths_agree_on_a_full_batch():
    X, y = toy_images(32)
    a, b = tiny(0), tiny(0)
    # plain float32: the test compares the two data paths, not bf16 rounding (which magnifies the order in
    # which a thread count sums, and made this flaky in a full run)
    common = dict(epochs=2, lr=0.1, batch_size=32, schedule="constant", amp=False, channels_last=False, **FAST)
    ha = train.fit(a, (X, y), **common)
    hb = train.fit(b, torch.utils.data.TensorDataset(X, y), **common)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(pa, pb)
    np.testing.assert_allclose(ha["train_loss"], hb["train_loss"], rtol=1e-5)


def test_dataloader_path_trains():
    X, y = toy_images(96)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=16, shuffle=True)
    val = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=50)
    h = train.fit(tiny(), loader, val, epochs=3, lr=0.05, **FAST)
    assert h["val_acc"].iloc[-1] >= 0.9


def test_loss_fn_receives_extras_and_val_without_extras_uses_cross_entropy():
    X, y = toy_images(40)
    extra = torch.arange(40, dtype=torch.float32)
    seen = []

    def loss_fn(logits, target, e):
        seen.append(e.clone())
        return nn.functional.cross_entropy(logits, target)

    h = train.fit(tiny(), (X, y, extra), (X, y), epochs=1, lr=0.05, batch_size=16, loss_fn=loss_fn,
                  random_state=0, **FAST)
    got = torch.cat(seen)
    # every extra arrives once, with its own row (shuffled together with X and y)
    assert sorted(got.tolist()) == list(range(40))
    assert math.isfinite(h["val_loss"].iloc[0])


def test_lone_last_sample_is_not_a_batch():
    X, y = toy_images(33)
    h = train.fit(tiny(), (X, y), epochs=1, lr=0.05, batch_size=16, **FAST)  # 16 + 16 + 1
    assert len(h) == 1


def test_schedules_and_optimizers_run():
    X, y = toy_images(32)
    for optimizer in train.OPTIMIZERS:
        for schedule in train.SCHEDULES:
            h = train.fit(tiny(), (X, y), epochs=2, lr=0.01, batch_size=8, optimizer=optimizer,
                          schedule=schedule, **FAST)
            assert np.isfinite(h["train_loss"]).all()
    h = train.fit(tiny(), (X, y), epochs=2, lr=0.01, batch_size=8, schedule="constant", **FAST)
    assert h["lr"].tolist() == [0.01, 0.01]
    h = train.fit(tiny(), (X, y), epochs=2, lr=0.01, batch_size=8, schedule="onecycle", **FAST)
    assert h["lr"].iloc[-1] == pytest.approx(0.01 / 6)  # 8 steps: peak after 2, then down: 1/6 at the last


def test_one_cycle_shape():
    factors = [train.one_cycle(s, 100) for s in range(101)]
    assert factors[0] == pytest.approx(1 / 25) and factors[25] == 1.0 and factors[100] == 0.0
    assert all(a < b for a, b in zip(factors[:25], factors[1:26], strict=True))
    assert all(a > b for a, b in zip(factors[25:100], factors[26:], strict=True))
    assert train.one_cycle(0, 1) == pytest.approx(1 / 25)


def test_evaluate_matches_manual_accuracy():
    X, y = toy_images(50)
    model = tiny()
    res = train.evaluate(model, (X, y), batch_size=7, device="cpu", amp=False)
    model.eval()
    with torch.no_grad():
        logits = model(X.float() / 255)
    assert res["n"] == 50
    assert res["accuracy"] == pytest.approx((logits.argmax(1) == y).float().mean().item())
    assert res["loss"] == pytest.approx(nn.functional.cross_entropy(logits, y).item(), rel=1e-5)


def test_predict_logits_eval_mode_no_grad_and_restores_mode():
    X, _ = toy_images(20)
    model = tiny()
    model.train()
    running = model.features[1].running_mean.clone()
    out = train.predict_logits(model, X, batch_size=6, device="cpu")
    assert out.shape == (20, 2) and out.device.type == "cpu" and out.dtype == torch.float32
    assert not out.requires_grad
    assert torch.equal(running, model.features[1].running_mean)  # BatchNorm not updated: eval mode
    assert model.training  # previous mode restored
    again = train.predict_logits(model, X.numpy(), device="cpu")
    torch.testing.assert_close(out, again)


def test_checkpoint_round_trip(tmp_path):
    X, y = toy_images(32)
    model = tiny(0)
    path = tmp_path / "sub" / "model.pt"
    train.fit(model, (X, y), epochs=2, lr=0.05, batch_size=8, checkpoint=path, **FAST)
    assert path.is_file()
    fresh = train.load_checkpoint(tiny(1), path)
    torch.testing.assert_close(train.predict_logits(fresh, X, device="cpu"),
                               train.predict_logits(model, X, device="cpu"))
    with pytest.raises(ValueError, match="path"):
        train.load_checkpoint(tiny(), tmp_path / "missing.pt")


def test_keyboard_interrupt_returns_history_and_usable_model(capsys):
    X, y = toy_images(64)
    calls = {"n": 0}

    def loss_fn(logits, target):
        calls["n"] += 1
        if calls["n"] == 6:  # second epoch of 4 batches
            raise KeyboardInterrupt
        return nn.functional.cross_entropy(logits, target)

    model = tiny()
    h = train.fit(model, (X, y), epochs=5, lr=0.05, batch_size=16, loss_fn=loss_fn, **FAST)
    assert len(h) == 1 and h.attrs["interrupted"] is True
    assert "interrupted" in capsys.readouterr().err
    assert not model.training
    assert torch.isfinite(train.predict_logits(model, X, device="cpu")).all()


def test_out_of_memory_message_suggests_smaller_batch():
    X, y = toy_images(32)

    def loss_fn(logits, target):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")

    with pytest.raises(torch.cuda.OutOfMemoryError, match="smaller batch_size"):
        train.fit(tiny(), (X, y), epochs=1, lr=0.1, batch_size=16, loss_fn=loss_fn, **FAST)


def test_random_crop_flip_shifts_and_flips_each_image():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(16, 2, 6, 6)
    flipped = train.random_crop_flip(x, padding=0, generator=g)
    for a, b in zip(x, flipped, strict=True):
        assert torch.equal(a, b) or torch.equal(a.flip(2), b)
    assert any(not torch.equal(a, b) for a, b in zip(x, flipped, strict=True))
    cropped = train.random_crop_flip(x, padding=2, flip=False, generator=g)
    padded = nn.functional.pad(x, (2, 2, 2, 2))
    for i in range(16):
        matches = [(dy, dx) for dy in range(5) for dx in range(5)
                   if torch.equal(padded[i, :, dy:dy + 6, dx:dx + 6], cropped[i])]
        assert matches, f"image {i} is not a crop of its padded self"
    with pytest.raises(ValueError, match="x must be"):
        train.random_crop_flip(torch.rand(3, 6, 6))


def test_cpu_bf16_autocast_and_channels_last_run():
    X, y = toy_images(32)
    h = train.fit(tiny(), (X, y), (X, y), epochs=1, lr=0.05, batch_size=16, amp=True, channels_last=True,
                  **FAST)
    assert h.attrs["amp"] is True and h.attrs["channels_last"] is True
    assert np.isfinite(h[["train_loss", "val_loss"]].to_numpy()).all()


def test_reconstruction_loss_scales_uint8_targets():
    target = torch.full((2, 1, 4, 4), 255, dtype=torch.uint8)
    assert train.reconstruction_loss(torch.ones(2, 1, 4, 4), target).item() == 0.0
    with pytest.raises(ValueError, match="shape"):
        train.reconstruction_loss(torch.ones(2, 1, 4, 4), target[:, :, :2])


@pytest.mark.gpu
@needs_cuda
def test_cuda_path_autocast_channels_last_on_device_data():
    X, y = toy_images(256)
    model = tiny()
    h = train.fit(model, (X.cuda(), y.cuda()), (X, y), epochs=3, lr=0.05, batch_size=32, augment=True,
                  device="cuda", progress=False, random_state=0)
    assert h.attrs["amp"] is True and h.attrs["channels_last"] is True and h.attrs["device"] == "cuda"
    assert next(model.parameters()).device.type == "cuda"
    assert model.features[0].weight.is_contiguous(memory_format=torch.channels_last)
    assert h["val_acc"].iloc[-1] >= 0.9
    logits = train.predict_logits(model, X, device="cuda")
    assert logits.device.type == "cpu"
    res = train.evaluate(model, (X, y), device="cuda")
    assert res["accuracy"] == pytest.approx((logits.argmax(1) == y).float().mean().item(), abs=0.02)


@pytest.mark.gpu
@needs_cuda
def test_cuda_and_cpu_training_agree_without_amp():
    X, y = toy_images(64)
    a, b = tiny(0), tiny(0)
    common = dict(epochs=1, lr=0.05, batch_size=64, schedule="constant", amp=False, channels_last=False,
                  progress=False)
    train.fit(a, (X, y), device="cpu", **common)
    train.fit(b, (X, y), device="cuda", **common)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(pa, pb.cpu(), rtol=1e-3, atol=1e-4)


def test_auto_settings_on_cpu():
    X, y = toy_images(16)
    h = train.fit(tiny(), (X, y), epochs=1, lr=0.05, batch_size=8, **FAST)
    assert h.attrs["channels_last"] is True  # oneDNN's fast layout on the CPU
    assert h.attrs["amp"] is train.cpu_has_native_bf16()  # bf16 only where the CPU has it natively
    h = train.fit(tiny(), (X, y), epochs=1, lr=0.05, batch_size=8, amp=False, channels_last=False, **FAST)
    assert h.attrs["amp"] is False and h.attrs["channels_last"] is False


@pytest.mark.gpu
@needs_cuda
def test_cuda_compile_trains_and_checkpoints_the_original_model(tmp_path):
    X, y = toy_images(128)
    model = tiny()
    path = tmp_path / "m.pt"
    h = train.fit(model, (X, y), (X, y), epochs=2, lr=0.05, batch_size=32, compile=True, device="cuda",
                  progress=False, checkpoint=path, random_state=0)
    assert h.attrs["compile"] is True and h["val_acc"].iloc[-1] >= 0.9
    fresh = train.load_checkpoint(tiny(1).cuda(), path)
    assert train.evaluate(fresh, (X, y), device="cuda")["accuracy"] == pytest.approx(h["val_acc"].iloc[-1])


# ---------------------------------------------------------------- one image-batch path


def test_prepare_images_converts_moves_and_checks():
    X, _ = toy_images(6)
    x = train.prepare_images(X, device="cpu")
    assert x.dtype == torch.float32 and x.device.type == "cpu"
    torch.testing.assert_close(x, X.float() / 255)
    f = torch.rand(2, 1, 4, 4)
    assert torch.equal(train.prepare_images(f, device="cpu"), f)
    cl = train.prepare_images(X, device="cpu", channels_last=True)
    assert cl.is_contiguous(memory_format=torch.channels_last)
    with pytest.raises(ValueError, match=r"/ 255"):
        train.prepare_images(X.float(), device="cpu")
    with pytest.raises(ValueError, match="NaN"):
        train.prepare_images(torch.full((1, 1, 2, 2), float("nan")), device="cpu")
    with pytest.raises(TypeError, match="channels_last"):
        train.prepare_images(X, device="cpu", channels_last="yes")


def test_image_batches_is_the_path_of_predict_logits():
    X, y = toy_images(20)
    batches = list(train.image_batches(X, batch_size=6, device="cpu"))
    assert [len(b) for b in batches] == [6, 6, 6, 2]
    torch.testing.assert_close(torch.cat(batches), X.float() / 255)
    order = torch.tensor([3, 1, 2])
    torch.testing.assert_close(torch.cat(list(train.image_batches(X, batch_size=2, device="cpu", order=order))),
                               X[order].float() / 255)
    from_dataset = torch.cat(list(train.image_batches(torch.utils.data.TensorDataset(X, y), batch_size=7,
                                                      device="cpu")))
    torch.testing.assert_close(from_dataset, X.float() / 255)
    model = tiny().eval()
    with torch.no_grad():
        manual = torch.cat([model(b) for b in train.image_batches(X, batch_size=6, device="cpu")])
    torch.testing.assert_close(train.predict_logits(model, X, batch_size=6, device="cpu", amp=False), manual)
    with pytest.raises(ValueError, match="image_batches: X has 3 channel"):
        train.image_batches(X.expand(-1, 3, -1, -1), device="cpu", model=model)
    with pytest.raises(ValueError, match="order"):
        train.image_batches(X, device="cpu", order=torch.tensor([0, 20]))


# ---------------------------------------------------------------- garbage in, divergence: fit refuses and stops


def finite_and_equal(model, state):
    return all(torch.isfinite(p).all() for p in model.parameters()) and all(
        torch.equal(v, model.state_dict()[k]) for k, v in state.items())


def test_fit_on_nan_images_raises_before_training_and_keeps_the_weights():
    X, y = toy_images(32)
    Xf = X.float() / 255
    Xf[5, 0, 1, 1] = float("nan")
    model = tiny()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match=r"fit: train\[0\] \(X\) contains NaN"):
        train.fit(model, (Xf, y), epochs=2, lr=0.1, **FAST)
    assert finite_and_equal(model, state)


def test_fit_on_0_255_float_images_raises_and_suggests_dividing():
    X, y = toy_images(32)
    model = tiny()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match=r"values up to .*divide 0\.\.255 images by 255"):
        train.fit(model, (X.float(), y), epochs=2, lr=0.1, **FAST)
    assert finite_and_equal(model, state)
    train.fit(model, (X.float() / 255, y), epochs=1, lr=0.1, **FAST)  # the same images in [0, 1] train


def test_fit_with_huge_learning_rate_stops_in_the_first_epoch_on_finite_weights():
    X, y = toy_images(64)
    model = tiny()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(train.TrainingDiverged, match=r"epoch 1, batch \d+ of 4.*learning rate.*lr=1e\+06"):
        train.fit(model, (X, y), epochs=3, lr=1e6, batch_size=16, **FAST)
    assert finite_and_equal(model, state)  # back on the weights of the epoch's start
    assert not model.training


def test_nan_loss_names_epoch_and_batch_and_keeps_the_last_finite_weights():
    X, y = toy_images(64)
    calls = {"n": 0}

    def loss_fn(logits, target):
        calls["n"] += 1
        loss = nn.functional.cross_entropy(logits, target)
        return loss * float("nan") if calls["n"] == 7 else loss  # epoch 2, batch 3

    model = tiny()
    with pytest.raises(train.TrainingDiverged, match=r"epoch 2, batch 3 of 4.*became nan.*loss_fn"):
        train.fit(model, (X, y), epochs=3, lr=0.05, batch_size=16, loss_fn=loss_fn, **FAST)
    assert calls["n"] == 7 and all(torch.isfinite(p).all() for p in model.parameters())
    with pytest.raises(train.TrainingDiverged):  # a loss that is NaN from the first batch on
        train.fit(tiny(), (X, y), epochs=1, lr=0.05, loss_fn=lambda o, t: o.sum() * float("nan"), **FAST)


def test_on_a_gpu_divergence_is_found_at_the_end_of_the_epoch_and_the_epoch_undone(monkeypatch):
    monkeypatch.setattr(train, "_look_every_batch", lambda device: False)  # the no-sync path GPUs take
    X, y = toy_images(64)
    calls = {"n": 0}

    def loss_fn(logits, target):
        calls["n"] += 1
        loss = nn.functional.cross_entropy(logits, target)
        return loss * float("nan") if calls["n"] == 6 else loss

    model = tiny()
    train.fit(model, (X, y), epochs=1, lr=0.05, batch_size=16, **FAST)
    after_epoch_1 = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(train.TrainingDiverged, match=r"epoch 1, batch 2 of 4.*start of epoch 1"):
        calls["n"] = 4
        train.fit(model, (X, y), epochs=2, lr=0.05, batch_size=16, loss_fn=loss_fn, **FAST)
    assert finite_and_equal(model, after_epoch_1)


def test_allow_nonfinite_loss_trains_on():
    X, y = toy_images(32)
    h = train.fit(tiny(), (X, y), epochs=1, lr=0.05, loss_fn=lambda o, t: o.sum() * float("nan"),
                  allow_nonfinite_loss=True, **FAST)
    assert h["train_loss"].isna().all()
    with pytest.raises(TypeError, match="allow_nonfinite_loss"):
        train.fit(tiny(), (X, y), epochs=1, lr=0.05, allow_nonfinite_loss="yes", **FAST)


def test_labels_channels_and_device_are_checked_naming_function_and_argument():
    X, y = toy_images(32)
    with pytest.raises(ValueError, match=r"fit: train\[0\] \(X\) has 3 channel"):
        train.fit(tiny(), (X.expand(-1, 3, -1, -1), y), epochs=1, lr=0.1, **FAST)
    with pytest.raises(ValueError, match=r"train\[1\] \(y\) must hold class labels in \[0, 2\).*got 7"):
        train.fit(tiny(), (X, y + 6), epochs=1, lr=0.1, **FAST)
    with pytest.raises(ValueError, match=r"got -1"):
        train.fit(tiny(), (X, y - 1), epochs=1, lr=0.1, **FAST)
    with pytest.raises(TypeError, match=r"train\[1\] \(y\) must hold integer class labels"):
        train.fit(tiny(), (X, y.float()), epochs=1, lr=0.1, **FAST)
    with pytest.raises(ValueError, match=r"val\[1\] \(y\) must hold class labels"):
        train.fit(tiny(), (X, y), (X, y + 2), epochs=1, lr=0.1, **FAST)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y + 2), batch_size=8)
    with pytest.raises(ValueError, match=r"train batch y must hold class labels"):
        train.fit(tiny(), loader, epochs=1, lr=0.1, **FAST)
    with pytest.raises(ValueError, match=r"^device='cuda:7'"):
        train.fit(tiny(), (X, y), epochs=1, lr=0.1, progress=False, device="cuda:7")
    with pytest.raises(ValueError, match="device"):
        train.evaluate(tiny(), (X, y), device="tpu")


@pytest.mark.parametrize("call", [
    lambda X, y, m: train.evaluate(m, (X, y), device="cpu"),
    lambda X, y, m: train.predict_logits(m, X, device="cpu"),
])
def test_evaluate_and_predict_refuse_the_same_garbage(call):
    X, y = toy_images(16)
    name = "evaluate" if "evaluate" in str(call.__code__.co_names) else "predict_logits"
    with pytest.raises(ValueError, match=rf"{name}: .*values up to"):
        call(X.float(), y, tiny())
    nan = X.float() / 255
    nan[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match=rf"{name}: .*NaN"):
        call(nan, y, tiny())
    with pytest.raises(ValueError, match=rf"{name}: .*3 channel"):
        call(X.expand(-1, 3, -1, -1), y, tiny())
    with pytest.raises(TypeError, match="model"):
        call(X, y, None)
    with pytest.raises(TypeError, match="model"):
        call(X, y, "resnet")


def test_evaluate_refuses_labels_outside_the_model_classes():
    X, y = toy_images(16)
    with pytest.raises(ValueError, match=r"data\[1\] \(y\) must hold class labels in \[0, 2\)"):
        train.evaluate(tiny(), (X, y + 2), device="cpu")


# ---------------------------------------------------------------- fit in parts: optimizer by name or factory


def test_optimizer_factory_and_settings_that_would_be_ignored():
    import functools

    X, y = toy_images(32)
    model = tiny()
    h = train.fit(model, (X, y), epochs=2, lr=0.01, batch_size=8, optimizer=torch.optim.Adam, **FAST)
    assert np.isfinite(h["train_loss"]).all() and h["lr"].iloc[-1] < 0.01  # one-cycle on the factory's lr
    h = train.fit(tiny(), (X, y), epochs=1, lr=0.05, schedule="constant", **FAST,
                  optimizer=functools.partial(torch.optim.SGD, momentum=0.5))
    assert h["lr"].tolist() == [0.05]
    with pytest.raises(ValueError, match="momentum"):
        train.fit(tiny(), (X, y), epochs=1, lr=0.01, optimizer=torch.optim.Adam, momentum=0.9, **FAST)
    with pytest.raises(ValueError, match="weight_decay"):
        train.fit(tiny(), (X, y), epochs=1, lr=0.01, optimizer=torch.optim.Adam, weight_decay=0.1, **FAST)
    with pytest.raises(ValueError, match="momentum"):
        train.fit(tiny(), (X, y), epochs=1, lr=0.01, optimizer="adamw", momentum=0.9, **FAST)
    with pytest.raises(TypeError, match="torch.optim.Optimizer"):
        train.fit(tiny(), (X, y), epochs=1, lr=0.01, optimizer=lambda params, lr: "sgd", **FAST)
    with pytest.raises(ValueError, match="optimizer"):
        train.fit(tiny(), (X, y), epochs=1, lr=0.01, optimizer=3, **FAST)


def test_named_optimizer_defaults_are_unchanged():
    X, y = toy_images(32)
    a, b = tiny(0), tiny(0)
    common = dict(epochs=1, lr=0.05, batch_size=8, random_state=0, **FAST)
    train.fit(a, (X, y), **common)
    train.fit(b, (X, y), momentum=0.9, weight_decay=5e-4, **common)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


def test_fit_reads_on_one_screen():
    import inspect

    source = inspect.getsource(train.fit)
    body = source[source.index('"""', source.index('"""') + 3) + 3:]
    assert len(body.strip().splitlines()) <= 45


@pytest.mark.parametrize("kwargs, name", [
    (dict(total_steps=0), "total_steps"), (dict(step=-1), "step"), (dict(warmup=1.5), "warmup"),
    (dict(start=-0.1), "start"), (dict(step=1.5), "step")])
def test_one_cycle_rejects_bad_arguments(kwargs, name):
    args = dict(step=5, total_steps=10) | kwargs
    step, total = args.pop("step"), args.pop("total_steps")
    with pytest.raises((ValueError, TypeError), match=name):
        train.one_cycle(step, total, **args)


def test_flags_must_be_booleans():
    X, y = toy_images(16)
    for flag in ("progress", "augment", "compile"):
        with pytest.raises(TypeError, match=flag):
            train.fit(tiny(), (X, y), epochs=1, lr=0.1, device="cpu", **{"progress": False, flag: "no"})
    with pytest.raises(TypeError, match="flip"):
        train.random_crop_flip(torch.rand(2, 1, 4, 4), flip="no")


def test_damaged_checkpoints_raise_value_error_naming_the_file(tmp_path):
    model = tiny()
    path = train.save_checkpoint(model, tmp_path / "m.pt")
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match="truncated.pt"):
        train.load_checkpoint(tiny(), truncated)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError, match="garbage.pt"):
        train.load_checkpoint(tiny(), garbage)
    with pytest.raises(ValueError, match=r"m\.pt.*does not fit"):
        train.load_checkpoint(nn.Linear(2, 2), path)
    with pytest.raises(TypeError, match="strict"):
        train.load_checkpoint(tiny(), path, strict="no")
    train.load_checkpoint(nn.Linear(2, 2), path, strict=False)  # nothing matches, nothing loads: allowed


def test_on_a_gpu_an_exploding_loss_is_found_in_the_first_epoch(monkeypatch):
    monkeypatch.setattr(train, "_look_every_batch", lambda device: False)
    X, y = toy_images(64)
    model = tiny()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(train.TrainingDiverged, match=r"epoch 1, batch \d of 4"):
        train.fit(model, (X, y), epochs=3, lr=1e6, batch_size=16, **FAST)
    assert finite_and_equal(model, state)
