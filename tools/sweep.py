"""Seed sweep: execute a part's notebook once per seed and collect the results.

``python -m tools.sweep`` runs the Part-3 notebook for seeds 0-11 (through ``$MNIST_SEED``)
on a scratch copy whose images, results and models go to a temporary folder, so the
committed run is left untouched, and writes ``results/part3_seeds.json`` after every seed,
with each seed's device and torch version. ``--add`` keeps the seeds already in the file
(to resume a sweep, or to add seeds run elsewhere); ``--seeds 20 21 --name NAME`` tries
other seeds without touching the README and docs tables; ``--part part4`` sweeps the Part-4 notebook
(seeds 0-4, ``results/part4_seeds.json``).
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

from mnist_helpers.paths import results_dir
from mnist_helpers.results import load_results, save_results
from mnist_helpers.targets import TARGETS

from .run_notebooks import execute_notebook, notebook_paths


def summarize_seeds(per_seed: dict, target: float = TARGETS["part3"].accuracy) -> dict:
    """Mean ± std of the final-epoch accuracy, the worst last-5 minimum, and whether every seed held."""
    finals = [r["final_test_acc"] for r in per_seed.values()]
    worst = min(r["last5_min_test_acc"] for r in per_seed.values())
    return {
        "seeds": [int(s) for s in per_seed],
        "final_test_acc_mean": statistics.fmean(finals),
        "final_test_acc_std": statistics.stdev(finals) if len(finals) > 1 else 0.0,
        "worst_last5_min_test_acc": worst,
        "target": target,
        "all_seeds_hold_target": worst >= target,
    }


def run_sweep(seeds, notebook: Path, env: dict | None = None, *, per_seed: dict | None = None,
              on_seed=None) -> dict:
    """Execute ``notebook`` once per seed (with ``env`` added) and collect each run's results.

    ``per_seed`` holds runs to keep (from an earlier sweep); ``on_seed(sweep)`` is called with the
    sweep so far after every seed, so an interrupted sweep keeps what it finished.
    """
    part = notebook.name.split("_")[0]
    per_seed = dict(per_seed or {})

    def sweep() -> dict:
        ordered = dict(sorted(per_seed.items(), key=lambda item: int(item[0])))
        return {"notebook": f"notebooks/{notebook.name}", **summarize_seeds(ordered, TARGETS[part].accuracy),
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
                # a missed target fails the notebook's last cell after its results are saved:
                # record the seed as missing the target; any other failure stops the sweep
                if err.ename != "AssertionError" or not (tmp / "results" / f"{part}.json").is_file():
                    raise
                print(f"  seed {seed} MISSED the target: {err.evalue}", flush=True)
            run = load_results(part, tmp / "results")
        keep = ("params", "width", "epochs", "seed", "final_test_acc", "best_test_acc", "last5_min_test_acc",
                "final_train_acc", "seconds_per_epoch", "device", "torch_version")
        per_seed[str(seed)] = {**{k: run[k] for k in keep if k in run}, "test_acc": run["history"]["test_acc"]}
        print(f"  final {run['final_test_acc']:.2f}%, worst of last 5 {run['last5_min_test_acc']:.2f}% "
              f"({time.perf_counter() - start:.0f} s)", flush=True)
        if on_seed is not None:
            on_seed(sweep())
    return sweep()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.sweep", description=__doc__.splitlines()[0])
    parser.add_argument("--part", default="part3", choices=["part3", "part4"])
    parser.add_argument("--seeds", type=int, nargs="+", default=None,
                        help="default: 0-11 for part3, 0-4 for part4")
    parser.add_argument("--add", action="store_true",
                        help="keep the seeds already in the results file; run only the given seeds that it lacks")
    parser.add_argument("--name", default=None,
                        help="results file to write, results/NAME.json (default PART_seeds, the one the README and docs "
                             "show; any other name leaves them alone)")
    args = parser.parse_args(argv)
    name = args.name or f"{args.part}_seeds"
    seeds = args.seeds if args.seeds is not None else list(range(12) if args.part == "part3" else range(5))
    if not name.replace("_", "").replace("-", "").isalnum():
        parser.error(f"--name must be letters, digits, '_' or '-', got {name!r}")
    notebook, = notebook_paths(f"{args.part}_*.ipynb")
    kept = {}
    if args.add and (results_dir() / f"{name}.json").is_file():
        kept = load_results(name)["per_seed"]
        seeds = [s for s in seeds if str(s) not in kept]
        print(f"keeping seeds {', '.join(kept)} of results/{name}.json; running {seeds or 'none'}")
    sweep = run_sweep(seeds, notebook, per_seed=kept, on_seed=lambda partial: save_results(name, partial))
    path = save_results(name, sweep)
    print(f"mean final {sweep['final_test_acc_mean']:.2f} ± {sweep['final_test_acc_std']:.2f}%, "
          f"worst of last 5 {sweep['worst_last5_min_test_acc']:.2f}% -> {path.name}")
    if name == f"{args.part}_seeds":
        from .readme import update_readme
        update_readme()
    return 0 if sweep["all_seeds_hold_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
