"""Where a Part-3 training step spends its time, phase by phase, on the CPU (or any device).

Builds the Part-3 notebook's own setup (its ``Net``, batch size, peak learning rate, schedule, EMA and
augmentation, read from the committed notebook by ``scripts.notebook_code``) and times ``--steps``
steps, marking the clock after each phase: batch and augmentation, forward and backward, optimizer
and schedule, EMA. On a GPU it synchronises after each phase, which itself slows the step, so read
the figures as shares there.

    python -m lab.benchmarks.step_breakdown [--steps 200] [--device cpu] [--batch-size 128 512 ...]

``--batch-size`` times other batch sizes with the same recipe (the learning rate is left as it is: this
measures time, not accuracy); the epoch figures then show whether a larger batch is a lever here.

``--kinds native avx2`` times the step once per CPU kind, each in a fresh process (PyTorch's switches
``mnist_helpers.cpu_kind.AVX2_SWITCHES`` act only when set before it starts), and prints them side by side with their ratio; ``--settings`` adds levers that
keep the maths (``contiguous`` memory instead of channels-last, ``1-thread``, ``compile``: ``torch.compile``
of the model). ``--save`` writes the table to ``lab/results/benchmark_step_breakdown.json`` for lab/speed.md.

    python -m lab.benchmarks.step_breakdown --kinds native avx2 --settings notebook contiguous 1-thread compile --save
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

from lab import RESULTS
from mnist_helpers.cpu_kind import AVX2_SWITCHES
from mnist_helpers import (RandomRotateCrop, TensorLoader, ema_model, keep_freed_memory, load_mnist_tensors, set_seed,
                           warmup_cosine_floor)
from mnist_helpers.recipes import notebook_recipe
from scripts.notebook_code import notebook_model

PHASES = ("batch and augmentation", "forward and backward", "optimizer and schedule", "EMA")


SETTINGS = ("notebook", "contiguous", "1-thread", "compile")


def part3_setup(device: torch.device, batch_size: int | None = None, setting: str = "notebook"):
    """The Part-3 notebook's loader, model, optimizer, scheduler, label smoothing and EMA, on ``device``
    (at ``batch_size`` instead of the notebook's, if given; ``setting``: one of ``SETTINGS``)."""
    if setting not in SETTINGS:
        raise ValueError(f"unknown setting {setting!r}; one of {', '.join(SETTINGS)}")
    if setting == "1-thread":
        torch.set_num_threads(1)
    r = notebook_recipe("part3")
    peak_lr, decay, warmup, floor = (r[k] for k in ("PEAK_LR", "EMA_DECAY", "WARMUP_EPOCHS", "FLOOR_EPOCH"))
    smoothing = r.get("LABEL_SMOOTHING", 0.0)  # the recipe cell names it only when it smooths
    batch_size = batch_size or r["BATCH_SIZE"]
    set_seed(1)
    if device.type == "cpu":
        keep_freed_memory()
    images, labels = load_mnist_tensors("train")
    loader = TensorLoader(images, labels, batch_size, shuffle=True, seed=1, device=device,
                          augment=RandomRotateCrop(degrees=r["DEGREES"], crop_prob=r["CROP_PROB"], crop_size=r["CROP_SIZE"]))
    memory = torch.contiguous_format if setting == "contiguous" else torch.channels_last
    model = notebook_model("part3").to(device, memory_format=memory)
    optimizer = torch.optim.SGD(model.parameters(), lr=peak_lr, momentum=r["MOMENTUM"])
    scheduler = warmup_cosine_floor(optimizer, len(loader), warmup_epochs=warmup, floor_epoch=floor)
    ema = ema_model(model, decay=decay)
    if setting == "compile":
        model = torch.compile(model)  # the same parameters as the EMA's source; the first steps compile
    return loader, model, optimizer, scheduler, smoothing, ema


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
            ema.update_parameters(getattr(model, "_orig_mod", model))
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


def _in_fresh_process(kind: str, setting: str, steps: int, batch_size: int | None) -> dict:
    """One CPU breakdown in a new Python process running as CPU ``kind`` (``native`` or ``avx2``)."""
    env = {name: value for name, value in os.environ.items() if name not in AVX2_SWITCHES}
    if kind == "avx2":
        env.update(AVX2_SWITCHES)
    command = [sys.executable, "-m", "lab.benchmarks.step_breakdown", "--json", "--steps", str(steps), "--device", "cpu",
               "--settings", setting] + (["--batch-size", str(batch_size)] if batch_size else [])
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"the {kind} / {setting} breakdown failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def side_by_side(results: dict) -> str:
    """Per setting, each kind's milliseconds per phase and epoch seconds, and the ratio to the first kind."""
    kinds = list(next(iter(results.values())))
    lines = [f"{'setting':<11} {'phase':<24}" + "".join(f"{k:>12}" for k in kinds) +
             "".join(f"{k + ' / ' + kinds[0]:>16}" for k in kinds[1:])]
    for setting, by_kind in results.items():
        first = by_kind[kinds[0]]
        for phase in (*PHASES, "epoch (s)"):
            if phase == "epoch (s)":
                values = [sum(r["ms_per_step"].values()) * r["steps_per_epoch"] / 1000 for r in by_kind.values()]
            else:
                values = [r["ms_per_step"][phase] for r in by_kind.values()]
            lines.append(f"{setting:<11} {phase:<24}" + "".join(f"{v:12.2f}" for v in values) +
                         "".join(f"{v / values[0]:15.2f}×" for v in values[1:]))
        lines[-1] += f"   ({first['cpu_kind']} vs {', '.join(r['cpu_kind'] for r in list(by_kind.values())[1:])})"
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.benchmarks.step_breakdown", description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, nargs="+", default=[None],
                        help="batch sizes to time (default: the notebook's)")
    parser.add_argument("--settings", nargs="+", default=["notebook"], choices=SETTINGS)
    parser.add_argument("--kinds", nargs="+", choices=["native", "avx2"],
                        help="time each CPU kind in its own process, side by side")
    parser.add_argument("--save", action="store_true", help="with --kinds: write lab/results/benchmark_step_breakdown.json")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # one result as JSON (for --kinds)
    args = parser.parse_args(argv)
    if args.steps < 1 or any(b is not None and b < 1 for b in args.batch_size):
        parser.error("--steps and --batch-size must be at least 1")
    if args.save and not args.kinds:
        parser.error("--save needs --kinds")
    if args.kinds:
        if len(args.batch_size) > 1 or args.device != "cpu":
            parser.error("--kinds times one batch size on the CPU")
        results = {setting: {kind: _in_fresh_process(kind, setting, args.steps, args.batch_size[0])
                             for kind in args.kinds} for setting in args.settings}
        print(side_by_side(results))
        if args.save:
            from mnist_helpers.results import save_results
            path = save_results("benchmark_step_breakdown", folder=RESULTS, results={
                "command": "python -m lab.benchmarks.step_breakdown " + " ".join(argv if argv is not None else sys.argv[1:]),
                "torch_version": torch.__version__, "results": results})
            print(f"-> {path.name}")
        return 0
    threads = torch.get_num_threads()
    for batch_size in args.batch_size:
        for setting in args.settings:
            torch.set_num_threads(threads)  # the 1-thread setting lowers it for itself only
            setup = functools.partial(part3_setup, batch_size=batch_size, setting=setting)
            result = breakdown(args.device, args.steps, setup=setup)
            if args.json:
                from mnist_helpers.cpu_kind import cpu_kind
                print(json.dumps({**result, "setting": setting, "cpu_kind": cpu_kind(), "threads": torch.get_num_threads()}))
            else:
                print(f"{setting}:\n{format_breakdown(result)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
