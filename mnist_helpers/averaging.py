"""An exponential moving average (EMA) of a model's weights, for evaluation."""
from __future__ import annotations

import torch
from torch.optim.swa_utils import AveragedModel


class ExponentialMovingAverage(AveragedModel):
    """A copy of a model whose weights and BatchNorm buffers track an EMA of the model's.

    Built by :func:`ema_model`. Its update counts steps on the host, where
    ``AveragedModel.update_parameters`` tests its ``n_averaged`` tensor with ``if``
    and so waits for the GPU on every step; the arithmetic is the same.
    """

    def __init__(self, model: torch.nn.Module, decay: float):
        super().__init__(model, use_buffers=True)
        self.decay = float(decay)
        self.updates = 0  # the host's copy of n_averaged

    @torch.no_grad()
    def update_parameters(self, model: torch.nn.Module) -> None:
        averaged = list(self.module.parameters()) + list(self.module.buffers())
        current = [t.detach() for t in list(model.parameters()) + list(model.buffers())]
        floats = [(a, c) for a, c in zip(averaged, current) if a.is_floating_point()]
        others = [(a, c) for a, c in zip(averaged, current) if not a.is_floating_point()]
        if self.updates == 0:
            torch._foreach_copy_([a for a, _ in floats + others], [c for _, c in floats + others])
        else:
            n = self.updates
            weight = 1.0 - min(self.decay, (1.0 + n) / (10.0 + n))
            # torch's own EMA helper uses _foreach_lerp_ too
            torch._foreach_lerp_([a for a, _ in floats], [c for _, c in floats], weight)
            if others:  # integer buffers such as BatchNorm's num_batches_tracked: keep the latest
                torch._foreach_copy_([a for a, _ in others], [c for _, c in others])
        self.updates += 1
        self.n_averaged.add_(1)  # on the device, without reading it back


def ema_model(model: torch.nn.Module, decay: float = 0.998) -> ExponentialMovingAverage:
    """A copy of ``model`` whose weights and BatchNorm buffers track an EMA of ``model``'s.

    Call ``ema.update_parameters(model)`` after every optimizer step (``fit(..., ema=ema)``
    does). The effective decay ramps up as ``min(decay, (1 + n) / (10 + n))`` after
    ``n`` updates, so the first epoch's average is not dominated by the random
    initial weights; after that it averages over roughly the last ``1 / (1 - decay)`` steps.
    """
    if not 0.0 < decay < 1.0:
        raise ValueError(f"decay must be in (0, 1), got {decay}")
    return ExponentialMovingAverage(model, decay)
