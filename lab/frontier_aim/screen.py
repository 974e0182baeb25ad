"""Screens for the frontier: candidate recipes for Part-3 and Part-4, measured on the validation split.

    python -m lab.frontier_aim.screen --list
    python -m lab.frontier_aim.screen --candidates "part3, no label smoothing" --seeds 100 101 102 103 104

A candidate is a recipe of ``lab.ladder`` (the notebooks' names: ``LABEL_SMOOTHING``, ``TRANSLATE``,
``BATCH_SIZE``, ...), written as a change to a base candidate. The bases are Part-3's recipe (the top rung
of its ladder, read from the notebook) and Part-4's smallest separable member on the same recipe. Each run
trains on the 50,000 training images of ``load_train_val`` and is measured on its 10,000 validation images
with ``lab.ladder.train_rung``, on seeds 100 and up (never the reported seeds). The test set is not read.

``results/frontier_screen.json`` is written after every run: the split, the CPU kind, and per candidate its
recipe, the commands that ran it and each seed's history, with the validation images it gained over its base,
seed by seed. A run whose recipe is a rung or branch of a committed ladder (same split and CPU kind) is taken from it.

The winner of a screen is confirmed once on the test set, on the reported seeds, trained on all 60,000
training images as the notebooks train:

    python -m lab.frontier_aim.screen --confirm --candidates NAME --seeds 0 1 2 3 4 5 6 7 8 9

which writes ``results/frontier_confirm.json``: one frontier point per candidate (``lab.frontier``'s form),
judged against Part-3's bar, with its recipe and command.
"""
from __future__ import annotations

import argparse
import sys
import time

import torch

from mnist_helpers.cpu_kind import command_prefix, cpu_kind
from mnist_helpers.data import load_mnist_tensors, load_train_val
from mnist_helpers.paths import results_dir
from mnist_helpers.results import device_description, load_results, save_results
from mnist_helpers.targets import FRONTIER_BAR
from lab.frontier import frontier_point
from lab.ladder import (LADDERS, SMOOTHING_TRIED, committed_runs, ladder_recipe, recipe, run_summary,
                          split_description, train_rung, with_runs)
from lab.sweep import summarize_seeds

NAME = "frontier_screen"
CONFIRMED = "frontier_confirm"


def candidates() -> dict:
    """{name: {"base": name or None, "changes": {...}, "recipe": {...}}}, each base before the candidates on it."""
    # the recipe as screened: Part-3's, with the label smoothing of Part-3's recipe search (SMOOTHING_TRIED),
    # which the screen measures against no smoothing
    part3 = {**ladder_recipe("part3"), "LABEL_SMOOTHING": SMOOTHING_TRIED}
    separable = {**part3, "MODEL": "part4", "NET": "SeparableNet", "NET_ARGS": {"c2": 22, "c3": 14}}
    plan = [
        ("part3, label smoothing 0.1", None, part3),
        ("part3, no label smoothing", "part3, label smoothing 0.1", {"LABEL_SMOOTHING": 0.0}),
        ("part3, moves of ±2 px", "part3, label smoothing 0.1", {"TRANSLATE": 2}),
        ("part3, no label smoothing, moves of ±2 px", "part3, no label smoothing", {"TRANSLATE": 2}),
        ("separable c2=22, label smoothing 0.1", None, separable),
        ("separable c2=22, no label smoothing", "separable c2=22, label smoothing 0.1", {"LABEL_SMOOTHING": 0.0}),
        ("separable c2=22, no label smoothing, moves of ±2 px", "separable c2=22, no label smoothing", {"TRANSLATE": 2}),
        ("separable c2=22, no label smoothing, batch 64", "separable c2=22, no label smoothing",
         {"BATCH_SIZE": 64, "PEAK_LR": part3["PEAK_LR"] / 2}),
        ("width 0.7, no label smoothing", "separable c2=22, no label smoothing",
         {"NET": "Net", "NET_ARGS": {"width": 0.7}}),
        # less augmentation for the smallest member (NetAug: strong augmentation hurts tiny networks)
        ("separable c2=22, no label smoothing, rotation ±10°", "separable c2=22, no label smoothing", {"DEGREES": 10}),
        ("separable c2=22, no label smoothing, no crop", "separable c2=22, no label smoothing", {"CROP_PROB": 0.0}),
        # ... and more of it, as both of those lost on every seed
        ("separable c2=22, no label smoothing, rotation ±20°", "separable c2=22, no label smoothing", {"DEGREES": 20}),
        ("separable c2=22, no label smoothing, crop p=0.2", "separable c2=22, no label smoothing", {"CROP_PROB": 0.2}),
    ]
    found = {}
    for name, base, changes in plan:
        if base is not None and base not in found:
            raise KeyError(f"candidate {name!r}: its base {base!r} must come before it")
        built = recipe(**{**(found[base]["recipe"] if base else {}), **changes})  # an unknown key raises
        found[name] = {"base": base, "changes": changes if base else {}, "recipe": built}
    return found


