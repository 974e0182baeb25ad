"""Normalisation constants, and torchvision's per-sample pipeline as a labelled reference.

What actually feeds the models is ``TensorLoader.batch`` (whole batches as tensors,
see ``mnist_helpers/tensor_loader.py``); :func:`torchvision_reference` builds the
per-sample torchvision pipeline that does the same, which the tests compare against.
"""
from __future__ import annotations

from torchvision import transforms as T

# Mean and standard deviation of the MNIST training pixels (scaled to [0, 1]).
MNIST_MEAN = 0.1307
MNIST_STD = 0.3081


def torchvision_reference(degrees: float = 0.0, crop_prob: float = 0.0, crop_size: int = 22) -> T.Compose:
    """torchvision's per-sample equivalent of what ``TensorLoader`` does to a batch.

    Without arguments: ``ToTensor`` + ``Normalize`` (the test images, and Part-1/2's training
    images). With augmentation: with probability ``crop_prob`` a centre crop to ``crop_size``
    (then resized to 28), then a random rotation in ``[-degrees, degrees]`` with background 0;
    :class:`mnist_helpers.augment.RandomRotateCrop` does the same in batched warps.
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
