"""labkit.distill: the KD loss against its formula, the document's loss, distillation and partial updates."""

import numpy as np
import pytest
import torch
from scipy.special import log_softmax

from labkit import distill, errata


def _logits(seed, n=16, c=10, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, c, generator=g, dtype=torch.float64) * scale


def _reference(s, t, y, T, alpha):
    """The contract's formula, computed independently in NumPy (float64)."""
    s, t = s.detach().numpy(), t.detach().numpy()
    log_ps, log_pt = log_softmax(s / T, axis=1), log_softmax(t / T, axis=1)
    kl = (np.exp(log_pt) * (log_pt - log_ps)).sum(axis=1).mean() * T**2
    if y is None:
        return kl
    ce = -log_softmax(s, axis=1)[np.arange(len(y)), y.numpy()].mean()
    return alpha * kl + (1 - alpha) * ce


@pytest.mark.parametrize("T", [0.5, 1.0, 4.0, 20.0])
@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0])
def test_kd_loss_matches_formula(T, alpha):
    s, t = _logits(0), _logits(1)
    y = torch.randint(0, 10, (16,), generator=torch.Generator().manual_seed(2))
    got = distill.kd_loss(s, t, y, temperature=T, alpha=alpha).item()
    assert got == pytest.approx(_reference(s, t, y, T, alpha), abs=1e-5)


def test_kd_loss_without_targets_is_scaled_kl_only():
    s, t = _logits(3), _logits(4)
    for alpha in (0.0, 0.5, 1.0):  # alpha does not matter without targets
        got = distill.kd_loss(s, t, temperature=3.0, alpha=alpha).item()
        assert got == pytest.approx(_reference(s, t, None, 3.0, alpha), abs=1e-5)


def test_kd_loss_float32_matches_formula():
    s, t = _logits(5).float(), _logits(6).float()
    got = distill.kd_loss(s, t, temperature=4.0).item()
    assert got == pytest.approx(_reference(s.double(), t.double(), None, 4.0, 0.5), abs=1e-5)


def test_kd_loss_zero_for_identical_logits():
    s = _logits(7)
    assert distill.kd_loss(s, s.clone(), temperature=2.0).item() == pytest.approx(0.0, abs=1e-12)
    assert distill.kd_loss(s, s + 5.0).item() == pytest.approx(0.0, abs=1e-10)  # softmax is shift-invariant
    assert distill.kd_loss(s, _logits(8)).item() > 0


def test_kd_loss_gradient_does_not_reach_teacher():
    s = _logits(9).requires_grad_()
    t = _logits(10).requires_grad_()
    y = torch.arange(16) % 10
    distill.kd_loss(s, t, y, temperature=4.0, alpha=0.7).backward()
    assert t.grad is None
    assert s.grad is not None and s.grad.abs().sum() > 0


def test_kd_loss_teacher_module_gets_no_gradient():
    torch.manual_seed(0)
    teacher, student = torch.nn.Linear(5, 3), torch.nn.Linear(5, 3)
    x = torch.randn(8, 5)
    distill.kd_loss(student(x), teacher(x)).backward()
    assert all(p.grad is None for p in teacher.parameters())
    assert all(p.grad is not None for p in student.parameters())


def test_kd_loss_ignored_rows_get_soft_term_only():
    s, t = _logits(11), _logits(12)
    y = torch.arange(16) % 10
    y_masked = y.clone()
    y_masked[8:] = distill.IGNORE_INDEX
    got = distill.kd_loss(s, t, y_masked, temperature=2.0, alpha=0.4).item()
    kl = _reference(s, t, None, 2.0, 0.4)
    ce = -log_softmax(s[:8].numpy(), axis=1)[np.arange(8), y[:8].numpy()].mean()
    assert got == pytest.approx(0.4 * kl + 0.6 * ce, abs=1e-5)
    all_ignored = torch.full((16,), distill.IGNORE_INDEX)
    assert distill.kd_loss(s, t, all_ignored, temperature=2.0, alpha=0.4).item() == pytest.approx(0.4 * kl,
                                                                                                 abs=1e-5)


