"""Time one training epoch of the Part-3 model with the Part-3 augmentation, fed and run four ways:

1. torchvision: ``datasets.MNIST`` + per-sample PIL transforms (``torchvision_reference``) + DataLoader,
   the usual way to feed an MNIST model, the reference the others are measured against;
2. batched: ``TensorLoader`` with uint8 tensors in memory + ``RandomRotateCrop`` (batched warps);
3. batched + channels-last tensors;
4. batched + channels-last + ``keep_freed_memory()``: how the Part-3 notebook feeds and runs its model.

Each run is a fresh Python process (``keep_freed_memory`` is process-wide, and a fresh process
leaves no warm caches behind), the configurations alternate, and each is repeated ``--repeats``
times; the table reports the median. All take the same step, fixed here so that the timings compare across
recipe changes: batch size 128, shuffling, SGD with Nesterov momentum, random rotation ±15° and a 22x22
centre crop with p=0.1. Prints the seconds per epoch for each,
then ``ratio: X.XX`` (row 2 over row 1) and ``ratio with CPU settings: X.XX`` (row 4 over row 1).

    python -m lab.benchmarks.cpu_pipeline [--repeats N] [--workers N] [--batches N] [--save]

``--save`` also writes the figures to lab/results/benchmark_pipeline.json, from which
``python -m lab.tables`` fills lab/speed.md's benchmark table. CPU only: the
settings it measures are CPU settings.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from lab import RESULTS
from mnist_helpers import (RandomRotateCrop, TensorLoader, keep_freed_memory, load_mnist, load_mnist_tensors,
                           set_seed, torchvision_reference)
from mnist_helpers.results import device_description, save_results
from scripts.notebook_code import notebook_model

CONFIGS = {
    "torchvision DataLoader + PIL transforms": dict(batched=False, channels_last=False, keep_memory=False),
    "batched tensor pipeline": dict(batched=True, channels_last=False, keep_memory=False),
    "batched + channels-last": dict(batched=True, channels_last=True, keep_memory=False),
    "batched + channels-last + keep_freed_memory()": dict(batched=True, channels_last=True, keep_memory=True),
}


def time_epoch(batched: bool, channels_last: bool, keep_memory: bool, workers: int,
               max_batches: int | None) -> tuple[float, int]:
    """Seconds for one training epoch (or ``max_batches``) in this process, and the images seen."""
    if keep_memory:
        keep_freed_memory()
    if batched:
        images, labels = load_mnist_tensors("train")
        loader = TensorLoader(images, labels, 128, shuffle=True, seed=0,
                              augment=RandomRotateCrop(degrees=15, crop_prob=0.1))
    else:
        dataset = load_mnist("train", transform=torchvision_reference(degrees=15, crop_prob=0.1))
        loader = DataLoader(dataset, batch_size=128, shuffle=True, num_workers=workers,
                            generator=torch.Generator().manual_seed(0))
    set_seed(0)
    model = notebook_model("part3")  # the class the Part-3 notebook defines
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    model.train()
    seen = 0
    start = time.perf_counter()
    for i, (x, y) in enumerate(loader):
        if max_batches is not None and i >= max_batches:
            break
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()
        seen += len(y)
    return time.perf_counter() - start, seen


def run_in_fresh_process(name: str, args) -> tuple[float, int]:
    cmd = [sys.executable, "-m", "lab.benchmarks.cpu_pipeline", "--one", name, "--workers", str(args.workers)]
    if args.batches is not None:
        cmd += ["--batches", str(args.batches)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    return result["seconds"], result["images"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2, help="runs per configuration (default 2; median reported)")
    parser.add_argument("--workers", type=int, default=0, help="DataLoader worker processes (default 0)")
    parser.add_argument("--batches", type=int, default=None, help="time only this many batches (default: a full epoch)")
    parser.add_argument("--save", action="store_true", help="write lab/results/benchmark_pipeline.json")
    parser.add_argument("--one", choices=sorted(CONFIGS), help=argparse.SUPPRESS)  # internal: one timed run
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.one:
        seconds, seen = time_epoch(**CONFIGS[args.one], workers=args.workers, max_batches=args.batches)
        print(json.dumps({"seconds": seconds, "images": seen}))
        return

    print(f"cpu, torch {torch.__version__}, {torch.get_num_threads()} threads, DataLoader workers {args.workers}, "
          f"{args.repeats} fresh-process runs per configuration")
    runs = {name: [] for name in CONFIGS}
    for _ in range(args.repeats):
        for name in CONFIGS:
            seconds, seen = run_in_fresh_process(name, args)
            runs[name].append(seconds)
            print(f"  {name:48s} {seconds:6.2f} s", flush=True)
    seconds_of = {name: statistics.median(times) for name, times in runs.items()}
    per_second = {name: seen / s for name, s in seconds_of.items()}
    for name, s in seconds_of.items():
        print(f"{name:48s} median {s:6.2f} s = {per_second[name]:8.0f} images/s")
    baseline = seconds_of["torchvision DataLoader + PIL transforms"]
    ratio = baseline / seconds_of["batched tensor pipeline"]
    ratio_cpu = baseline / seconds_of["batched + channels-last + keep_freed_memory()"]
    if args.save:
        save_results("benchmark_pipeline", folder=RESULTS, results={
            "device": device_description(torch.device("cpu")), "cpu": platform.processor() or platform.machine(),
            "torch_version": torch.__version__, "dataloader_workers": args.workers, "images": seen,
            "repeats": args.repeats, "runs": runs, "seconds": seconds_of, "images_per_second": per_second,
            "ratio": ratio, "ratio_with_cpu_settings": ratio_cpu})
    print(f"ratio: {ratio:.2f}")
    print(f"ratio with CPU settings: {ratio_cpu:.2f}")


if __name__ == "__main__":
    main()
