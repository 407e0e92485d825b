import random
import subprocess
import sys

import numpy as np
import pytest
import torch

import labkit


def test_import_has_no_side_effects_and_does_not_load_torch():
    code = ("import sys, random; state = random.getstate(); import labkit; "
            "assert 'torch' not in sys.modules, 'import labkit loaded torch'; "
            "assert random.getstate() == state")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_set_seed_makes_python_numpy_torch_repeatable():
    labkit.set_seed(123)
    a = (random.random(), np.random.rand(), torch.rand(1).item())  # noqa: NPY002
    labkit.set_seed(123)
    b = (random.random(), np.random.rand(), torch.rand(1).item())  # noqa: NPY002
    assert a == b
    labkit.set_seed(124)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) != a  # noqa: NPY002


@pytest.mark.parametrize("bad", [-1, 2**32, 1.5, "3", True])
def test_set_seed_rejects_bad_seed(bad):
    with pytest.raises((ValueError, TypeError), match="seed"):
        labkit.set_seed(bad)


@pytest.mark.parametrize("value", ["smoke", "quick", "full", " QUICK "])
def test_get_profile_reads_env(monkeypatch, value):
    monkeypatch.setenv("LABKIT_PROFILE", value)
    assert labkit.get_profile() == value.strip().lower()


def test_get_profile_default_is_quick(monkeypatch):
    monkeypatch.delenv("LABKIT_PROFILE", raising=False)
    assert labkit.get_profile() == "quick"


def test_get_profile_rejects_unknown(monkeypatch):
    monkeypatch.setenv("LABKIT_PROFILE", "huge")
    with pytest.raises(ValueError, match="LABKIT_PROFILE.*'huge'"):
        labkit.get_profile()


def test_get_device_cpu_and_env_override(monkeypatch):
    assert labkit.get_device("cpu") == torch.device("cpu")
    monkeypatch.setenv("LABKIT_DEVICE", "cpu")
    assert labkit.get_device() == torch.device("cpu")


def test_get_device_auto_prefers_cuda_when_present(monkeypatch):
    monkeypatch.delenv("LABKIT_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else None
    device = labkit.get_device()
    if expected:
        assert device.type == "cuda"
    else:
        assert device.type in ("mps", "cpu")


def test_get_device_refuses_missing_device(monkeypatch):
    monkeypatch.delenv("LABKIT_DEVICE", raising=False)
    if torch.cuda.is_available():
        pytest.skip("CUDA is present: cannot test the refusal")
    with pytest.raises(ValueError, match="prefer='cuda'"):
        labkit.get_device("cuda")
    monkeypatch.setenv("LABKIT_DEVICE", "cuda")
    with pytest.raises(ValueError, match="LABKIT_DEVICE"):
        labkit.get_device()
    with pytest.raises(ValueError, match="not a device name"):
        labkit.get_device("gpu-please")


def test_set_threads_caps_torch_and_blas_and_none_keeps_them():
    import torch
    from threadpoolctl import threadpool_info, threadpool_limits

    before = torch.get_num_threads()
    with threadpool_limits(limits=None):  # whatever set_threads changes in the pools is undone on exit
        try:
            labkit.set_threads(None)
            assert torch.get_num_threads() == before
            labkit.set_threads(1)
            assert torch.get_num_threads() == 1
            assert all(pool["num_threads"] == 1 for pool in threadpool_info())
        finally:
            torch.set_num_threads(before)


@pytest.mark.parametrize(("bad", "error"), [(0, ValueError), (-2, ValueError), (1.5, TypeError), (True, TypeError)])
def test_set_threads_rejects_bad_counts(bad, error):
    with pytest.raises(error, match="n must be"):
        labkit.set_threads(bad)
