"""Figures for the notebooks. Each function returns a matplotlib Figure and,
given ``save="name.png"``, writes it into the repository's ``images/`` folder."""
from __future__ import annotations

import io
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from .paths import images_dir
from .results import write_atomic


def save_figure(fig, save: str | None, folder: Path | None = None) -> Path | None:
    """Save ``fig`` as ``folder/save`` (default folder: ``images/``), atomically; returns the path."""
    if not save:
        return None
    folder = Path(folder) if folder is not None else images_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / save
    buffer = io.BytesIO()
    fig.savefig(buffer, format=path.suffix[1:] or None, dpi=100, bbox_inches="tight", metadata={"Software": None})
    write_atomic(path, buffer.getvalue())
    return path


def _as_images(images) -> np.ndarray:
    x = torch.as_tensor(images).detach().cpu().float()
    if x.dim() == 4:
        if x.shape[1] != 1:
            raise ValueError(f"expected one channel, got shape {tuple(x.shape)}")
        x = x[:, 0]
    if x.dim() != 3:
        raise ValueError(f"expected images of shape (N, H, W) or (N, 1, H, W), got {tuple(x.shape)}")
    return x.numpy()


def _image_grid(images, titles, cols: int, cell=(1.1, 1.25), color: str = "black", title: str | None = None):
    """Images in a grid of ``cols`` columns, each titled; returns the Figure."""
    if len(images) == 0:
        raise ValueError("no images to show")
    rows = int(np.ceil(len(images) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * cell[0], rows * cell[1]))
    for ax, i in zip(np.ravel(axes), range(rows * cols)):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i], cmap="gray_r")
            ax.set_title(titles[i], fontsize=9, color=color)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def sample_grid(images, labels, n: int = 32, cols: int = 8, title: str | None = None, save: str | None = None):
    """A grid of the first ``n`` images with their labels."""
    x, y = _as_images(images)[:n], torch.as_tensor(labels)[:n].tolist()
    fig = _image_grid(x, [str(label) for label in y], cols, title=title)
    save_figure(fig, save)
    return fig


def class_counts(counts: dict, title: str = "images per class", save: str | None = None):
    """A bar chart of ``{class: count}``."""
    fig, ax = plt.subplots(figsize=(6, 3))
    keys = list(counts)
    bars = ax.bar([str(k) for k in keys], [counts[k] for k in keys], color="tab:blue")
    ax.bar_label(bars, fontsize=7)
    ax.set_xlabel("digit")
    ax.set_ylabel("images")
    ax.set_title(title)
    fig.tight_layout()
    save_figure(fig, save)
    return fig


# Parts 1-4 draw accuracy on one shared range, so their curves compare at a glance. The axis is spaced by
# the error rate (100 - accuracy) on a log scale: 90% to 99% takes as much room as 99% to 99.9%, so the
# first epoch and the last hundredths of a point both show.
ACC_RANGE = (80.0, 99.9)
ACC_TICKS = (80, 90, 95, 98, 99, 99.5, 99.8)


def _error_scale(ax) -> None:
    forward = lambda acc: -np.log10(np.clip(100.0 - np.asarray(acc, dtype=float), 1e-3, None))  # noqa: E731
    inverse = lambda y: 100.0 - 10.0 ** (-np.asarray(y, dtype=float))  # noqa: E731
    ax.set_yscale("function", functions=(forward, inverse))
    ax.set_yticks(ACC_TICKS, [f"{t:g}" for t in ACC_TICKS])
    ax.yaxis.set_minor_locator(plt.NullLocator())


