"""Run summaries: what each notebook writes to ``results/partN.json``."""
from __future__ import annotations

import json
import math
import os
import platform
import statistics
import tempfile
from pathlib import Path

import torch

from .cpu_kind import KIND_SUFFIXES, cpu_kind
from .paths import repo_root, results_dir
from .targets import seed_range, worst_of_last


def summarize(history) -> dict:
    """Headline numbers from a history (accuracies in percent)."""
    h = history.to_dict() if hasattr(history, "to_dict") else dict(history)
    if not h.get("test_acc"):
        raise ValueError("the history is empty: train for at least one epoch")
    seconds = h["epoch_seconds"]
    return {
        "final_test_acc": h["test_acc"][-1],
        "best_test_acc": max(h["test_acc"]),
        "best_epoch": int(max(range(len(h["test_acc"])), key=h["test_acc"].__getitem__)) + 1,
        "last5_min_test_acc": min(h["test_acc"][-5:]),
        "final_train_acc": h["train_acc"][-1],
        "seconds_per_epoch": statistics.median(seconds),  # the median: one slow epoch (another process) does not move it
    }


def device_description(device) -> str:
    device = torch.device(device)
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        return f"cpu ({torch.get_num_threads()} threads, {platform.machine()}, {cpu_kind()})"
    return f"{device.type} ({torch.get_num_threads()} threads, {platform.machine()})"


def build_results(*, params: int, seed: int, history, device) -> dict:
    """The dict saved as ``results/partN.json``."""
    h = history.to_dict() if hasattr(history, "to_dict") else dict(history)
    kind = {"cpu_kind": cpu_kind()} if torch.device(device).type == "cpu" else {}
    return {"params": params, "epochs": len(h["test_acc"]), "seed": seed, "history": h,
            **summarize(h), "device": device_description(device), **kind, "torch_version": torch.__version__}


def write_atomic(path: Path, content: str | bytes) -> Path:
    """Write ``content`` (text as UTF-8, or bytes) to ``path`` through a uniquely named file beside it, then one
    rename: a reader sees the old file or the new one, never half of one, and two writers never share a temporary
    file."""
    path = Path(path)
    data = content.encode("utf-8") if isinstance(content, str) else content
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path


def save_results(name: str, results: dict, folder: Path | None = None) -> Path:
    """Write ``results`` as ``<folder>/<name>.json`` (default folder: ``results/``), atomically."""
    folder = Path(folder) if folder is not None else results_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return write_atomic(folder / f"{name}.json", json.dumps(results, indent=1) + "\n")


def load_results(name: str, folder: Path | None = None) -> dict:
    folder = Path(folder) if folder is not None else results_dir()
    path = folder / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; run the notebook that writes it first")
    return json.loads(path.read_text(encoding="utf-8"))


def format_result(results: dict) -> str:
    """The Result lines a notebook prints, from its own run."""
    h = results["history"]
    gap = results["final_train_acc"] - results["final_test_acc"]
    return "\n".join([
        f"parameters             {results['params']:,}",
        f"epochs                 {results['epochs']} (seed {results['seed']})",
        f"final test accuracy    {results['final_test_acc']:.2f}% ({round(results['final_test_acc'] * 100):,} of the "
        f"10,000 test images right)",
        f"best test accuracy     {results['best_test_acc']:.2f}% (epoch {results['best_epoch']})",
        f"last 5 test accuracies {', '.join(f'{a:.2f}' for a in h['test_acc'][-5:])} (worst {results['last5_min_test_acc']:.2f}%)",
        f"final train accuracy   {results['final_train_acc']:.2f}% (train - test gap {gap:+.2f} points)",
        f"seconds per epoch      {results['seconds_per_epoch']:.1f} s training + "
        f"{statistics.median(h['test_seconds']):.1f} s testing (medians) on {results['device']}",
    ])


