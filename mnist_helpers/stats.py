"""The data statistics the notebooks print."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .transforms import MNIST_MEAN, MNIST_STD


@dataclass
class DataStats:
    """Statistics of a split after normalisation, plus its class counts."""

    shape: tuple
    dtype: str
    min: float
    max: float
    mean: float
    std: float
    class_counts: dict

    def __str__(self) -> str:
        counts = ", ".join(f"{k}: {v}" for k, v in self.class_counts.items())
        return (f"shape       {self.shape}\n"
                f"dtype       {self.dtype}\n"
                f"min / max   {self.min:.4f} / {self.max:.4f}\n"
                f"mean / std  {self.mean:.4f} / {self.std:.4f}\n"
                f"per class   {counts}")

    def _repr_pretty_(self, printer, cycle):
        printer.text(str(self))


def data_statistics(dataset, mean: float = MNIST_MEAN, std: float = MNIST_STD) -> DataStats:
    """Statistics of ``dataset`` (torchvision MNIST, or anything with uint8 ``.data`` and ``.targets``)
    normalised as ``(x / 255 - mean) / std``; computed on the whole split at once."""
    images, labels = getattr(dataset, "data", None), getattr(dataset, "targets", None)
    if not isinstance(images, torch.Tensor) or not isinstance(labels, torch.Tensor):
        raise ValueError("expected a dataset with tensor attributes .data (uint8 images) and .targets (labels)")
    if images.dtype != torch.uint8 or images.dim() != 3:
        raise ValueError(f"expected .data as uint8 of shape (N, H, W), got {images.dtype} {tuple(images.shape)}")
    if images.shape[0] == 0:
        raise ValueError("the dataset is empty")
    x = (images.to(torch.float64) / 255.0 - mean) / std
    counts = torch.bincount(labels.to(torch.long), minlength=10)
    return DataStats(shape=(images.shape[0], 1, *images.shape[1:]), dtype="torch.float32",
                     min=x.min().item(), max=x.max().item(), mean=x.mean().item(), std=x.std().item(),
                     class_counts={i: int(c) for i, c in enumerate(counts.tolist())})
