"""A second family for Part-4's frontier: the Part-4 notebook's ``SeparableNet``, at several sizes.

The family (Part-3's layout with its last three 3x3 blocks depthwise-separable, ``c2`` channels in
the middle and ``c3`` before the average) is defined in the Part-4 notebook, which explains it; this
script takes it from there. Every run uses the Part-4 notebook's recipe, read from the notebook
(the gentle last epochs included), through ``lab.fast_recipe.screen.run``:

    python -m lab.part4_family.separable --c2 18 22 --seeds 0 1 2

Runs on the reported seeds (below 100) go to ``results/part4_separable.json``, one frontier point
per member, which the notebook and docs/results.md show beside the width family; screening runs
(seeds 100 and up) go to ``screen.json`` beside this file. Both are merged with what is there and
saved after every seed. ``--mid-bn`` adds BatchNorm and ReLU between each depthwise and pointwise
convolution (as MobileNet does), and ``--set KEY=NUMBER ...`` changes the recipe (its keys: ``lab.fast_recipe.screen.BASE``).
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

import torch

from lab.fast_recipe.screen import BASE, check_notebook_recipe, run
from mnist_helpers import count_parameters, keep_freed_memory
from mnist_helpers.targets import FRONTIER_BAR
from mnist_helpers.paths import results_dir
from mnist_helpers.results import write_atomic
from mnist_helpers.recipes import notebook_recipe
from scripts.notebook_code import notebook_model
from lab.frontier import frontier_point
from lab.sweep import summarize_seeds

SCREEN = Path(__file__).with_name("screen.json")
REPORTED = "part4_separable"
TARGET = FRONTIER_BAR  # every member is measured against Part-3's bar


def separable_net(c2: int, c3: int) -> torch.nn.Module:
    """A fresh ``SeparableNet(c2, c3)`` as the Part-4 notebook defines it."""
    return notebook_model("part4", "SeparableNet", c2=c2, c3=c3)


def part4_recipe() -> dict:
    """The Part-4 notebook's training recipe (Part-3's recipe cell, which Part-4 takes unchanged), as a config of
    ``lab.fast_recipe.screen.run``, under the notebook's names."""
    recipe = notebook_recipe("part3")
    check_notebook_recipe(recipe)  # a name the screen would not apply raises, rather than being dropped here
    return {**BASE, **{key: type(value)(recipe[key]) for key, value in BASE.items() if key in recipe}}


def member_label(c2: int, c3: int, mid_bn: bool = False, changes: dict | None = None) -> str:
    """``c2=22``, with ``/c3`` when c3 is not the default, then any change to the model or the recipe."""
    label = f"c2={c2}" + (f"/{c3}" if c3 != default_c3(c2) else "") + (", mid BN" if mid_bn else "")
    return label + "".join(f", {key}={value:g}" for key, value in (changes or {}).items())


def parse_changes(pairs: list[str], recipe: dict) -> dict:
    """``["GENTLE_EPOCHS=10", "LABEL_SMOOTHING=0"]`` -> {"GENTLE_EPOCHS": 10, "LABEL_SMOOTHING": 0.0}: numbers for keys
    of the recipe, in that recipe's types."""
    changes = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or key not in recipe or not isinstance(recipe[key], (int, float)) or isinstance(recipe[key], bool):
            numeric = sorted(k for k, v in recipe.items() if isinstance(v, (int, float)) and not isinstance(v, bool))
            raise ValueError(f"--set {pair!r}: expected KEY=NUMBER with KEY one of {', '.join(numeric)}")
        changes[key] = type(recipe[key])(float(value)) if isinstance(recipe[key], int) else float(value)
    return changes


def with_mid_bn(model: torch.nn.Module) -> torch.nn.Module:
    """BatchNorm and ReLU between the depthwise and the pointwise convolution of each separable block."""
    for name in ("block3", "block4", "block5"):
        depthwise, pointwise, *rest = getattr(model, name)
        setattr(model, name, torch.nn.Sequential(depthwise, torch.nn.BatchNorm2d(depthwise.out_channels),
                                                 torch.nn.ReLU(), pointwise, *rest))
    return model


