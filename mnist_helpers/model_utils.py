"""Parameter counts, the torchsummary summary, and a receptive-field table."""
from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

import torch
from torch import nn


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def model_summary(model: nn.Module, input_size=(1, 28, 28)) -> str:
    """torchsummary's layer table as a string, computed on the model's own device (CPU works)."""
    from torchsummary import summary

    device = next(model.parameters()).device
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        summary(model, input_size, device=device.type)
    return buffer.getvalue().rstrip()


@dataclass
class RFRow:
    layer: str
    kernel: int
    stride: int
    padding: int
    dilation: int
    out_size: int
    channels: int
    receptive_field: int
    jump: int


class ReceptiveFieldTable(list):
    """Rows of :class:`RFRow`; prints as an aligned table."""

    def __str__(self) -> str:
        head = f"{'layer':28s} {'k':>3s} {'s':>3s} {'p':>3s} {'d':>3s} {'out':>5s} {'ch':>4s} {'RF':>4s} {'jump':>5s}"
        lines = [head, "-" * len(head)]
        for r in self:
            lines.append(f"{r.layer:28s} {r.kernel:3d} {r.stride:3d} {r.padding:3d} {r.dilation:3d} "
                         f"{r.out_size:5d} {r.channels:4d} {r.receptive_field:4d} {r.jump:5d}")
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle):
        printer.text(str(self))


def _first(v):
    return v[0] if isinstance(v, (tuple, list)) else v


def receptive_field_table(model: nn.Module, input_size=(1, 28, 28)) -> ReceptiveFieldTable:
    """Receptive field and jump after every convolution and pooling layer, in forward order.

    r_out = r_in + (k_eff - 1) * j_in and j_out = j_in * stride, with
    k_eff = dilation * (k - 1) + 1. Global (adaptive) pooling covers its whole input.
    Square kernels and inputs are assumed (as in these notebooks).
    """
    if len(input_size) != 3:
        raise ValueError(f"input_size must be (channels, height, width), got {tuple(input_size)}")
    kinds = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)
    events = []
    names = {m: n for n, m in model.named_modules()}

    def hook(module, inputs, output):
        events.append((module, inputs[0].shape[-1], output.shape[-1], output.shape[1]))

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, kinds)]
    was_training = model.training
    try:
        model.eval()
        device = next(model.parameters()).device
        with torch.no_grad():
            model(torch.zeros(1, *input_size, device=device))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)

    table = ReceptiveFieldTable()
    rf, jump = 1, 1
    table.append(RFRow("input", 1, 1, 0, 1, input_size[-1], input_size[0], rf, jump))
    for module, in_size, out_size, channels in events:
        if isinstance(module, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
            k, s, p, d = in_size, in_size, 0, 1
        else:
            k, s, p = _first(module.kernel_size), _first(module.stride), _first(module.padding)
            d = _first(getattr(module, "dilation", 1))
            if isinstance(p, str):  # padding='same' / 'valid'
                p = (d * (k - 1)) // 2 if p == "same" else 0
        rf = rf + (d * (k - 1)) * jump
        jump = jump * s
        label = f"{names.get(module, '?')} ({type(module).__name__})"
        table.append(RFRow(label, k, s, p, d, out_size, channels, rf, jump))
    return table
