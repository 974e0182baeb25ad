"""Run summaries: what each notebook writes to ``results/partN.json``."""
from __future__ import annotations

import json
import platform
import statistics
from pathlib import Path

import torch

from .cpu_kind import KIND_SUFFIXES, cpu_kind
from .paths import repo_root, results_dir


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


def save_results(name: str, results: dict, folder: Path | None = None) -> Path:
    """Write ``results`` as ``<folder>/<name>.json`` (default folder: ``results/``)."""
    folder = Path(folder) if folder is not None else results_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


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
        f"final test accuracy    {results['final_test_acc']:.2f}%",
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
    when this is not a checkout that holds it. For the notebooks' read-only tables: sweeps, ablations."""
    root = repo_root()
    path = root / "results" / f"{name}.json" if root is not None else None
    if path is None or not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


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


def comparison_table(runs: dict) -> str:
    """Runs side by side, one column each (``{"Part-1": results, "Part-2": results}``): parameters, test accuracy
    after the first epoch and at the end, final train accuracy, the train - test gap, and the median epoch time."""
    rows = [("parameters", lambda r: f"{r['params']:,}"),
            ("test accuracy, epoch 1", lambda r: f"{r['history']['test_acc'][0]:.2f}%"),
            ("final test accuracy", lambda r: f"{r['final_test_acc']:.2f}%"),
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
    the seeds of each run's median).
    ``beyond``: the sweep ran seeds other than the target's, so it counts the seeds that hold."""
    lines = []
    for suffix, kind in KIND_SUFFIXES.items():
        sweep = committed_results(name + suffix)
        if sweep is None:
            lines.append(f"{label} on {kind}: none (results/{name + suffix}.json; see docs/results.md for its command)")
            continue
        seconds = statistics.median(r["seconds_per_epoch"] for r in sweep["per_seed"].values())
        if beyond:
            held, total, worst_seed, worst = target.sweep_holds(sweep)
            verdict = f"{held} of {total} hold >= {target.accuracy}%; worst: seed {worst_seed} at {worst:.2f}%"
        else:
            verdict = target.sweep_verdict(sweep)
        lines.append(f"{label} on {kind}: {verdict}; {seconds:.1f} s per training epoch")
    return "\n".join(lines)