@pytest.mark.parametrize("T", [0, -1.0, float("nan"), float("inf")])
def test_kd_loss_rejects_bad_temperature(T):
    with pytest.raises(ValueError, match="temperature"):
        distill.kd_loss(_logits(0), _logits(1), temperature=T)


@pytest.mark.parametrize("alpha", [-0.1, 1.5, float("nan")])
def test_kd_loss_rejects_bad_alpha(alpha):
    with pytest.raises(ValueError, match="alpha"):
        distill.kd_loss(_logits(0), _logits(1), alpha=alpha)


def test_kd_loss_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="teacher_logits"):
        distill.kd_loss(_logits(0, c=10), _logits(1, c=5))
    with pytest.raises(ValueError, match="teacher_logits"):
        distill.kd_loss(_logits(0, n=16), _logits(1, n=8))
    with pytest.raises(ValueError, match="student_logits"):
        distill.kd_loss(_logits(0)[0], _logits(1)[0])
    with pytest.raises(ValueError, match="targets"):
        distill.kd_loss(_logits(0), _logits(1), torch.zeros(5, dtype=torch.int64))
    with pytest.raises(TypeError, match="targets"):
        distill.kd_loss(_logits(0), _logits(1), torch.zeros(16))


def test_document_loss_is_nan_with_negative_logits_but_has_a_finite_gradient():
    s = _logits(13).requires_grad_()
    t = _logits(14)
    assert (t < 0).any()
    loss = errata.document_kd_loss(s, t)
    assert torch.isnan(loss)
    loss.backward()
    assert torch.isfinite(s.grad).all()
    torch.testing.assert_close(s.grad, -t / t.numel())  # KLDivLoss(mean): d/ds of mean(t·(log t − s))


def test_document_loss_equals_kldivloss_as_written():
    s, t = _logits(15), _logits(16).abs()  # positive targets: finite, so the values can be compared
    expected = (t * (torch.log(t) - s)).mean()
    torch.testing.assert_close(errata.document_kd_loss(s, t), expected)


def test_pseudo_labels_and_confident_selection():
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 0.1, 0.0], [0.0, 0.0, 9.0]])
    labels, conf = distill.pseudo_labels(logits)
    assert labels.tolist() == [0, 1, 2]
    torch.testing.assert_close(conf, torch.softmax(logits, 1).max(1).values)
    assert distill.select_confident(conf, 0.5).tolist() == [0, 2]
    assert distill.select_confident(conf, 0.0).tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="min_confidence"):
        distill.select_confident(conf, 1.2)


# ------------------------------------------------------------------------------------ distill / fit wiring
class _CountingLinear(torch.nn.Module):
    """A fixed linear 'teacher' on flattened [0, 1] images that counts its forward calls."""

    def __init__(self, n_in=16, n_out=4, seed=0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.fc = torch.nn.Linear(n_in, n_out)
        with torch.no_grad():
            self.fc.weight.copy_(torch.randn(n_out, n_in, generator=g) * 3)
            self.fc.bias.zero_()
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return self.fc(x.flatten(1) - 0.5)


def _images(n, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 1, 4, 4), generator=g, dtype=torch.uint8)


def _student(seed=0):
    torch.manual_seed(seed)
    return distill.mlp_student((1, 4, 4), num_classes=4, hidden=32, mean=(0.5,), std=(0.3,))


def _agreement(student, teacher, X):
    from labkit import train

    s = train.predict_logits(student, X, device="cpu").argmax(1)
    t = train.predict_logits(teacher, X, device="cpu").argmax(1)
    return (s == t).float().mean().item()


FIT = dict(epochs=2, lr=0.1, batch_size=64, device="cpu", progress=False, random_state=0, amp=False)