def epochs_held(test_acc, threshold: float) -> int:
    """How many final epochs in a row reached ``threshold`` (0 if the last one did not)."""
    count = 0
    for acc in reversed(list(test_acc)):
        if acc < threshold:
            break
        count += 1
    return count


def committed_results(name: str) -> dict | None:
    """``results/<name>.json`` as committed in the repository (whatever ``$MNIST_RESULTS_DIR`` says), or None
    when this is not a checkout that holds it. For the notebooks' read-only tables: sweeps, ladders, the frontier."""
    root = repo_root()
    path = root / "results" / f"{name}.json" if root is not None else None
    if path is None or not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def comparison_table(runs: dict) -> str:
    """Runs side by side, one column each (``{"Part-1": results, "Part-2": results}``): parameters, test accuracy
    after the first epoch and at the end, final train accuracy, the train - test gap, and the median epoch time."""
    rows = [("parameters", lambda r: f"{r['params']:,}"),
            ("test accuracy, epoch 1", lambda r: f"{r['history']['test_acc'][0]:.2f}%"),
            ("final test accuracy", lambda r: f"{r['final_test_acc']:.2f}%"),
            ("test images right, of 10,000", lambda r: f"{round(r['final_test_acc'] * 100):,}"),
            ("final train accuracy", lambda r: f"{r['final_train_acc']:.2f}%"),
            ("train - test gap (points)", lambda r: f"{r['final_train_acc'] - r['final_test_acc']:+.2f}"),
            ("median training s / epoch", lambda r: f"{statistics.median(r['history']['epoch_seconds']):.1f}")]
    lines = [f"{'':<26}" + "".join(f"{label:>10}" for label in runs)]
    for name, cell in rows:
        lines.append(f"{name:<26}" + "".join(f"{cell(r):>10}" for r in runs.values()))
    return "\n".join(lines)


def frontier_text(points) -> str:
    """The Part-4 frontier as a notebook prints it: one line per point of ``results/part4_frontier.json`` or
    ``results/part4_separable.json`` (a member named by its ``c2``, else by its width), by parameters."""
    lines = [f"{'member':>9} {'params':>7} {'seeds':>9} {'mean final':>11} {'worst of last 5':>16} {'holds':>6} "
             f"{'train acc':>10} {'s / epoch':>10}"]
    for p in sorted(points, key=lambda p: p["params"]):
        runs = list(p["per_seed"].values())
        train = statistics.fmean(r["final_train_acc"] for r in runs)
        seeds = f"{min(p['seeds'])}-{max(p['seeds'])}" if len(p["seeds"]) > 1 else str(p["seeds"][0])
        member = f"c2={p['c2']}" if "c2" in p else f"w={p['width']:g}"
        lines.append(f"{member:>9} {p['params']:7,} {seeds:>9} "
                     f"{p['final_test_acc_mean']:10.2f}% {p['worst_last5_min_test_acc']:15.2f}% "
                     f"{'yes' if p['all_seeds_hold_target'] else 'no':>6} {train:9.2f}% {p['seconds_per_epoch']:10.1f}")
    return "\n".join(lines)


def committed_sweeps_text(name: str, target, label: str = "committed sweep", beyond: bool = False) -> str:
    """One line per CPU kind for a committed sweep, ``results/<name>.json`` (AVX-512) and ``<name>_avx2.json``
    (AVX2): how it stands against ``target``, and its seconds per training epoch on that kind (the median over
    the seeds of each run's median). A sweep that stores another recipe than the notebook's is named, not read.
    ``beyond``: the sweep ran seeds other than the target's, so it counts the seeds that hold."""
    from .recipes import trains_with

    recipe = trains_with(name.split("_")[0])
    lines = []
    for suffix, kind in KIND_SUFFIXES.items():
        sweep = committed_results(name + suffix)
        if sweep is None:
            lines.append(f"{label} on {kind}: none (results/{name + suffix}.json; see docs/results.md for its command)")
            continue
        if sweep.get("recipe", recipe) != recipe:
            lines.append(f"{label} on {kind}: results/{name + suffix}.json ran another recipe than the notebook's; "
                         f"its command reruns it: {sweep.get('command', 'python -m lab.sweep')}")
            continue
        seconds = statistics.median(r["seconds_per_epoch"] for r in sweep["per_seed"].values())
        if beyond:
            held, total, worst_seed, worst = target.sweep_holds(sweep)
            verdict = f"{held} of {total} hold >= {target.accuracy}%; worst: seed {worst_seed} at {worst:.2f}%"
        else:
            verdict = target.sweep_verdict(sweep)
        lines.append(f"{label} on {kind}: {verdict}; {seconds:.1f} s per training epoch")
    return "\n".join(lines)


