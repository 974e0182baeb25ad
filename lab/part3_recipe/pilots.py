"""Pilot runs for Part-3: many seeds of a candidate design trained at once, as one grouped model.

A design is written once, as a list of layers (``DESIGNS``), and built two ways:

- ``plain_model(design)``: the ordinary ``nn.Sequential`` that a notebook would train;
- ``grouped_model(design, n)``: ``n`` independent copies side by side, every convolution
  with ``groups=n`` and every BatchNorm over ``n`` times the channels. Member ``m`` sees only
  its own channels, so its forward pass, gradients, SGD step and EMA are those of a plain
  model trained alone (up to floating-point order). The losses are summed, so each member's
  gradient is that of its own mean loss.

Member ``m`` trained with seed ``s`` gets exactly the batches and augmentation draws that the
notebook's ``TensorLoader(..., shuffle=True, seed=s, augment=RandomRotateCrop(...))`` yields
(only its initial weights differ). Twelve seeds then cost about what one costs on a GPU,
which makes a design search over many seeds affordable.

    python -m lab.part3_recipe.pilots --configs base b64 --seeds 100 101 102 103 --out pilots.json
    python -m lab.part3_recipe.pilots --cpu-seconds base wide_mid   # CPU s/epoch of the plain models

``--list`` prints every config with its parameter count. The per-seed results go to ``--out``
with the device and torch version; ``lab/part3_recipe/pilots.json`` holds the committed pilots.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from mnist_helpers import (RandomRotateCrop, TensorLoader, count_parameters, ema_model, load_mnist_tensors,
                           warmup_cosine_floor)
from mnist_helpers.augment import affine_matrices, sampling_grid
from mnist_helpers.results import write_atomic
from mnist_helpers.transforms import MNIST_MEAN, MNIST_STD

# Layers: ("conv", c_out, kernel, padding) bias-free convolution; ("bn",); ("relu",); ("pool",) 2x2 max-pool;
# ("block", c_out, padding) = 3x3 conv -> BN -> ReLU (-> dropout if the config sets one); ("gap",); ("head",)
# = linear layer to 10 logits (a 1x1 convolution with bias, the same initialisation as nn.Linear).
DESIGNS = {
    # the Part-3 notebook's model (7,954 params), the design the search starts from
    "S8": [("conv", 8, 5, 0), ("pool",), ("bn",), ("relu",), ("block", 16, 0), ("block", 16, 0), ("pool",),
           ("block", 16, 1), ("block", 12, 1), ("gap",), ("head",)],
    # S8 with the 10/8 stage wider and the 4x4 tail lighter (same parameters as S8)
    "M20": [("conv", 8, 5, 0), ("pool",), ("bn",), ("relu",), ("block", 16, 0), ("block", 20, 0), ("pool",),
            ("block", 12, 1), ("block", 12, 1), ("gap",), ("head",)],
    # no second pool: blocks at 10, 8, 6 and 4 (same parameters as S8)
    "N4": [("conv", 8, 5, 0), ("pool",), ("bn",), ("relu",), ("block", 16, 0), ("block", 16, 0),
           ("block", 16, 0), ("block", 12, 0), ("gap",), ("head",)],
    # a 12-channel stem, a lighter tail
    "W12": [("conv", 12, 5, 0), ("pool",), ("bn",), ("relu",), ("block", 16, 0), ("block", 16, 0), ("pool",),
            ("block", 12, 1), ("block", 12, 1), ("gap",), ("head",)],
    # padded 5x5 stem: the middle stage at 14x14, the tail at 7x7 (same parameters as S8)
    "P14": [("conv", 8, 5, 2), ("pool",), ("bn",), ("relu",), ("block", 16, 1), ("block", 16, 1), ("pool",),
            ("block", 16, 1), ("block", 12, 1), ("gap",), ("head",)],
    # unpadded 5x5 stem, padded blocks at 12, pool to 6, padded blocks at 6
    "P12": [("conv", 8, 5, 0), ("pool",), ("bn",), ("relu",), ("block", 16, 1), ("block", 16, 1), ("pool",),
            ("block", 16, 1), ("block", 12, 1), ("gap",), ("head",)],
    # three blocks at 12/10/8 (the third unpadded -> 6), pool to 3, one padded block
    "T3": [("conv", 8, 5, 0), ("pool",), ("bn",), ("relu",), ("block", 16, 1), ("block", 16, 0),
           ("block", 16, 0), ("pool",), ("block", 12, 1), ("gap",), ("head",)],
    # 3x3 stem (cheaper at full resolution), then as S8 from a 13x13 map: 11, 9, pool 4, two padded blocks
    "S3": [("conv", 8, 3, 0), ("pool",), ("bn",), ("relu",), ("block", 16, 0), ("block", 16, 0), ("pool",),
           ("block", 16, 1), ("block", 12, 1), ("gap",), ("head",)],
    # a reference point: three padded 3x3 per stage at 28 and 14, two pools, GAP (slow on a CPU)
    "F28": [("block", 8, 1), ("block", 8, 1), ("block", 10, 1), ("pool",), ("block", 16, 1), ("block", 16, 1),
            ("block", 16, 1), ("pool",), ("gap",), ("head",)],
    # two padded 3x3 at 28 and three at 14
    "F2": [("block", 8, 1), ("block", 12, 1), ("pool",), ("block", 16, 1), ("block", 16, 1), ("block", 16, 1),
           ("pool",), ("gap",), ("head",)],
}

# The recipe the search starts from, the baseline of every round; a config overrides some of these.
BASE = dict(DESIGN="S8", BATCH_SIZE=128, PEAK_LR=0.2, WARMUP_EPOCHS=3, FLOOR_EPOCH=12, FLOOR_FACTOR=0.01,
            EMA_DECAY=0.998, LABEL_SMOOTHING=0.1, WEIGHT_DECAY=0.0, DROPOUT=0.0, BN_MOMENTUM=0.1,
            INTERPOLATION="nearest", TRANSLATE=0.0, SCALE_JITTER=0.0, EPOCHS=15)

CONFIGS = {
    "base": {},
    # training settings, one at a time
    "b64": dict(BATCH_SIZE=64, PEAK_LR=0.14),
    "b64_lr2": dict(BATCH_SIZE=64, PEAK_LR=0.2),
    "lr3": dict(PEAK_LR=0.3),
    "lr1": dict(PEAK_LR=0.1),
    "wd5e-4": dict(WEIGHT_DECAY=5e-4),
    "wd1e-4": dict(WEIGHT_DECAY=1e-4),
    "ls0": dict(LABEL_SMOOTHING=0.0),
    "ema999": dict(EMA_DECAY=0.999),
    "floor13": dict(FLOOR_EPOCH=13),
    "bnm01": dict(BN_MOMENTUM=0.01),
    "drop05": dict(DROPOUT=0.05),
    "bilinear": dict(INTERPOLATION="bilinear"),
    # augmentation on top of the required one
    "shift2": dict(TRANSLATE=2.0),
    "shift1": dict(TRANSLATE=1.0),
    "scale10": dict(SCALE_JITTER=0.1),
    # designs with the base recipe
    "M20": dict(DESIGN="M20"),
    "N4": dict(DESIGN="N4"),
    "P14": dict(DESIGN="P14"),
    "P12": dict(DESIGN="P12"),
    "T3": dict(DESIGN="T3"),
    "S3": dict(DESIGN="S3"),
    "F28": dict(DESIGN="F28"),
    "F2": dict(DESIGN="F2"),
    "W12": dict(DESIGN="W12"),
    # designs with the batch-64 recipe
    "P14_b64": dict(DESIGN="P14", BATCH_SIZE=64, PEAK_LR=0.14),
    "P12_b64": dict(DESIGN="P12", BATCH_SIZE=64, PEAK_LR=0.14),
    "N4_b64": dict(DESIGN="N4", BATCH_SIZE=64, PEAK_LR=0.14),
    "M20_b64": dict(DESIGN="M20", BATCH_SIZE=64, PEAK_LR=0.14),
    "F28_b64": dict(DESIGN="F28", BATCH_SIZE=64, PEAK_LR=0.14),
    # second round: the settings that helped, together
    "lr4": dict(PEAK_LR=0.4),
    "lr3_shift1": dict(PEAK_LR=0.3, TRANSLATE=1.0),
    "lr3_ls0": dict(PEAK_LR=0.3, LABEL_SMOOTHING=0.0),
    "lr3_ema999": dict(PEAK_LR=0.3, EMA_DECAY=0.999),
    "lr3_wd5e-4": dict(PEAK_LR=0.3, WEIGHT_DECAY=5e-4),
    "lr3_floor13": dict(PEAK_LR=0.3, FLOOR_EPOCH=13),
    "b64_lr3": dict(BATCH_SIZE=64, PEAK_LR=0.3),
    "b64_lr2_shift1": dict(BATCH_SIZE=64, PEAK_LR=0.2, TRANSLATE=1.0),
    # third round (CPU): further along the learning-rate trend
    "lr6": dict(PEAK_LR=0.6),
    "lr8": dict(PEAK_LR=0.8),
    "lr10": dict(PEAK_LR=1.0),
    "lr4_wd5e-4": dict(PEAK_LR=0.4, WEIGHT_DECAY=5e-4),
}


def _layers(design: str, groups: int, dropout: float, bn_momentum: float) -> nn.Sequential:
    if design not in DESIGNS:
        raise ValueError(f"unknown design {design!r}; choose one of {sorted(DESIGNS)}")
    n, c, layers = groups, 1, []
    for op, *args in DESIGNS[design]:
        if op == "conv":
            c_out, kernel, padding = args
            layers.append(nn.Conv2d(c * n, c_out * n, kernel, padding=padding, groups=n, bias=False))
            c = c_out
        elif op == "block":
            c_out, padding = args
            layers += [nn.Conv2d(c * n, c_out * n, 3, padding=padding, groups=n, bias=False),
                       nn.BatchNorm2d(c_out * n, momentum=bn_momentum), nn.ReLU()]
            layers += [nn.Dropout(dropout)] if dropout else []
            c = c_out
        elif op == "bn":
            layers.append(nn.BatchNorm2d(c * n, momentum=bn_momentum))
        elif op == "relu":
            layers.append(nn.ReLU())
        elif op == "pool":
            layers.append(nn.MaxPool2d(2))
        elif op == "gap":
            layers.append(nn.AdaptiveAvgPool2d(1))
        elif op == "head":
            layers += [nn.Conv2d(c * n, 10 * n, 1, groups=n), nn.Flatten()]
        else:
            raise ValueError(f"unknown layer {op!r} in design {design!r}")
    return nn.Sequential(*layers)


def plain_model(design: str, dropout: float = 0.0, bn_momentum: float = 0.1) -> nn.Sequential:
    """The design as one ordinary model: input (B, 1, 28, 28), output (B, 10)."""
    return _layers(design, 1, dropout, bn_momentum)


def grouped_model(design: str, n: int, dropout: float = 0.0, bn_momentum: float = 0.1) -> nn.Sequential:
    """``n`` independent copies of the design: input (B, n, 28, 28), output (B, n * 10)."""
    return _layers(design, n, dropout, bn_momentum)


def config(name: str) -> dict:
    if name not in CONFIGS:
        raise SystemExit(f"unknown config {name!r}; --list shows them")
    unknown = set(CONFIGS[name]) - set(BASE)
    if unknown:
        raise KeyError(f"config {name!r} sets {sorted(unknown)}, which BASE does not have; known: {sorted(BASE)}")
    return {**BASE, **CONFIGS[name]}


class GroupedBatches:
    """Each member's epoch of batches, drawn as ``TensorLoader(shuffle=True, seed=s, augment=...)`` draws them,
    then gathered, augmented and normalised for all members at once on the device."""

    def __init__(self, images, labels, seeds, cfg, device):
        self.images = images.to(device).unsqueeze(1)
        self.labels = labels.to(device, dtype=torch.long)
        self.seeds, self.cfg, self.device = list(seeds), cfg, device
        self.augment = RandomRotateCrop(15, 0.1, interpolation=cfg["INTERPOLATION"])
        self.generators = [torch.Generator().manual_seed(s) for s in self.seeds]  # as TensorLoader's
        self.extra = [torch.Generator().manual_seed(10_000 + s) for s in self.seeds]  # shifts and scales only
        n, b = len(images), cfg["BATCH_SIZE"]
        self.sizes = [min(b, n - i * b) for i in range(math.ceil(n / b))]

    def __len__(self):
        return len(self.sizes)

    def epoch(self):
        orders, angles, crops, shifts, scales = [], [], [], [], []
        for gen, extra in zip(self.generators, self.extra):
            orders.append(torch.randperm(len(self.images), generator=gen))
            draws = [self.augment.sample(n, gen) for n in self.sizes]
            angles.append(torch.cat([a for a, _ in draws]))
            crops.append(torch.cat([c for _, c in draws]))
            total = sum(self.sizes)
            shifts.append((torch.rand(total, 2, generator=extra) * 2 - 1) * self.cfg["TRANSLATE"])
            scales.append(1 + (torch.rand(total, generator=extra) * 2 - 1) * self.cfg["SCALE_JITTER"])
        to = dict(device=self.device)
        orders, angles, crops = torch.stack(orders).to(**to), torch.stack(angles).to(**to), torch.stack(crops).to(**to)
        shifts, scales = torch.stack(shifts).to(**to), torch.stack(scales).to(**to)
        start = 0
        for size in self.sizes:
            part = slice(start, start + size)
            yield self._batch(orders[:, part], angles[:, part], crops[:, part], shifts[:, part], scales[:, part])
            start += size

    def _batch(self, idx, angles, crops, shifts, scales):
        m, b = idx.shape
        x = self.images[idx.reshape(-1)].float().div_(255.0)  # (m*b, 1, 28, 28)
        zoom = self.augment.crop_size / self.augment.image_size
        zoom_matrices = affine_matrices(torch.zeros(m * b, device=x.device), torch.full((m * b,), zoom, device=x.device))
        zoomed = F.grid_sample(x, sampling_grid(zoom_matrices, 28, 28), mode="bilinear", align_corners=False)
        x = torch.where(crops.reshape(-1, 1, 1, 1), zoomed, x)
        matrices = affine_matrices(angles.reshape(-1), 1.0 / scales.reshape(-1))
        matrices = torch.cat([matrices[:, :, :2], (shifts.reshape(-1, 2) * (-2.0 / 28)).unsqueeze(-1)], dim=2)
        x = F.grid_sample(x, sampling_grid(matrices, 28, 28), mode=self.cfg["INTERPOLATION"], align_corners=False)
        x = x.sub_(MNIST_MEAN).div_(MNIST_STD).view(m, b, 28, 28).transpose(0, 1).contiguous()
        return x, self.labels[idx].t()  # (b, m, 28, 28), (b, m)


def train_grouped(cfg: dict, seeds: list[int], device: torch.device, max_batches: int | None = None,
                  log=print) -> dict:
    """Train one member per seed for ``cfg['epochs']``; per-seed test accuracy after every epoch (EMA weights)."""
    n = len(seeds)
    torch.manual_seed(min(seeds))
    torch.backends.cudnn.benchmark = True  # two batch shapes per run: autotune them once
    model = grouped_model(cfg["DESIGN"], n, cfg["DROPOUT"], cfg["BN_MOMENTUM"]).to(device)
    params = count_parameters(plain_model(cfg["DESIGN"], cfg["DROPOUT"], cfg["BN_MOMENTUM"]))
    images, labels = load_mnist_tensors("train")
    test_images, test_labels = load_mnist_tensors("test")
    batches = GroupedBatches(images, labels, seeds, cfg, device)
    test_x = test_images.unsqueeze(1).float().div(255.0).sub(MNIST_MEAN).div(MNIST_STD).to(device)
    test_y = test_labels.to(device, dtype=torch.long)
    steps = len(batches) if max_batches is None else min(max_batches, len(batches))
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg["PEAK_LR"], momentum=0.9, nesterov=True,
                                weight_decay=cfg["WEIGHT_DECAY"])
    scheduler = warmup_cosine_floor(optimizer, steps, warmup_epochs=cfg["WARMUP_EPOCHS"],
                                    floor_epoch=cfg["FLOOR_EPOCH"], floor_factor=cfg["FLOOR_FACTOR"])
    ema = ema_model(model, cfg["EMA_DECAY"])
    test_acc, train_acc, seconds = [], [], []
    for epoch in range(cfg["EPOCHS"]):
        model.train()
        start = time.perf_counter()
        correct = torch.zeros(n, device=device)
        seen = 0
        for step, (x, y) in enumerate(batches.epoch()):
            if step == steps:
                break
            optimizer.zero_grad(set_to_none=True)
            logits = model(x).view(len(x), n, 10)
            loss = F.cross_entropy(logits.reshape(-1, 10), y.reshape(-1), label_smoothing=cfg["LABEL_SMOOTHING"],
                                   reduction="none").view(len(x), n).mean(0).sum()
            loss.backward()
            optimizer.step()
            ema.update_parameters(model)
            scheduler.step()
            correct += (logits.detach().argmax(-1) == y).sum(0)
            seen += len(x)
        train_acc.append((100.0 * correct / seen).tolist())
        seconds.append(time.perf_counter() - start)
        ema.eval()
        hits = torch.zeros(n, device=device)
        with torch.no_grad():
            for chunk in range(0, len(test_x), 2000):
                x = test_x[chunk:chunk + 2000]
                out = ema(x.expand(-1, n, -1, -1).contiguous()).view(len(x), n, 10)
                hits += (out.argmax(-1) == test_y[chunk:chunk + 2000, None]).sum(0)
        test_acc.append((100.0 * hits / len(test_x)).tolist())
        log(f"  epoch {epoch + 1:2d}: test min {min(test_acc[-1]):.2f} mean {statistics.fmean(test_acc[-1]):.3f} "
            f"({seconds[-1]:.1f} s)")
    per_seed = {}
    for i, s in enumerate(seeds):
        acc = [round(a[i], 2) for a in test_acc]
        per_seed[str(s)] = {"test_acc": acc, "final_test_acc": acc[-1], "last5_min_test_acc": min(acc[-5:]),
                            "final_train_acc": round(train_acc[-1][i], 2)}
    finals = [r["final_test_acc"] for r in per_seed.values()]
    return {"config": cfg, "params": params, "seeds": seeds,
            "final_test_acc_mean": round(statistics.fmean(finals), 3),
            "final_test_acc_std": round(statistics.stdev(finals), 3) if n > 1 else 0.0,
            "worst_last5_min_test_acc": min(r["last5_min_test_acc"] for r in per_seed.values()),
            "seconds_per_epoch_grouped": round(statistics.median(seconds), 2),
            "device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
            "torch_version": torch.__version__, "per_seed": per_seed}


def cpu_seconds(design: str, batch_size: int = 128, threads: int = 2) -> float:
    """Seconds for one training epoch of the plain model on the CPU, with the notebook's loader and the pilots' step
    (Nesterov momentum, label smoothing 0.1, EMA 0.998)."""
    torch.set_num_threads(threads)
    model = plain_model(design).to(memory_format=torch.channels_last)
    images, labels = load_mnist_tensors("train")
    loader = TensorLoader(images, labels, batch_size, shuffle=True, seed=0, augment=RandomRotateCrop(15, 0.1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    ema = ema_model(model, 0.998)
    model.train()
    start = None
    for step, (x, y) in enumerate(loader):
        if step == 20:  # warm-up steps are not timed
            start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y, label_smoothing=0.1)
        loss.backward()
        optimizer.step()
        ema.update_parameters(model)
    return (time.perf_counter() - start) * len(loader) / (len(loader) - 20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=[])
    parser.add_argument("--seeds", type=int, nargs="+", default=[100, 101, 102, 103])
    parser.add_argument("--out", type=Path, help="JSON file to write (merged with what is already there)")
    parser.add_argument("--workers", type=int, default=1, help="configs trained at once, one process each")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--max-batches", type=int, default=None, help="for a quick check: batches per epoch")
    parser.add_argument("--epochs", type=int, default=None, help="for a quick check: fewer epochs")
    parser.add_argument("--cpu-seconds", nargs="+", default=None, metavar="DESIGN",
                        help="time one CPU epoch of each design's plain model instead (2 threads)")
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args()

    if args.list:
        for name in CONFIGS:
            cfg = config(name)
            print(f"{name:10s} {count_parameters(plain_model(cfg['design'])):6,d}  {CONFIGS[name] or 'the base recipe'}")
        return
    if args.cpu_seconds:
        timings = {d: round(cpu_seconds(d), 2) for d in args.cpu_seconds}
        for d, s in timings.items():
            print(f"{d}: {s:.2f} s per CPU epoch ({count_parameters(plain_model(d)):,} params)")
        if args.out:
            _merge(args.out, {"cpu_seconds_per_epoch": {"threads": 2, "processor": platform.processor() or "cpu",
                                                        "torch_version": torch.__version__, **timings}})
        return
    if not args.configs:
        parser.error("give --configs, --cpu-seconds or --list")
    for name in args.configs:
        config(name)  # fail early on a typo
    if args.workers > 1 and len(args.configs) > 1:
        _run_parallel(args)
        return
    for name in args.configs:
        cfg = config(name)
        if args.epochs:
            cfg["EPOCHS"] = args.epochs
        print(f"{name}: {cfg}", flush=True)
        start = time.perf_counter()
        result = train_grouped(cfg, args.seeds, torch.device(args.device), args.max_batches,
                               log=lambda line: print(f"[{name}]{line}", flush=True))
        result["wall_seconds"] = round(time.perf_counter() - start, 1)
        print(f"[{name}] {result['params']:,} params: final {result['final_test_acc_mean']:.3f} "
              f"± {result['final_test_acc_std']:.3f}, worst last-5 min {result['worst_last5_min_test_acc']:.2f} "
              f"({result['wall_seconds']:.0f} s)", flush=True)
        if args.out:
            _merge(args.out, {name: result})


def _merge(path: Path, entries: dict) -> None:
    data = json.loads(path.read_text()) if path.is_file() else {}
    data.update(entries)
    write_atomic(path, json.dumps(data, indent=1) + "\n")


def _run_parallel(args) -> None:
    """One process per config, ``--workers`` at a time; each result is merged into ``--out`` as soon as it is done."""
    pending, running, done = list(args.configs), {}, []
    base = [sys.executable, "-m", "lab.part3_recipe.pilots", "--seeds", *map(str, args.seeds), "--device", args.device]
    base += ["--max-batches", str(args.max_batches)] if args.max_batches else []
    base += ["--epochs", str(args.epochs)] if args.epochs else []
    out = args.out or Path("pilots.json")
    # each config's process writes its result into a folder of this call's own beside ``out``, so two calls never
    # share a file; a call stopped early leaves the results it has not merged yet there, as ``<config>.part``
    parts = Path(tempfile.mkdtemp(dir=out.parent, prefix=f"{out.name}.", suffix=".parts"))
    while pending or running:
        while pending and len(running) < args.workers:
            name = pending.pop(0)
            part = parts / f"{name}.part"
            running[name] = (part, subprocess.Popen(base + ["--configs", name, "--out", str(part)],
                                                    env={**os.environ, "OMP_NUM_THREADS": "1"}))
        time.sleep(1)
        for name, (part, process) in list(running.items()):
            if process.poll() is None:
                continue
            del running[name]
            if part.is_file():
                _merge(out, json.loads(part.read_text()))
                part.unlink()
                done.append(name)
    shutil.rmtree(parts, ignore_errors=True)
    missing = [name for name in args.configs if name not in done]
    if missing:
        raise SystemExit(f"these configs produced no result (see their output above): {missing}")


if __name__ == "__main__":
    main()
