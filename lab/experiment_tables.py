"""Tables of the research's result files, for the write-ups (``lab.tables``) and the scripts' own output.

They read saved results only, never the code that made them.
- the Part-3 recipe search: ``lab/part3_recipe/pilots.json`` and the sweeps (``pilot_table`` ...);
- the speed screen: ``lab/fast_recipe/screen.json`` (``speed_screen_table``);
- Part-4's separable family: ``results/part4_separable.json`` and ``lab/part4_family/screen.json``.
"""
from __future__ import annotations

import statistics


def config_change(config: dict, baseline: dict) -> str:
    """What ``config`` changes relative to ``baseline``, as ``key=value`` pairs ("-" for none)."""
    changes = [f"{key}={value:g}" if isinstance(value, float) else f"{key}={value}"
               for key, value in config.items() if baseline.get(key) != value]
    return ", ".join(changes) or "-"


def pilot_table(round_: dict, target: float) -> str:
    """One round of pilots as text: each config's change, mean final accuracy ± std, its difference from the
    round's ``baseline`` config (default ``base``), the worst of the last 5 epochs, and how many seeds held
    ``target`` in all of their last 5 epochs."""
    configs, baseline = round_["configs"], round_.get("baseline", "base")
    if baseline not in configs:
        raise KeyError(f"round {round_.get('name')!r} has no {baseline!r} config to compare with")
    base = configs[baseline]
    seeds = round_["seeds"]
    lines = [f"{round_['name']}: {round_['device']}, seeds {seeds[0]}-{seeds[-1]} ({len(seeds)} seeds)",
             f"{'config':<15} {'change from ' + baseline:<40} {'params':>6} {'mean final':>14} {'diff':>6} "
             f"{'worst of last 5':>15} {'held':>6}"]
    for name, run in configs.items():
        per_seed = run.get("per_seed")
        held = (f"{sum(r['last5_min_test_acc'] >= target for r in per_seed.values())}/{len(per_seed)}"
                if per_seed else "-")
        diff = run["final_test_acc_mean"] - base["final_test_acc_mean"]
        lines.append(f"{name:<15} {config_change(run['config'], base['config']):<40} {run['params']:>6,} "
                     f"{run['final_test_acc_mean']:>7.3f} ± {run['final_test_acc_std']:.3f} {diff:>+6.3f} "
                     f"{run['worst_last5_min_test_acc']:>14.2f}% {held:>6}")
    return "\n".join(lines)


def design_tradeoff_table(pilots: dict, round_name: str = "round 1", target: float = 99.4) -> str:
    """The designs of one round next to their CPU seconds per training epoch (``pilots['cpu_seconds_per_epoch']``,
    all measured in one run): params, CPU time, mean final accuracy and worst of the last 5 epochs."""
    round_ = next((r for r in pilots["rounds"] if r["name"] == round_name), None)
    if round_ is None:
        raise KeyError(f"no round named {round_name!r} in the pilots")
    cpu = pilots["cpu_seconds_per_epoch"]
    base = round_["configs"]["base"]["config"]
    lines = [f"designs with the recipe of {round_name} ({round_['device']}, {len(round_['seeds'])} seeds); "
             f"CPU seconds per training epoch from one run ({cpu['threads']} threads, torch {cpu['torch_version']})",
             f"{'design':<7} {'params':>6} {'CPU s/epoch':>11} {'mean final':>14} {'worst of last 5':>15}"]
    for run in round_["configs"].values():
        design = run["config"]["DESIGN"]
        if config_change(run["config"], base) not in ("-", f"DESIGN={design}") or design not in cpu:
            continue
        lines.append(f"{design:<7} {run['params']:>6,} {cpu[design]:>11.2f} {run['final_test_acc_mean']:>7.3f} ± "
                     f"{run['final_test_acc_std']:.3f} {run['worst_last5_min_test_acc']:>14.2f}%")
    return "\n".join(lines)