def summarize(screen: dict) -> dict:
    """Each candidate's mean final validation accuracy, worst of its last 5 epochs, seconds per epoch, and the
    validation images it gained over its base at the final epoch, seed by seed (on the seeds both ran)."""
    for c in screen["candidates"].values():
        c.pop("summary", None)
        base = screen["candidates"][c["base"]]["per_seed"] if c["base"] else None
        summary = run_summary(c["per_seed"], base, screen["split"]["val_images"])
        if summary is not None:
            c["summary"] = summary
    return screen


def confirm(name: str, entry: dict, seeds: list[int], command: str) -> dict:
    """Train candidate ``name`` on the 60,000 training images for each of ``seeds`` and test it on the test set
    after every epoch; ``results/frontier_confirm.json`` keeps one point per candidate, saved after every seed."""
    path = results_dir() / f"{CONFIRMED}.json"
    confirmed = load_results(CONFIRMED) if path.is_file() else {"about": "Winners of the frontier screens, "
                                                                  "confirmed once on the test set", "points": []}
    points = {p["label"]: p for p in confirmed["points"]}
    kind = cpu_kind()
    old = points.get(name)
    if old is not None and (old["recipe"] != entry["recipe"] or old["cpu_kind"] != kind):
        raise SystemExit(f"results/{CONFIRMED}.json holds {name!r} with another recipe or CPU kind; "
                         f"a confirmation is made once: name the changed recipe as a new candidate")
    per_seed = dict(old["per_seed"]) if old else {}
    commands = list(old["commands"]) if old else []
    data = {"train": load_mnist_tensors("train"), "val": load_mnist_tensors("test")}
    device = device_description(torch.device("cpu"))
    for seed in (s for s in seeds if str(s) not in per_seed):
        if command not in commands:
            commands.append(command)
        start = time.perf_counter()
        run = train_rung(entry["recipe"], seed, data)
        acc = run["val_acc"]  # the test set, in this call
        per_seed[str(seed)] = {"params": run["params"], "seed": seed, "final_test_acc": acc[-1],
                               "best_test_acc": max(acc), "last5_min_test_acc": min(acc[-5:]),
                               "final_train_acc": run["train_acc"][-1], "seconds_per_epoch": run["seconds_per_epoch"],
                               "device": device, "torch_version": torch.__version__, "test_acc": acc}
        per_seed = dict(sorted(per_seed.items(), key=lambda item: int(item[0])))
        args = entry["recipe"]["NET_ARGS"]
        member = {"c2": args["c2"]} if "c2" in args else {"width": args.get("width", 1.0)}  # as the plots name them
        point = frontier_point({**summarize_seeds(per_seed, FRONTIER_BAR), "per_seed": per_seed}, label=name, **member)
        points[name] = {**point, "recipe": entry["recipe"], "cpu_kind": kind, "commands": commands}
        save_results(CONFIRMED, {**confirmed, "points": sorted(points.values(), key=lambda p: p["params"])})
        print(f"{name}, seed {seed} (test set): final {acc[-1]:.2f}%, worst of last 5 {min(acc[-5:]):.2f}% "
              f"({time.perf_counter() - start:.0f} s)", flush=True)
    return points[name]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.frontier_aim.screen", description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", nargs="+", default=[], metavar="NAME")
    parser.add_argument("--seeds", type=int, nargs="+", default=[100, 101, 102])
    parser.add_argument("--list", action="store_true", help="print the candidates and what the file holds of each")
    parser.add_argument("--confirm", action="store_true",
                        help="train on all 60,000 training images and test on the test set, on reported seeds (< 100)")
    args = parser.parse_args(argv)
    plan = candidates()
    unknown = [n for n in args.candidates if n not in plan]
    if unknown:
        parser.error(f"unknown candidate(s) {unknown}; --list prints them")
    command = "python -m lab.frontier_aim.screen " + " ".join(
        f'"{a}"' if " " in a else a for a in (argv if argv is not None else sys.argv[1:]))
    command = command_prefix() + command
    if args.confirm:
        if any(s >= 100 for s in args.seeds):
            parser.error("--confirm runs on the reported seeds (below 100); screens use 100 and up")
        for name in args.candidates:
            p = confirm(name, plan[name], args.seeds, command)
            print(f"{name} ({p['params']:,} params), {len(p['seeds'])} seeds on the test set: mean final "
                  f"{p['final_test_acc_mean']:.3f}%, worst of last 5 {p['worst_last5_min_test_acc']:.2f}%, "
                  f"{'holds' if p['all_seeds_hold_target'] else 'does not hold'} {FRONTIER_BAR}% on every seed")
        return 0
    if any(s < 100 for s in args.seeds):
        parser.error("screens run on seeds 100 and up: the reported seeds (0-11) are kept for the confirmation")
    split, kind = split_description(), cpu_kind()
    earlier = load_results(NAME) if (results_dir() / f"{NAME}.json").is_file() else None
    if earlier is not None and (earlier["split"] != split or earlier["cpu_kind"] != kind):
        raise SystemExit(f"results/{NAME}.json was measured on another split or CPU kind ({earlier['cpu_kind']}); "
                         f"this machine runs {kind}: move the file away to start again")
    screen = {"about": __doc__.splitlines()[0], "split": split, "cpu_kind": kind,
              "device": device_description(torch.device("cpu")), "torch_version": torch.__version__,
              "candidates": {}}
    own = f"results/{NAME}.json"
    ladder_runs = committed_runs([f"ladder_{part}" for part in LADDERS], split, kind)  # a rung is not trained again
    for name, c in plan.items():
        old = (earlier or {}).get("candidates", {}).get(name)
        if old is not None and old["recipe"] != c["recipe"]:
            raise SystemExit(f"results/{NAME}.json holds {name!r} trained with another recipe (a notebook's number "
                             f"changed?): give the new recipe a new candidate name, or move the file away")
        kept = old if old is not None else {"per_seed": {}, "commands": []}
        screen["candidates"][name] = with_runs({**c, "commands": list(kept["commands"])},
                                               [(c["recipe"], kept["per_seed"], own)] + ladder_runs, own)
    if args.list:
        for name, c in summarize(screen)["candidates"].items():
            s = c.get("summary")
            print(f"{name!r} (on {c['base']!r}: {c['changes']})" if c["base"] else f"{name!r}")
            if s:
                g = s.get("images_gained")
                print(f"    {s['params']:,} params, seeds {s['seeds']}: mean final {s['final_val_acc_mean']:.3f}%, "
                      f"worst of last 5 {s['worst_last5_min_val_acc']:.2f}%, {s['seconds_per_epoch']:.2f} s/epoch"
                      + (f", {g['mean']:+.1f} validation images ({g['min']:+d} to {g['max']:+d})" if g else ""))
        return 0
    data = load_train_val()
    for name in args.candidates:
        entry = screen["candidates"][name]
        todo = [s for s in args.seeds if str(s) not in entry["per_seed"]]
        if todo and command not in entry["commands"]:
            entry["commands"].append(command)
        for seed in todo:
            start = time.perf_counter()
            run = train_rung(entry["recipe"], seed, data)
            entry["per_seed"][str(seed)] = run
            entry["per_seed"] = dict(sorted(entry["per_seed"].items(), key=lambda item: int(item[0])))
            save_results(NAME, summarize(screen))
            print(f"{name} ({run['params']:,} params), seed {seed}: final {run['final_val_acc']:.2f}%, worst of last 5 "
                  f"{run['last5_min_val_acc']:.2f}% ({time.perf_counter() - start:.0f} s)", flush=True)
    save_results(NAME, summarize(screen))
    return main(["--list"]) if args.candidates else 0


if __name__ == "__main__":
    sys.exit(main())