def training_curves(history, title: str | None = None, target: float | None = None, save: str | None = None,
                    acc_range: tuple = ACC_RANGE):
    """Two panels: accuracy (train and test on the same axes, with ``target`` drawn in) and loss
    (train and test), per epoch. If the learning rate changed during training it is drawn on a
    second axis of the loss panel.

    The accuracy axis covers ``acc_range`` (shared by the course's notebooks), widened if an epoch falls
    outside it, so every epoch shows, the first included (100% sits on the top edge: the axis is spaced by
    the error rate, see ``ACC_RANGE``).
    The train figures are measured on the training batches as the model saw them (with dropout
    and augmentation on, while it learned); the test figures after each epoch.
    """
    h = history.to_dict() if hasattr(history, "to_dict") else dict(history)
    epochs = np.arange(1, len(h["test_acc"]) + 1)
    if len(epochs) == 0:
        raise ValueError("the history is empty: train for at least one epoch")
    fig, (acc_ax, loss_ax) = plt.subplots(1, 2, figsize=(11, 4.2))
    acc_ax.plot(epochs, h["train_acc"], marker="o", ms=3, color="tab:blue", label="train")
    acc_ax.plot(epochs, h["test_acc"], marker="o", ms=3, color="tab:orange", label="test")
    if target is not None:
        acc_ax.axhline(target, color="tab:red", ls=":", lw=1.2, label=f"target {target:g}%")
    shown = h["train_acc"] + h["test_acc"]
    _error_scale(acc_ax)
    acc_ax.set_ylim(min(acc_range[0], min(shown) - 1.0), max(acc_range[1], min(max(shown) + 0.05, 99.999)))
    best = int(np.argmax(h["test_acc"]))
    acc_ax.plot(epochs[best], h["test_acc"][best], "k*", ms=8, label=f"best test {h['test_acc'][best]:.2f}%")
    acc_ax.annotate(f"final test {h['test_acc'][-1]:.2f}%", (epochs[-1], h["test_acc"][-1]), ha="right",
                    textcoords="offset points", xytext=(-4, -22), fontsize=8, arrowprops={"arrowstyle": "-", "lw": 0.6})
    acc_ax.set_title("Accuracy (%), spaced by error rate")
    loss_ax.plot(epochs, h["train_loss"], marker="o", ms=3, color="tab:blue", label="train (the training objective)")
    loss_ax.plot(epochs, h["test_loss"], marker="o", ms=3, color="tab:orange", label="test (cross-entropy)")
    loss_ax.set_title("Loss")
    for ax in (acc_ax, loss_ax):
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    acc_ax.legend(loc="lower right", fontsize=8)
    if len(set(np.round(h.get("lr", []), 12))) > 1:
        lr_ax = loss_ax.twinx()
        lr_ax.plot(epochs, h["lr"], color="tab:green", ls="--", label="learning rate")
        lr_ax.set_ylabel("learning rate (epoch start)", color="tab:green")
        lr_ax.tick_params(axis="y", colors="tab:green")
    loss_ax.legend(loc="upper right", fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, save)
    return fig


def kernels(weight, title: str = "first-layer kernels", save: str | None = None):
    """Each kernel of a convolution with one input channel (``weight`` of shape (C, 1, k, k)) as a small image:
    red for positive weights, blue for negative, on one scale shared by all of them."""
    w = torch.as_tensor(weight).detach().cpu().float()
    if w.dim() != 4 or w.shape[1] != 1:
        raise ValueError(f"expected the weight of a convolution with one input channel, (C, 1, k, k); got {tuple(w.shape)}")
    w = w[:, 0].numpy()
    limit = float(np.abs(w).max()) or 1.0
    cols = min(len(w), 10)
    rows = int(np.ceil(len(w) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.0, rows * 1.1 + 0.5), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(w):
            im = ax.imshow(w[i], cmap="RdBu_r", vmin=-limit, vmax=limit)
            ax.set_title(str(i), fontsize=8)
    fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.8, label="weight")
    fig.suptitle(title)
    save_figure(fig, save)
    return fig


@torch.no_grad()
def stage_outputs(model, image, stages: dict) -> dict:
    """``{label: output}`` of the modules ``stages`` (``{label: module}``) when ``model`` reads ``image``
    ((1, 1, 28, 28), normalised), captured by forward hooks; the model is put in eval mode."""
    outputs, hooks = {}, []
    for label, module in stages.items():
        hooks.append(module.register_forward_hook(lambda m, args, out, label=label: outputs.__setitem__(label, out)))
    try:
        model.eval()
        device = next(model.parameters()).device
        model(torch.as_tensor(image).reshape(1, 1, 28, 28).float().to(device))
    finally:
        for hook in hooks:
            hook.remove()
    missing = set(stages) - set(outputs)
    if missing:
        raise ValueError(f"stages {sorted(missing)} did not run in the model's forward pass")
    return {label: outputs[label][0].cpu() for label in stages}


