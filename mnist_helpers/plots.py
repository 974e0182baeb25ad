"""Figures for the notebooks. Each function returns a matplotlib Figure and,
given ``save="name.png"``, writes it into the repository's ``images/`` folder."""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from .paths import images_dir


def save_figure(fig, save: str | None, folder: Path | None = None) -> Path | None:
    """Save ``fig`` as ``folder/save`` (default folder: ``images/``); returns the path."""
    if not save:
        return None
    folder = Path(folder) if folder is not None else images_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / save
    fig.savefig(path, dpi=100, bbox_inches="tight", metadata={"Software": None})
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


def training_curves(history, title: str | None = None, target: float | None = None, save: str | None = None):
    """Two panels: accuracy (train and test on the same axes, with ``target`` drawn in) and loss
    (train and test), per epoch. If the learning rate changed during training it is drawn on a
    second axis of the loss panel.

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
    # Zoom in on the part that matters: from a little below the lowest of the last epochs to 100%.
    tail = h["train_acc"][len(epochs) // 3:] + h["test_acc"][len(epochs) // 3:] + ([target] if target else [])
    low = min(tail) - 0.5
    acc_ax.set_ylim(low, 100)
    best = int(np.argmax(h["test_acc"]))
    acc_ax.plot(epochs[best], h["test_acc"][best], "k*", ms=8, label=f"best test {h['test_acc'][best]:.2f}%")
    acc_ax.annotate(f"final test {h['test_acc'][-1]:.2f}%", (epochs[-1], h["test_acc"][-1]), ha="right",
                    textcoords="offset points", xytext=(-4, -22), fontsize=8, arrowprops={"arrowstyle": "-", "lw": 0.6})
    acc_ax.set_title("Accuracy (%)")
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
        for p in points:
            ax.annotate(f"c2={p['c2']}" if "c2" in p else f"w={p['width']:g}", (p["params"], p["worst_last5_min_test_acc"]),
                        textcoords="offset points", xytext=(0, -14), ha="center", fontsize=7, color=colour)
    for label, (n, acc) in (parts or {}).items():
        ax.scatter([n], [acc], marker="*", s=120, zorder=3, color="black")
        ax.annotate(label, (n, acc), textcoords="offset points", xytext=(6, 4), fontsize=8)
    ax.axhline(target, color="tab:red", linewidth=1, label=f"{target}% target")
    ax.set_xlabel("parameters")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("how small can it get? " + (", ".join(n for n in families if n) or "Part-4's family") +
                 ", with Parts 1-3")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    save_figure(fig, save)
    return fig