def sweeps_margin_text(name: str, target) -> str:
    """The committed sweeps ``results/<name>*.json`` of every CPU kind pooled: their mean final test accuracy minus
    3 standard deviations, where nearly every seed on every machine should land, against ``target``."""
    from .recipes import trains_with

    recipe = trains_with(name.split("_")[0])
    sweeps = {kind: committed_results(name + suffix) for suffix, kind in KIND_SUFFIXES.items()}
    sweeps = {kind: s for kind, s in sweeps.items() if s is not None and s.get("recipe", recipe) == recipe}
    pooled = pooled_margin(sweeps.values())
    if pooled is None:
        return f"margin: fewer than 2 committed runs of this recipe in results/{name}*.json"
    n, mean, std, floor = pooled
    where = ", ".join(f"{kind} {len(s['per_seed'])}" for kind, s in sweeps.items())
    return (f"margin over the {n} committed runs ({where}): mean final {mean:.2f}%, standard deviation "
            f"{std:.3f} points; mean - 3 sd = {floor:.2f}%, {'above' if floor >= target.accuracy else 'BELOW'} "
            f"the target's {target.accuracy}%")


def pooled_margin(sweeps) -> tuple[int, float, float, float] | None:
    """The final test accuracies of every run of ``sweeps`` pooled: (runs, mean, standard deviation, mean - 3 sd),
    or None with fewer than 2 runs."""
    finals = [run["final_test_acc"] for s in sweeps for run in s["per_seed"].values()]
    if len(finals) < 2:
        return None
    mean, std = statistics.fmean(finals), statistics.stdev(finals)
    return len(finals), mean, std, mean - 3 * std


def per_class_accuracy(preds, targets, num_classes: int = 10) -> dict:
    """``{digit: {"right": n, "total": n, "acc": %}}`` of predicted against true labels."""
    import torch

    p, t = torch.as_tensor(preds).long(), torch.as_tensor(targets).long()
    if p.shape != t.shape:
        raise ValueError(f"preds and targets differ in shape: {tuple(p.shape)} vs {tuple(t.shape)}")
    out = {}
    for digit in range(num_classes):
        mine = t == digit
        total, right = int(mine.sum()), int((p[mine] == digit).sum())
        out[digit] = {"right": right, "total": total, "acc": 100.0 * right / total if total else float("nan")}
    return out


def per_class_text(per_class: dict) -> str:
    """The accuracy of each digit, worst first, with how many of its test images the model got wrong."""
    rows = sorted(per_class.items(), key=lambda item: (item[1]["acc"], int(item[0])))
    return "\n".join([f"{'digit':>5} {'accuracy':>9} {'wrong':>6} {'of':>6}"] +
                     [f"{int(d):>5} {c['acc']:8.2f}% {c['total'] - c['right']:>6} {c['total']:>6}" for d, c in rows])


def _gained(rung: dict):
    return rung.get("summary", {}).get("images_gained")


