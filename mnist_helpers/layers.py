"""The convolution block that Part-2 introduces and Part-3 reuses (each notebook shows its source)."""
from __future__ import annotations

from torch import nn


def block(c_in: int, c_out: int, dropout: float = 0.0, **conv_args) -> nn.Sequential:
    """3x3 convolution -> BatchNorm -> ReLU (-> dropout).

    The convolution has no bias: BatchNorm's shift does that job. ``conv_args`` go to
    ``nn.Conv2d`` (for example ``padding=1`` to keep the size).
    """
    layers = [nn.Conv2d(c_in, c_out, 3, bias=False, **conv_args), nn.BatchNorm2d(c_out), nn.ReLU()]
    return nn.Sequential(*layers, nn.Dropout(dropout)) if dropout else nn.Sequential(*layers)
