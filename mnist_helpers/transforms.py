"""Normalisation constants and the torchvision transforms the notebooks show."""
from __future__ import annotations

from torchvision import transforms as T

# Mean and standard deviation of the MNIST training pixels (scaled to [0, 1]).
MNIST_MEAN = 0.1307
MNIST_STD = 0.3081


def test_transforms() -> T.Compose:
    """ToTensor + Normalize: what every split gets at evaluation time."""
    return T.Compose([T.ToTensor(), T.Normalize((MNIST_MEAN,), (MNIST_STD,))])


def train_transforms(degrees: float = 0.0, crop_prob: float = 0.0, crop_size: int = 22) -> T.Compose:
    """The per-sample PIL version of the training augmentation.

    With probability ``crop_prob`` a centre crop to ``crop_size`` (then resized to
    28), then a random rotation in ``[-degrees, degrees]`` with background fill 0.
    :class:`mnist_helpers.augment.RandomRotateCrop` does the same in one batched warp.
    """
    if degrees < 0:
        raise ValueError(f"degrees must be >= 0, got {degrees}")
    if not 0.0 <= crop_prob <= 1.0:
        raise ValueError(f"crop_prob must be a probability in [0, 1], got {crop_prob}")
    steps = []
    if crop_prob > 0:
        steps += [T.RandomApply([T.CenterCrop(crop_size)], p=crop_prob), T.Resize((28, 28))]
    if degrees > 0:
        steps.append(T.RandomRotation((-degrees, degrees), fill=0))
    return T.Compose(steps + [T.ToTensor(), T.Normalize((MNIST_MEAN,), (MNIST_STD,))])
