"""Where a Part-3 training step spends its time, phase by phase, on the CPU (or any device).

Builds the Part-3 notebook's own setup (its ``Net``, batch size, peak learning rate, schedule, EMA and
augmentation, read from the committed notebook by ``tools.notebook_code``) and times ``--steps``
steps, marking the clock after each phase: batch and augmentation, forward and backward, optimizer
and schedule, EMA. On a GPU it synchronises after each phase, which itself slows the step, so read
the figures as shares there.

    python -m benchmarks.step_breakdown [--steps 200] [--device cpu] [--batch-size 128 512 ...]

``--batch-size`` times other batch sizes with the same recipe (the learning rate is left as it is: this
measures time, not accuracy); the epoch figures then show whether a larger batch is a lever here.
"""
from __future__ import annotations

import argparse
import functools
import sys
import time

import torch
import torch.nn.functional as F

from mnist_helpers import (RandomRotateCrop, TensorLoader, ema_model, keep_freed_memory, load_mnist_tensors, set_seed,
                           warmup_cosine_floor)
from tools.notebook_code import notebook_constants, notebook_model

PHASES = ("batch and augmentation", "forward and backward", "optimizer and schedule", "EMA")


def part3_setup(device: torch.device, batch_size: int | None = None):
    """The Part-3 notebook's loader, model, optimizer, scheduler, label smoothing and EMA, on ``device``
    (at ``batch_size`` instead of the notebook's, if given)."""
    notebook_batch, peak_lr, decay, smoothing, warmup, floor = notebook_constants(
        "part3", "BATCH_SIZE", "PEAK_LR", "EMA_DECAY", "LABEL_SMOOTHING", "WARMUP_EPOCHS", "FLOOR_EPOCH")
    batch_size = batch_size or notebook_batch
    set_seed(1)
    if device.type == "cpu":
        keep_freed_memory()
    images, labels = load_mnist_tensors("train")
    loader = TensorLoader(images, labels, batch_size, shuffle=True, seed=1, device=device,
                          augment=RandomRotateCrop(degrees=15, crop_prob=0.1, crop_size=22))
    model = notebook_model("part3").to(device, memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=peak_lr, momentum=0.9, nesterov=True)
    scheduler = warmup_cosine_floor(optimizer, len(loader), warmup_epochs=warmup, floor_epoch=floor)
    return loader, model, optimizer, scheduler, smoothing, ema_model(model, decay=decay)


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def breakdown(device="cpu", steps: int = 200, warmup: int = 10, setup=part3_setup) -> dict:
    """Milliseconds per step in each phase, and the batch size they were measured at.

    ``setup(device)`` returns (loader, model, optimizer, scheduler or None, label smoothing, EMA or None).
    """
    device = torch.device(device)
    loader, model, optimizer, scheduler, smoothing, ema = setup(device)
    phases = dict.fromkeys(PHASES, 0.0)
    model.train()
    batches = iter(loader)
    for step in range(warmup + steps):
        marks = [time.perf_counter()]
        try:
            x, y = next(batches)
        except StopIteration:
            batches = iter(loader)
            x, y = next(batches)
        _synchronize(device); marks.append(time.perf_counter())
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y, label_smoothing=smoothing).backward()
        _synchronize(device); marks.append(time.perf_counter())
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        _synchronize(device); marks.append(time.perf_counter())
        if ema is not None:
            ema.update_parameters(model)
        _synchronize(device); marks.append(time.perf_counter())
        if step >= warmup:
            for name, a, b in zip(PHASES, marks, marks[1:]):
                phases[name] += (b - a) * 1000 / steps
    return {"batch_size": loader.batch_size, "steps_per_epoch": len(loader), "ms_per_step": phases}


def format_breakdown(result: dict) -> str:
    total = sum(result["ms_per_step"].values())
    lines = [f"per training step at batch {result['batch_size']} ({result['steps_per_epoch']} steps per epoch):"]
    for name, ms in result["ms_per_step"].items():
        lines.append(f"  {name:<24} {ms:7.3f} ms  {100 * ms / total:5.1f}%   "
                     f"{ms * result['steps_per_epoch'] / 1000:5.2f} s per epoch")
    lines.append(f"  {'total':<24} {total:7.3f} ms          {total * result['steps_per_epoch'] / 1000:5.2f} s per epoch")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.step_breakdown", description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, nargs="+", default=[None],
                        help="batch sizes to time (default: the notebook's)")
    args = parser.parse_args(argv)
    if args.steps < 1 or any(b is not None and b < 1 for b in args.batch_size):
        parser.error("--steps and --batch-size must be at least 1")
    for batch_size in args.batch_size:
        setup = functools.partial(part3_setup, batch_size=batch_size)
        print(format_breakdown(breakdown(args.device, args.steps, setup=setup)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
