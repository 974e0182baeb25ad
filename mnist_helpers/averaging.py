"""An exponential moving average (EMA) of a model's weights, for evaluation."""
from __future__ import annotations

import torch
from torch.optim.swa_utils import AveragedModel


class ExponentialMovingAverage(AveragedModel):
    """A copy of a model whose weights and BatchNorm buffers track an EMA of the model's.

    Built by :func:`ema_model`. Its update counts steps on the host, where
    ``AveragedModel.update_parameters`` tests its ``n_averaged`` tensor with ``if``
    and so waits for the GPU on every step. Unlike torch's helper, the first update
    is not a plain copy: it moves 90% of the way, as the ramp below says.
    """

    def __init__(self, model: torch.nn.Module, decay: float):
        super().__init__(model, use_buffers=True)
        self.decay = float(decay)
        self.updates = 0  # the host's copy of n_averaged

    @torch.no_grad()
    def update_parameters(self, model: torch.nn.Module) -> None:
        """Move every averaged weight and BatchNorm statistic a small step towards the model's."""
        n = self.updates
        weight = 1.0 - min(self.decay, (1.0 + n) / (10.0 + n))  # 0.9 at the first update, then smaller
        for average, current in zip(self.module.state_dict().values(), model.state_dict().values()):
            if average.is_floating_point():
                average.lerp_(current, weight)    # average += weight * (current - average)
            else:
                average.copy_(current)            # counters such as BatchNorm's num_batches_tracked
        self.updates += 1
        self.n_averaged.add_(1)  # on the device, without reading it back


def ema_model(model: torch.nn.Module, decay: float) -> ExponentialMovingAverage:
    """A copy of ``model`` whose weights and BatchNorm buffers track an EMA of ``model``'s.

    Call ``ema.update_parameters(model)`` after every optimizer step (``fit(..., ema=ema)``
    does). The effective decay ramps up as ``min(decay, (1 + n) / (10 + n))`` after
    ``n`` updates, so the first epoch's average is not dominated by the random
    initial weights; after that it averages over roughly the last ``1 / (1 - decay)`` steps.
    ``decay=0`` makes the average an exact copy of the live weights after every step (no averaging).
    """
    if not 0.0 <= decay < 1.0:
        raise ValueError(f"decay must be in [0, 1), got {decay}")
    return ExponentialMovingAverage(model, decay)