def ladder_table(ladder: dict) -> str:
    """A ladder file of ``lab.ladder`` as a table: each rung's parameters, mean final validation accuracy,
    worst of the last 5 epochs over its seeds, and the validation images it gained over the previous rung
    (the mean over seeds, and the range from the worst seed to the best)."""
    lines = [f"{'rung':<64} {'params':>6} {'mean final':>10} {'worst of last 5':>15} {'images gained':>20}"]
    for rung in ladder["rungs"]:
        s = rung.get("summary")
        if s is None:
            lines.append(f"{rung['rung']}. {rung['change']:<61} not measured yet")
            continue
        g = _gained(rung)
        gained = f"{g['mean']:+.1f} ({g['min']:+d} to {g['max']:+d})" if g else ""
        lines.append(f"{str(rung['rung']) + '. ' + rung['change']:<64} {s['params']:>6,} {s['final_val_acc_mean']:9.2f}% "
                     f"{s['worst_last5_min_val_acc']:14.2f}% {gained:>20}")
    return "\n".join(lines + [_split_line(ladder, ladder["rungs"])])


def _split_line(study: dict, steps: list) -> str:
    """A ladder's or leave-one-out study's last line: its split, the seeds of ``steps``, its CPU kind."""
    seeds = sorted({seed for step in steps for seed in step.get("summary", {}).get("seeds", [])})
    return (f"validation split: {study['split']['val_images']:,} images held out of the training set (trained on the "
            f"other {study['split']['train_images']:,}); seeds {', '.join(map(str, seeds))}; {study['cpu_kind']}")


def earns_its_place(summary: dict) -> bool:
    """The course's rule for keeping an ingredient, decided on the validation split. ``summary`` is that of the
    recipe with the ingredient taken out (``lab.ladder``'s leave-one-out study): the ingredient earns its place when
    taking it out cost images in the worst of the last 5 epochs, on average and on at least 4 of every 5 seeds."""
    cost = [-gain for gain in summary["images_gained_last5"]["per_seed"]]
    return statistics.fmean(cost) > 0 and sum(c > 0 for c in cost) >= math.ceil(0.8 * len(cost))


def leave_one_out_table(study: dict) -> str:
    """``lab.ladder``'s leave-one-out file as a table: what taking each ingredient out of the recipe cost in
    validation images, at the final epoch and in the worst of the last 5 (mean over seeds, range from the
    seed it cost least to the seed it cost most), and whether the ingredient earns its place."""
    top = study["rungs"][0]
    lines = [f"{'taken out':<48} {'images cost, final':>19} {'images cost, worst of last 5':>29} {'earns its place':>16}"]
    for branch in study["branches"]:
        s = branch.get("summary")
        name = _ingredient(branch)
        paired = len(s["images_gained_last5"]["per_seed"]) if s and "images_gained_last5" in s else 0
        if not paired or paired < len(top.get("summary", {}).get("seeds", [])):  # a verdict on every seed or none
            lines.append(f"{name:<48} not measured yet ({paired} of the recipe's seeds)")
            continue
        cells = []
        for key in ("images_gained", "images_gained_last5"):
            g = s[key]
            cells.append(f"{0.0 - g['mean']:+.1f} ({-g['max']:+d} to {-g['min']:+d})")  # 0.0 - : never '-0.0'
        lines.append(f"{name:<48} {cells[0]:>19} {cells[1]:>29} {'yes' if earns_its_place(s) else 'no':>16}")
    t = top.get("summary")
    if t:
        finals = [run["final_val_acc"] for run in top["per_seed"].values()]
        apart = round((max(finals) - min(finals)) * study["split"]["val_images"] / 100)
        lines.append(f"the recipe itself: {t['final_val_acc_mean']:.2f}% mean final, worst of the last 5 epochs over its "
                     f"seeds {t['worst_last5_min_val_acc']:.2f}%; its seeds end {apart} images apart at the final epoch")
    return "\n".join(lines + [_split_line(study, study["branches"])])


def _ingredient(branch: dict) -> str:
    """The ingredient a leave-one-out branch takes out: ``"rotation"`` of ``"rotation out (DEGREES = 0)"``."""
    return branch["change"].split(" (")[0].removesuffix(" out")