def paired_sweep_table(before: dict, after: dict, before_label: str, after_label: str) -> str:
    """Two seed sweeps (``lab.sweep`` results) side by side on their common seeds: each seed's final accuracy and
    worst of the last 5 epochs before and after, and the mean difference of the finals."""
    seeds = [s for s in after["per_seed"] if s in before["per_seed"]]
    if not seeds:
        raise ValueError("the two sweeps have no seed in common")
    lines = [f"{'':>4} {before_label:>26} {after_label:>26}",
             f"{'seed':>4} {'final':>10} {'worst of last 5':>15} {'final':>10} {'worst of last 5':>15} {'diff':>6}"]
    diffs = []
    for seed in seeds:
        b, a = before["per_seed"][seed], after["per_seed"][seed]
        diffs.append(a["final_test_acc"] - b["final_test_acc"])
        lines.append(f"{seed:>4} {b['final_test_acc']:>9.2f}% {b['last5_min_test_acc']:>14.2f}% "
                     f"{a['final_test_acc']:>9.2f}% {a['last5_min_test_acc']:>14.2f}% {diffs[-1]:>+6.2f}")
    mean = lambda runs, key: sum(runs[s][key] for s in seeds) / len(seeds)
    worst = lambda runs: min(runs[s]["last5_min_test_acc"] for s in seeds)
    held = lambda runs, target: sum(runs[s]["last5_min_test_acc"] >= target for s in seeds)
    target = after.get("target", 99.4)
    lines.append(f"{'mean':>4} {mean(before['per_seed'], 'final_test_acc'):>9.3f}% {'':>15} "
                 f"{mean(after['per_seed'], 'final_test_acc'):>9.3f}% {'':>15} {sum(diffs) / len(diffs):>+6.3f}")
    lines.append(f"worst of the last 5 epochs: {worst(before['per_seed']):.2f}% before, {worst(after['per_seed']):.2f}% after; "
                 f"seeds holding {target}% in all of their last 5 epochs: {held(before['per_seed'], target)}/{len(seeds)} "
                 f"before, {held(after['per_seed'], target)}/{len(seeds)} after")
    return "\n".join(lines)


def _change(cfg: dict, base: dict) -> str:
    """What a speed-screen config changes from the screen's baseline config ``base``, in words."""
    labels = {"BATCH_SIZE": "batch {}", "PEAK_LR": "peak {}", "EMA_DECAY": "EMA {}",
              "LABEL_SMOOTHING": "label smoothing {}"}
    parts = [labels[k].format(v) for k, v in cfg.items() if k in labels and v != base[k]]
    if cfg["STEM"] != base["STEM"]:
        parts.append("6×6 stride-2 stem")
    if cfg.get("LATE_POOL"):
        parts.append("second pool one block later")
    if cfg["GENTLE_EPOCHS"]:
        parts.append(f"last {cfg['GENTLE_EPOCHS']} epochs " +
                     (f"±{cfg['GENTLE_DEGREES']:g}°, no crop" if cfg["GENTLE_DEGREES"] else "not augmented"))
    return ", ".join(parts) or "the notebook's recipe before its gentle last epochs"


def speed_screen_table(saved: dict, baseline: str = "now") -> str:
    """Markdown: each config against ``baseline`` on the seeds both ran (paired), with the epoch times of
    ``--time`` (a dash where a config was not timed)."""
    base = saved[baseline]["per_seed"]
    timing = saved.get("_timing", {}).get("seconds_per_epoch", {})
    lines = ["| config | change | seeds | mean final | paired diff. | worst of last 5 | s per epoch | speed |",
             "|---|---|---|---:|---:|---:|---:|---:|"]
    for name, entry in saved.items():
        if name.startswith("_"):
            continue
        seeds = [s for s in entry["per_seed"] if s in base]
        if not seeds:
            continue
        runs = [entry["per_seed"][s] for s in seeds]
        diff = statistics.fmean(r["final_test_acc"] - base[s]["final_test_acc"] for r, s in zip(runs, seeds))
        timed = name in timing and baseline in timing
        lines.append(f"| {name} | {_change(entry['config'], saved[baseline]['config'])} | {_seed_range(seeds)} | "
                     f"{statistics.fmean(r['final_test_acc'] for r in runs):.3f} | "
                     f"{'-' if name == baseline else f'{diff:+.3f}'} | "
                     f"{min(r['last5_min_test_acc'] for r in runs):.2f} | "
                     f"{f'{timing[name]:.2f}' if timed else '-'} | "
                     f"{f'{timing[baseline] / timing[name]:.2f}×' if timed else '-'} |")
    return "\n".join(lines)


def _seed_range(seeds: list[str]) -> str:
    ints = sorted(int(s) for s in seeds)
    if len(ints) == 1:
        return str(ints[0])
    return f"{ints[0]}–{ints[-1]}" if ints == list(range(ints[0], ints[-1] + 1)) else ", ".join(map(str, ints))