def test_distill_kd_runs_teacher_once_in_eval_and_never_trains_it():
    teacher = _CountingLinear()
    teacher.train()
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    X, X_pool = _images(300), _images(500, seed=1)
    y = torch.randint(0, 4, (300,))
    student = _student()
    history = distill.distill(teacher, student, (X, y), unlabeled=X_pool, mode="kd", teacher_batch_size=256,
                              **FIT)
    assert len(history) == 2
    assert teacher.calls == 4  # 800 images in batches of 256: one pass, then served from the cache
    assert not teacher.training
    assert all(p.grad is None for p in teacher.parameters())
    assert all(torch.equal(v, teacher.state_dict()[k]) for k, v in before.items())


def test_distill_with_cached_logits_does_not_call_the_teacher():
    teacher = _CountingLinear()
    X = _images(200)
    logits = distill.compute_teacher_logits(teacher, X, device="cpu")
    calls = teacher.calls
    distill.distill(teacher, _student(), X, mode="kd", teacher_logits=logits, **FIT)
    distill.distill(None, _student(), X, mode="pseudo", teacher_logits=logits, **FIT)
    assert teacher.calls == calls


@pytest.mark.parametrize("mode", ["kd", "pseudo"])
def test_distilled_student_learns_the_teacher_from_unlabeled_images(mode):
    teacher = _CountingLinear()
    X_train, X_test = _images(500, seed=2), _images(500, seed=3)
    untrained = _agreement(_student(), teacher, X_test)
    student = _student()
    distill.distill(teacher, student, X_train, mode=mode, **{**FIT, "epochs": 25, "batch_size": 125})
    agreement = _agreement(student, teacher, X_test)
    assert agreement > 0.85 and agreement > untrained + 0.3


def test_document_mode_trains_on_a_nan_loss():
    teacher = _CountingLinear()
    X = _images(200)
    y = torch.randint(0, 4, (200,))
    history = distill.distill(teacher, _student(), (X, y), mode="document", **FIT)
    assert history["train_loss"].isna().all()


def _capture_fit(monkeypatch):
    from labkit import train

    seen = {}

    def fake_fit(model, data, val=None, **kwargs):
        seen.update(data=data, kwargs=kwargs)
        return "history"

    monkeypatch.setattr(train, "fit", fake_fit)
    return seen


def test_pseudo_mode_uses_true_labels_and_teacher_argmax_on_the_pool(monkeypatch):
    seen = _capture_fit(monkeypatch)
    X, X_pool = _images(3), _images(4, seed=1)
    y = torch.tensor([3, 3, 3])
    logits = torch.tensor([[9.0, 0, 0, 0], [0, 9.0, 0, 0], [0, 0, 9.0, 0],   # labelled rows: ignored
                           [0, 5.0, 0, 0], [0, 0, 0, 0.1], [4.0, 0, 0, 0], [0, 0, 0.2, 0]])
    distill.distill(None, _student(), (X, y), unlabeled=X_pool, mode="pseudo", teacher_logits=logits,
                    epochs=1, lr=0.1)
    X_fit, y_fit = seen["data"]
    assert y_fit.tolist() == [3, 3, 3, 1, 3, 0, 2]
    assert torch.equal(X_fit, torch.cat([X, X_pool]))
    distill.distill(None, _student(), (X, y), unlabeled=X_pool, mode="pseudo", teacher_logits=logits,
                    min_confidence=0.5, epochs=1, lr=0.1)
    X_fit, y_fit = seen["data"]
    assert y_fit.tolist() == [3, 3, 3, 1, 0]  # unsure pool rows dropped, true labels always kept
    assert torch.equal(X_fit, torch.cat([X, X_pool[[0, 2]]]))


def test_kd_mode_passes_logits_and_mask_and_its_loss_is_kd_loss(monkeypatch):
    seen = _capture_fit(monkeypatch)
    X, X_pool = _images(3), _images(2, seed=1)
    y = torch.tensor([0, 1, 2])
    logits = _logits(20, n=5, c=4).float()
    distill.distill(None, _student(), (X, y), unlabeled=X_pool, mode="kd", teacher_logits=logits,
                    temperature=3.0, alpha=0.4, epochs=1, lr=0.1)
    X_fit, y_fit, t_fit, labelled = seen["data"]
    assert labelled.tolist() == [True, True, True, False, False]
    assert y_fit[:3].tolist() == [0, 1, 2]
    torch.testing.assert_close(t_fit, logits)
    s = _logits(21, n=5, c=4).float()
    got = seen["kwargs"]["loss_fn"](s, y_fit, t_fit, labelled)
    targets = torch.tensor([0, 1, 2, distill.IGNORE_INDEX, distill.IGNORE_INDEX])
    torch.testing.assert_close(got, distill.kd_loss(s, logits, targets, temperature=3.0, alpha=0.4))