def taken_out_text(study: dict, ingredient: str) -> str:
    """What taking ``ingredient`` (a row of ``leave_one_out_table``: "rotation", "EMA", ...) out of the recipe did
    to the worst of the last 5 validation epochs, paired seed by seed, as a sentence (for the exercises)."""
    found = [b for b in study["branches"] if _ingredient(b) == ingredient]
    if not found:
        raise KeyError(f"no {ingredient!r} in this study; it takes out {', '.join(map(_ingredient, study['branches']))}")
    summary = found[0].get("summary") or {}
    if "images_gained_last5" not in summary:
        return f"{found[0]['change']}: not measured yet (python -m lab.ladder --part {study['part']} --leave-one-out)"
    cost = [-gain for gain in summary["images_gained_last5"]["per_seed"]]
    mean = statistics.fmean(cost)
    effect = f"cost {mean:.1f} validation images" if mean >= 0 else f"gained {-mean:.1f} validation images"
    place = "earns its place" if earns_its_place(summary) else "does not earn its place"
    return (f"taking {found[0]['change']}: {effect} on average in the worst of the last 5 epochs ({per_seed_text(cost)}), "
            f"so by the rule the {ingredient} {place}")


def per_seed_text(cost: list[int]) -> str:
    """Images a change cost on each seed, in words: "per seed: 1, 3 and 7 fewer right, 5 more right, 1 seed the same"."""
    def listed(values):
        values = [str(v) for v in sorted(values)]
        return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " and " + values[-1]

    fewer, more, same = [c for c in cost if c > 0], [-c for c in cost if c < 0], sum(c == 0 for c in cost)
    parts = ([f"{listed(fewer)} fewer right"] if fewer else []) + ([f"{listed(more)} more right"] if more else [])
    return "per seed: " + ", ".join(parts + ([f"{same} seed{'s' * (same > 1)} the same"] if same else []))


def ladder_verdicts(ladder: dict) -> str:
    """One sentence per rung on what it bought, from its paired seeds: a gain or loss only where every seed agrees."""
    return "\n".join(f"{r['rung']}. {r['change']}: {_verdict(_gained(r))}." for r in ladder["rungs"] if _gained(r))


def _verdict(g: dict, split: str = "validation") -> str:
    """What a paired change of ``g`` (images gained per seed) bought, counted in ``split`` images."""
    n = len(g["per_seed"])
    if g["min"] > 0:
        return (f"bought {g['mean']:.0f} more {split} images right on average, on each of the {n} seeds "
                f"(from +{g['min']} to +{g['max']})")
    if g["max"] < 0:
        return (f"cost {-g['mean']:.0f} {split} images on average, on each of the {n} seeds "
                f"(from {-g['max']} to {-g['min']})")
    mean = f"{g['mean']:+.0f}"
    return (f"bought nothing clear: {mean} image{'' if mean in ('+1', '-1') else 's'} on average, "
            f"from {g['min']:+d} to {g['max']:+d} over the {n} seeds")


CHANCE_LEVEL = 20.0  # a final accuracy (%) below this means the run never trained: guessing gets 10%