def feature_maps(model, image, stages: dict, title: str | None = None, save: str | None = None, max_maps: int = 16):
    """One digit's feature maps after each of ``stages`` (``{label: module}`` of ``model``): the digit, then a
    row of up to ``max_maps`` maps per stage, each scaled to its own range (bright: strong activation)."""
    outputs = stage_outputs(model, image, stages)
    cols = max(min(out.shape[0], max_maps) for out in outputs.values())
    fig, axes = plt.subplots(len(outputs) + 1, cols, figsize=(cols * 0.8, (len(outputs) + 1) * 1.0 + 0.4), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    axes[0, 0].imshow(torch.as_tensor(image).reshape(28, 28).cpu().numpy(), cmap="gray")
    axes[0, 0].set_title("input", fontsize=8, loc="left")
    for row, (label, out) in enumerate(outputs.items(), start=1):
        for c in range(min(out.shape[0], max_maps)):
            axes[row, c].imshow(out[c].numpy(), cmap="magma")
        h, w = out.shape[-2:]
        axes[row, 0].set_title(f"{label}: {out.shape[0]} maps of {h}×{w}", fontsize=8, loc="left")
    if title:
        fig.suptitle(title)
    # tight_layout would squeeze the maps to make room for the stage titles, which overhang the first column
    height = fig.get_size_inches()[1]
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=1 - 0.55 / height, hspace=0.6, wspace=0.08)
    save_figure(fig, save)
    return fig


def ladder(ladder: dict, title: str | None = None, save: str | None = None):
    """A ladder of one change at a time (``lab.ladder``'s file): the validation accuracy of each rung (its mean final
    epoch and its worst of the last 5 epochs over seeds), and what each rung bought over the previous one, in
    validation images (the mean over seeds, with the range of the seeds as a whisker)."""
    rungs = [r for r in ladder["rungs"] if r.get("summary")]
    if not rungs:
        raise ValueError("the ladder has no measured rungs: run python -m lab.ladder first")
    labels = [f"{r['rung']}. {r['change']}" for r in rungs]
    y = np.arange(len(rungs))[::-1]
    fig, (acc_ax, gain_ax) = plt.subplots(1, 2, figsize=(12, 0.55 * len(rungs) + 1.6), sharey=True,
                                          gridspec_kw={"width_ratios": [1, 1]})
    means = [r["summary"]["final_val_acc_mean"] for r in rungs]
    worst = [r["summary"]["worst_last5_min_val_acc"] for r in rungs]
    acc_ax.plot(means, y, "o-", color="tab:blue", label="mean final epoch")
    acc_ax.plot(worst, y, "v--", color="tab:gray", label="worst of the last 5 epochs, any seed")
    for yi, m in zip(y, means):
        acc_ax.annotate(f"{m:.2f}%", (m, yi), textcoords="offset points", xytext=(6, 4), fontsize=8)
    acc_ax.set_yticks(y, labels, fontsize=8)
    acc_ax.set_xlabel("validation accuracy (%)")
    acc_ax.grid(alpha=0.3)
    acc_ax.legend(fontsize=7, loc="lower right")
    for yi, r in zip(y, rungs):
        gained = r["summary"].get("images_gained")
        if gained is None:
            continue
        colour = "tab:green" if gained["min"] > 0 else ("tab:red" if gained["max"] < 0 else "tab:olive")
        gain_ax.barh(yi, gained["mean"], color=colour, alpha=0.8)
        gain_ax.plot([gained["min"], gained["max"]], [yi, yi], color="black", lw=1)
        gain_ax.annotate(f"{gained['mean']:+.0f}", (gained["mean"], yi), textcoords="offset points",
                         xytext=(4 if gained["mean"] >= 0 else -4, -12), ha="left" if gained["mean"] >= 0 else "right",
                         fontsize=8)
    gain_ax.axvline(0, color="black", lw=0.8)
    gain_ax.set_xlabel(f"validation images gained over the previous rung, of {ladder['split']['val_images']:,}\n"
                       "(bar: mean over seeds; line: from the worst seed to the best)")
    gain_ax.grid(alpha=0.3, axis="x")
    fig.suptitle(title or f"{ladder['part'].replace('part', 'Part-')}'s ladder, one change at a time "
                          f"({len(rungs[0]['summary']['seeds'])} seeds each)")
    fig.tight_layout()
    save_figure(fig, save)
    return fig


