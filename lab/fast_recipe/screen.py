"""Screen faster Part-3 recipes on the CPU, one plain run per seed, through the package's own ``fit``.

Each run is what the Part-3 notebook does (its ``Net`` read from the notebook, ``TensorLoader`` with
the same seed, ``RandomRotateCrop``, SGD with momentum, ``warmup_cosine_floor`` and the EMA), with a config's
changes applied:

- ``BATCH_SIZE``, ``PEAK_LR``, ``EMA_DECAY``: the training recipe, under the notebook's names;
- ``LABEL_SMOOTHING``, ``NESTEROV``: label smoothing, and Nesterov's momentum instead of plain momentum;
- ``STEM="stride2"``: the first 5x5 convolution and its 2x2 max-pool replaced by one 6x6 convolution
  with stride 2 (28 -> 12 directly; 288 weights instead of 200), which skips the 24x24 map;
- ``GENTLE_EPOCHS``: the last ``GENTLE_EPOCHS`` epochs train with ``GENTLE_DEGREES`` of rotation and no crop;
- ``LATE_POOL``: the second max-pool moved after the first padded 3x3 block, which then works on the
  8x8 map instead of 4x4 (the same parameters, about a quarter more multiply-adds).

Runs are paired: every config of one call trains the same seeds, with the same shuffles and draws.
Screen on seeds outside the reported 0-11 (the default is 100-103) and confirm the winner with
``lab.sweep`` on 0-11 once.

    python -m lab.fast_recipe.screen --configs now b512 b512_s2 --seeds 100 101 102 103
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

from mnist_helpers import (RandomRotateCrop, TensorLoader, ema_model, fit, keep_freed_memory, load_mnist_tensors,
                           set_seed, warmup_cosine_floor)
from mnist_helpers.results import write_atomic
from mnist_helpers.training import train_epoch
from mnist_helpers.recipes import notebook_recipe
from scripts.notebook_code import notebook_model

RESULTS = Path(__file__).with_name("screen.json")

# The notebook's recipe (read from it; a name its cell leaves out is off), which a config changes.
_NOTEBOOK = {"LABEL_SMOOTHING": 0.0, "NESTEROV": False, "GENTLE_EPOCHS": 0, "GENTLE_DEGREES": 0.0,
             **notebook_recipe("part3")}
BASE = {**{name: _NOTEBOOK[name] for name in ("BATCH_SIZE", "PEAK_LR", "EMA_DECAY", "LABEL_SMOOTHING", "WARMUP_EPOCHS",
                                               "FLOOR_EPOCH", "EPOCHS", "NESTEROV", "GENTLE_EPOCHS", "GENTLE_DEGREES")},
        "STEM": "pool"}

CONFIGS = {
    "now": {},  # BASE as it is: the baseline of every screen (its name is the key in screen.json)
    # a larger batch: the same peak rate, and the EMA spanning the same number of images
    "b256": dict(BATCH_SIZE=256, EMA_DECAY=0.996),
    "b512": dict(BATCH_SIZE=512, EMA_DECAY=0.992),
    "b512_lr12": dict(BATCH_SIZE=512, PEAK_LR=1.2, EMA_DECAY=0.992),
    "b512_lr05": dict(BATCH_SIZE=512, PEAK_LR=0.5, EMA_DECAY=0.992),
    # the stride-2 stem
    "b256_s2": dict(BATCH_SIZE=256, EMA_DECAY=0.996, STEM="stride2"),
    "b512_s2": dict(BATCH_SIZE=512, EMA_DECAY=0.992, STEM="stride2"),
    # gentler augmentation over the last epochs
    "gentle3": dict(GENTLE_EPOCHS=3, GENTLE_DEGREES=5.0),
    "gentle3_none": dict(GENTLE_EPOCHS=3, GENTLE_DEGREES=0.0),
    "gentle5": dict(GENTLE_EPOCHS=5, GENTLE_DEGREES=5.0),
    "b512_gentle3": dict(BATCH_SIZE=512, EMA_DECAY=0.992, GENTLE_EPOCHS=3, GENTLE_DEGREES=5.0),
    # the notebook's recipe (gentle5: its gentle last epochs) with the second pool one block later
    "gentle5_late_pool": dict(GENTLE_EPOCHS=5, GENTLE_DEGREES=5.0, LATE_POOL=True),
    # ... and without label smoothing (it cost Part-4's narrow separable member 0.07 on seeds 100-103)
    "gentle5_ls0": dict(GENTLE_EPOCHS=5, GENTLE_DEGREES=5.0, LABEL_SMOOTHING=0.0),
}
_UNKNOWN = {name: sorted(set(cfg) - set(BASE) - {"LATE_POOL"}) for name, cfg in CONFIGS.items()}
if any(_UNKNOWN.values()):
    raise KeyError(f"configs with keys BASE does not have: {_UNKNOWN}")


def build_model(stem: str) -> nn.Module:
    model = notebook_model("part3")
    if stem == "stride2":
        model.conv1 = nn.Conv2d(1, model.conv1.out_channels, 6, stride=2, bias=False)
        model.pool1 = nn.Identity()
    elif stem != "pool":
        raise ValueError(f"unknown stem {stem!r}: 'pool' or 'stride2'")
    return model


def pool_later(model: nn.Module) -> nn.Module:
    """Move ``model.pool2`` after ``model.block4`` (Part-3's layout: block4 then sees the 8x8 map)."""
    model.block4 = nn.Sequential(model.block4, model.pool2)
    model.pool2 = nn.Identity()
    return model


READ_FROM_THE_NOTEBOOK = ("DEGREES", "CROP_PROB", "CROP_SIZE", "MOMENTUM")  # what no config changes


def check_notebook_recipe(recipe: dict) -> None:
    """Raise if Part-3's recipe cell sets a name the screen would not apply (neither in BASE nor read as it is)."""
    unknown = set(recipe) - set(BASE) - set(READ_FROM_THE_NOTEBOOK)
    if unknown:
        raise KeyError(f"Part-3's recipe sets {sorted(unknown)}, which lab.fast_recipe.screen does not apply; "
                       "teach it those names before screening")


def _setup(cfg: dict, seed: int, images, labels, make_model=None):
    """The notebook's loader, model, optimizer, schedule and EMA for ``cfg``: the model of ``make_model()`` if
    given, else of ``cfg["STEM"]``; seeded as the notebook seeds them."""
    check_notebook_recipe(notebook_recipe("part3"))
    set_seed(seed)
    augment = RandomRotateCrop(degrees=_NOTEBOOK["DEGREES"], crop_prob=_NOTEBOOK["CROP_PROB"], crop_size=_NOTEBOOK["CROP_SIZE"],
                               interpolation="nearest")
    train = TensorLoader(images, labels, cfg["BATCH_SIZE"], shuffle=True, seed=seed, augment=augment)
    set_seed(seed)
    model = make_model() if make_model else build_model(cfg["STEM"])
    if cfg.get("LATE_POOL"):
        pool_later(model)
    model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg["PEAK_LR"], momentum=_NOTEBOOK["MOMENTUM"],
                                nesterov=cfg["NESTEROV"])
    scheduler = warmup_cosine_floor(optimizer, len(train), warmup_epochs=cfg["WARMUP_EPOCHS"],
                                    floor_epoch=cfg["FLOOR_EPOCH"])
    return train, model, optimizer, scheduler, ema_model(model, decay=cfg["EMA_DECAY"])


