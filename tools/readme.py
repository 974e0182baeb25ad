"""Generate the tables of the README and of ``docs/*.md`` from ``results/*.json``.

``python -m tools.readme`` rewrites every block between ``<!-- generated:NAME -->`` and
``<!-- /generated:NAME -->`` in the documents of ``DOCUMENTS``; each block lives in exactly one of
them. ``--check`` only reports blocks that disagree with the JSON (tests/test_repository.py
checks the same).
"""
from __future__ import annotations

import argparse
import re
import statistics
import sys
from pathlib import Path

from mnist_helpers.cpu_kind import KIND_SUFFIXES
from mnist_helpers.paths import repo_root
from mnist_helpers.results import (frontier_text, ladder_table, load_results, screen_table, seeds_holding,
                                   write_atomic)
from mnist_helpers.targets import (FRONTIER_BAR, NOTEBOOK_SEED, PART3_MARGIN_GOAL, PART4_AIM_PARAMS, PART4_AIM_SEEDS,
                                   RUN_MARGIN, TARGETS, seed_range, worst_of_last)

DOCUMENTS = ("README.md", "docs/results.md", "docs/part3_recipe.md", "docs/speed.md")

PARTS = {
    "part1": "Part-1 · skeleton",
    "part2": "Part-2 · BatchNorm, dropout, GAP",
    "part3": "Part-3 · augmentation, LR schedule",
    "part4": "Part-4 · how small can it get?",
}
ADDS = {
    "part1": "the data, the loop, the plots; a light model with no BatchNorm",
    "part2": "BatchNorm and the higher learning rate it allows, global average pooling instead of the big last "
             "kernel, 5% dropout; a ladder measures each",
    "part3": "rotation ±15° and a 22×22 centre crop (p = 0.1), gentler for the last 5 epochs; a warm-up/cosine LR "
             "schedule, averaged weights",
    "part4": "Part-3's layout and recipe at several widths, and a second family with depthwise-separable "
             "convolutions: parameters against accuracy; trains width 0.85",
}


def _results_folder() -> Path:
    root = repo_root()
    if root is None:
        raise RuntimeError("the README tables are generated from a repository checkout (pip install -e .)")
    return root / "results"


def _notebook_link(name: str, prefix: str = "") -> str:
    """The notebook of part ``name``, as a link from the README (``prefix=""``) or from docs/ (``"../"``)."""
    root = _results_folder().parent
    found = sorted((root / "notebooks").glob(f"{name}_*.ipynb"))
    return f"{prefix}notebooks/{found[0].name}" if found else f"{prefix}notebooks/"


def runs_text(folder: Path, detail: bool = False) -> str:
    """The seed and CPU kind (``detail``: device and torch) of each part's committed run, parts that share them
    together: "seed 1, AVX512", or "Part-1: seed 2, AVX2; Part-2, Part-3, Part-4: seed 1, AVX512"."""
    groups: dict[str, list[str]] = {}
    for name, title in PARTS.items():
        if (folder / f"{name}.json").is_file():
            r = load_results(name, folder)
            made = f"{r['device']}, torch {r['torch_version']}" if detail else r.get("cpu_kind", r["device"])
            groups.setdefault(f"seed {r['seed']}, {made}", []).append(title.split(" ·")[0])
    if len(groups) == 1:
        return next(iter(groups))
    return "; ".join(f"{', '.join(parts)}: {made}" for made, parts in groups.items())