def leave_one_out(study: dict, title: str | None = None, save: str | None = None):
    """``lab.ladder``'s leave-one-out file: what taking each ingredient out of the recipe cost in the worst of the
    last 5 validation epochs, one dot per seed and a bar for the mean; green where the ingredient earns its place
    (``mnist_helpers.results.earns_its_place``)."""
    from .results import earns_its_place, _ingredient

    rows = [b for b in study["branches"] if "images_gained_last5" in b.get("summary", {})]
    if not rows:
        raise ValueError("the study has no measured branches: run python -m lab.ladder --leave-one-out first")
    y = np.arange(len(rows))[::-1]
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(rows) + 1.4))
    for yi, b in zip(y, rows):
        cost = [-g for g in b["summary"]["images_gained_last5"]["per_seed"]]
        ax.barh(yi, np.mean(cost), color="tab:green" if earns_its_place(b["summary"]) else "tab:gray", alpha=0.6)
        ax.plot(cost, [yi] * len(cost), "o", color="black", ms=4)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, [_ingredient(b) for b in rows], fontsize=9)
    ax.set_xlabel(f"validation images lost by taking it out, of {study['split']['val_images']:,} (worst of the last 5 "
                  "epochs)\nbar: mean over seeds; dots: one per seed; green: earns its place by the rule")
    ax.grid(alpha=0.3, axis="x")
    ax.set_title(title or f"each ingredient taken out of {study['part'].replace('part', 'Part-')}'s recipe "
                          f"({len(rows[0]['summary']['seeds'])} seeds, validation split)")
    fig.tight_layout()
    save_figure(fig, save)
    return fig


def confusion_matrix(preds, targets, num_classes: int = 10, save: str | None = None):
    """Counts of true (rows) versus predicted (columns) labels."""
    p, t = torch.as_tensor(preds).long(), torch.as_tensor(targets).long()
    if p.shape != t.shape:
        raise ValueError(f"preds and targets differ in shape: {tuple(p.shape)} vs {tuple(t.shape)}")
    cm = torch.bincount(t * num_classes + p, minlength=num_classes ** 2).reshape(num_classes, num_classes).numpy()
    fig, ax = plt.subplots(figsize=(6, 5.4))
    shown = np.where(cm > 0, np.log10(cm + 1), 0)
    ax.imshow(shown, cmap="Blues")
    for i in range(num_classes):
        for j in range(num_classes):
            if cm[i, j]:
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if shown[i, j] > shown.max() * 0.6 else "black")
    ax.set_xticks(range(num_classes))
    ax.set_yticks(range(num_classes))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    errors = int(cm.sum() - np.trace(cm))
    ax.set_title(f"confusion matrix ({errors} errors of {int(cm.sum())})")
    fig.tight_layout()
    save_figure(fig, save)
    return fig


def misclassified(images, preds, targets, n: int = 24, cols: int = 8, save: str | None = None):
    """A gallery of up to ``n`` misclassified images, titled 'true→predicted'."""
    x = _as_images(images)
    p, t = torch.as_tensor(preds), torch.as_tensor(targets)
    wrong = torch.nonzero(p != t).flatten()[:n].tolist()
    if not wrong:
        raise ValueError("no misclassified images to show")
    fig = _image_grid(x[wrong], [f"{int(t[i])}→{int(p[i])}" for i in wrong], cols, cell=(1.15, 1.35),
                      color="tab:red", title=f"misclassified test images (true→predicted), "
                                             f"first {len(wrong)} of {int((p != t).sum())}")
    save_figure(fig, save)
    return fig


