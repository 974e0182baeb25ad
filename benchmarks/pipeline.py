"""Time one training epoch of the same small CNN with the same augmentation, fed two ways:

1. torchvision: ``datasets.MNIST`` + per-sample PIL transforms (``train_transforms``) + DataLoader;
2. batched: ``TensorLoader`` with uint8 tensors in memory + ``RandomRotateCrop`` (one warp per batch).

Both use batch size 128, shuffling, random rotation ±15° and a 22x22 centre crop with p=0.1.
Prints images/second for each and, last, ``ratio: X.XX`` (batched over DataLoader).

    python benchmarks/pipeline.py [--device cpu|cuda] [--workers N] [--batches N] [--save]

``--save`` also writes the figures to results/benchmark_pipeline.json, from which
``python -m mnist_helpers.readme`` fills the README's benchmark table.
"""
from __future__ import annotations

import argparse
import platform
import time

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from mnist_helpers import (RandomRotateCrop, TensorLoader, load_mnist, load_mnist_tensors, pick_device,
                           set_seed, train_transforms)
from mnist_helpers.results import device_description, save_results


def small_cnn() -> nn.Module:
    def block(i, o, **kw):
        return [nn.Conv2d(i, o, 3, bias=False, **kw), nn.BatchNorm2d(o), nn.ReLU()]
    return nn.Sequential(*block(1, 8), nn.MaxPool2d(2), *block(8, 16), *block(16, 16), nn.MaxPool2d(2),
                         *block(16, 16, padding=1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))


def time_epoch(loader, device, max_batches: int | None) -> tuple[float, int]:
    set_seed(0)
    model = small_cnn().to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    model.train()
    seen = 0
    start = time.perf_counter()
    for i, (x, y) in enumerate(loader):
        if max_batches is not None and i >= max_batches:
            break
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()
        seen += len(y)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="default: CUDA, then MPS, then CPU")
    parser.add_argument("--workers", type=int, default=0, help="DataLoader worker processes (default 0)")
    parser.add_argument("--batches", type=int, default=None, help="time only this many batches (default: a full epoch)")
    parser.add_argument("--save", action="store_true", help="write results/benchmark_pipeline.json")
    args = parser.parse_args()
    device = torch.device(args.device) if args.device else pick_device()
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"DataLoader workers {args.workers}")

    dataset = load_mnist("train", transform=train_transforms(degrees=15, crop_prob=0.1))
    dataloader = DataLoader(dataset, batch_size=128, shuffle=True, num_workers=args.workers,
                            pin_memory=device.type == "cuda", generator=torch.Generator().manual_seed(0))
    images, labels = load_mnist_tensors("train")
    batched = TensorLoader(images, labels, 128, shuffle=True, seed=0, device=device,
                           augment=RandomRotateCrop(degrees=15, crop_prob=0.1))

    results, seconds_of = {}, {}
    for name, loader in (("torchvision DataLoader + PIL transforms", dataloader),
                         ("batched tensor pipeline", batched)):
        seconds, seen = time_epoch(loader, device, args.batches)
        results[name] = seen / seconds
        seconds_of[name] = seconds
        print(f"{name:40s} {seen:6d} images in {seconds:6.2f} s = {seen / seconds:8.0f} images/s")
    ratio = results["batched tensor pipeline"] / results["torchvision DataLoader + PIL transforms"]
    if args.save:
        save_results("benchmark_pipeline", {
            "device": device_description(device), "cpu": platform.processor() or platform.machine(),
            "torch_version": torch.__version__, "dataloader_workers": args.workers,
            "images": seen, "seconds": seconds_of, "images_per_second": results, "ratio": ratio})
    print(f"ratio: {ratio:.2f}")


if __name__ == "__main__":
    main()
