"""Generate the research write-ups' tables (``lab/*.md``) from their results files, as ``scripts.readme``
does for the README and ``docs/results.md``.

    python -m lab.tables [--check]
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from mnist_helpers.paths import repo_root
from mnist_helpers.results import leave_one_out_table, load_results
from mnist_helpers.targets import TARGETS
from scripts.readme import PARTS, readme_problems, update_readme

from . import RESULTS
from .experiment_tables import ablation_table, changes_table, separable_screen_table, separable_table

LAB = Path(__file__).resolve().parent
DOCUMENTS = ("lab/part3_recipe.md", "lab/speed.md", "lab/part4_family.md")


def tuning_table(study: dict) -> str:
    """``lab.ladder``'s tuning file (``--tune``) as a table: what changing one setting of the recipe gained in
    validation images at the final epoch and in the worst of the last 5 (mean over seeds, range), and whether it is
    worth changing by the course's rule read the other way: a gain on average and on at least 4 of every 5 seeds."""
    width = max(30, *(len(branch["change"]) for branch in study["branches"]))
    lines = [f"{'changed':<{width}} {'images gained, final':>21} {'images gained, worst of last 5':>31} {'worth changing':>15}"]
    for branch in study["branches"]:
        s = branch.get("summary") or {}
        if "images_gained_last5" not in s or len(s["images_gained_last5"]["per_seed"]) < len(study["rungs"][0]["per_seed"]):
            lines.append(f"{branch['change']:<{width}} not measured on every seed yet")
            continue
        cells = [f"{s[k]['mean']:+.1f} ({s[k]['min']:+d} to {s[k]['max']:+d})" for k in ("images_gained", "images_gained_last5")]
        gains = s["images_gained_last5"]["per_seed"]
        worth = statistics.fmean(gains) > 0 and sum(g > 0 for g in gains) >= -(-4 * len(gains) // 5)
        lines.append(f"{branch['change']:<{width}} {cells[0]:>21} {cells[1]:>31} {'yes' if worth else 'no':>15}")
    top = study["rungs"][0]["summary"]
    lines.append(f"the recipe itself: {top['final_val_acc_mean']:.2f}% mean final, worst of the last 5 epochs over its "
                 f"seeds {top['worst_last5_min_val_acc']:.2f}%")
    lines.append(f"validation split, seeds {', '.join(map(str, top['seeds']))}; {study['cpu_kind']}; `{study['command']}`")
    return "\n".join(lines)


def time_to_accuracy_table(folder: Path) -> str:
    """lab/speed.md: ``python -m lab.benchmarks.time_to_accuracy --save``, each recipe's seeds that reached 99.0% and
    99.4%, the median seconds of training to each, as a fraction of the example's (99.0%) and of Part-3's (99.4%)."""
    b = load_results("benchmark_time_to_accuracy", folder)
    rows = ["| recipe | epochs | median s per epoch | 99.0%: seeds | median s | of the example's | 99.4%: seeds | "
            "median s | of Part-3's |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, per_seed in b["runs"].items():
        epochs = sorted({len(r["acc"]) for r in per_seed.values()})
        per_epoch = statistics.median(x for r in per_seed.values() for x in r["epoch_seconds"])
        cells = []
        for t, against in (("99", "example"), ("99.4", "part3")):
            cell, base = b["summary"][name][t], b["summary"].get(against, {}).get(t, {}).get("median_seconds")
            median = cell["median_seconds"]
            cells += [f"{cell['reached']} of {cell['seeds']}", "not reached" if median is None else f"{median:.1f}",
                      "-" if name == against or not (base and median) else f"1/{base / median:.1f}"]
        rows.append(f"| {name} | {'–'.join(map(str, (epochs[0], epochs[-1]))) if len(epochs) > 1 else epochs[0]} | "
                    f"{per_epoch:.1f} | " + " | ".join(cells) + " |")
    seeds = sorted({int(k) for r in b["runs"].values() for k in r})
    return "\n".join(rows) + (f"\n\nSeeds {', '.join(map(str, seeds))}, {b['split']} split, {b['device']}, {b['cpu_kind']}, "
                              f"torch {b['torch_version']}: `{b['command']}`.")


def time_to_accuracy_screen_table(folder: Path) -> str:
    """lab/speed.md: ``python -m lab.benchmarks.time_to_accuracy --split val --save``, the levers screened on the
    validation split: each recipe's change from the first, its mean final accuracy, the validation images it gained
    over the first (paired by seed), its median seconds per epoch and its speed against the first."""
    b = load_results("benchmark_time_to_accuracy_val", folder)
    names = list(b["runs"])
    first, base_runs = b["recipes"][names[0]], b["runs"][names[0]]
    base_epoch = statistics.median(x for r in base_runs.values() for x in r["epoch_seconds"])
    rows = [f"| recipe | change from {names[0]} | mean final | images gained | median s per epoch | speed |",
            "|---|---|---:|---:|---:|---:|"]
    for name in names:
        runs, recipe = b["runs"][name], b["recipes"][name]
        change = ", ".join(f"{k} {first[k]} → {v}" for k, v in recipe.items() if first.get(k) != v) or "-"
        gains = [round((r["acc"][-1] - base_runs[seed]["acc"][-1]) * 100) for seed, r in runs.items() if seed in base_runs]
        per_epoch = statistics.median(x for r in runs.values() for x in r["epoch_seconds"])
        gained = "-" if name == names[0] else f"{statistics.fmean(gains):+.1f} ({min(gains):+d} to {max(gains):+d})"
        rows.append(f"| {name} | {change} | {statistics.fmean(r['acc'][-1] for r in runs.values()):.2f}% | {gained} | "
                    f"{per_epoch:.1f} | {base_epoch / per_epoch:.2f}× |")
    seeds = sorted({int(k) for r in b["runs"].values() for k in r})
    return "\n".join(rows) + (f"\n\nValidation split (10,000 images held out of the training set), seeds "
                              f"{', '.join(map(str, seeds))}, {b['device']}, {b['cpu_kind']}, torch {b['torch_version']}: "
                              f"`{b['command']}`.")


def step_breakdown_table(folder: Path) -> str:
    """lab/speed.md: a Part-3 training step per phase on each CPU kind (``python -m lab.benchmarks.step_breakdown
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


def web_update_table(folder: Path) -> str:
    """lab/speed.md: the drawing page's warm update per model (``python -m lab.benchmarks.web_update --save``)."""
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
        label = f"{b['current']} (after)" if name == "current" else name
        seconds = [r["seconds"] for r in runs]
        rows.append(f"| {label} | {', '.join(f'{x:.1f}' for x in seconds)} | {statistics.median(seconds):.1f} |")
    steps = b["step_breakdown"]
    total = sum(steps["ms_per_step"].values())
    rows += ["", f"**{b['part']} notebook, before / after: {b['speedup']:.2f}×** ({b['device']}, torch {b['torch_version']}; "
                 f"`python -m lab.benchmarks.notebook_before_after --base {b['base']} --repeats {b['repeats']} --save`).", "",
             f"Where a training step of the current notebook goes (batch {steps['batch_size']}, "
             f"{steps['steps_per_epoch']} steps per epoch):", "", "| phase | ms per step | share |", "|---|---:|---:|"]
    for name, ms in steps["ms_per_step"].items():
        rows.append(f"| {name} | {ms:.2f} | {100 * ms / total:.0f}% |")
    return "\n".join(rows)


def gpu_benchmark_table(folder: Path) -> str:
    if not (folder / "benchmark_gpu.json").is_file():
        return ("No GPU figures are committed yet. On any CUDA machine, `python -m lab.benchmarks.gpu --save` writes "
                "`lab/results/benchmark_gpu.json`, and `python -m lab.tables` turns it into this table.")
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
        rows += ["", "Part-3's recipe for many seeds at once, as one stacked model (`python -m lab.sweep --together`):",
                 "", "| seeds | s / epoch | × one seed's |", "|---|---:|---:|"]
        for label, t in (one, *more):
            rows.append(f"| {label} | {t['seconds_per_epoch']:.3f} | "
                        f"{t['seconds_per_epoch'] / one[1]['seconds_per_epoch']:.2f} |")
    rows += ["", f"Median of {b['epochs']} epochs after {b['warmup_epochs']} untimed, on {b['device']}, "
                 f"torch {b['torch_version']}."]
    return "\n".join(rows)


def _recipe_search_blocks(folder: Path, lab: Path = RESULTS) -> dict[str, str]:
    """The recipe search's tables (lab/part3_recipe.md), from lab/part3_recipe/, the studies and the sweeps: the
    course's in ``folder`` (``results/``), the ones only the lab reads in ``lab`` (``lab/results/``)."""
    from lab.experiment_tables import design_tradeoff_table, paired_sweep_table, pilot_table

    blocks = {}
    has = lambda name: (folder / f"{name}.json").is_file()
    in_lab = lambda name: (lab / f"{name}.json").is_file()
    if has("leave_one_out_part3"):
        blocks["part3-leave-one-out"] = "```\n" + leave_one_out_table(load_results("leave_one_out_part3", folder)) + "\n```"
    if in_lab("leave_one_out_part3_shift"):
        blocks["part3-leave-one-out-shift"] = "```\n" + leave_one_out_table(
            load_results("leave_one_out_part3_shift", lab)) + "\n```"
    if in_lab("tuning_part3"):
        blocks["part3-tuning"] = "```\n" + tuning_table(load_results("tuning_part3", lab)) + "\n```"
    if has("part3_seeds_avx2") and has("part3_shift_seeds_avx2"):
        shifted = load_results("part3_shift_seeds_avx2", folder)
        blocks["part3-shift-seeds"] = "```\n" + paired_sweep_table(
            load_results("part3_seeds_avx2", folder), shifted, "no shift",
            f"shifts ±{shifted['recipe']['TRANSLATE']:g} px") + "\n```"
    if in_lab("part3_no_gentle_seeds") and in_lab("part3_lr02_seeds"):
        blocks["part3-peak-seeds"] = "```\n" + paired_sweep_table(
            load_results("part3_lr02_seeds", lab), load_results("part3_no_gentle_seeds", lab),
            "peak LR 0.2", "peak LR 0.8") + "\n```"
    if has("leave_one_out_part3_unpruned"):
        blocks["part3-leave-one-out-unpruned"] = "```\n" + leave_one_out_table(
            load_results("leave_one_out_part3_unpruned", folder)) + "\n```"
    if in_lab("part3_no_gentle_seeds") and has("part3_unpruned_seeds"):
        blocks["part3-gentle-seeds"] = "```\n" + paired_sweep_table(
            load_results("part3_no_gentle_seeds", lab), load_results("part3_unpruned_seeds", folder),
            "full augmentation", "gentle epochs") + "\n```"
    if in_lab("part3_no_smoothing_seeds") and has("part3_unpruned_seeds"):
        blocks["part3-smoothing-seeds"] = "```\n" + paired_sweep_table(
            load_results("part3_no_smoothing_seeds", lab), load_results("part3_unpruned_seeds", folder),
            "no label smoothing", "smoothing 0.1") + "\n```"
    screen_file = LAB / "fast_recipe" / "screen.json"
    if screen_file.is_file():
        from lab.experiment_tables import speed_screen_table
        blocks["speed-screen"] = speed_screen_table(load_results("screen", screen_file.parent))
    pilots_file = LAB / "part3_recipe" / "pilots.json"
    if pilots_file.is_file():
        pilots = load_results("pilots", pilots_file.parent)
        tables = [pilot_table(r, TARGETS["part3"].accuracy) for r in pilots["rounds"]]
        if "cpu_seconds_per_epoch" in pilots:
            tables.append(design_tradeoff_table(pilots))
        blocks["part3-pilots"] = "```\n" + "\n\n".join(tables) + "\n```"
    return blocks


def research_blocks(folder: Path | None = None, lab: Path = RESULTS) -> dict[str, str]:
    """The blocks of the research write-ups, for every results file present: the course's ``folder``
    (``results/``: sweeps, the separable family, the time-to-accuracy benchmark Part-5 reads) and the lab's own
    ``lab`` (the other benchmarks, the ablation)."""
    folder = folder or repo_root() / "results"  # the committed files, whatever $MNIST_RESULTS_DIR says
    has = lambda name: (lab / f"{name}.json").is_file()
    blocks = {"gpu-benchmark": gpu_benchmark_table(lab), **_recipe_search_blocks(folder, lab)}
    if has("part3_ablation"):
        blocks["part3-ablation"] = "```\n" + ablation_table(load_results("part3_ablation", lab)) + "\n```"
    if (folder / "part4_separable.json").is_file():
        blocks["part4-separable"] = separable_table(load_results("part4_separable", folder)["points"])
        blocks["part4-changes"] = changes_table(load_results("part4_separable", folder)["points"])
    if (LAB / "part4_family" / "screen.json").is_file():
        blocks["part4-screen"] = separable_screen_table(load_results("screen", LAB / "part4_family")["points"])
    for block, name, table in (("benchmark", "benchmark_pipeline", benchmark_table),
                               ("step-breakdown-kinds", "benchmark_step_breakdown", step_breakdown_table),
                               ("web-update", "benchmark_web", web_update_table),
                               ("notebook-before-after", "benchmark_notebook_before_after", notebook_before_after_table)):
        if has(name):
            blocks[block] = table(lab)
    for block, name, table in (("time-to-accuracy", "benchmark_time_to_accuracy", time_to_accuracy_table),  # Part-5 reads
                               ("time-to-accuracy-levers", "benchmark_time_to_accuracy_val", time_to_accuracy_screen_table)):
        if (folder / f"{name}.json").is_file():
            blocks[block] = table(folder)
    return blocks


def problems(root: Path | None = None, folder: Path | None = None) -> list[str]:
    return readme_problems(root, folder, DOCUMENTS, research_blocks(folder), command="python -m lab.tables")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.tables", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report differences, change nothing")
    args = parser.parse_args(argv)
    if args.check:
        found = problems()
        print("\n".join(found) or "the research write-ups agree with their results files")
        return 1 if found else 0
    update_readme(documents=DOCUMENTS, blocks=research_blocks())
    print("research write-ups' tables regenerated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
