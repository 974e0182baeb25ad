"""Seconds per training epoch of the Part-1 and Part-3 notebooks' setups on a GPU, with a host round-trip on
every step and without one, side by side in one run, and a per-step breakdown.

Modes, each timed on the same data, model and recipe as its notebook (Part-3: augmentation,
warm-up/cosine/floor schedule, EMA, channels-last):

- ``per-step reads``: a plain training loop, the reference the others are measured against: ``loss.item()`` and
  the correct count read on every step, the augmentation's random draws made and copied to the device for every batch,
  and torch's own ``AveragedModel`` EMA (which tests its step counter with ``if`` every step);
- ``sync-free``: ``mnist_helpers.training.train_epoch``, what the notebooks run: everything stays
  on the device and is read once per epoch, the epoch's draws are copied once;
- ``sync-free + torch.compile``: the same with the model wrapped in ``torch.compile``;
- ``static step``: ``lab.static_step.StaticStep`` run eagerly (fixed shapes, the rate as a
  device tensor, fused SGD, one ``_foreach_lerp_`` EMA);
- ``static step + CUDA graph``: the same step captured once and replayed, what ``fit`` does on CUDA.

``--together 12`` also times Part-3's recipe for 12 seeds at once (``lab.together``, captured on CUDA)
against 1 seed the same way: the rows ``together, 1 seed`` and ``together, 12 seeds``.

Each mode trains ``--warmup`` untimed epochs (cuDNN autotuning, compilation), then ``--epochs``
timed ones; the median is reported. The breakdown times ``--steps`` sync-free steps with a
device synchronisation after each phase (which itself slows the step), so read it as shares.

    python -m lab.benchmarks.gpu [--device cuda] [--epochs 3] [--save]

``--save`` writes lab/results/benchmark_gpu.json, from which ``python -m lab.tables`` fills the
README's GPU table. ``--device cpu`` runs the same script on a CPU (to check it, not to report).
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from lab.benchmarks.step_breakdown import breakdown as step_breakdown
from lab.benchmarks.step_breakdown import part3_setup
from lab import RESULTS
from mnist_helpers import TensorLoader, load_mnist_tensors, set_seed
from mnist_helpers.recipes import notebook_recipe
from mnist_helpers.results import device_description, save_results
from lab.static_step import StaticStep
from mnist_helpers.training import train_epoch
from lab.ladder import ladder_recipe, recipe
from scripts.notebook_code import notebook_model
from lab.together import train_together

MODES = ("per-step reads", "sync-free", "sync-free + torch.compile", "static step", "static step + CUDA graph")


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def setup(part: str, device: torch.device, mode: str):
    """The notebook's loader, model, optimizer, scheduler, loss options and EMA for ``part``."""
    if part == "part1":
        p1 = notebook_recipe("part1")  # the Part-1 notebook's batch size, rate and momentum, from its recipe cell
        set_seed(1)
        images, labels = load_mnist_tensors("train")
        loader = TensorLoader(images, labels, p1["BATCH_SIZE"], shuffle=True, seed=1, device=device)
        model = notebook_model("part1").to(device)
        optimizer = torch.optim.SGD(model.parameters(), lr=p1["LR"], momentum=p1["MOMENTUM"])
        scheduler, smoothing, ema = None, 0.0, None
    else:  # the Part-3 notebook's own constants (batch size, peak LR, EMA decay, ...), read from the notebook
        loader, model, optimizer, scheduler, smoothing, ema = part3_setup(device)
        if mode == "per-step reads":
            ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(ema.decay), use_buffers=True)
    if mode.endswith("torch.compile"):
        model = torch.compile(model)
    return loader, model, optimizer, scheduler, smoothing, ema


def epoch_with_reads(loader, model, optimizer, scheduler, smoothing, ema) -> None:
    """One epoch of a plain loop that waits for the device on every step: per-batch draws and copies, per-step
    reads."""
    device = next(model.parameters()).device
    model.train()
    order = torch.randperm(loader.num_samples, generator=loader.generator).to(device)
    total, correct, start = 0.0, 0, 0
    for size in loader.batch_sizes():
        idx = order[start:start + size]
        start += size
        x = loader.images[idx].float().div_(255.0)
        if loader.augment is not None:
            x = loader.augment(x, loader.generator)  # draws on the CPU, copied to the device, per batch
        x, y = x.sub_(loader.mean).div_(loader.std), loader.labels[idx]
        optimizer.zero_grad(set_to_none=True)
        out = model(x)
        loss = F.cross_entropy(out, y, label_smoothing=smoothing)
        loss.backward()
        optimizer.step()
        if ema is not None:
            ema.update_parameters(model)
        if scheduler is not None:
            scheduler.step()
        total += loss.item() * size
        correct += (out.argmax(1) == y).sum().item()


