"""Training-engine benchmark: engine vs a plain torchvision DataLoader pipeline, and the quick-profile CNN.

Prints ``name: value`` lines, every figure measured in this run:

* images/s of ``labkit.train.fit`` (tensors on the device, batches by index) and of the PyTorch-tutorial
  pipeline (``torchvision.datasets.FashionMNIST`` + ``ToTensor`` + ``DataLoader``) training the same
  model with the same batch size and optimiser, and their ratio; with and without augmentation;
* the quick-profile small CNN on Fashion-MNIST: test accuracy and wall time (target: >= 91 % in 60 s on
  a 2-core CPU);
* with a CUDA device: seconds to 93 % Fashion-MNIST test accuracy (skipped, with a note, without one).

Timings on a shared machine are inflated by the other processes: ``load_average_1min`` and the process
CPU time are printed so a reader can tell.
"""

from __future__ import annotations

import os
import struct
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from labkit import data, get_device, models, train

# Quick-profile recipe for the >= 91 % target (see the README's "Training engine" section).
QUICK = dict(width=16, epochs=6, batch_size=256, lr=0.2, label_smoothing=0.1)
THROUGHPUT_BATCH, THROUGHPUT_STEPS, WARMUP_STEPS = 128, 40, 5
TARGET_CPU, TARGET_GPU = 0.91, 0.93


def line(name: str, value) -> None:
    print(f"{name}: {value:.4g}" if isinstance(value, float) else f"{name}: {value}", flush=True)


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array in the IDX format torchvision's FashionMNIST reads."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def torchvision_dataset(root: Path, X: torch.Tensor, y: torch.Tensor, transform):
    """``torchvision.datasets.FashionMNIST`` over the same images (written as raw IDX files under root)."""
    import torchvision

    raw = root / "FashionMNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    if not (raw / "train-images-idx3-ubyte").exists():
        write_idx(raw / "train-images-idx3-ubyte", X[:, 0].numpy())
        write_idx(raw / "train-labels-idx1-ubyte", y.numpy().astype(np.uint8))
        write_idx(raw / "t10k-images-idx3-ubyte", X[:16, 0].numpy())
        write_idx(raw / "t10k-labels-idx1-ubyte", y[:16].numpy().astype(np.uint8))
    return torchvision.datasets.FashionMNIST(str(root), train=True, download=False, transform=transform)