def default_c3(c2: int) -> int:
    return max(4, c2 * 14 // 22)


def member_point(member: dict) -> dict:
    """A frontier point, as ``lab.frontier`` makes them for the width family, for one member's runs."""
    per_seed = dict(sorted(member["per_seed"].items(), key=lambda item: int(item[0])))
    names = {k: v for k, v in member.items() if k not in ("per_seed", "params", "device", "torch_version")}
    return frontier_point({**summarize_seeds(per_seed, TARGET), "per_seed": per_seed}, **names)


def load_points(path: Path) -> dict:
    """{label: point} of a saved file (``{"points": [...]}``), or {} when there is none."""
    return {p["label"]: p for p in json.loads(path.read_text())["points"]} if path.is_file() else {}


def save_points(path: Path, points: dict) -> None:
    about = ("Part-4's second family (SeparableNet in notebooks/part4_how_small.ipynb), one point per member, from "
             "python -m lab.part4_family.separable; the Part-4 notebook's recipe, CPU.")
    write_atomic(path, json.dumps({"about": about, "points": sorted(points.values(), key=lambda p: p["params"])},
                                  indent=1) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.part4_family.separable",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--c2", type=int, nargs="+", default=[22], help="channels in the middle")
    parser.add_argument("--c3", type=int, help="channels before the average (default c2 * 14 // 22)")
    parser.add_argument("--mid-bn", action="store_true",
                        help="BatchNorm and ReLU between each depthwise and pointwise convolution")
    parser.add_argument("--set", nargs="+", default=[], metavar="KEY=NUMBER",
                        help="change the Part-4 notebook's recipe, e.g. GENTLE_EPOCHS=10 LABEL_SMOOTHING=0")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args(argv)
    if any(c2 < 4 for c2 in args.c2) or (args.c3 is not None and args.c3 < 4):
        parser.error("c2 and c3 must be at least 4")
    keep_freed_memory()
    recipe = part4_recipe()
    try:
        changes = parse_changes(args.set, recipe)
    except ValueError as err:
        parser.error(str(err))
    recipe = {**recipe, **changes}
    for c2 in args.c2:
        c3 = args.c3 or default_c3(c2)
        label = member_label(c2, c3, args.mid_bn, changes)

        def make_model():
            model = separable_net(c2, c3)
            return with_mid_bn(model) if args.mid_bn else model

        for seed in args.seeds:
            path = SCREEN if seed >= 100 else results_dir() / f"{REPORTED}.json"
            points = load_points(path)
            member = points.get(label) or {"label": label, "c2": c2, "c3": c3, "params": 0, "recipe": recipe,
                                           "per_seed": {}}
            if member["recipe"] != recipe:
                raise SystemExit(f"{path} holds {label!r} trained with another recipe; move the file away first")
            if str(seed) in member["per_seed"]:
                continue
            result = run(recipe, seed, make_model=make_model)
            params = count_parameters(make_model())
            device = f"cpu ({torch.get_num_threads()} threads, {platform.machine()})"
            member["per_seed"][str(seed)] = {**result, "params": params, "seed": seed,
                                             "seconds_per_epoch": result["train_seconds_per_epoch"],
                                             "device": device, "torch_version": torch.__version__}
            member.update(params=params, device=device, torch_version=torch.__version__)
            points[label] = member_point(member)
            save_points(path, points)
            print(f"{label} ({params:,} params) seed {seed}: final {result['final_test_acc']:.2f}, worst of last 5 "
                  f"{result['last5_min_test_acc']:.2f}, {result['train_seconds_per_epoch']:.2f} s/epoch", flush=True)
        for path in (results_dir() / f"{REPORTED}.json", SCREEN):
            p = load_points(path).get(label)
            if p:
                print(f"{label} ({path.name}, seeds {p['seeds']}): {p['params']:,} params, mean final "
                      f"{p['final_test_acc_mean']:.3f}, worst of last 5 {p['worst_last5_min_test_acc']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
