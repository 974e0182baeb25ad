"""A notebook's training time before and after a change, side by side in one run.

Checks out ``--base`` (a git revision) into a temporary worktree, then executes the notebook of
``--part`` (default Part-3) from that revision and from the current checkout, alternating, each in a
fresh kernel with its images, results and models sent to a scratch folder, ``--repeats`` times each.
Each run's training time is what its own ``results/partN.json`` records: the seconds of every
training pass and every test pass, summed over the epochs. The per-step breakdown of the current
checkout (``lab.benchmarks.step_breakdown``) is printed beside the ratio.

    python -m lab.benchmarks.notebook_before_after --base 2262d5a [--repeats 2] [--save]

``--save`` writes lab/results/benchmark_notebook_before_after.json (lab/speed.md shows it).
Run it on a quiet machine: any other process on the same cores changes both sides' times.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from lab import RESULTS
from mnist_helpers.paths import default_data_root, repo_root
from mnist_helpers.results import device_description, load_results, save_results
from scripts.run_notebooks import execute_notebook


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout.strip()


def run_notebook(checkout: Path, part: str, scratch: Path) -> dict:
    """Execute ``checkout``'s notebook of ``part`` in a fresh kernel with ``checkout`` first on the path;
    returns the seconds it recorded for training and testing, and its final test accuracy."""
    notebook, = sorted((checkout / "notebooks").glob(f"{part}_*.ipynb"))
    copy = scratch / notebook.name
    shutil.copy(notebook, copy)
    env = {"PYTHONPATH": checkout, "MNIST_DATA_DIR": default_data_root(), "MNIST_RESULTS_DIR": scratch / "results",
           "MNIST_IMAGES_DIR": scratch / "images", "MNIST_MODELS_DIR": scratch / "models", "TQDM_DISABLE": 1}
    start = time.perf_counter()
    execute_notebook(copy, env=env)
    wall = time.perf_counter() - start
    h = load_results(part, scratch / "results")["history"]
    return {"train_seconds": sum(h["epoch_seconds"]), "test_seconds": sum(h["test_seconds"]),
            "seconds": sum(h["epoch_seconds"]) + sum(h["test_seconds"]), "notebook_wall_seconds": wall,
            "final_test_acc": h["test_acc"][-1], "epochs": len(h["test_acc"])}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.benchmarks.notebook_before_after",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the git revision to compare with")
    parser.add_argument("--part", default="part3")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--save", action="store_true")
    args = parser.parse_args(argv)
    root = repo_root()
    if root is None:
        parser.error("run it from a repository checkout (pip install -e .)")
    base, head = _git(root, "rev-parse", "--short", args.base), _git(root, "rev-parse", "--short", "HEAD")
    dirty = bool(_git(root, "status", "--porcelain", "--untracked-files=no"))
    current = f"{head}{' + uncommitted changes' if dirty else ''}"
    runs = {base: [], "current": []}
    with tempfile.TemporaryDirectory(prefix="before-after-") as tmp:
        worktree = Path(tmp) / "base"
        _git(root, "worktree", "add", "--detach", str(worktree), base)
        try:
            for repeat in range(args.repeats):
                for name, checkout in ((base, worktree), ("current", root)):
                    scratch = Path(tmp) / f"{name}-{repeat}"
                    scratch.mkdir()
                    runs[name].append(run_notebook(checkout, args.part, scratch))
                    r = runs[name][-1]
                    print(f"  {name:8s} training {r['train_seconds']:6.1f} s + testing {r['test_seconds']:5.1f} s "
                          f"= {r['seconds']:6.1f} s over {r['epochs']} epochs (final {r['final_test_acc']:.2f}%)",
                          flush=True)
        finally:
            _git(root, "worktree", "remove", "--force", str(worktree))
    before = statistics.median(r["seconds"] for r in runs[base])
    after = statistics.median(r["seconds"] for r in runs["current"])
    print(f"{args.part} notebook, training + testing over its epochs: {base} {before:.1f} s, "
          f"current ({current}) {after:.1f} s; speed-up before / after {before / after:.2f}x")
    from lab.benchmarks.step_breakdown import breakdown, format_breakdown
    steps = breakdown()
    print(format_breakdown(steps))
    if args.save:
        save_results("benchmark_notebook_before_after", folder=RESULTS, results={
            "part": args.part, "base": base, "current": current, "device": device_description(torch.device("cpu")),
            "torch_version": torch.__version__, "repeats": args.repeats, "runs": runs,
            "seconds_before": before, "seconds_after": after, "speedup": before / after, "step_breakdown": steps})
    return 0


if __name__ == "__main__":
    sys.exit(main())