def separable_table(points) -> str:
    """Markdown: one row per member of the family, by parameters."""
    lines = ["| member | c2 | c3 | params | seeds | mean final | worst of last 5 | every seed holds 99.4% | s per epoch |",
             "|---|---:|---:|---:|---|---:|---:|---|---:|"]
    points = sorted(points, key=lambda p: p["params"])
    for p in points:
        lines.append(f"| {p['label']} | {p['c2']} | {p['c3']} | {p['params']:,} | {', '.join(map(str, p['seeds']))} | "
                     f"{p['final_test_acc_mean']:.2f} ± {p['final_test_acc_std']:.2f}% | "
                     f"{p['worst_last5_min_test_acc']:.2f}% | {'yes' if p['all_seeds_hold_target'] else 'no'} | "
                     f"{p['seconds_per_epoch']:.1f} |")
    devices = sorted({p["device"] for p in points})
    return "\n".join(lines) + f"\n\n{', '.join(devices)}, torch {points[0]['torch_version']}."


def _paired(p: dict, base: dict) -> tuple[list[str], float, float]:
    """The seeds that member ``p`` and member ``base`` both ran, and the mean final accuracy of each on them."""
    seeds = [s for s in p["per_seed"] if s in base["per_seed"]]
    means = [statistics.fmean(m["per_seed"][s]["final_test_acc"] for s in seeds) if seeds else float("nan")
             for m in (p, base)]
    return seeds, means[0], means[1]


def separable_screen_table(points, baseline: str = "c2=22") -> str:
    """Markdown: each screened member against ``baseline`` on the seeds both ran (paired)."""
    points = {p["label"]: p for p in points}
    base = points[baseline]
    lines = [f"| member | params | seeds | mean final | paired diff. vs {baseline} | worst of last 5 |",
             "|---|---:|---|---:|---:|---:|"]
    for label, p in points.items():
        seeds, mean, base_mean = _paired(p, base)
        if not seeds:
            continue
        lines.append(f"| {label} | {p['params']:,} | {', '.join(seeds)} | {mean:.3f}% | "
                     f"{'-' if label == baseline else f'{mean - base_mean:+.3f}'} | "
                     f"{min(p['per_seed'][s]['last5_min_test_acc'] for s in seeds):.2f}% |")
    return "\n".join(lines)


def changes_table(points) -> str:
    """Markdown: each member trained with a change (``--set``, ``--mid-bn``) against the same member without
    it, on the seeds both ran (paired)."""
    by_label = {p["label"]: p for p in points}
    lines = ["| member | params | change | seeds | mean final, without | with | paired diff. | worst of last 5, with "
             "| train acc, without | with |",
             "|---|---:|---|---|---:|---:|---:|---:|---:|---:|"]
    for p in sorted(points, key=lambda p: p["params"]):
        base_label, _, change = p["label"].partition(", ")
        base = by_label.get(base_label)
        if not change or base is None:
            continue
        seeds, with_, without = _paired(p, base)
        if not seeds:
            continue
        train = [statistics.fmean(m["per_seed"][s]["final_train_acc"] for s in seeds) for m in (base, p)]
        lines.append(f"| {base_label} | {p['params']:,} | {change} | {', '.join(seeds)} | {without:.3f}% | {with_:.3f}% | "
                     f"{with_ - without:+.3f} | {min(p['per_seed'][s]['last5_min_test_acc'] for s in seeds):.2f}% | "
                     f"{train[0]:.2f}% | {train[1]:.2f}% |")
    return "\n".join(lines)


def ablation_table(ablation: dict) -> str:
    """Rows of ``results/partN_ablation.json``: each recipe choice against the alternative it was measured
    against, on the same seeds (same batches and draws), as mean final test accuracies (%) and their paired
    difference (recipe - alternative, in points: positive when the recipe's choice scored higher)."""
    rows = [f"{'this recipe':<28} {'alternative':<28} {'seeds':>5} {'recipe':>8} {'altern.':>8} {'diff.':>7}  measured on"]
    for row in ablation["rows"]:
        seeds = sorted(set(row["with"]) & set(row["without"]), key=int)
        if not seeds:
            raise ValueError(f"ablation row {row['choice']!r} has no seed measured both ways")
        with_ = sum(row["with"][s] for s in seeds) / len(seeds)
        without = sum(row["without"][s] for s in seeds) / len(seeds)
        rows.append(f"{row['choice']:<28} {row['compared_with']:<28} {len(seeds):>5} {with_:>7.3f}% {without:>7.3f}% "
                    f"{with_ - without:>+7.3f}  {row['measured_on']}")
    return "\n".join(rows)