def test_distill_rejects_bad_arguments():
    X = _images(10)
    logits = torch.randn(10, 4)
    with pytest.raises(ValueError, match="mode"):
        distill.distill(None, _student(), X, mode="hinton", teacher_logits=logits, epochs=1, lr=0.1)
    with pytest.raises(ValueError, match="augment"):
        distill.distill(None, _student(), X, teacher_logits=logits, augment=True, epochs=1, lr=0.1)
    with pytest.raises(TypeError, match="loss_fn"):
        distill.distill(None, _student(), X, teacher_logits=logits, loss_fn=print, epochs=1, lr=0.1)
    with pytest.raises(ValueError, match="teacher"):
        distill.distill(None, _student(), X, epochs=1, lr=0.1)
    with pytest.raises(ValueError, match="teacher_logits"):
        distill.distill(None, _student(), X, teacher_logits=logits[:5], epochs=1, lr=0.1)
    with pytest.raises(ValueError, match="temperature"):
        distill.distill(None, _student(), X, teacher_logits=logits, temperature=0, epochs=1, lr=0.1)
    with pytest.raises(ValueError, match="alpha"):
        distill.distill(None, _student(), X, teacher_logits=logits, alpha=2, epochs=1, lr=0.1)
    with pytest.raises(ValueError, match="unlabeled"):
        distill.distill(None, _student(), X, unlabeled=torch.zeros(5, 1, 3, 3, dtype=torch.uint8),
                        teacher_logits=logits, epochs=1, lr=0.1)
    with pytest.raises(TypeError, match="data"):
        distill.distill(None, _student(), [X], teacher_logits=logits, epochs=1, lr=0.1)


# ---------------------------------------------------------------------------------------------- distill_grid
def _small_cnn(seed=0):
    from labkit import models

    torch.manual_seed(seed)
    return models.small_cnn(in_channels=1, num_classes=4, width=4)   # BatchNorm inside: per-copy statistics


@pytest.mark.parametrize("make", [_student, _small_cnn], ids=["mlp", "cnn with batchnorm"])
@pytest.mark.parametrize("amp", [False, "auto"])
def test_distill_grid_trains_each_setting_as_distill_would(make, amp):
    """One run side by side = one distill run per (T, α): same start, same batches, identical weights."""
    X, X_pool = _images(150), _images(70, seed=1)
    y = torch.randint(0, 4, (150,), generator=torch.Generator().manual_seed(2))
    logits = _logits(3, n=220, c=4).float()
    fit = {**FIT, "amp": amp, "batch_size": 32}
    student = make()
    start = {k: v.clone() for k, v in student.state_dict().items()}
    grid = distill.distill_grid(None, student, (X, y), unlabeled=X_pool, teacher_logits=logits,
                                temperatures=[1.0, 4.0], alphas=[0.5, 1.0], **fit)
    assert list(grid) == [(1.0, 0.5), (1.0, 1.0), (4.0, 0.5), (4.0, 1.0)]
    assert all(torch.equal(v, student.state_dict()[k]) for k, v in start.items())  # the given one is not trained
    for (T, a), trained in grid.items():
        assert not trained.training
        alone = make()
        distill.distill(None, alone, (X, y), unlabeled=X_pool, mode="kd", teacher_logits=logits, temperature=T,
                        alpha=a, **fit)
        for k, v in alone.state_dict().items():
            assert torch.equal(v, trained.state_dict()[k]), (T, a, k)
    weights = [torch.cat([p.detach().flatten() for p in m.parameters()]) for m in grid.values()]
    assert not torch.equal(weights[0], weights[-1])   # the settings did train differently


