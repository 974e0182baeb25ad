"""Tables of the Part-3 pilot runs (``experiments/part3_recipe/pilots.json``, from ``pilots.py`` beside this file)."""
from __future__ import annotations


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
        design = run["config"]["design"]
        if config_change(run["config"], base) not in ("-", f"design={design}") or design not in cpu:
            continue
        lines.append(f"{design:<7} {run['params']:>6,} {cpu[design]:>11.2f} {run['final_test_acc_mean']:>7.3f} ± "
                     f"{run['final_test_acc_std']:.3f} {run['worst_last5_min_test_acc']:>14.2f}%")
    return "\n".join(lines)


def paired_sweep_table(before: dict, after: dict, before_label: str, after_label: str) -> str:
    """Two seed sweeps (``tools.sweep`` results) side by side on their common seeds: each seed's final accuracy and
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
