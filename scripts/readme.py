"""Generate the tables of the README and of ``docs/*.md`` from ``results/*.json``.

``python -m scripts.readme`` rewrites every block between ``<!-- generated:NAME -->`` and
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
from mnist_helpers.recipes import notebook_recipe
from mnist_helpers.results import (frontier_text, ladder_table, load_results, pooled_margin, screen_table,
                                   seeds_holding, write_atomic)
from mnist_helpers.targets import (FRONTIER_BAR, NOTEBOOK_SEED, PART3_MARGIN_GOAL, PART4_AIM_PARAMS, PART4_AIM_SEEDS,
                                   RUN_MARGIN, TARGETS, seed_range, worst_of_last)

DOCUMENTS = ("README.md", "docs/results.md")

PARTS = {
    "part1": "Part-1 · skeleton",
    "part2": "Part-2 · BatchNorm, dropout, GAP",
    "part3": "Part-3 · augmentation, LR schedule",
    "part4": "Part-4 · how small can it get?",
    "part5": "Part-5 · as fast as it can",
}


def adds(part: str, run: dict) -> str:
    """What ``part`` adds, for the course table; the numbers come from the notebooks' recipe cells and ``run``."""
    if part == "part1":
        return "the data, the loop, the plots; a light model with no BatchNorm"
    if part == "part2":
        return (f"BatchNorm and the higher learning rate it allows, global average pooling instead of the big last "
                f"kernel, {notebook_recipe('part2')['DROPOUT']:.0%} dropout; a ladder measures each")
    r = notebook_recipe("part3")
    if part == "part3":
        return (f"rotation ±{r['DEGREES']}° and a {r['CROP_SIZE']}×{r['CROP_SIZE']} centre crop (p = {r['CROP_PROB']:g}); "
                "a warm-up/cosine LR schedule" + (", averaged weights" if r["EMA_DECAY"] else "")
                + "; each idea taken out once, to see what it bought")
    if part == "part5":
        r5 = notebook_recipe("part5")
        return (f"time to accuracy against PyTorch's MNIST example: a profile of a step, the speed levers one at a time, "
                f"and a model built for speed, trained for {r5['EPOCHS']} epochs with the training loop in view")
    return ("Part-3's layout and recipe at several widths, and a second family with depthwise-separable "
            f"convolutions: parameters against accuracy; trains width {run['width']:g}")


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
        rows += ["", f"CPU kind: {s['cpu_kind']}; command: `{s.get('command', f'python -m lab.sweep --part {part}')}`."]
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


def not_swept_text(name: str, folder: Path) -> str:
    """What a seeds block says while its sweep of the current recipe is not committed."""
    part, suffix = name.split("_")[0], name.removeprefix(name.split("_seeds")[0] + "_seeds")
    kind = KIND_SUFFIXES.get(suffix, suffix)
    unpruned = name.replace(f"{part}_", f"{part}_unpruned_", 1)
    text = (f"Not swept on {kind} with the current recipe yet: `python -m lab.sweep --part {part}` on such a machine "
            f"writes `results/{name}.json`.")
    if (folder / f"{unpruned}.json").is_file():
        text += f" The recipe Part-3 was pruned from was swept there: `results/{unpruned}.json`."
    return text


def extra_seeds_table(folder: Path, names=("part4_more_seeds", "part4_more_seeds_avx2")) -> str:
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


def runs_held_text(target, sweeps: dict[str, dict], judged: bool = True) -> str:
    """The course table's count over every CPU kind's sweep, e.g. "23 of 24 runs (seeds 0–11 on AVX-512 and
    AVX2): **NOT met**"; ``judged``: a target on every seed, met only when every run of every target seed holds."""
    held = total = 0
    seeds, missing = {}, False
    for kind, sweep in sweeps.items():
        h, n, _, _ = target.sweep_holds(sweep)
        held, total = held + h, total + n
        ran = sorted(int(seed) for seed in sweep["per_seed"])
        seeds[kind] = seed_range(ran) if len(ran) > 1 else f"seed {ran[0]}"
        missing = missing or bool(target.missing_seeds(sweep))
    if len(set(seeds.values())) == 1:
        where = f"{next(iter(seeds.values()))} on {' and '.join(seeds)}"
    else:
        where = "; ".join(f"{kind}: {ranged}" for kind, ranged in seeds.items())
    text = f"{held} of {total} runs ({where})"
    return text + (": **NOT met**" if judged and (held < total or missing) else "")


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
                        f"`{sweep.get('command', f'python -m lab.sweep --part {name}')}` |")
    return "\n".join(rows + ["", f"Every notebook's own seed keeps a margin of at least {RUN_MARGIN} points on both kinds "
                                 f"(`RUN_MARGIN`; tests/test_repository.py checks it)."])


