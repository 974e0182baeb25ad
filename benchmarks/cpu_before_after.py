"""The notebook's CPU training epoch before and after a change, side by side in one run.

Checks out ``--base`` (a git revision) into a temporary worktree and times one Part-3 training
epoch as the Part-3 notebook runs it ("batched + channels-last + keep_freed_memory()") with
that revision's ``benchmarks/pipeline.py`` (or ``cpu_pipeline.py``) and with the current
checkout's, alternating, each run in a fresh process, ``--repeats`` times each:

    python -m benchmarks.cpu_before_after --base dd28585 [--repeats 3] [--save]

``--save`` writes results/benchmark_cpu_before_after.json (the README quotes it).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

from mnist_helpers.paths import default_data_root, repo_root
from mnist_helpers.results import device_description, save_results

CONFIG = "batched + channels-last + keep_freed_memory()"


def one_epoch(checkout: Path) -> float:
    script = next(p for p in (checkout / "benchmarks" / "cpu_pipeline.py", checkout / "benchmarks" / "pipeline.py")
                  if p.is_file())
    module = f"benchmarks.{script.stem}"
    env = {**os.environ, "PYTHONPATH": str(checkout), "MNIST_DATA_DIR": str(default_data_root())}
    out = subprocess.run([sys.executable, "-m", module, "--one", CONFIG], cwd=checkout, env=env,
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the git revision to compare with")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--save", action="store_true")
    args = parser.parse_args()
    root = repo_root()
    if root is None:
        parser.error("run it from a repository checkout")
    base = subprocess.run(["git", "rev-parse", "--short", args.base], cwd=root, check=True,
                          capture_output=True, text=True).stdout.strip()
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, check=True,
                          capture_output=True, text=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="before-") as tmp:
        worktree = Path(tmp) / "base"
        subprocess.run(["git", "worktree", "add", "--detach", str(worktree), base], cwd=root, check=True,
                       capture_output=True)
        try:
            runs = {base: [], "current": []}
            for _ in range(args.repeats):
                for name, checkout in ((base, worktree), ("current", root)):
                    runs[name].append(one_epoch(checkout))
                    print(f"  {name:8s} {runs[name][-1]:6.2f} s", flush=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=root, check=True)
    before, after = statistics.median(runs[base]), statistics.median(runs["current"])
    print(f"{CONFIG}: {base} {before:.2f} s, current ({head}) {after:.2f} s per epoch; after / before {after / before:.3f}")
    if args.save:
        save_results("benchmark_cpu_before_after", {
            "config": CONFIG, "base": base, "current": head, "device": device_description(torch.device("cpu")),
            "torch_version": torch.__version__, "repeats": args.repeats, "runs": runs,
            "seconds_before": before, "seconds_after": after, "after_over_before": after / before})


if __name__ == "__main__":
    main()
