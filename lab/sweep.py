"""Seed sweep: execute a part's notebook once per seed and collect the results.

``python -m lab.sweep`` runs the Part-3 notebook for seeds 0-11 (through ``$MNIST_SEED``)
on a scratch copy whose images, results and models go to a temporary folder, so the
committed run is left untouched, and writes ``results/part3_seeds.json`` after every seed,
with each seed's device and torch version and the recipe it trained with. ``--add`` keeps the seeds already in the file
(to resume a sweep, or to add seeds run elsewhere); ``--seeds 20 21 --name NAME`` tries
other seeds without touching the README and docs tables; ``--part part4`` sweeps the Part-4 notebook
(seeds 0-4, ``results/part4_seeds.json``), ``--part part5`` the Part-5 one (seeds 0-9). Run as AVX2 (``bash scripts/as_avx2.sh python -m lab.sweep ...``, or on an AVX2 machine),
the default file is ``results/PART_seeds_avx2.json``; every file records its CPU kind and command.

``--together`` trains every seed in one process instead, as one stacked model with the notebook's recipe
(``lab.together``; on a GPU twelve seeds cost about one), and writes ``results/PART_seeds_together.json``
(``--device cuda``) without touching the notebook sweeps.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from nbclient.exceptions import CellExecutionError

from mnist_helpers.cpu_kind import KIND_SUFFIXES, command_prefix, cpu_kind, kind_suffix
from mnist_helpers.paths import results_dir
from mnist_helpers.recipes import trains_with
from mnist_helpers.results import load_results, save_results
from mnist_helpers.targets import TARGETS, worst_of_last

from scripts.run_notebooks import execute_notebook, notebook_paths


def summarize_seeds(per_seed: dict, target: float = TARGETS["part3"].accuracy, last_epochs: int = 5) -> dict:
    """Mean ± std of the final-epoch accuracy, the worst last-5 minimum, and whether every seed held ``target``
    in each of its last ``last_epochs`` epochs."""
    finals = [r["final_test_acc"] for r in per_seed.values()]
    worst = min(r["last5_min_test_acc"] for r in per_seed.values())
    held = all(worst_of_last(r, last_epochs) >= target for r in per_seed.values())
    return {
        "seeds": [int(s) for s in per_seed],
        "final_test_acc_mean": statistics.fmean(finals),
        "final_test_acc_std": statistics.stdev(finals) if len(finals) > 1 else 0.0,
        "worst_last5_min_test_acc": worst,
        "target": target,
        "all_seeds_hold_target": held,
    }


def run_sweep(seeds, notebook: Path, env: dict | None = None, *, per_seed: dict | None = None,
              on_seed=None, target: float | None = None) -> dict:
    """Execute ``notebook`` once per seed (with ``env`` added) and collect each run's results.

    ``per_seed`` holds runs to keep (from an earlier sweep); ``on_seed(sweep)`` is called with the
    sweep so far after every seed, so an interrupted sweep keeps what it finished. ``target``: the accuracy
    that every seed's last epochs must reach (default: the part's target).
    """
    part = notebook.name.split("_")[0]
    target = TARGETS[part].accuracy if target is None else target
    per_seed = dict(per_seed or {})

    def sweep() -> dict:
        ordered = dict(sorted(per_seed.items(), key=lambda item: int(item[0])))
        return {"notebook": f"notebooks/{notebook.name}", **summarize_seeds(ordered, target, TARGETS[part].last_epochs),
                "per_seed": ordered}

    for seed in seeds:
        with tempfile.TemporaryDirectory(prefix=f"{part}-seed{seed}-") as tmp:
            tmp = Path(tmp)
            copy = tmp / notebook.name
            shutil.copy(notebook, copy)
            start = time.perf_counter()
            print(f"seed {seed}: executing {notebook.name} {env or ''}...", flush=True)
            try:
                execute_notebook(copy, env={**(env or {}), "MNIST_SEED": seed, "MNIST_RESULTS_DIR": tmp / "results",
                                            "MNIST_IMAGES_DIR": tmp / "images", "MNIST_MODELS_DIR": tmp / "models"})
            except CellExecutionError as err:
                # on the notebook's own seed a missed target fails its check cell after the results are saved
                # (on other seeds the cell prints the miss): record the run; any other failure stops the sweep
                if err.ename != "AssertionError" or not (tmp / "results" / f"{part}.json").is_file():
                    raise
            run = load_results(part, tmp / "results")
        if worst_of_last(run["history"], TARGETS[part].last_epochs) < target:
            print(f"  seed {seed} MISSED the target ({target}% in each of the last {TARGETS[part].last_epochs} "
                  f"epochs)", flush=True)
        keep = ("params", "width", "epochs", "seed", "final_test_acc", "best_test_acc", "last5_min_test_acc",
                "final_train_acc", "seconds_per_epoch", "device", "cpu_kind", "torch_version")
        per_seed[str(seed)] = {**{k: run[k] for k in keep if k in run}, "test_acc": run["history"]["test_acc"]}
        print(f"  final {run['final_test_acc']:.2f}%, worst of last 5 {run['last5_min_test_acc']:.2f}% "
              f"({time.perf_counter() - start:.0f} s)", flush=True)
        if on_seed is not None:
            on_seed(sweep())
    return sweep()


def run_together(part: str, seeds, device: str) -> dict:
    """Every seed of ``part``'s recipe trained at once (``lab.together``), on the 60,000 training images and
    tested on the 10,000 test images after every epoch, as the notebook does: a sweep in the same form."""
    import torch

    from mnist_helpers.data import load_mnist_tensors
    from mnist_helpers.results import device_description, summarize

    from .ladder import ladder_recipe
    from .together import train_together

    device = torch.device(device)
    r = ladder_recipe(part)
    start = time.perf_counter()
    run = train_together(r, list(seeds), load_mnist_tensors("train"), load_mnist_tensors("test"), device)
    wall = time.perf_counter() - start
    # the members train in the same epochs, so they share the epochs' seconds
    per_seed = {str(seed): {"params": run["params"], "epochs": r["EPOCHS"], "seed": seed, "test_acc": h["test_acc"],
                            **summarize({**h, "epoch_seconds": run["seconds_per_epoch"]})}
                for seed, h in run["per_seed"].items()}
    target = TARGETS[part]
    return {"notebook": f"recipe of notebooks/{notebook_paths(f'{part}_*.ipynb')[0].name}", "recipe": r,
            **summarize_seeds(per_seed, target.accuracy, target.last_epochs), "per_seed": per_seed,
            "together": len(per_seed), "seconds_per_epoch": statistics.median(run["seconds_per_epoch"]),
            "wall_seconds": wall, "device": device_description(device), "torch_version": torch.__version__}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.sweep", description=__doc__.splitlines()[0])
    parser.add_argument("--part", default="part3", choices=["part1", "part2", "part3", "part4", "part5"])
    parser.add_argument("--seeds", type=int, nargs="+", default=None,
                        help="default: the target's seeds (0-11 for part3, 0-4 for part4, 0-9 for part5); the notebook's own, 1, "
                             "for part1 and part2")
    parser.add_argument("--add", action="store_true",
                        help="keep the seeds already in the results file; run only the given seeds that it lacks")
    parser.add_argument("--name", default=None,
                        help="results file to write, results/NAME.json (default PART_seeds, the one the README and docs "
                             "show; any other name leaves them alone)")
    parser.add_argument("--together", action="store_true",
                        help="train the seeds at once, as one stacked model with the notebook's recipe (part3)")
    parser.add_argument("--device", default="cpu", help="with --together: the device to train on (cuda, cpu)")
    args = parser.parse_args(argv)
    if args.name is not None and not args.name.replace("_", "").replace("-", "").isalnum():
        parser.error(f"--name must be letters, digits, '_' or '-', got {args.name!r}")
    kind = cpu_kind()
    if args.together:
        if args.part != "part3" or args.add:
            parser.error("--together trains Part-3's recipe (--part part3), without --add")
        seeds = args.seeds if args.seeds is not None else list(TARGETS["part3"].seeds)
        name = args.name or "part3_seeds_together"
        sweep = run_together("part3", seeds, args.device)
        sweep["cpu_kind"] = kind
        sweep["command"] = "python -m lab.sweep " + " ".join(argv if argv is not None else sys.argv[1:])
        path = save_results(name, sweep)
        print(f"{len(seeds)} seeds together: mean final {sweep['final_test_acc_mean']:.2f} ± "
              f"{sweep['final_test_acc_std']:.2f}%, worst of last 5 {sweep['worst_last5_min_test_acc']:.2f}%, "
              f"{sweep['seconds_per_epoch']:.2f} s per epoch -> {path.name}")
        return 0 if sweep["all_seeds_hold_target"] else 1
    suffix = kind_suffix(kind)
    default_name = f"{args.part}_seeds{suffix}"
    name = args.name or default_name
    others = [s for s in (*KIND_SUFFIXES, suffix) if s and s != suffix]
    if (suffix and not name.endswith(suffix)) or any(name.endswith(s) for s in others):
        parser.error(f"this machine runs {kind}: a results file of its runs is named *{suffix or ' without a suffix'}"
                     f" (results/{args.part}_seeds{suffix}.json), so that each file holds one CPU kind")
    seeds = args.seeds if args.seeds is not None else list(TARGETS[args.part].seeds or [1])
    notebook, = notebook_paths(f"{args.part}_*.ipynb")
    kept = {}
    about_recipe = trains_with(args.part)
    if args.add and (results_dir() / f"{name}.json").is_file():
        earlier = load_results(name)
        if earlier.get("cpu_kind", kind).split()[0] != kind.split()[0]:
            parser.error(f"results/{name}.json was made on {earlier['cpu_kind']}, this machine runs {kind}: "
                         f"a sweep keeps to one CPU kind (bash scripts/as_avx2.sh runs a command as AVX2)")
        if earlier.get("recipe") != about_recipe:
            parser.error(f"results/{name}.json ran another recipe than the notebook's (or did not record one): "
                         f"sweep again without --add, or under another --name")
        kept = earlier["per_seed"]
        seeds = [s for s in seeds if str(s) not in kept]
        print(f"keeping seeds {', '.join(kept)} of results/{name}.json; running {seeds or 'none'}")
    # the command behind the file, the CPU kind it ran as and the recipe it trained with are stored with it
    about = {"cpu_kind": kind, "command": "python -m lab.sweep " + " ".join(argv if argv is not None else sys.argv[1:]),
             "recipe": about_recipe}
    about["command"] = command_prefix() + about["command"]
    if kept:  # the runs kept came from the earlier commands
        about["command"] = f"{earlier.get('command', 'python -m lab.sweep (command not recorded)')}; {about['command']}"
    print(f"running as {kind}; results/{name}.json")
    sweep = run_sweep(seeds, notebook, per_seed=kept, on_seed=lambda partial: save_results(name, {**partial, **about}))
    sweep = {**sweep, **about}
    path = save_results(name, sweep)
    print(f"mean final {sweep['final_test_acc_mean']:.2f} ± {sweep['final_test_acc_std']:.2f}%, "
          f"worst of last 5 {sweep['worst_last5_min_test_acc']:.2f}% -> {path.name}")
    if name == default_name:
        from scripts.readme import update_readme

        from .tables import DOCUMENTS, research_blocks
        update_readme()
        update_readme(documents=DOCUMENTS, blocks=research_blocks())
    return 0 if sweep["all_seeds_hold_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