def own_digit_predictions(predictions, truths=None, cols: int = 5, save: str | None = None):
    """Each image file next to the 28x28 image the model saw, titled with the prediction
    (and the true digit when ``truths`` is given: green when right, red when wrong)."""
    from PIL import Image

    shown = [p for p in predictions if p.image is not None]
    if not shown:
        raise ValueError("no predictions with an image to show")
    rows = int(np.ceil(len(shown) / cols))
    fig, axes = plt.subplots(rows, 2 * cols, figsize=(2 * cols * 1.0, rows * 1.25), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, p in enumerate(shown):
        original, seen = axes[i // cols, 2 * (i % cols)], axes[i // cols, 2 * (i % cols) + 1]
        with Image.open(p.file) as img:
            original.imshow(np.asarray(img.convert("L")), cmap="gray", vmin=0, vmax=255)
        seen.imshow(p.image, cmap="gray", vmin=0, vmax=1)
        truth = None if truths is None else truths[predictions.index(p)]
        color = "black" if truth is None else ("tab:green" if truth == p.digit else "tab:red")
        seen.set_title(f"{p.digit} ({p.probability:.0%})", fontsize=9, color=color)
        original.set_title(Path(p.file).stem, fontsize=7)
    fig.suptitle("your images (left) and what the model sees (right), with its prediction")
    fig.tight_layout()
    save_figure(fig, save)
    return fig


def frontier(families, parts=None, target: float = 99.4, save: str | None = None):
    """Parameters against accuracy, for one family of models (a list of frontier points) or several
    ({label: points}): each point's mean final accuracy (± std over its seeds) as a solid line and its worst
    last-5-epoch minimum as a dashed one, in one colour per family; the ``target`` line; and ``parts``
    ({label: (params, final accuracy)}) as stars. A point is labelled ``c2=<c2>`` if it has one, else ``w=<width>``."""
    if not isinstance(families, dict):
        families = {"": families}
    families = {name: sorted(points, key=lambda p: p["params"]) for name, points in families.items()}
    if not any(families.values()):
        raise ValueError("no frontier points to plot")
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for (name, points), colour in zip(families.items(), ("tab:blue", "tab:orange", "tab:green", "tab:purple")):
        if not points:
            continue
        params = [p["params"] for p in points]
        prefix = f"{name}: " if name else ""
        ax.errorbar(params, [p["final_test_acc_mean"] for p in points], yerr=[p["final_test_acc_std"] for p in points],
                    marker="o", capsize=3, color=colour, label=f"{prefix}mean final accuracy (± std over seeds)")
        ax.plot(params, [p["worst_last5_min_test_acc"] for p in points], marker="v", linestyle="--", color=colour,
                label=f"{prefix}worst of the last 5 epochs")
        for p in points:  # width labels under the worst-of-last-5 line, the other family's over its error bars
            above = "c2" in p
            anchor = p["final_test_acc_mean"] + p["final_test_acc_std"] if above else p["worst_last5_min_test_acc"]
            ax.annotate(f"c2={p['c2']}" if above else f"w={p['width']:g}", (p["params"], anchor),
                        textcoords="offset points", xytext=(0, 5 if above else -13), ha="center", fontsize=7,
                        color=colour)
    for label, (n, acc) in (parts or {}).items():
        ax.scatter([n], [acc], marker="*", s=120, zorder=3, color="black")
        ax.annotate(label, (n, acc), textcoords="offset points", xytext=(6, 4), fontsize=8)
    ax.axhline(target, color="tab:red", linewidth=1, label=f"{target}% target")
    low, high = ax.get_ylim()
    ax.set_ylim(low - 0.04, high + 0.03)  # room for the labels under the lowest point and over the highest
    ax.set_xlabel("parameters")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("how small can it get? " + (", ".join(n for n in families if n) or "Part-4's family") +
                 ", with Parts 1-3")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    save_figure(fig, save)
    return fig
