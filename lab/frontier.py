"""The params-versus-accuracy frontier: the Part-4 notebook's model family at several widths.

``python -m lab.frontier`` executes the Part-4 notebook for every width in ``WIDTHS``
(through ``$MNIST_WIDTH``) and seeds 0, 1 and 2 (through ``$MNIST_SEED``), on scratch copies,
and writes ``results/part4_frontier.json``: per width, the parameters, each seed's run, the
mean final accuracy, the worst last-5 minimum and the CPU seconds per epoch. The notebook
and docs/results.md plot it. About 8 to 14 minutes per width on a 2-core CPU with 3 seeds.
The committed file: ``--widths 0.7 0.85 0.6 0.5 0.42``, then ``--add --widths --from-sweep part4_seeds``
(the notebook's own width, 1.0, over seeds 0-4, from ``python -m lab.sweep --part part4``).
"""
from __future__ import annotations

import argparse
import statistics
import sys

from mnist_helpers.results import load_results, save_results
from mnist_helpers.targets import FRONTIER_BAR

from scripts.run_notebooks import notebook_paths
from .sweep import run_sweep, summarize_seeds

# channel multipliers of Part-3's layout: about 1.5k, 2k, 3k, 4k, 6k and 8k parameters
WIDTHS = (0.42, 0.5, 0.6, 0.7, 0.85, 1.0)


def frontier_point(sweep: dict, **member) -> dict:
    """A point of a Part-4 frontier: what names the ``member`` (``width=0.7``, or the separable family's label,
    c2 and c3), then the parameters, the seed summary and the mean seconds per epoch of the ``sweep``'s runs."""
    runs = list(sweep["per_seed"].values())
    return {**member, "params": runs[0]["params"], "seeds": sweep["seeds"],
            "final_test_acc_mean": sweep["final_test_acc_mean"], "final_test_acc_std": sweep["final_test_acc_std"],
            "worst_last5_min_test_acc": sweep["worst_last5_min_test_acc"],
            "all_seeds_hold_target": sweep["all_seeds_hold_target"],
            "seconds_per_epoch": statistics.fmean(r["seconds_per_epoch"] for r in runs),
            "device": runs[0]["device"], "torch_version": runs[0]["torch_version"], "per_seed": sweep["per_seed"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.frontier", description=__doc__.splitlines()[0])
    parser.add_argument("--widths", type=float, nargs="*", default=list(WIDTHS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--name", default="part4_frontier", help="results/NAME.json (default part4_frontier)")
    parser.add_argument("--add", action="store_true",
                        help="keep the points already in results/NAME.json (a width run again is replaced)")
    parser.add_argument("--from-sweep", metavar="SWEEP",
                        help="add the point of results/SWEEP.json, a seed sweep of the notebook at its own width "
                             "(python -m lab.sweep --part part4 writes part4_seeds), instead of running it again")
    args = parser.parse_args(argv)
    if any(not 0 < w <= 2 for w in args.widths):
        parser.error("widths must be in (0, 2]")
    notebook, = notebook_paths("part4_*.ipynb")
    points = load_results(args.name)["points"] if args.add else []

    def add(point):
        nonlocal points
        points = sorted([p for p in points if p["width"] != point["width"]] + [point], key=lambda p: p["width"])

    if args.from_sweep:
        sweep = load_results(args.from_sweep)
        widths = {r.get("width") for r in sweep["per_seed"].values()}
        if len(widths) != 1 or None in widths:
            raise ValueError(f"results/{args.from_sweep}.json does not record one width for all its seeds")
        sweep = {**sweep, **summarize_seeds(sweep["per_seed"], FRONTIER_BAR)}  # against the frontier's bar
        add(frontier_point(sweep, width=widths.pop()))
        save_results(args.name, {"notebook": f"notebooks/{notebook.name}", "points": points})
    for width in args.widths:
        point = frontier_point(run_sweep(args.seeds, notebook, env={"MNIST_WIDTH": width}, target=FRONTIER_BAR),
                               width=width)
        add(point)
        save_results(args.name, {"notebook": f"notebooks/{notebook.name}", "points": points})  # keep partial work
        print(f"width {width}: {point['params']:,} params, mean final {point['final_test_acc_mean']:.2f}%, "
              f"worst of last 5 {point['worst_last5_min_test_acc']:.2f}%, {point['seconds_per_epoch']:.1f} s/epoch",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
