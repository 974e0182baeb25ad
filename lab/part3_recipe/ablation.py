"""Write ``lab/results/part3_ablation.json``: what each choice of the Part-3 recipe bought, per seed, from committed runs.

    python -m lab.part3_recipe.ablation

Each row pairs two configs trained on the same seeds with the same batches and augmentation draws, so
the difference of their final test accuracies is paired seed by seed. The rows come from the 12-seed
notebook sweeps in ``results/`` and ``lab/results/``, from the speed screen (``lab/fast_recipe/screen.json``, 4 seeds)
and from the pilot rounds in ``pilots.json`` beside this file;
``lab/part3_recipe.md`` shows the table (``lab.experiment_tables.ablation_table``). These runs are scored on
the test set, as the recipe search was; the Part-3 notebook shows the ladder of ``lab.ladder`` instead, which
is measured on the validation split.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from lab import RESULTS
from mnist_helpers.paths import repo_root
from mnist_helpers.results import load_results, save_results

HERE = Path(__file__).resolve().parent


def _finals(runs: dict) -> dict:
    return {seed: run["final_test_acc"] for seed, run in runs.items()}


def _pilot(pilots: dict, round_name: str, config: str) -> tuple[dict, str]:
    round_ = next(r for r in pilots["rounds"] if r["name"] == round_name)
    return _finals(round_["configs"][config]["per_seed"]), f"{round_['device']}, pilots {round_name}"


def build(results: Path, pilots: dict, screen: dict, lab: Path = RESULTS) -> dict:
    unpruned = load_results("part3_unpruned_seeds", results)
    no_gentle, before = load_results("part3_no_gentle_seeds", lab), load_results("part3_lr02_seeds", lab)
    devices = sorted({run["device"] for run in unpruned["per_seed"].values()})
    sweep = f"{', '.join(devices)}, the notebook itself (lab.sweep)"
    rows = [{"choice": "gentle last 5 epochs", "compared_with": "full augmentation to the end",
             "with": _finals(unpruned["per_seed"]), "without": _finals(no_gentle["per_seed"]), "measured_on": sweep},
            {"choice": "peak learning rate 0.8", "compared_with": "peak 0.2",
             "with": _finals(no_gentle["per_seed"]), "without": _finals(before["per_seed"]),
             "measured_on": f"{sweep}, both without the gentle epochs"}]
    for choice, compared_with, config, alternative in [
            ("batch 128", "batch 512, EMA 0.992", "now", "b512"),
            ("5x5 conv + max-pool stem", "6x6 stride-2 conv stem", "b512", "b512_s2")]:
        rows.append({"choice": choice, "compared_with": compared_with,
                     "with": _finals(screen[config]["per_seed"]), "without": _finals(screen[alternative]["per_seed"]),
                     "measured_on": f"{screen[config]['device']}, the speed screen"
                                    f"{' at batch 512' if config == 'b512' else ''}, without the gentle epochs"})
    for choice, compared_with, config, alternative, peak in [
            ("label smoothing 0.1", "no label smoothing", "base", "ls0", "0.2"),
            ("EMA decay 0.998", "EMA decay 0.999", "lr3", "lr3_ema999", "0.3"),
            ("batch 128", "batch 64", "base", "b64_lr2", "0.2"),
            ("no pixel shifts", "random shifts up to 1 pixel", "base", "shift1", "0.2")]:
        with_, where = _pilot(pilots, "round 2", config)
        without, _ = _pilot(pilots, "round 2", alternative)
        rows.append({"choice": choice, "compared_with": compared_with, "with": with_, "without": without,
                     "measured_on": f"the recipe search on {where.split(',')[0]} (peak {peak})"})
    return {"about": __doc__.splitlines()[0], "rows": rows}


def main() -> int:
    root = repo_root()
    if root is None:
        print("error: run this from a repository checkout (pip install -e .)", file=sys.stderr)
        return 1
    pilots = json.loads((HERE / "pilots.json").read_text(encoding="utf-8"))
    screen = json.loads((HERE.parent / "fast_recipe" / "screen.json").read_text(encoding="utf-8"))
    path = save_results("part3_ablation", build(root / "results", pilots, screen), RESULTS)
    print(f"wrote {path.relative_to(root)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