def run(cfg: dict, seed: int, make_model=None) -> dict:
    """One run of ``cfg`` on ``seed`` (see ``_setup`` for the model)."""
    images, labels = load_mnist_tensors("train")
    test = TensorLoader(*load_mnist_tensors("test"), 1000)
    train, model, optimizer, scheduler, ema = _setup(cfg, seed, images, labels, make_model)
    gentle = RandomRotateCrop(degrees=cfg["GENTLE_DEGREES"], crop_prob=0.0, crop_size=_NOTEBOOK["CROP_SIZE"],
                              interpolation="nearest")
    strong = train.augment

    def gentler_at_the_end(epoch):  # as the notebook's gentler_at_the_end
        train.augment = gentle if epoch > cfg["EPOCHS"] - cfg["GENTLE_EPOCHS"] else strong

    start = time.perf_counter()
    history = fit(model, train, test, optimizer, scheduler, epochs=cfg["EPOCHS"], step_scheduler_per_batch=True,
                  label_smoothing=cfg["LABEL_SMOOTHING"], ema=ema, before_epoch=gentler_at_the_end, verbose=False)
    seconds = time.perf_counter() - start
    acc = [round(a, 2) for a in history.test_acc]
    return {"test_acc": acc, "final_test_acc": acc[-1], "last5_min_test_acc": min(acc[-5:]),
            "final_train_acc": round(history.train_acc[-1], 2), "seconds": round(seconds, 1),
            "train_seconds_per_epoch": round(statistics.median(history.epoch_seconds), 2)}


