"""An exponential moving average (EMA) of a model's weights, for evaluation."""
from __future__ import annotations

import torch
from torch.optim.swa_utils import AveragedModel


def ema_model(model: torch.nn.Module, decay: float = 0.998) -> AveragedModel:
    """A copy of ``model`` whose weights and BatchNorm buffers track an EMA of ``model``'s.

    Call ``ema.update_parameters(model)`` after every optimizer step (``fit(..., ema=ema)``
    does). The effective decay ramps up as ``min(decay, (1 + n) / (10 + n))`` after
    ``n`` updates, so the first epoch's average is not dominated by the random
    initial weights; after that it averages over roughly the last ``1 / (1 - decay)`` steps.
    """
    if not 0.0 < decay < 1.0:
        raise ValueError(f"decay must be in (0, 1), got {decay}")

    @torch.no_grad()
    def update(averaged: list, current: list, num_averaged: torch.Tensor) -> None:
        n = int(num_averaged)
        weight = 1.0 - min(decay, (1.0 + n) / (10.0 + n))
        # AveragedModel passes one dtype per call; torch's own EMA helper uses _foreach_lerp_ too
        if averaged[0].is_floating_point():
            torch._foreach_lerp_(averaged, current, weight)
        else:  # integer buffers such as BatchNorm's num_batches_tracked: keep the latest
            torch._foreach_copy_(averaged, current)

    return AveragedModel(model, multi_avg_fn=update, use_buffers=True)
