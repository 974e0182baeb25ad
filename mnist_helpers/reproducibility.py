"""Seeds and device choice."""
from __future__ import annotations

import os
import random

import numpy as np
import torch

SEED_ENV = "MNIST_SEED"


def set_seed(seed: int) -> int:
    """Seed Python, NumPy and torch (CPU and every GPU) in one call; returns ``seed``."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds CUDA and MPS
    return seed


def seed_from_env(default: int) -> int:
    """``$MNIST_SEED`` as an int if set, else ``default``."""
    value = os.environ.get(SEED_ENV)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"${SEED_ENV} must be an integer, got {value!r}") from None


def pick_device() -> torch.device:
    """CUDA if available, then Apple's MPS, else the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