def test_distill_grid_runs_the_teacher_once_or_not_at_all():
    teacher = _CountingLinear()
    X = _images(200)
    distill.distill_grid(teacher, _student(), X, temperatures=[2.0], alphas=[0.5, 0.9], teacher_batch_size=256,
                         **FIT)
    assert teacher.calls == 1 and not teacher.training
    logits = distill.compute_teacher_logits(teacher, X, device="cpu")
    calls = teacher.calls
    distill.distill_grid(teacher, _student(), X, temperatures=[2.0, 8.0], alphas=[1.0], teacher_logits=logits,
                         **FIT)
    assert teacher.calls == calls


def test_distill_grid_rejects_bad_arguments():
    X = _images(10)
    logits = torch.randn(10, 4)
    ok = dict(teacher_logits=logits, epochs=1, lr=0.1)
    for bad, error in [([], ValueError), ([4.0, float("nan")], ValueError), ([0.0], ValueError),
                       ("4", TypeError), (4.0, TypeError), ([2.0, 2.0], ValueError), ([True], TypeError)]:
        with pytest.raises(error, match="temperatures"):
            distill.distill_grid(None, _student(), X, temperatures=bad, alphas=[0.5], **ok)
    for bad in ([], [1.5], [-0.1], [0.5, 0.5]):
        with pytest.raises(ValueError, match="alphas"):
            distill.distill_grid(None, _student(), X, temperatures=[4.0], alphas=bad, **ok)
    grid = dict(temperatures=[4.0], alphas=[0.5])
    with pytest.raises(TypeError, match="val"):
        distill.distill_grid(None, _student(), X, val=(X, torch.zeros(10, dtype=torch.long)), **grid, **ok)
    with pytest.raises(TypeError, match="loss_fn"):
        distill.distill_grid(None, _student(), X, loss_fn=print, **grid, **ok)
    with pytest.raises(ValueError, match="augment"):
        distill.distill_grid(None, _student(), X, augment=True, **grid, **ok)
    with pytest.raises(ValueError, match="teacher_logits"):
        distill.distill_grid(None, _student(), X, **grid, **{**ok, "teacher_logits": logits[:5]})
    with pytest.raises(ValueError, match="teacher"):
        distill.distill_grid(None, _student(), X, **grid, epochs=1, lr=0.1)
    with pytest.raises(TypeError, match="student"):
        distill.distill_grid(None, "mlp", X, **grid, **ok)


# ------------------------------------------------------------------------------------------- partial updates
def _resnet():
    from labkit import models

    torch.manual_seed(0)
    return models.cifar_resnet(8, width=1, in_channels=1, num_classes=4)


def test_set_trainable_freezes_everything_else():
    model = _resnet()
    total = distill.count_parameters(model, trainable_only=False)
    n_fc = distill.set_trainable(model, ("fc",))
    assert n_fc == model.fc.weight.numel() + model.fc.bias.numel()
    assert [n for n, p in model.named_parameters() if p.requires_grad] == ["fc.weight", "fc.bias"]
    n_block = distill.set_trainable(model, ("layer3", "fc"))
    assert n_block == n_fc + sum(p.numel() for p in model.layer3.parameters())
    assert distill.set_trainable(model, None) == total == distill.set_trainable(model, "all")
    with pytest.raises(ValueError, match="trainable"):
        distill.set_trainable(model, ("layer9",))
    with pytest.raises(ValueError, match="trainable"):
        distill.set_trainable(model, ())


