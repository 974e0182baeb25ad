"""How long the drawing page takes to update, per model: one ``session.run`` (the prediction and every stage's
maps) plus drawing the maps, in headless Chromium, single-threaded onnxruntime-web, warm.

    python -m lab.benchmarks.web_update [--updates 200] [--save]

For each model in ``models/`` it draws a 7, runs ``--updates`` updates after 20 to warm up, and prints the
median and the 90th percentile in milliseconds; ``--save`` writes ``lab/results/benchmark_web.json`` for
lab/speed.md. A frame at 60 Hz is 16.7 ms.
"""
from __future__ import annotations

import argparse
import statistics
import sys

from lab import RESULTS
from mnist_helpers.cpu_kind import cpu_kind
from mnist_helpers.paths import repo_root
from mnist_helpers.results import save_results
from scripts.browser import draw, open_page, use_model

WARM_UP = 20


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.benchmarks.web_update", description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--save", action="store_true", help="write lab/results/benchmark_web.json")
    args = parser.parse_args(argv)
    if args.updates < 10:
        parser.error("--updates must be at least 10, for a median worth reading")
    models = repo_root() / "models"
    rows = {}
    with open_page(models) as (browser, page):
        names = page.evaluate("[...document.querySelectorAll('#model-pick option')].map(o => o.value)")
        chromium = browser.version
        for name in names:
            use_model(page, name)
            draw(page)
            times = page.evaluate("n => window.mnistPage.timeUpdates(n)", WARM_UP + args.updates)[WARM_UP:]
            stages = page.evaluate("document.querySelectorAll('#layers [data-stage]').length")
            ordered = sorted(times)
            rows[name] = {"median_ms": statistics.median(times), "p90_ms": ordered[int(0.9 * (len(ordered) - 1))],
                          "updates": len(times), "stages": stages}
            print(f"{name}: median {rows[name]['median_ms']:.2f} ms, 90th percentile {rows[name]['p90_ms']:.2f} ms "
                  f"({stages} stages, {len(times)} warm updates)", flush=True)
    if args.save:
        path = save_results("benchmark_web", folder=RESULTS, results={
            "command": "python -m lab.benchmarks.web_update " + " ".join(argv if argv is not None else sys.argv[1:]),
            "browser": f"headless Chromium {chromium}", "cpu_kind": cpu_kind(),
            "what": "one warm update: session.run of the prediction and every stage, then drawing the maps",
            "models": rows})
        print(f"wrote {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
