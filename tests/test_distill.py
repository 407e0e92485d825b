"""labkit.distill: the KD loss against its formula, the document's loss, distillation and partial updates."""

import numpy as np
import pytest
import torch
from scipy.special import log_softmax

from labkit import distill


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
    loss = distill.document_kd_loss(s, t)
    assert torch.isnan(loss)
    loss.backward()
    assert torch.isfinite(s.grad).all()
    torch.testing.assert_close(s.grad, -t / t.numel())  # KLDivLoss(mean): d/ds of mean(t·(log t − s))


def test_document_loss_equals_kldivloss_as_written():
    s, t = _logits(15), _logits(16).abs()  # positive targets: finite, so the values can be compared
    expected = (t * (torch.log(t) - s)).mean()
    torch.testing.assert_close(distill.document_kd_loss(s, t), expected)


def test_pseudo_labels_and_confident_selection():
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 0.1, 0.0], [0.0, 0.0, 9.0]])
    labels, conf = distill.pseudo_labels(logits)
    assert labels.tolist() == [0, 1, 2]
    torch.testing.assert_close(conf, torch.softmax(logits, 1).max(1).values)
    assert distill.select_confident(conf, 0.5).tolist() == [0, 2]
    assert distill.select_confident(conf, 0.0).tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="min_confidence"):
        distill.select_confident(conf, 1.2)