def test_frozen_batchnorm_keeps_its_statistics_in_train_mode():
    model = _resnet()
    distill.set_trainable(model, ("layer3", "fc"))
    model.train()
    stem_bn, block_bn = model.stem[1], model.layer3[0].bn1
    stem_before, block_before = stem_bn.running_mean.clone(), block_bn.running_mean.clone()
    model(torch.rand(8, 1, 12, 12))
    assert torch.equal(stem_bn.running_mean, stem_before)        # frozen: eval statistics
    assert not torch.equal(block_bn.running_mean, block_before)  # trainable: updates as usual
    distill.set_trainable(model, None)                           # unfreezing puts the BatchNorm back
    stem_bn = model.stem[1]
    assert isinstance(stem_bn, torch.nn.BatchNorm2d) and torch.equal(stem_bn.running_mean, stem_before)
    model.train()
    model(torch.rand(8, 1, 12, 12))
    assert not torch.equal(stem_bn.running_mean, stem_before)


def test_partial_update_trains_only_the_named_part():
    model = _resnet()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    X = _images(64, seed=4).repeat_interleave(3, dim=2).repeat_interleave(3, dim=3)  # 12×12
    y = torch.randint(0, 4, (64,))
    history = distill.partial_update(model, (X, y), trainable=("fc",), epochs=2, lr=0.1, batch_size=32,
                                     device="cpu", progress=False, random_state=0)
    assert list(history["trainable_params"]) == [model.fc.weight.numel() + 4] * 2
    assert (history["total_params"] == distill.count_parameters(model, trainable_only=False)).all()
    assert (history["seconds"] > 0).all()
    changed = {k for k, v in before.items() if not torch.equal(v, model.state_dict()[k])}
    assert changed == {"fc.weight", "fc.bias"}


def test_backward_seconds_changes_nothing_and_freezing_skips_gradients():
    model = _resnet()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    X, y = torch.rand(4, 1, 8, 8), torch.randint(0, 4, (4,))
    seconds = distill.backward_seconds(model, X, y, repeats=1, device="cpu")
    assert seconds > 0
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())
    assert all(p.grad is None for p in model.parameters())
    with pytest.raises(ValueError, match="repeats"):
        distill.backward_seconds(model, X, y, repeats=0)


def test_mlp_student_shape_and_validation():
    student = distill.mlp_student((1, 14, 14), hidden=64)
    assert distill.count_parameters(student) == 196 * 64 + 64 + 64 * 10 + 10
    assert student(torch.rand(5, 1, 14, 14)).shape == (5, 10)
    with pytest.raises(ValueError, match="image_shape"):
        distill.mlp_student((14, 14))


# ---------------------------------------------------------------------------------------- widget and plots
def _sweep():
    import pandas as pd

    return pd.DataFrame([{"temperature": t, "alpha": a, "seed": s, "accuracy": 0.5 + 0.01 * t + 0.1 * a + 0.001 * s}
                         for t in (1, 4) for a in (0.5, 0.9) for s in (0, 1)])


