"""A second family for Part-4's frontier: Part-3's layout with depthwise-separable 3x3 convolutions.

The first 3x3 block stays an ordinary convolution; the other three are a depthwise 3x3 convolution
(one filter per channel) followed by a pointwise 1x1 convolution, then BatchNorm and ReLU. A 3x3
convolution between ``c`` channels costs ``9·c²`` weights; the separable one ``9·c + c²``, so the
same budget buys wider layers. Every run uses Part-3's current recipe, read from its notebook
(the gentle last epochs included), through ``experiments.fast_recipe.screen.run``.

    python -m experiments.part4_family.separable --widths 22 --seeds 0 1 2

writes ``separable.json`` beside this file (merged with what is there, saved after every seed).
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
from pathlib import Path

import torch
from torch import nn

from experiments.fast_recipe.screen import BASE, run
from mnist_helpers import count_parameters, keep_freed_memory
from tools.notebook_code import notebook_constants

RESULTS = Path(__file__).with_name("separable.json")


def separable_block(c_in: int, c_out: int, padding: int = 0) -> nn.Sequential:
    """Depthwise 3x3 -> pointwise 1x1 -> BatchNorm -> ReLU (no bias: BatchNorm shifts)."""
    return nn.Sequential(nn.Conv2d(c_in, c_in, 3, padding=padding, groups=c_in, bias=False),
                         nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU())


class SeparableNet(nn.Module):
    """Part-3's layout (5x5 conv, pool, BN+ReLU, 3x3 block, pool, two padded blocks, GAP, linear) with ``c2``
    channels in the middle and ``c3`` before the GAP, and the last three blocks depthwise-separable
    (all four with ``separable_first``)."""

    def __init__(self, c2: int = 22, c3: int = 14, c1: int = 8, separable_first: bool = False):
        super().__init__()
        self.conv1 = nn.Conv2d(1, c1, 5, bias=False)                     # 28 -> 24
        self.pool1 = nn.MaxPool2d(2)                                      # 24 -> 12
        self.bn1 = nn.BatchNorm2d(c1)
        self.block2 = (separable_block(c1, c2) if separable_first else                                # 12 -> 10
                       nn.Sequential(nn.Conv2d(c1, c2, 3, bias=False), nn.BatchNorm2d(c2), nn.ReLU()))
        self.block3 = separable_block(c2, c2)                             # 10 -> 8
        self.pool2 = nn.MaxPool2d(2)                                      # 8 -> 4
        self.block4 = separable_block(c2, c2, padding=1)                  # 4 -> 4
        self.block5 = separable_block(c2, c3, padding=1)                  # 4 -> 4
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(c3, 10)

    def forward(self, x):
        x = torch.relu(self.bn1(self.pool1(self.conv1(x))))
        x = self.pool2(self.block3(self.block2(x)))
        x = self.gap(self.block5(self.block4(x))).flatten(1)
        return self.head(x)


def part3_recipe() -> dict:
    gentle_epochs, gentle_degrees = notebook_constants("part3", "GENTLE_EPOCHS", "GENTLE_DEGREES")
    return {**BASE, "calm_epochs": gentle_epochs, "calm_degrees": float(gentle_degrees)}


def separable_table(saved: dict) -> str:
    """Markdown: one row per member of the family, by parameters."""
    lines = ["| c2 | c3 | params | seeds | mean final | worst of last 5 | s per epoch |",
             "|---:|---:|---:|---|---:|---:|---:|"]
    for entry in sorted(saved.values(), key=lambda e: e["params"]):
        runs = list(entry["per_seed"].values())
        lines.append(f"| {entry['c2']} | {entry['c3']} | {entry['params']:,} | {', '.join(entry['per_seed'])} | "
                     f"{statistics.fmean(r['final_test_acc'] for r in runs):.2f}% | "
                     f"{min(r['last5_min_test_acc'] for r in runs):.2f}% | "
                     f"{statistics.median(r['train_seconds_per_epoch'] for r in runs):.1f} |")
    devices = sorted({e["device"] for e in saved.values()})
    return "\n".join(lines) + f"\n\n{', '.join(devices)}, torch {next(iter(saved.values()))['torch_version']}."


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.part4_family.separable",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--widths", type=int, nargs="+", default=[22], help="c2 values (c3 = c2 * 14 // 22)")
    parser.add_argument("--c3", type=int, help="channels before the GAP (default c2 * 14 // 22)")
    parser.add_argument("--separable-first", action="store_true",
                        help="make the first 3x3 block (8 -> c2 channels, at 12x12) separable too")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args(argv)
    keep_freed_memory()
    saved = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    cfg = part3_recipe()
    for c2 in args.widths:
        c3 = args.c3 or max(4, c2 * 14 // 22)
        first = args.separable_first
        params = count_parameters(SeparableNet(c2, c3, separable_first=first))
        key = f"all separable, c2={c2}, c3={c3}" if first else f"c2={c2}"
        entry = saved.setdefault(key, {"c2": c2, "c3": c3, "params": params, "recipe": cfg, "per_seed": {}})
        entry["separable_first"] = first
        for seed in args.seeds:
            if str(seed) in entry["per_seed"]:
                continue
            entry["per_seed"][str(seed)] = run(cfg, seed, make_model=lambda: SeparableNet(c2, c3, separable_first=first))
            entry.update(device=f"cpu ({torch.get_num_threads()} threads, {platform.machine()})",
                         torch_version=torch.__version__)
            RESULTS.write_text(json.dumps(saved, indent=1) + "\n")
            r = entry["per_seed"][str(seed)]
            print(f"{key} ({params:,} params) seed {seed}: final {r['final_test_acc']:.2f}, worst of last 5 "
                  f"{r['last5_min_test_acc']:.2f}, {r['train_seconds_per_epoch']:.2f} s/epoch", flush=True)
        runs = list(entry["per_seed"].values())
        print(f"{key}: {params:,} params, mean final {statistics.fmean(r['final_test_acc'] for r in runs):.3f}, "
              f"worst of last 5 {min(r['last5_min_test_acc'] for r in runs):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
