"""A DataLoader replacement for in-memory MNIST: whole split as uint8 on the device.

Each batch is gathered by index, augmented in one batched warp (optional), and
normalised, all as tensor operations, so no per-sample Python runs per epoch.
Shuffling, ``batch_size`` and ``drop_last`` behave like ``torch.utils.data.DataLoader``.
"""
from __future__ import annotations

import math

import torch

from .transforms import MNIST_MEAN, MNIST_STD


class TensorLoader:
    """Iterate ``(images, labels)`` batches: images float ``(B, 1, 28, 28)``, normalised.

    ``images`` is uint8 ``(N, H, W)`` or ``(N, 1, H, W)``. ``augment`` (such as
    :class:`~mnist_helpers.augment.RandomRotateCrop`) is applied before normalising, so
    pixels that move in from outside the frame are background (0): its ``draw(batch_sizes,
    generator, device)`` makes an epoch's random draws at the start of the epoch, and its
    ``apply(images, *draws)`` warps each batch. ``seed`` fixes the shuffling and the draws.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 128, *,
                 shuffle: bool = False, drop_last: bool = False, augment=None, seed: int = 0,
                 device="cpu", mean: float = MNIST_MEAN, std: float = MNIST_STD):
        if images.dim() == 3:
            images = images.unsqueeze(1)
        if images.dim() != 4 or images.shape[1] != 1:
            raise ValueError(f"images must have shape (N, H, W) or (N, 1, H, W), got {tuple(images.shape)}")
        if images.dtype != torch.uint8:
            raise ValueError(f"images must be uint8 (raw pixels), got {images.dtype}")
        if labels.dim() != 1 or labels.shape[0] != images.shape[0]:
            raise ValueError(f"labels must have shape ({images.shape[0]},), got {tuple(labels.shape)}")
        if images.shape[0] == 0:
            raise ValueError("the dataset is empty: there is nothing to iterate over")
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
        if augment is not None and not (callable(getattr(augment, "draw", None))
                                        and callable(getattr(augment, "apply", None))):
            raise TypeError(f"augment must have draw() and apply() methods, as RandomRotateCrop does; "
                            f"got {type(augment).__name__}")
        if std <= 0:
            raise ValueError(f"std must be positive, got {std}")
        self.device = torch.device(device)
        self.images = images.to(self.device)
        self.labels = labels.to(self.device, dtype=torch.long)
        self.batch_size, self.shuffle, self.drop_last = int(batch_size), shuffle, drop_last
        self.augment, self.mean, self.std = augment, float(mean), float(std)
        self.generator = torch.Generator().manual_seed(seed)

    @property
    def num_samples(self) -> int:
        return self.images.shape[0]

    def __len__(self) -> int:
        n, b = self.num_samples, self.batch_size
        return n // b if self.drop_last else math.ceil(n / b)

    def batch_sizes(self) -> list[int]:
        """The size of each batch of an epoch, in order."""
        n, b = self.num_samples, self.batch_size
        return [min(b, n - i * b) for i in range(len(self))]

    def __iter__(self):
        n = self.num_samples
        order = torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
        order = order.to(self.device)
        sizes = self.batch_sizes()
        # The whole epoch's random draws at once, moved to the device once: no per-batch host round-trip.
        draws = self.augment.draw(sizes, self.generator, self.device) if self.augment is not None else None
        start = 0
        for i, size in enumerate(sizes):
            yield self.batch(order[start:start + size], draws[i] if draws is not None else None)
            start += size

    def batch(self, idx: torch.Tensor, draws: tuple | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """The normalised (and, if set, augmented with ``draws``) batch at indices ``idx``."""
        x = self.images[idx].float().div_(255.0)  # uint8 pixels to [0, 1], as ToTensor
        if self.augment is not None:              # warp before normalising, so the background stays 0
            x = self.augment.apply(x, *draws) if draws is not None else self.augment(x, self.generator)
        return x.sub_(self.mean).div_(self.std), self.labels[idx]  # as Normalize(MNIST_MEAN, MNIST_STD)