def plain_images_per_s(dataset, device: torch.device, steps: int) -> float:
    """The PyTorch-tutorial loop: DataLoader(shuffle) → .to(device) → forward/backward/step."""
    loader = torch.utils.data.DataLoader(dataset, batch_size=THROUGHPUT_BATCH, shuffle=True,
                                         generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    model = models.small_cnn(width=QUICK["width"]).to(device).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
    seen, start = 0, None
    for i, (x, y) in enumerate(loader):
        if i == WARMUP_STEPS:
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
        if i == WARMUP_STEPS + steps:
            break
        x, y = x.to(device), y.to(device)
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        seen += len(y) if i >= WARMUP_STEPS else 0
    if device.type == "cuda":
        torch.cuda.synchronize()
    return seen / (time.perf_counter() - start)


def engine_images_per_s(X: torch.Tensor, y: torch.Tensor, device: torch.device, steps: int, *,
                        augment: bool, **engine) -> float:
    """``labkit.train.fit`` for one epoch of ``steps`` batches (after a short warm-up fit)."""
    torch.manual_seed(0)
    model = models.small_cnn(width=QUICK["width"])
    common = dict(lr=0.05, batch_size=THROUGHPUT_BATCH, schedule="constant", augment=augment,
                  progress=False, device=device, random_state=0, **engine)
    train.fit(model, (X[:THROUGHPUT_BATCH * WARMUP_STEPS], y[:THROUGHPUT_BATCH * WARMUP_STEPS]), epochs=1,
              **common)
    n = THROUGHPUT_BATCH * steps
    history = train.fit(model, (X[:n], y[:n]), epochs=1, **common)
    return n / float(history["seconds"].iloc[0])


def throughput(X: torch.Tensor, y: torch.Tensor, device: torch.device) -> None:
    import torchvision.transforms as T

    steps = THROUGHPUT_STEPS
    pad = X.shape[-1] // 8
    with tempfile.TemporaryDirectory() as tmp:
        plain = plain_images_per_s(torchvision_dataset(Path(tmp), X, y, T.ToTensor()), device, steps)
        augmented = T.Compose([T.RandomCrop(X.shape[-1], padding=pad), T.RandomHorizontalFlip(), T.ToTensor()])
        plain_aug = plain_images_per_s(torchvision_dataset(Path(tmp), X, y, augmented), device, steps)
    engine = engine_images_per_s(X, y, device, steps, augment=False)
    engine_fp32 = engine_images_per_s(X, y, device, steps, augment=False, amp=False, channels_last=False)
    engine_aug = engine_images_per_s(X, y, device, steps, augment=True)
    line("dataloader_images_per_s", plain)
    line("engine_images_per_s", engine)
    line("engine_vs_dataloader_ratio", engine / plain)
    line("engine_fp32_contiguous_vs_dataloader_ratio", engine_fp32 / plain)
    line("dataloader_augmented_images_per_s", plain_aug)
    line("engine_augmented_images_per_s", engine_aug)
    line("engine_vs_dataloader_augmented_ratio", engine_aug / plain_aug)


def quick_small_cnn(X, y, Xt, yt, device: torch.device) -> None:
    """The quick-profile recipe: small CNN, tensors on the device, one-cycle SGD, test accuracy at the end."""
    settings = dict(QUICK)
    width = settings.pop("width")
    start, cpu_start = time.perf_counter(), time.process_time()
    torch.manual_seed(0)
    model = models.small_cnn(width=width)
    history = train.fit(model, (X, y), epochs=settings.pop("epochs"), progress=False, device=device,
                        random_state=0, **settings)
    accuracy = train.evaluate(model, (Xt, yt), device=device)["accuracy"]
    wall = time.perf_counter() - start
    line("fmnist_small_cnn_epochs", len(history))
    line("fmnist_small_cnn_test_accuracy", accuracy)
    line("fmnist_small_cnn_wall_s", wall)
    line("fmnist_small_cnn_process_cpu_s", time.process_time() - cpu_start)
    line("fmnist_small_cnn_train_images_per_s", len(history) * len(y) / float(history["seconds"].sum()))
    line("fmnist_small_cnn_reaches_91pct_in_60s", int(accuracy >= TARGET_CPU and wall <= 60))


def gpu_seconds_to_93(X, y, Xt, yt) -> None:
    """Seconds of training (validation included) until Fashion-MNIST test accuracy first reaches 93 %."""
    device = torch.device("cuda")
    Xd, yd, Xtd, ytd = (t.to(device) for t in (X, y, Xt, yt))
    recipe = dict(lr=0.2, batch_size=512, label_smoothing=0.1, augment=True, progress=False, device=device)
    torch.manual_seed(0)
    train.fit(models.cifar_resnet(8, width=2, in_channels=1), (Xd[:4096], yd[:4096]), epochs=1,
              random_state=1, **recipe)  # warm-up: cuDNN autotuning and kernel loading, not timed
    torch.cuda.synchronize()
    torch.manual_seed(0)
    model = models.cifar_resnet(8, width=2, in_channels=1)
    history = train.fit(model, (Xd, yd), (Xtd, ytd), epochs=12, random_state=0, **recipe)
    elapsed = history["seconds"].cumsum()
    reached = history.index[history["val_acc"] >= TARGET_GPU]
    line("gpu_fmnist_best_test_accuracy", float(history["val_acc"].max()))
    if len(reached):
        line("gpu_fmnist_epochs_to_93pct", int(history.loc[reached[0], "epoch"]))
        line("gpu_fmnist_seconds_to_93pct", float(elapsed[reached[0]]))
    else:
        print(f"# 93 % not reached in {len(history)} epochs ({float(elapsed.iloc[-1]):.1f} s)")
    line("gpu_fmnist_seconds_12_epochs", float(elapsed.iloc[-1]))
    print("# reference (published, not measured here): airbench, CIFAR-10 to 94 % in 3.83 s on an A100")


def main() -> int:
    threads = int(os.environ.get("LABKIT_BENCH_THREADS", min(2, os.cpu_count() or 1)))
    torch.set_num_threads(threads)
    try:
        X, y = data.load_images("fashion_mnist", "train", download=False)
        Xt, yt = data.load_images("fashion_mnist", "test", download=False)
    except data.DatasetUnavailable as err:
        print(f"# Fashion-MNIST not available, training-engine benchmark skipped: {err}")
        return 0
    cpu = torch.device("cpu")
    line("cpu_threads", threads)
    line("load_average_1min", os.getloadavg()[0])
    throughput(X, y, cpu)
    quick_small_cnn(X, y, Xt, yt, cpu)
    if get_device().type == "cuda":
        gpu_seconds_to_93(X, y, Xt, yt)
    else:
        print("# no CUDA device: seconds to 93 % on Fashion-MNIST skipped (needs a GPU)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