def results_table(folder: Path) -> str:
    rows = ["| part | params | epochs | final test acc | best test acc | worst of last 5 | final train acc | s / epoch |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, title in PARTS.items():
        if not (folder / f"{name}.json").is_file():
            continue
        r = load_results(name, folder)
        rows.append(f"| [{title}]({_notebook_link(name, '../')}) | {r['params']:,} | {r['epochs']} | {r['final_test_acc']:.2f}% | "
                    f"{r['best_test_acc']:.2f}% (epoch {r['best_epoch']}) | {r['last5_min_test_acc']:.2f}% | "
                    f"{r['final_train_acc']:.2f}% | {r['seconds_per_epoch']:.1f} |")
    rows.append("")
    rows.append(f"Seconds per epoch are the training pass alone, measured in the notebooks' own run "
                f"({runs_text(folder, detail=True)}).")
    return "\n".join(rows)


def seeds_table(folder: Path, name: str = "part3_seeds") -> str:
    s = load_results(name, folder)
    rows = ["| seed | final test acc | best test acc | worst of last 5 | final train acc | s / epoch | device, torch |",
            "|---:|---:|---:|---:|---:|---:|---|"]
    for seed, r in s["per_seed"].items():
        rows.append(f"| {seed} | {r['final_test_acc']:.2f}% | {r['best_test_acc']:.2f}% | "
                    f"{r['last5_min_test_acc']:.2f}% | {r['final_train_acc']:.2f}% | {r['seconds_per_epoch']:.1f} | "
                    f"{r.get('device', '?')}, {r.get('torch_version', '?')} |")
    part = name.split("_")[0]
    if "cpu_kind" in s:
        rows += ["", f"CPU kind: {s['cpu_kind']}; command: `{s.get('command', f'python -m tools.sweep --part {part}')}`."]
    rows += ["", f"Mean final test accuracy ± std: **{s['final_test_acc_mean']:.2f} ± {s['final_test_acc_std']:.2f}%**. "
                 f"Against the target: {TARGETS[part].sweep_verdict(s)}."]
    if name.startswith("part3_seeds"):
        goal = PART3_MARGIN_GOAL
        mean_ok = s["final_test_acc_mean"] >= goal["mean_final_test_acc"]
        worst_ok = s["worst_last5_min_test_acc"] >= goal["worst_last5_min_test_acc"]
        rows.append(f"The margin goal beyond the target (`PART3_MARGIN_GOAL`): a mean of at least "
                    f"{goal['mean_final_test_acc']}% ({'met' if mean_ok else 'not met'}: {s['final_test_acc_mean']:.3f}%) "
                    f"and every seed's worst of the last 5 epochs at least {goal['worst_last5_min_test_acc']}% "
                    f"({'met' if worst_ok else 'not met'}: {s['worst_last5_min_test_acc']:.2f}%).")
    return "\n".join(rows)


def extra_seeds_table(folder: Path, names=("part4_more_seeds", "part4_more_seeds_avx2", "part4_w095_seeds")) -> str:
    """Part-4 members on seeds beyond the target's: one row per run, from each of ``names`` that exists."""
    rows = [f"| file | width | params | seed | final test acc | worst of last 5 | holds {FRONTIER_BAR}% | "
            f"holds the target, {TARGETS['part4'].accuracy}% |", "|---|---:|---:|---:|---:|---:|---|---|"]
    for name in names:
        if not (folder / f"{name}.json").is_file():
            continue
        for seed, r in load_results(name, folder)["per_seed"].items():
            holds = r["last5_min_test_acc"] >= FRONTIER_BAR
            target = r["last5_min_test_acc"] >= TARGETS["part4"].accuracy
            rows.append(f"| {name}.json | {r['width']:g} | {r['params']:,} | {seed} | {r['final_test_acc']:.2f}% | "
                        f"{r['last5_min_test_acc']:.2f}% | {'yes' if holds else 'no'} | {'yes' if target else 'no'} |")
    return "\n".join(rows)


def kind_sweeps(folder: Path, name: str) -> dict[str, dict]:
    """{CPU kind: sweep} for ``results/NAME.json`` (AVX-512) and ``results/NAME_avx2.json`` (AVX2), where present."""
    return {kind: load_results(name + suffix, folder) for suffix, kind in KIND_SUFFIXES.items()
            if (folder / f"{name}{suffix}.json").is_file()}


def held_text(target, sweeps: dict[str, dict], worst: bool = True) -> str:
    """How many seeds hold ``target`` on each CPU kind, e.g. "**12 of 12** on AVX-512, **11 of 12** on AVX2
    (seeds 0–11); worst: seed 3, 99.43% (AVX-512), seed 5, 99.38% (AVX2)"."""
    counts, lows, missed = [], [], []
    for kind, sweep in sweeps.items():
        held, total, worst_seed, low = target.sweep_holds(sweep)
        counts.append(f"**{held} of {total}** on {kind}")
        lows.append(f"seed {worst_seed}, {low:.2f}% ({kind})")
        missing = target.missing_seeds(sweep)
        if held < total or missing:
            missed.append(kind + (f" ({seed_range(missing)} not run)" if missing else ""))
    ranges = {seed_range(s["seeds"]) for s in sweeps.values()}
    text = f"{', '.join(counts)} ({'; '.join(sorted(ranges))})"
    if not worst:  # seeds beyond the target's: counted, not judged
        return text
    return text + "; worst: " + ", ".join(lows) + (f"; target NOT met on {' and '.join(missed)}" if missed else "")


def own_seed_text(target, kind: str, sweep: dict) -> str:
    """A target on one run, swept on a kind: "holds on AVX2 (seed 1)", or "4 of 5 on AVX2 (seeds 0–4)"."""
    held, total, _, _ = target.sweep_holds(sweep)
    seeds = sorted(int(seed) for seed in sweep["per_seed"])
    if total == 1:
        return f"{'holds' if held else 'MISSES'} on {kind} (seed {seeds[0]})"
    return f"{held} of {total} on {kind} ({seed_range(seeds)})"


def epoch_seconds_text(part: str, folder: Path) -> str:
    """"X s on AVX-512 (device) and Y s on AVX2 (device)": per kind, the median over its sweep's seeds of each
    run's median training epoch (a seed slowed by other work on the machine does not move it)."""
    sweeps = kind_sweeps(folder, f"{part}_seeds")
    return " and ".join(f"{statistics.median(r['seconds_per_epoch'] for r in s['per_seed'].values()):.1f} s "
                        f"on {kind} ({next(iter(s['per_seed'].values()))['device']})" for kind, s in sweeps.items())


def run_margins_table(folder: Path) -> str:
    """Each notebook's own seed on each CPU kind: the worst of its target's last epochs and its margin."""
    rows = ["| part | seed | CPU kind | target | worst of its last epochs | margin | from |", "|---|---:|---|---:|---:|---:|---|"]
    for name, title in PARTS.items():
        target = TARGETS[name]
        seed = NOTEBOOK_SEED  # the sweeps' run of each notebook's committed seed
        for kind, sweep in kind_sweeps(folder, f"{name}_seeds").items():
            run = sweep["per_seed"].get(str(seed))
            if run is None:
                continue
            low = worst_of_last(run, target.last_epochs)
            rows.append(f"| {title} | {seed} | {kind} | {target.accuracy}% | {low:.2f}% | {low - target.accuracy:+.2f} | "
                        f"`{sweep.get('command', f'python -m tools.sweep --part {name}')}` |")
    return "\n".join(rows + ["", f"Every notebook's own seed keeps a margin of at least {RUN_MARGIN} points on both kinds "
                                 f"(`RUN_MARGIN`; tests/test_repository.py checks it)."])


def parts_table(folder: Path) -> str:
    """The README's one table of the course: each part's run and how many swept seeds hold its target."""
    rows = ["| notebook | what it adds | params | final test acc | target | seeds that hold the target |",
            "|---|---|---:|---:|---|---|"]
    for name, title in PARTS.items():
        if not (folder / f"{name}.json").is_file():
            continue
        r, target = load_results(name, folder), TARGETS[name]
        sweeps = kind_sweeps(folder, f"{name}_seeds")
        if target.seeds and sweeps:
            seeds = held_text(target, sweeps)
            more = kind_sweeps(folder, f"{name}_more_seeds")  # the same model on seeds beyond the target's
            if more:
                seeds += "; beyond the target, " + held_text(target, more, worst=False)
        elif target.seeds:
            seeds = "not swept yet"
        elif sweeps:  # a target on the notebook's own seed: each CPU kind's seeds, counted
            seeds = ", ".join(own_seed_text(target, kind, sweep) for kind, sweep in sweeps.items())
        else:
            seeds = f"{'holds' if not target.problems(r['params'], r['history']['test_acc']) else 'MISSES'} on seed {r['seed']} (not swept)"
        budget = f"{'≤' if target.params_inclusive else '<'} {target.max_params:,} params"
        held_in = "the final epoch" if target.last_epochs == 1 else f"each of the last {target.last_epochs}"
        rows.append(f"| [{title}]({_notebook_link(name)}) | {ADDS[name]} | {r['params']:,} | {r['final_test_acc']:.2f}% "
                    f"| {budget}, ≥ {target.accuracy}% in {held_in} of {target.max_epochs} epochs | {seeds} |")
    rows += ["", f"Final test accuracy: the notebook's committed run ({runs_text(folder)}), at its last epoch. "
                 "Seeds: `python -m tools.sweep` reruns the notebook once per seed ([all runs](docs/results.md))."]
    goal = PART3_MARGIN_GOAL
    for kind, s in kind_sweeps(folder, "part3_seeds").items():
        mean, worst = s["final_test_acc_mean"], s["worst_last5_min_test_acc"]
        rows.append(f"Part-3's margin goal beyond its target on {kind}, a mean final of at least "
                    f"{goal['mean_final_test_acc']}% and every seed at least {goal['worst_last5_min_test_acc']}% in its "
                    f"last 5 epochs: the mean is {'met' if mean >= goal['mean_final_test_acc'] else 'not met'} "
                    f"({mean:.2f}%), the worst seed {'met' if worst >= goal['worst_last5_min_test_acc'] else 'not met'} "
                    f"({worst:.2f}%).")
    if kind_sweeps(folder, "part3_seeds"):
        rows.append(f"A Part-3 training epoch takes about {epoch_seconds_text('part3', folder)}.")
    small = [p for name in ("part4_frontier", "part4_separable", "frontier_confirm") if (folder / f"{name}.json").is_file()
             for p in load_results(name, folder)["points"] if p["params"] <= PART4_AIM_PARAMS]
    if small:
        held = [p for p in small if p["all_seeds_hold_target"]]
        rows.append(f"Part-4 aimed at {PART4_AIM_PARAMS:,} parameters: {len(held)} of the {len(small)} members measured "
                    f"that small hold {FRONTIER_BAR}% on every seed they ran.")
    if (folder / "frontier_confirm.json").is_file():
        for p in load_results("frontier_confirm", folder)["points"]:
            ran = {str(s) for s in PART4_AIM_SEEDS} <= set(map(str, p["seeds"]))
            held = seeds_holding(p, FRONTIER_BAR)
            met = ran and held == len(p["per_seed"]) and p["params"] <= PART4_AIM_PARAMS
            rows.append(f"The member chosen for that aim on the validation split, {p['label']} ({p['params']:,} "
                        f"parameters), tested once on {seed_range(sorted(p['seeds']))} ({p['cpu_kind']}): "
                        f"{held} of {len(p['per_seed'])} seeds hold {FRONTIER_BAR}% in each of their "
                        f"last 5 epochs; mean final {p['final_test_acc_mean']:.2f}%, worst {p['worst_last5_min_test_acc']:.2f}%: "
                        f"the aim is {'met' if met else 'NOT met'}.")
    return "\n".join(rows)


def step_breakdown_table(folder: Path) -> str:
    """docs/speed.md: a Part-3 training step per phase on each CPU kind (``python -m benchmarks.step_breakdown
    --kinds ... --save``), each setting's milliseconds per step and the ratio to the first kind."""
    b = load_results("benchmark_step_breakdown", folder)
    first = next(iter(b["results"].values()))
    kinds = [r["cpu_kind"] for r in first.values()]
    rows = ["| setting | phase | " + " | ".join(f"{k} (ms)" for k in kinds) + " | " +
            " | ".join(f"{k.split()[0]} / {kinds[0].split()[0]}" for k in kinds[1:]) + " |",
            "|---|---|" + "---:|" * (2 * len(kinds) - 1)]
    for setting, by_kind in b["results"].items():
        runs = list(by_kind.values())
        for phase in (*runs[0]["ms_per_step"], "epoch"):
            if phase == "epoch":
                values = [sum(r["ms_per_step"].values()) * r["steps_per_epoch"] / 1000 for r in runs]
                cells = [f"**{v:.2f} s**" for v in values]
            else:
                values = [r["ms_per_step"][phase] for r in runs]
                cells = [f"{v:.2f}" for v in values]
            rows.append(f"| {setting} | {phase} | " + " | ".join(cells) + " | " +
                        " | ".join(f"{v / values[0]:.2f}×" for v in values[1:]) + " |")
    rows += ["", f"Batch {runs[0]['batch_size']}, {runs[0]['steps_per_epoch']} steps per epoch, on "
                 f"{runs[0]['threads']} threads (1 for the 1-thread setting), torch {b['torch_version']}; each kind and "
                 f"setting in a fresh process: `{b['command']}`."]
    return "\n".join(rows)


def stress_digits_table(folder: Path) -> str:
    """docs/results.md: the Part-3 model on each kind of digit image (``python -m tools.stress_digits --score --save``)."""
    b = load_results("stress_digits", folder)
    rows = ["| kind of image | right | of | accuracy | refused |", "|---|---:|---:|---:|---:|"]
    for kind, entry in b["kinds"].items():
        name = "plain 28×28 MNIST inputs (reference)" if kind == "reference" else kind.replace("_", " ")
        rows.append(f"| {name} | {entry['right']} | {entry['of']} | {entry['accuracy']:.1f}% | {entry['refused']} |")
    rows += ["", f"{b['per_class']} MNIST test digits of each class, the same digits for every kind; "
                 f"the Part-3 model in `{b['model']}` (seed {b['model_seed']}), rescored whenever `scripts/run_all.sh` "
                 f"retrains it; `{b['command']}`."]
    return "\n".join(rows)


def benchmark_table(folder: Path) -> str:
    b = load_results("benchmark_pipeline", folder)
    rows = ["| pipeline (Part-3 model and augmentation) | seconds for one epoch | images / s |", "|---|---:|---:|"]
    for name, ips in b["images_per_second"].items():
        rows.append(f"| {name} | {b['seconds'][name]:.1f} | {ips:,.0f} |")
    rows += ["", f"**ratio: {b['ratio']:.2f}×** (batched over DataLoader); "
                 f"**{b['ratio_with_cpu_settings']:.2f}×** with the CPU settings (last row over first). "
                 f"Median of {b['repeats']} fresh-process runs each, {b['images']:,} images, {b['device']}, "
                 f"DataLoader workers: {b['dataloader_workers']}, torch {b['torch_version']}."]
    return "\n".join(rows)


def frontier_table(folder: Path) -> str:
    f = load_results("part4_frontier", folder)
    rows = ["| width | params | seeds | mean final test acc | worst of last 5 | every seed holds 99.4% | "
            "mean final train acc (augmented) | CPU s / epoch |", "|---:|---:|---|---:|---:|---|---:|---:|"]
    for p in f["points"]:
        train = sum(r["final_train_acc"] for r in p["per_seed"].values()) / len(p["per_seed"])
        rows.append(f"| {p['width']:g} | {p['params']:,} | {', '.join(map(str, p['seeds']))} | "
                    f"{p['final_test_acc_mean']:.2f} ± {p['final_test_acc_std']:.2f}% | "
                    f"{p['worst_last5_min_test_acc']:.2f}% | {'yes' if p['all_seeds_hold_target'] else 'no'} | "
                    f"{train:.2f}% | {p['seconds_per_epoch']:.1f} |")
    first = f["points"][0]
    rows += ["", f"{first['device']}, torch {first['torch_version']}."]
    return "\n".join(rows)


def web_update_table(folder: Path) -> str:
    """docs/speed.md: the drawing page's warm update per model (``python -m benchmarks.web_update --save``)."""
    b = load_results("benchmark_web", folder)
    rows = ["| model | stages shown | median update | 90th percentile |", "|---|---:|---:|---:|"]
    for name, r in b["models"].items():
        rows.append(f"| {name} | {r['stages']} | {r['median_ms']:.1f} ms | {r['p90_ms']:.1f} ms |")
    rows += ["", f"{b['what']}; {b['browser']}, single-threaded onnxruntime-web, on {b['cpu_kind']}; "
                 f"{next(iter(b['models'].values()))['updates']} warm updates per model (`{b['command']}`). "
                 "A frame at 60 Hz is 16.7 ms."]
    return "\n".join(rows)


def notebook_before_after_table(folder: Path) -> str:
    b = load_results("benchmark_notebook_before_after", folder)
    rows = [f"| revision | training + testing over {b['runs']['current'][0]['epochs']} epochs (s), each run | median (s) |",
            "|---|---|---:|"]
    for name, runs in b["runs"].items():
        label = f"{b['current']} (now)" if name == "current" else name
        seconds = [r["seconds"] for r in runs]
        rows.append(f"| {label} | {', '.join(f'{x:.1f}' for x in seconds)} | {statistics.median(seconds):.1f} |")
    steps = b["step_breakdown"]
    total = sum(steps["ms_per_step"].values())
    rows += ["", f"**{b['part']} notebook, before / now: {b['speedup']:.2f}×** ({b['device']}, torch {b['torch_version']}; "
                 f"`python -m benchmarks.notebook_before_after --base {b['base']} --repeats {b['repeats']} --save`).", "",
             f"Where a training step of the current notebook goes (batch {steps['batch_size']}, "
             f"{steps['steps_per_epoch']} steps per epoch):", "", "| phase | ms per step | share |", "|---|---:|---:|"]
    for name, ms in steps["ms_per_step"].items():
        rows.append(f"| {name} | {ms:.2f} | {100 * ms / total:.0f}% |")
    return "\n".join(rows)


def gpu_benchmark_table(folder: Path) -> str:
    if not (folder / "benchmark_gpu.json").is_file():
        return ("No GPU figures are committed yet. On any CUDA machine, `python -m benchmarks.gpu --save` writes "
                "`results/benchmark_gpu.json`, and `python -m tools.readme` turns it into this table.")
    b = load_results("benchmark_gpu", folder)
    modes = list(next(iter(b["seconds_per_epoch"].values())))
    rows = ["| model | " + " | ".join(f"{m} (s / epoch)" for m in modes) + " |",
            "|---|" + "---:|" * len(modes)]
    for part, seconds in b["seconds_per_epoch"].items():
        rows.append(f"| {PARTS.get(part, part)} | " + " | ".join(f"{seconds[m]:.2f}" for m in modes) + " |")
    rows += ["", "Per sync-free step (ms, with a device synchronisation after each phase):", "",
             "| model | " + " | ".join(next(iter(b["breakdown_ms_per_step"].values()))) + " |",
             "|---|" + "---:|" * len(next(iter(b["breakdown_ms_per_step"].values())))]
    for part, phases in b["breakdown_ms_per_step"].items():
        rows.append(f"| {PARTS.get(part, part)} | " + " | ".join(f"{v:.3f}" for v in phases.values()) + " |")
    if "together" in b:
        one, *more = b["together"].items()
        rows += ["", "Part-3's recipe for many seeds at once, as one stacked model (`python -m tools.sweep --together`):",
                 "", "| seeds | s / epoch | × one seed's |", "|---|---:|---:|"]
        for label, t in (one, *more):
            rows.append(f"| {label} | {t['seconds_per_epoch']:.3f} | "
                        f"{t['seconds_per_epoch'] / one[1]['seconds_per_epoch']:.2f} |")
    rows += ["", f"Median of {b['epochs']} epochs after {b['warmup_epochs']} untimed, on {b['device']}, "
                 f"torch {b['torch_version']}."]
    return "\n".join(rows)


def part_result(name: str, folder: Path) -> str:
    r = load_results(name, folder)
    return (f"Parameters **{r['params']:,}** · final test accuracy **{r['final_test_acc']:.2f}%** · "
            f"best {r['best_test_acc']:.2f}% (epoch {r['best_epoch']}) · worst of last 5 "
            f"{r['last5_min_test_acc']:.2f}% · final train accuracy {r['final_train_acc']:.2f}% · "
            f"{r['seconds_per_epoch']:.1f} s per training epoch (seed {r['seed']}, {r['epochs']} epochs).")


def generated_blocks(folder: Path | None = None) -> dict[str, str]:
    """README blocks for every results file present (a part that has not run yet has none)."""
    folder = folder or _results_folder()
    has = lambda name: (folder / f"{name}.json").is_file()
    blocks = {"parts": parts_table(folder), "results": results_table(folder),
              "gpu-benchmark": gpu_benchmark_table(folder)}
    if has("part3_seeds"):
        blocks["seeds"] = seeds_table(folder)
    if has("part3_seeds_avx2"):
        blocks["seeds-avx2"] = seeds_table(folder, "part3_seeds_avx2")
    blocks["run-margins"] = run_margins_table(folder)
    for part in ("part1", "part2"):  # targets on the notebook's own seed, swept on more seeds on a kind
        for suffix in KIND_SUFFIXES:
            if has(f"{part}_seeds{suffix}") and len(load_results(f"{part}_seeds{suffix}", folder)["per_seed"]) > 1:
                blocks[f"{part}-seeds{suffix.replace('_', '-')}"] = seeds_table(folder, f"{part}_seeds{suffix}")
    if has("part3_ablation"):
        from .experiment_tables import ablation_table
        blocks["part3-ablation"] = "```\n" + ablation_table(load_results("part3_ablation", folder)) + "\n```"
    for part in ("part2", "part3"):
        if has(f"ladder_{part}"):
            blocks[f"ladder-{part}"] = "```\n" + ladder_table(load_results(f"ladder_{part}", folder)) + "\n```"
    blocks.update(_recipe_search_blocks(folder))
    if has("part4_seeds"):
        blocks["part4-seeds"] = seeds_table(folder, "part4_seeds")
    if has("part4_seeds_avx2"):
        blocks["part4-seeds-avx2"] = seeds_table(folder, "part4_seeds_avx2")
    if has("part4_more_seeds"):
        blocks["part4-more-seeds"] = extra_seeds_table(folder)
    if has("part4_frontier"):
        blocks["frontier"] = frontier_table(folder)
    if has("part4_separable"):
        from .experiment_tables import changes_table, separable_table
        blocks["part4-separable"] = separable_table(load_results("part4_separable", folder)["points"])
        blocks["part4-changes"] = changes_table(load_results("part4_separable", folder)["points"])
    part4_screen = folder.parent / "experiments" / "part4_family" / "screen.json"
    if part4_screen.is_file():
        from .experiment_tables import separable_screen_table
        blocks["part4-screen"] = separable_screen_table(load_results("screen", part4_screen.parent)["points"])
    if has("frontier_screen"):
        blocks["frontier-screen"] = "```\n" + screen_table(load_results("frontier_screen", folder)) + "\n```"
    if has("frontier_confirm"):
        blocks["frontier-confirm"] = "```\n" + frontier_text(load_results("frontier_confirm", folder)["points"]) + "\n```"
    if has("benchmark_pipeline"):
        blocks["benchmark"] = benchmark_table(folder)
    if has("stress_digits"):
        blocks["stress-digits"] = stress_digits_table(folder)
    if has("benchmark_step_breakdown"):
        blocks["step-breakdown-kinds"] = step_breakdown_table(folder)
    if has("benchmark_web"):
        blocks["web-update"] = web_update_table(folder)
    if has("benchmark_notebook_before_after"):
        blocks["notebook-before-after"] = notebook_before_after_table(folder)
    for name in PARTS:
        if has(name):
            blocks[f"{name}-result"] = part_result(name, folder)
            blocks[f"{name}-summary"] = "```\n" + load_results(name, folder)["model_summary"] + "\n```"
    return blocks


def _recipe_search_blocks(folder: Path) -> dict[str, str]:
    """The recipe search's tables (docs/part3_recipe.md), from experiments/part3_recipe/ and the sweeps."""
    from .experiment_tables import design_tradeoff_table, paired_sweep_table, pilot_table

    blocks = {}
    has = lambda name: (folder / f"{name}.json").is_file()
    if has("part3_no_gentle_seeds") and has("part3_lr02_seeds"):
        blocks["part3-peak-seeds"] = "```\n" + paired_sweep_table(
            load_results("part3_lr02_seeds", folder), load_results("part3_no_gentle_seeds", folder),
            "peak LR 0.2", "peak LR 0.8") + "\n```"
    if has("part3_no_gentle_seeds") and has("part3_seeds"):
        blocks["part3-gentle-seeds"] = "```\n" + paired_sweep_table(
            load_results("part3_no_gentle_seeds", folder), load_results("part3_seeds", folder),
            "full augmentation", "Part-3 now") + "\n```"
    if has("part3_no_smoothing_seeds") and has("part3_seeds"):
        blocks["part3-smoothing-seeds"] = "```\n" + paired_sweep_table(
            load_results("part3_no_smoothing_seeds", folder), load_results("part3_seeds", folder),
            "no label smoothing", "Part-3 now") + "\n```"
    screen_file = folder.parent / "experiments" / "fast_recipe" / "screen.json"
    if screen_file.is_file():
        from .experiment_tables import speed_screen_table
        blocks["speed-screen"] = speed_screen_table(load_results("screen", screen_file.parent))
    pilots_file = folder.parent / "experiments" / "part3_recipe" / "pilots.json"
    if pilots_file.is_file():
        pilots = load_results("pilots", pilots_file.parent)
        tables = [pilot_table(r, TARGETS["part3"].accuracy) for r in pilots["rounds"]]
        if "cpu_seconds_per_epoch" in pilots:
            tables.append(design_tradeoff_table(pilots))
        blocks["part3-pilots"] = "```\n" + "\n\n".join(tables) + "\n```"
    return blocks


_ANY_BLOCK = re.compile(r"<!-- generated:([\w-]+) -->")


def _pattern(name: str) -> re.Pattern:
    return re.compile(rf"(<!-- generated:{re.escape(name)} -->\n)(.*?)(\n<!-- /generated:{re.escape(name)} -->)", re.S)


def _documents(root: Path) -> dict[str, str]:
    return {name: (root / name).read_text(encoding="utf-8") for name in DOCUMENTS if (root / name).is_file()}


def readme_problems(root: Path | None = None, folder: Path | None = None) -> list[str]:
    """Blocks of the README and docs that are missing, repeated or differ from what the JSON generates."""
    root = root or _results_folder().parent
    texts = _documents(root)
    blocks = generated_blocks(folder)
    problems = [f"{doc}: block '{name}' has no results file behind it"
                for doc, text in texts.items() for name in _ANY_BLOCK.findall(text) if name not in blocks]
    for name, body in blocks.items():
        found = [(doc, m) for doc, text in texts.items() for m in _pattern(name).finditer(text)]
        if len(found) != 1:
            problems.append(f"block '{name}' appears {len(found)} times in {', '.join(DOCUMENTS)}; it needs exactly one "
                            f"<!-- generated:{name} --> ... <!-- /generated:{name} --> block")
        elif found[0][1].group(2) != body:
            problems.append(f"{found[0][0]}: block '{name}' differs from results/*.json; run python -m tools.readme")
    return problems


def update_readme(root: Path | None = None, folder: Path | None = None) -> None:
    """Rewrite every generated block of the README and docs; raise if a block is missing or repeated."""
    root = root or _results_folder().parent
    texts = _documents(root)
    blocks = generated_blocks(folder)
    for name in blocks:
        count = sum(len(_pattern(name).findall(text)) for text in texts.values())
        if count != 1:
            raise ValueError(f"{', '.join(DOCUMENTS)} need exactly one <!-- generated:{name} --> ... "
                             f"<!-- /generated:{name} --> block in all, found {count}")
    for doc, text in texts.items():
        for name, body in blocks.items():
            text = _pattern(name).sub(lambda m: m.group(1) + body + m.group(3), text)
        write_atomic(root / doc, text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.readme", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report differences, change nothing")
    args = parser.parse_args(argv)
    if args.check:
        problems = readme_problems()
        print("\n".join(problems) or "README and docs agree with results/*.json")
        return 1 if problems else 0
    update_readme()
    print("README and docs tables regenerated from results/*.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