def ladder_effect(ladder: dict, *, rung: int | None = None, branch: int | None = None) -> str:
    """What one rung of a ``lab.ladder`` file bought over the previous rung, or one branch over its base rung,
    as a sentence (for the exercises)."""
    if (rung is None) == (branch is None):
        raise ValueError("give exactly one of rung= or branch=")
    entries = ladder["rungs"] if rung is not None else ladder.get("branches", [])
    index = rung if rung is not None else branch
    if index >= len(entries):
        return f"{'rung' if rung is not None else 'branch'} {index}: not in this ladder file yet " \
               f"(python -m lab.ladder --part {ladder['part']})"
    entry = entries[index]
    g = entry.get("summary", {}).get("images_gained")
    if g is None:
        return f"{entry['change']}: not measured yet (python -m lab.ladder --part {ladder['part']})"
    against = "the previous rung" if rung is not None else f"rung {entry['base']}"
    text = f"{entry['change']}, against {against}: {_verdict(g)}"
    paired = [s for s in entry["per_seed"] if s in ladder["rungs"][entry.get("base", index - 1)]["per_seed"]]
    stuck = [s for s in paired if entry["per_seed"][s]["final_val_acc"] < CHANCE_LEVEL]
    if stuck and len(stuck) < len(paired):  # one run that never trained outweighs every other seed in the mean
        rest = [gain for s, gain in zip(paired, g["per_seed"]) if s not in stuck]
        firsts = "; ".join(f"seed {s}: " + ", ".join(f"{a:.2f}%" for a in entry["per_seed"][s]["val_acc"][:3])
                           + f" ... {entry['per_seed'][s]['final_val_acc']:.2f}%" for s in stuck)
        text += (f".\n   {len(stuck)} of those runs never trained, staying near chance (10%) from the first epoch (validation "
                 f"accuracy after epochs 1-3 ... at the end: {firsts}). On the other {len(rest)} seeds: "
                 + _verdict({"per_seed": rest, "mean": statistics.fmean(rest), "min": min(rest), "max": max(rest)}))
    return text


def sweep_spread_text(sweep: dict, target) -> str:
    """A notebook on several seeds (``results/partN_seeds*.json``), in two lines: each seed's final test accuracy,
    and how many standard deviations of theirs the target sits below their mean."""
    finals = {int(seed): run["final_test_acc"] for seed, run in sweep["per_seed"].items()}
    worst = min(finals, key=finals.get)
    mean, std = sweep["final_test_acc_mean"], sweep["final_test_acc_std"]
    return (f"{seed_range(sorted(finals))} ({sweep['cpu_kind']}), final test accuracy: "
            + ", ".join(f"{acc:.2f}% (seed {seed})" for seed, acc in finals.items())
            + f"\nworst {finals[worst]:.2f}% (seed {worst}), mean {mean:.2f}%, standard deviation {std:.2f} points "
              f"({std * 100:.0f} test images): the target, {target.accuracy}%, is "
              f"{(mean - target.accuracy) / std:.1f} standard deviations below the mean")


def seed_spread_text(ladder: dict, rung: int) -> str:
    """How far apart the seeds of one rung ended: the lowest and highest final validation accuracy."""
    runs = ladder["rungs"][rung]["per_seed"]
    if not runs:
        return f"rung {rung}: not measured yet"
    finals = {int(s): r["final_val_acc"] for s, r in runs.items()}
    low, high = min(finals, key=finals.get), max(finals, key=finals.get)
    apart = round((finals[high] - finals[low]) * ladder["split"]["val_images"] / 100)
    return (f"{ladder['rungs'][rung]['change']}, on seeds {', '.join(map(str, sorted(finals)))}: final validation "
            f"accuracy from {finals[low]:.2f}% (seed {low}) to {finals[high]:.2f}% (seed {high}), {apart} images apart")


def _member(p: dict) -> str:
    return p.get("label") or (f"c2={p['c2']}" if "c2" in p else f"width {p['width']:g}")


def seeds_holding(point: dict, bar: float) -> int:
    """How many of a frontier point's seeds hold ``bar`` in each of their last 5 epochs."""
    return sum(worst_of_last(run, 5) >= bar for run in point["per_seed"].values())


def _how_many(n: int, on: str) -> str:
    if n == 0:
        return f"no member that small was measured{on}"
    if n == 1:
        return f"one member that small was measured{on}, and it misses on some of them"
    return f"{n} members that small were measured{on}, and none holds on all of them"