def test_kd_explorer_looks_up_the_sweep(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    from labkit import widgets

    explorer = widgets.kd_explorer(_sweep(), torch.tensor([[2.0, 1.0, 0.0, -1.0]]), baseline=0.55, teacher=0.9)
    n = explorer.n_updates
    status = explorer.update(temperature=1, alpha=0.5)
    assert status["accuracy"] == pytest.approx(0.5 + 0.01 + 0.05 + 0.0005)
    assert status["gain_over_alone"] == pytest.approx(status["accuracy"] - 0.55)
    assert explorer.n_updates == n + 1
    explorer.temperature.value = 4.0  # moving a slider runs the same callback
    assert explorer.status["accuracy"] == pytest.approx(0.5 + 0.04 + 0.05 + 0.0005)
    assert explorer.status["soft_target_entropy"] > 0
    with pytest.raises(ValueError, match="temperature"):
        explorer.update(temperature=3)
    with pytest.raises(ValueError, match="sweep"):
        widgets.kd_explorer(_sweep().drop(columns="alpha"), torch.zeros(1, 4))


def test_plots_validate_and_draw():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from labkit import plots, stats

    fig, axes = plt.subplots(1, 3)
    plots.soft_targets([2.0, 1.0, 0.0], [1, 4], ax=axes[0])
    assert len(axes[0].patches) == 6
    plots.kd_grid(_sweep(), ax=axes[1], highlight=(4, 0.9), baseline=0.5)
    summary = stats.summarize(_sweep().assign(method=lambda d: d["alpha"].astype(str)), "method", ["accuracy"])
    plots.ci_plot(summary, x="accuracy", y="method", references={"teacher": 0.9}, annotate=True, ax=axes[2])
    assert axes[2].get_xlim()[1] > 0.9
    with pytest.raises(ValueError, match="temperatures"):
        plots.soft_targets([2.0, 1.0], [0], ax=axes[0])
    with pytest.raises(ValueError, match="highlight"):
        plots.kd_grid(_sweep(), ax=axes[1], highlight=(2, 0.9))
    plt.close(fig)


# ------------------------------------------------------------------------------------ garbage in: clear errors
def test_losses_and_pseudo_labels_refuse_nan_logits_and_bad_confidence():
    s, t = _logits(0), _logits(1)
    t[2, 3] = float("nan")
    with pytest.raises(ValueError, match="teacher_logits contains NaN"):
        distill.kd_loss(s, t)
    with pytest.raises(ValueError, match="student_logits contains NaN"):
        distill.kd_loss(t, s)
    with pytest.raises(ValueError, match="targets"):
        distill.kd_loss(s, _logits(1), torch.full((16,), 10))
    with pytest.raises(ValueError, match="logits contains NaN"):
        distill.pseudo_labels(t)
    with pytest.raises(ValueError, match="confidence"):
        distill.select_confident(torch.tensor([0.5, 1.5]), 0.5)
    with pytest.raises(ValueError, match="confidence"):
        distill.select_confident(torch.tensor([0.5, float("nan")]), 0.5)
    with pytest.raises(ValueError, match="min_confidence"):
        distill.select_confident(torch.tensor([0.5]), float("nan"))


def test_distill_refuses_settings_of_another_mode():
    X = _images(10)
    logits = torch.randn(10, 4)
    with pytest.raises(ValueError, match=r"min_confidence=1\.5 has no effect with mode='kd'"):
        distill.distill(None, _student(), X, mode="kd", min_confidence=1.5, teacher_logits=logits, epochs=1, lr=0.1)
    with pytest.raises(ValueError, match="temperature"):
        distill.distill(None, _student(), X, mode="pseudo", temperature=2.0, teacher_logits=logits, epochs=1,
                        lr=0.1)
    with pytest.raises(ValueError, match="alpha"):
        distill.distill(None, _student(), X, mode="document", alpha=0.5, teacher_logits=logits, epochs=1, lr=0.1)
    with pytest.raises(ValueError, match="min_confidence"):
        distill.distill(None, _student(), X, mode="pseudo", min_confidence=1.5, teacher_logits=logits, epochs=1,
                        lr=0.1)


def test_distill_checks_images_labels_and_teacher_logits():
    X = _images(10)
    y = torch.randint(0, 4, (10,))
    logits = torch.randn(10, 4)
    kw = dict(epochs=1, lr=0.1, device="cpu", progress=False)
    with pytest.raises(ValueError, match=r"distill: data\[0\] \(X\) holds float images .*/ 255"):
        distill.distill(None, _student(), (X.float(), y), teacher_logits=logits, **kw)
    with pytest.raises(ValueError, match=r"distill: data has 3 channel"):
        distill.distill(None, _student(), X.expand(-1, 3, -1, -1), teacher_logits=logits, **kw)
    with pytest.raises(ValueError, match=r"data\[1\] \(y\) must hold class labels in \[0, 4\)"):
        distill.distill(None, _student(), (X, y + 4), teacher_logits=logits, **kw)
    with pytest.raises(TypeError, match=r"data\[1\] \(y\)"):
        distill.distill(None, _student(), (X, y.float()), teacher_logits=logits, **kw)
    bad = logits.clone()
    bad[0, 0] = float("inf")
    with pytest.raises(ValueError, match="teacher_logits contains NaN or infinity"):
        distill.distill(None, _student(), (X, y), teacher_logits=bad, **kw)
    with pytest.raises(ValueError, match="unlabeled"):
        pool = _images(4).float()
        distill.distill(None, _student(), (X, y), unlabeled=pool, teacher_logits=torch.randn(14, 4), **kw)
    with pytest.raises(TypeError, match="student"):
        distill.distill(None, "mlp", X, teacher_logits=logits, **kw)
    with pytest.raises(TypeError, match="teacher"):
        distill.distill("resnet", _student(), X, **kw)
    with pytest.raises(TypeError, match="progress"):
        distill.distill(None, _student(), X, teacher_logits=logits, epochs=1, lr=0.1, progress="no")


def test_kd_with_a_diverging_student_stops_on_finite_weights():
    X = _images(128)
    logits = torch.randn(128, 4) * 3
    student = _student()
    with pytest.raises(Exception, match="epoch 1") as info:
        distill.distill(None, student, X, mode="kd", teacher_logits=logits, epochs=2, lr=1e6, batch_size=32,
                        device="cpu", progress=False, random_state=0)
    from labkit import train

    assert isinstance(info.value, train.TrainingDiverged)
    assert all(torch.isfinite(p).all() for p in student.parameters())


def test_set_trainable_and_partial_update_build_on_transfer_freeze():
    from labkit import transfer

    model = _resnet()
    distill.set_trainable(model, ("fc",))
    assert isinstance(model.stem[1], transfer.FrozenBatchNorm)  # the one freezing, BatchNorm included
    distill.set_trainable(model, "all")
    assert isinstance(model.stem[1], torch.nn.BatchNorm2d)
    X = _images(32, seed=4).repeat_interleave(3, dim=2).repeat_interleave(3, dim=3)
    y = torch.randint(0, 4, (32,))
    history = distill.partial_update(model, (X, y), trainable=("layer3", "fc"), epochs=1, lr=0.1,
                                     batch_size=16, device="cpu", progress=False, random_state=0)
    assert history["trainable_params"].iloc[0] < history["total_params"].iloc[0]
    # after the update the model is whole again: real BatchNorm layers, every parameter trainable
    assert isinstance(model.stem[1], torch.nn.BatchNorm2d) and all(p.requires_grad for p in model.parameters())
    with pytest.raises(ValueError, match=r"fit: train\[0\] \(X\) holds float images"):
        distill.partial_update(model, (X.float(), y), trainable=("fc",), epochs=1, lr=0.1, device="cpu",
                               progress=False)
    assert isinstance(model.stem[1], torch.nn.BatchNorm2d), "unfrozen even when fit refuses the data"
    with pytest.raises(ValueError, match="trainable"):
        distill.partial_update(model, (X, y), trainable=("layer9",), epochs=1, lr=0.1)
    with pytest.raises(TypeError, match="trainable_only"):
        distill.count_parameters(model, trainable_only="yes")


def test_document_loss_lives_in_errata_only():
    assert not hasattr(distill, "document_kd_loss") and "document_kd_loss" in errata.__all__


def test_split_sizes_keeps_what_fits_and_scales_what_does_not():
    wanted = {"teacher": 300, "pool": 120, "new": 120, "validation": 200}
    assert distill.split_sizes(60000, wanted) == wanted  # Fashion-MNIST holds them: unchanged
    capped = distill.split_sizes(128, wanted)  # a 4-class folder's train split
    assert list(capped) == list(wanted) and sum(capped.values()) <= 128
    assert all(1 <= capped[k] <= wanted[k] for k in wanted)
    assert capped["teacher"] > capped["validation"] > capped["pool"]  # the proportions stay
    tight = distill.split_sizes(5, {"a": 100, "b": 1, "c": 1}, minimum=1)
    assert sum(tight.values()) == 5 and min(tight.values()) == 1
    with pytest.raises(ValueError, match="available=2"):
        distill.split_sizes(2, {"a": 5, "b": 5, "c": 5})
    with pytest.raises(TypeError, match="wanted"):
        distill.split_sizes(10, {})
    with pytest.raises(ValueError, match="wanted"):
        distill.split_sizes(10, {"a": -1})
