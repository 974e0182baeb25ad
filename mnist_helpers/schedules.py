"""Learning-rate schedules stepped once per batch."""
from __future__ import annotations

import math

import torch


def warmup_cosine_floor(optimizer: torch.optim.Optimizer, steps_per_epoch: int, *, warmup_epochs: float,
                        floor_epoch: float, start_factor: float = 0.04,
                        floor_factor: float = 0.01) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up, cosine decay, then a flat floor; step it after every batch.

    With the optimizer's ``lr`` as the peak: the rate rises linearly from
    ``start_factor * lr`` to ``lr`` over ``warmup_epochs``, follows a half cosine
    down to ``floor_factor * lr`` at the end of ``floor_epoch``, and stays there.
    Unlike ``OneCycleLR``, which anneals until the very last step, the last epochs
    all run at the floor, so the accuracy they report is that of a settled model.
    """
    if steps_per_epoch < 1:
        raise ValueError(f"steps_per_epoch must be >= 1, got {steps_per_epoch}")
    if not 0 <= warmup_epochs < floor_epoch:
        raise ValueError(f"need 0 <= warmup_epochs < floor_epoch, got {warmup_epochs} and {floor_epoch}")
    if not (0 < start_factor <= 1 and 0 < floor_factor <= 1):
        raise ValueError(f"start_factor and floor_factor must be in (0, 1], got {start_factor} and {floor_factor}")

    def factor(step: int) -> float:
        epoch = step / steps_per_epoch
        if epoch < warmup_epochs:
            return start_factor + (1 - start_factor) * epoch / warmup_epochs
        if epoch < floor_epoch:
            progress = (epoch - warmup_epochs) / (floor_epoch - warmup_epochs)
            return floor_factor + (1 - floor_factor) * (1 + math.cos(math.pi * progress)) / 2
        return floor_factor

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