def aim_text(families: dict, max_params: int, bar: float, seeds=()) -> str:
    """Whether any member of the frontier families (``{name: points}``) at or under ``max_params`` holds ``bar`` in
    each of its last 5 epochs on every seed it ran, all of ``seeds`` among them, and the smallest member of all
    that holds ``bar`` on every seed it ran."""
    points = [p for ps in families.values() for p in ps]
    if not points:
        return "no frontier results to judge the aim by: python -m lab.frontier computes them (docs/results.md)"
    holds = lambda p: p["worst_last5_min_test_acc"] >= bar  # noqa: E731
    small = [p for p in points if p["params"] <= max_params]
    ran_all = [p for p in small if {str(s) for s in seeds} <= set(map(str, p["seeds"]))]
    held_small = [p for p in ran_all if holds(p)]
    on = f" on every one of {seed_range(seeds)}" if seeds else " on every seed"
    verdict = (f"aim (at most {max_params:,} parameters, >= {bar}% in each of the last 5 epochs{on}): "
               + ("MET by " + ", ".join(_member(p) for p in held_small) if held_small else
                  "NOT met: " + _how_many(len(ran_all), on)))
    for p in sorted(ran_all, key=lambda p: -p["final_test_acc_mean"])[:1]:
        verdict += (f"\nthe best measured{on}: {_member(p)}, {p['params']:,} parameters, mean final {p['final_test_acc_mean']:.2f}%, "
                    f"worst epoch {p['worst_last5_min_test_acc']:.2f}%, {seeds_holding(p, bar)} of "
                    f"{len(p['per_seed'])} seeds hold")
    held = sorted((p for p in points if holds(p)), key=lambda p: p["params"])
    if held:
        p = held[0]
        verdict += (f"\nsmallest member that holds {bar}% on every seed it ran in the frontier: {_member(p)}, "
                    f"{p['params']:,} parameters "
                    f"({seed_range(sorted(p['seeds']))}, worst epoch {p['worst_last5_min_test_acc']:.2f}%)")
    return verdict


def frontier_member_text(points, width: float, against: float) -> str:
    """One width-family member of the frontier against another (for the exercises): parameters, mean final test
    accuracy over its seeds and the worst of its last 5 epochs, and the difference of the means in test images."""
    by_width = {p["width"]: p for p in points if "width" in p}
    if width not in by_width or against not in by_width:
        return f"width {width:g}: not on the frontier yet (python -m lab.frontier)"
    p, q = by_width[width], by_width[against]
    images = round((p["final_test_acc_mean"] - q["final_test_acc_mean"]) * 100)
    compared = (f"{abs(images)} {'more' if images >= 0 else 'fewer'} test images right than the frontier's width "
                f"{against:g}, {q['final_test_acc_mean']:.2f}% on {seed_range(sorted(q['seeds']))}")
    return (f"width {width:g}: {p['params']:,} parameters, mean final {p['final_test_acc_mean']:.2f}% on "
            f"{seed_range(sorted(p['seeds']))} ({compared}), worst epoch of the last 5 {p['worst_last5_min_test_acc']:.2f}%")


def screen_table(screen: dict, names=None) -> str:
    """A frontier screen (``results/frontier_screen.json``) as a table: each candidate measured, its parameters,
    seeds, mean final validation accuracy, worst of its last 5 epochs, and what it gained over its base (the
    candidate it changes), in validation images, paired seed by seed."""
    lines = [f"{'candidate':<52} {'params':>6} {'seeds':>8} {'mean final':>10} {'worst of last 5':>15} "
             f"{'images over its base':>21}"]
    for name, c in screen["candidates"].items():
        s = c.get("summary")
        if s is None or (names is not None and name not in names):
            continue
        g = s.get("images_gained")
        gained = f"{g['mean']:+.1f} ({g['min']:+d} to {g['max']:+d})" if g else ""
        seeds = f"{min(s['seeds'])}-{max(s['seeds'])}"
        lines.append(f"{name:<52} {s['params']:>6,} {seeds:>8} {s['final_val_acc_mean']:9.2f}% "
                     f"{s['worst_last5_min_val_acc']:14.2f}% {gained:>21}")
    lines.append(f"validation split: {screen['split']['val_images']:,} images held out of the training set; "
                 f"{screen['cpu_kind']}")
    return "\n".join(lines)