def time_epochs(names: list[str], repeats: int = 3, epochs: int = 2) -> dict:
    """Seconds per training epoch of each config, timed apart from the screen (whose runs may share the
    machine with other work): ``repeats`` rounds, the configs alternating, ``epochs`` epochs each (the
    first is a warm-up); the median of the later epochs."""
    images, labels = load_mnist_tensors("train")
    times = {name: [] for name in names}
    for _ in range(repeats):
        for name in names:
            cfg = {**BASE, **CONFIGS[name]}
            train, model, optimizer, scheduler, ema = _setup(cfg, 0, images, labels)
            for epoch in range(epochs):
                start = time.perf_counter()
                train_epoch(model, train, optimizer, scheduler,
                            label_smoothing=cfg["LABEL_SMOOTHING"], ema=ema)
                if epoch:
                    times[name].append(time.perf_counter() - start)
    return {name: round(statistics.median(t), 3) for name, t in times.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.fast_recipe.screen", description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", required=True, choices=sorted(CONFIGS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[100, 101, 102, 103])
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--time", action="store_true",
                        help="only time a training epoch of each config, alternating, on an otherwise idle machine")
    args = parser.parse_args(argv)
    keep_freed_memory()
    saved = json.loads(args.out.read_text()) if args.out.exists() else {}
    if args.time:
        seconds = time_epochs(args.configs)
        saved.setdefault("_timing", {}).update(
            seconds_per_epoch=seconds, device=f"cpu ({torch.get_num_threads()} threads, {platform.machine()})",
            torch_version=torch.__version__, command=f"python -m lab.fast_recipe.screen --time --configs "
                                                     f"{' '.join(args.configs)}")
        write_atomic(args.out, json.dumps(saved, indent=1) + "\n")
        for name, s in seconds.items():
            print(f"{name:16s} {s:.2f} s per training epoch")
        return 0
    for name in args.configs:
        cfg = {**BASE, **CONFIGS[name]}
        entry = saved.setdefault(name, {"config": cfg, "per_seed": {}})
        if entry["config"] != cfg:
            raise SystemExit(f"{args.out} holds {name!r} with another config; rename the config or move the file")
        for seed in args.seeds:
            if str(seed) in entry["per_seed"]:
                continue
            result = run(cfg, seed)
            entry["per_seed"][str(seed)] = result
            entry.update(device=f"cpu ({torch.get_num_threads()} threads, {platform.machine()})",
                         torch_version=torch.__version__)
            write_atomic(args.out, json.dumps(saved, indent=1) + "\n")  # after every seed: nothing lost on a stop
            print(f"{name:16s} seed {seed}: final {result['final_test_acc']:.2f}  worst of last 5 "
                  f"{result['last5_min_test_acc']:.2f}  {result['train_seconds_per_epoch']:.2f} s/epoch", flush=True)
    print(summary(saved, args.configs, args.seeds))
    return 0




def summary(saved: dict, names: list[str], seeds: list[int]) -> str:
    lines = [f"{'config':16s} {'mean final':>10s} {'worst last-5':>12s} {'s/epoch':>8s}  (seeds {seeds})"]
    for name in names:
        runs = [saved[name]["per_seed"][str(s)] for s in seeds if str(s) in saved[name]["per_seed"]]
        if runs:
            lines.append(f"{name:16s} {statistics.fmean(r['final_test_acc'] for r in runs):10.3f} "
                         f"{min(r['last5_min_test_acc'] for r in runs):12.2f} "
                         f"{statistics.median(r['train_seconds_per_epoch'] for r in runs):8.2f}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