def time_mode(part: str, mode: str, device: torch.device, warmup: int, epochs: int) -> list[float]:
    loader, model, optimizer, scheduler, smoothing, ema = setup(part, device, mode)
    static = None
    if mode.startswith("static step"):
        if mode.endswith("graph") and device.type != "cuda":
            raise SystemExit(f"mode {mode!r} needs a CUDA device")
        static = StaticStep(model, [loader], optimizer, scheduler, step_scheduler_per_batch=scheduler is not None,
                            label_smoothing=smoothing, ema=ema, capture=mode.endswith("graph"))
    seconds = []
    for epoch in range(warmup + epochs):
        synchronize(device)
        start = time.perf_counter()
        if mode == "per-step reads":
            epoch_with_reads(loader, model, optimizer, scheduler, smoothing, ema)
        elif static is not None:
            static.train_epoch()
        else:
            train_epoch(model, loader, optimizer, scheduler,
                        label_smoothing=smoothing, ema=ema)
        synchronize(device)
        if epoch >= warmup:
            seconds.append(time.perf_counter() - start)
    return seconds


def time_together(device: torch.device, seeds: int, warmup: int, epochs: int) -> list[float]:
    """Seconds per training epoch of Part-3's recipe for ``seeds`` seeds at once (``lab.together``)."""
    r = recipe(**{**ladder_recipe("part3"), "EPOCHS": warmup + epochs})
    run = train_together(r, list(range(seeds)), load_mnist_tensors("train"), load_mnist_tensors("test"), device,
                         log=lambda line: None)
    return run["seconds_per_epoch"][warmup:]


def breakdown(part: str, device: torch.device, steps: int) -> dict:
    """Milliseconds per step in each phase of a sync-free step, synchronising after each phase."""
    return step_breakdown(device, steps, setup=lambda d: setup(part, d, "sync-free"))["ms_per_step"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per mode (median reported)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed epochs first (autotuning, compilation)")
    parser.add_argument("--steps", type=int, default=200, help="steps timed for the breakdown")
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--parts", nargs="+", default=["part1", "part3"], choices=["part1", "part3"])
    parser.add_argument("--together", type=int, default=0, metavar="SEEDS",
                        help="also time Part-3's recipe for this many seeds at once, and for 1 seed the same way")
    parser.add_argument("--save", action="store_true", help="write lab/results/benchmark_gpu.json")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("CUDA is not available here; run it on a GPU machine, or pass --device cpu to check the script")
    if args.epochs < 1 or args.warmup < 0 or args.steps < 1:
        parser.error("--epochs and --steps must be at least 1, --warmup at least 0")
    print(f"{device_description(device)}, torch {torch.__version__}")
    torch.backends.cudnn.benchmark = True  # for every mode, as the captured step sets it: like against like
    report = {"device": device_description(device), "torch_version": torch.__version__, "epochs": args.epochs,
              "warmup_epochs": args.warmup, "seconds_per_epoch": {}, "runs": {}, "breakdown_ms_per_step": {}}
    for part in args.parts:
        report["seconds_per_epoch"][part], report["runs"][part] = {}, {}
        for mode in args.modes:
            runs = time_mode(part, mode, device, args.warmup, args.epochs)
            report["runs"][part][mode] = runs
            report["seconds_per_epoch"][part][mode] = statistics.median(runs)
            print(f"{part}  {mode:28s} {statistics.median(runs):7.3f} s per epoch  (runs: "
                  f"{', '.join(f'{s:.3f}' for s in runs)})", flush=True)
        report["breakdown_ms_per_step"][part] = phases = breakdown(part, device, args.steps)
        print(f"{part}  per sync-free step: " + ", ".join(f"{k} {v:.3f} ms" for k, v in phases.items()), flush=True)
    if args.together:
        report["together"] = {}
        for seeds in (1, args.together):
            runs = time_together(device, seeds, args.warmup, args.epochs)
            report["together"][f"{seeds} seed{'s' if seeds > 1 else ''}"] = {"seconds_per_epoch": statistics.median(runs),
                                                                              "runs": runs}
            print(f"part3  together, {seeds:2d} seeds    {statistics.median(runs):7.3f} s per epoch", flush=True)
    if args.save:
        print("saved", save_results("benchmark_gpu", folder=RESULTS, results=report))


if __name__ == "__main__":
    main()
