"""benchmarks/gpu_check.py: the prepared GPU run, exercised on the CPU with the same code (dry run)."""

import importlib.util
import json
from pathlib import Path

import pytest
from conftest import needs_fashion_mnist

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "gpu_check.py"


def load_script():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@needs_fashion_mnist
def test_dry_run_on_cpu_writes_every_figure(tmp_path, capsys):
    gpu_check = load_script()
    rc = gpu_check.main(["--device", "cpu", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    figures = json.loads((tmp_path / "gpu_check.json").read_text())
    assert rc == 0, out
    assert "no GPU here" in out and figures["mode"] == "dry-run" and figures["device"] == "cpu"
    for step in ("tests", "target", "throughput", "notebooks"):
        assert figures[f"{step}_status"] == "ok", (step, figures[f"{step}_status"])
    # the CUDA tests were collected and ran (skipped on a CPU), not silently left out
    assert figures["cuda_tests_exit_code"] == 0 and "skipped" in figures["cuda_tests_summary"]
    assert 0.0 <= figures["fmnist_best_test_accuracy"] <= 1.0
    assert figures["fmnist_epochs_to_93pct"] == "not reached" or figures["fmnist_epochs_to_93pct"] >= 1
    for variant in ("engine_bf16_channels_last", "engine_bf16", "engine_channels_last", "engine_fp32"):
        assert figures[f"{variant}_images_per_s"] > 0 and figures[f"{variant}_vs_dataloader_ratio"] > 0
    assert figures["notebook_05_smoke_status"] == "ok" and figures["notebook_06_smoke_status"] == "ok"
    for line in ("fmnist_best_test_accuracy: ", "engine_fp32_vs_dataloader_ratio: ", "total_s: "):
        assert line in out


def test_budget_skips_steps_and_says_so(tmp_path, capsys):
    gpu_check = load_script()
    rc = gpu_check.main(["--device", "cpu", "--out", str(tmp_path), "--budget-s", "0",
                         "--skip", "target", "throughput"])
    figures = json.loads((tmp_path / "gpu_check.json").read_text())
    assert rc == 0
    assert figures["tests_status"].startswith("skipped: budget")
    assert figures["notebooks_status"].startswith("skipped: budget")


def test_bad_device_is_an_error(tmp_path):
    gpu_check = load_script()
    with pytest.raises(RuntimeError):
        gpu_check.main(["--device", "nonsense", "--out", str(tmp_path)])