def time_to_accuracy_text(folder: Path, name: str, target) -> str:
    """How ``name``'s committed time to its accuracy (``python -m lab.benchmarks.time_to_accuracy --save``) stands
    against its time target, a fraction of PyTorch's example's time on the same machine."""
    if not (folder / "benchmark_time_to_accuracy.json").is_file():
        return "time: not measured (`python -m lab.benchmarks.time_to_accuracy --save`)"
    b = load_results("benchmark_time_to_accuracy", folder)
    if name not in b["summary"] or "example" not in b["summary"]:
        return f"time: the committed benchmark has no {name} and example runs"
    mine, example = (b["summary"][n][f"{target.accuracy:g}"] for n in (name, "example"))
    if mine["median_seconds"] is None or example["median_seconds"] is None:
        return f"time: {target.accuracy}% not reached in the committed benchmark: **NOT met**"
    ratio = example["median_seconds"] / mine["median_seconds"]
    met = mine["reached"] == mine["seeds"] and 1 / ratio <= target.time_fraction
    return (f"time: 1/{ratio:.0f} of the example's on {b['cpu_kind']} (seeds "
            f"{', '.join(b['runs'][name])}){'' if met else ': **NOT met**'}")


def parts_table(folder: Path) -> str:
    """The README's one table of the course: each part's run and how many swept seeds hold its target."""
    rows = ["| notebook | what it adds | params | final test acc | target | runs that hold the target |",
            "|---|---|---:|---:|---|---|"]
    for name, title in PARTS.items():
        if not (folder / f"{name}.json").is_file():
            continue
        r, target = load_results(name, folder), TARGETS[name]
        sweeps = kind_sweeps(folder, f"{name}_seeds")
        if sweeps:
            seeds = runs_held_text(target, sweeps, judged=bool(target.seeds))
            missing = [kind for kind in KIND_SUFFIXES.values() if kind not in sweeps]
            if missing:
                seeds += f"; not swept on {' or '.join(missing)} yet"
            more = kind_sweeps(folder, f"{name}_more_seeds")  # the same model on seeds beyond the target's
            if more:
                seeds += "; beyond the target, " + runs_held_text(target, more, judged=False)
        elif target.seeds:
            seeds = "not swept yet"
        else:
            seeds = f"{'holds' if not target.problems(r['params'], r['history']['test_acc']) else 'MISSES'} on seed {r['seed']} (not swept)"
        budget = f"{'≤' if target.params_inclusive else '<'} {target.max_params:,} params"
        held_in = "the final epoch" if target.last_epochs == 1 else f"each of the last {target.last_epochs}"
        timed = ""
        if target.time_fraction is not None:
            timed = f", in ≤ 1/{1 / target.time_fraction:g} of PyTorch's example's time to 99.0%"
            seeds += "; " + time_to_accuracy_text(folder, name, target)
        rows.append(f"| [{title}]({_notebook_link(name)}) | {adds(name, r)} | {r['params']:,} | {r['final_test_acc']:.2f}% "
                    f"| {budget}, ≥ {target.accuracy}% in {held_in} of {target.max_epochs} epochs{timed} | {seeds} |")
    rows += ["", f"Final test accuracy: the notebook's committed run ({runs_text(folder)}), at its last epoch. A run is "
                 "one seed on one kind of CPU arithmetic, AVX-512 or AVX2 (most laptops), which round differently "
                 "([every run and the margins](docs/results.md))."]
    return "\n".join(rows)


def course_notes(folder: Path) -> str:
    """docs/results.md, under the course table: each part's seeds per CPU kind, the margin goals, the epoch time
    and Part-4's aim."""
    rows = []
    for name, title in PARTS.items():
        target, sweeps = TARGETS[name], kind_sweeps(folder, f"{name}_seeds")
        if sweeps and target.seeds:
            rows.append(f"{title}: {held_text(target, sweeps)}.")
        elif sweeps:
            rows.append(f"{title}: " + ", ".join(own_seed_text(target, kind, sweep) for kind, sweep in sweeps.items()) + ".")
    goal = PART3_MARGIN_GOAL
    for kind, s in kind_sweeps(folder, "part3_seeds").items():
        mean, worst = s["final_test_acc_mean"], s["worst_last5_min_test_acc"]
        rows.append(f"Part-3's margin goal beyond its target on {kind}, a mean final of at least "
                    f"{goal['mean_final_test_acc']}% and every seed at least {goal['worst_last5_min_test_acc']}% in its "
                    f"last 5 epochs: the mean is {'met' if mean >= goal['mean_final_test_acc'] else 'not met'} "
                    f"({mean:.2f}%), the worst seed {'met' if worst >= goal['worst_last5_min_test_acc'] else 'not met'} "
                    f"({worst:.2f}%).")
    pooled = pooled_margin(kind_sweeps(folder, "part3_seeds").values())
    if pooled is not None:
        n, mean, std, floor = pooled
        rows.append(f"Part-3's {n} committed runs pooled: mean final {mean:.2f}%, standard deviation {std:.3f} points; "
                    f"mean - 3 sd = {floor:.2f}%, "
                    f"{'above' if floor >= TARGETS['part3'].accuracy else 'below'} the target's {TARGETS['part3'].accuracy}%.")
    if kind_sweeps(folder, "part3_seeds"):
        rows.append(f"A Part-3 training epoch takes about {epoch_seconds_text('part3', folder)}.")
    small = [p for name in ("part4_frontier", "part4_separable", "frontier_confirm") if (folder / f"{name}.json").is_file()
             for p in load_results(name, folder)["points"] if p["params"] <= PART4_AIM_PARAMS]
    if small:
        held = [p for p in small if p["all_seeds_hold_target"]]
        rows.append(f"Part-4 aims at {PART4_AIM_PARAMS:,} parameters: {len(held)} of the {len(small)} members measured "
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
    return "\n".join(f"- {row}" for row in rows)


def stress_digits_table(folder: Path) -> str:
    """docs/results.md: the Part-3 model on each kind of digit image (``python -m scripts.stress_digits --score --save``)."""
    b = load_results("stress_digits", folder)
    rows = ["| kind of image | right | of | accuracy | refused |", "|---|---:|---:|---:|---:|"]
    for kind, entry in b["kinds"].items():
        name = {"reference": "plain 28×28 MNIST inputs (reference)",
                "coarse_scan_reference": "plain 28×28 inputs of the coarse scans' digits (reference)"}.get(
                    kind, kind.replace("_", " "))
        rows.append(f"| {name} | {entry['right']} | {entry['of']} | {entry['accuracy']:.1f}% | {entry['refused']} |")
    rows += ["", f"{b['per_class']} MNIST test digits of each class, the same digits for every kind but the coarse "
                 f"scans, which render {b['per_class_coarse_scan']} of each class; "
                 f"the Part-3 model in `{b['model']}` (seed {b['model_seed']}), rescored whenever `scripts/run_all.sh` "
                 f"retrains it; `{b['command']}`."]
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
    blocks = {"parts": parts_table(folder), "course-notes": course_notes(folder), "results": results_table(folder)}
    for block, name in (("seeds", "part3_seeds"), ("seeds-avx2", "part3_seeds_avx2"), ("part4-seeds", "part4_seeds"),
                        ("part4-seeds-avx2", "part4_seeds_avx2"), ("part5-seeds", "part5_seeds"),
                        ("part5-seeds-avx2", "part5_seeds_avx2")):
        blocks[block] = seeds_table(folder, name) if has(name) else not_swept_text(name, folder)
    blocks["run-margins"] = run_margins_table(folder)
    for part in ("part1", "part2"):  # targets on the notebook's own seed, swept on more seeds on a kind
        for suffix in KIND_SUFFIXES:
            if has(f"{part}_seeds{suffix}") and len(load_results(f"{part}_seeds{suffix}", folder)["per_seed"]) > 1:
                blocks[f"{part}-seeds{suffix.replace('_', '-')}"] = seeds_table(folder, f"{part}_seeds{suffix}")
    for part in ("part2", "part3"):
        blocks[f"ladder-{part}"] = ("```\n" + ladder_table(load_results(f"ladder_{part}", folder)) + "\n```"
                                    if has(f"ladder_{part}") else
                                    f"Not measured for the current recipe yet: `python -m lab.ladder --part {part}` writes "
                                    f"`results/ladder_{part}.json`.")
    if has("part4_more_seeds") or has("part4_more_seeds_avx2"):
        blocks["part4-more-seeds"] = extra_seeds_table(folder)
    if has("part4_frontier"):
        blocks["frontier"] = frontier_table(folder)
    if has("frontier_screen"):
        blocks["frontier-screen"] = "```\n" + screen_table(load_results("frontier_screen", folder)) + "\n```"
    if has("frontier_confirm"):
        blocks["frontier-confirm"] = "```\n" + frontier_text(load_results("frontier_confirm", folder)["points"]) + "\n```"
    if has("stress_digits"):
        blocks["stress-digits"] = stress_digits_table(folder)
    for name in PARTS:
        if has(name):
            blocks[f"{name}-result"] = part_result(name, folder)
            blocks[f"{name}-summary"] = "```\n" + load_results(name, folder)["model_summary"] + "\n```"
    return blocks


_ANY_BLOCK = re.compile(r"<!-- generated:([\w-]+) -->")


def _pattern(name: str) -> re.Pattern:
    return re.compile(rf"(<!-- generated:{re.escape(name)} -->\n)(.*?)(\n<!-- /generated:{re.escape(name)} -->)", re.S)


def _documents(root: Path, documents=DOCUMENTS) -> dict[str, str]:
    return {name: (root / name).read_text(encoding="utf-8") for name in documents if (root / name).is_file()}


def readme_problems(root: Path | None = None, folder: Path | None = None, documents=DOCUMENTS, blocks=None,
                    command: str = "python -m scripts.readme") -> list[str]:
    """Blocks of ``documents`` that are missing, repeated or differ from what the JSON generates (``blocks``:
    the course's, by default; ``lab.tables`` passes the research documents and their blocks)."""
    root = root or _results_folder().parent
    texts = _documents(root, documents)
    blocks = generated_blocks(folder) if blocks is None else blocks
    problems = [f"{doc}: block '{name}' has no results file behind it"
                for doc, text in texts.items() for name in _ANY_BLOCK.findall(text) if name not in blocks]
    for name, body in blocks.items():
        found = [(doc, m) for doc, text in texts.items() for m in _pattern(name).finditer(text)]
        if len(found) != 1:
            problems.append(f"block '{name}' appears {len(found)} times in {', '.join(documents)}; it needs exactly one "
                            f"<!-- generated:{name} --> ... <!-- /generated:{name} --> block")
        elif found[0][1].group(2) != body:
            problems.append(f"{found[0][0]}: block '{name}' differs from results/*.json; run {command}")
    return problems


def update_readme(root: Path | None = None, folder: Path | None = None, documents=DOCUMENTS, blocks=None) -> None:
    """Rewrite every generated block of ``documents``; raise if a block is missing or repeated."""
    root = root or _results_folder().parent
    texts = _documents(root, documents)
    blocks = generated_blocks(folder) if blocks is None else blocks
    for name in blocks:
        count = sum(len(_pattern(name).findall(text)) for text in texts.values())
        if count != 1:
            raise ValueError(f"{', '.join(documents)} need exactly one <!-- generated:{name} --> ... "
                             f"<!-- /generated:{name} --> block in all, found {count}")
    for doc, text in texts.items():
        for name, body in blocks.items():
            text = _pattern(name).sub(lambda m: m.group(1) + body + m.group(3), text)
        write_atomic(root / doc, text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.readme", description=__doc__.splitlines()[0])
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
