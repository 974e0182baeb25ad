"""Batched training augmentation: one affine warp per image, done for a whole batch.

A rotation about the centre and a centre crop resized back to full size are both
affine maps about the image centre, so they compose into one 2x3 matrix per
image and the batch is warped once with one sampling grid + ``grid_sample``.
The warp matches torchvision's ``rotate`` (bilinear) and ``CenterCrop`` +
``Resize`` (see tests/test_augment.py for the measured tolerance).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def _check_images(images: torch.Tensor) -> None:
    if images.dim() != 4 or images.shape[1] != 1:
        raise ValueError(f"expected images of shape (N, 1, H, W), got {tuple(images.shape)}")
    if not images.is_floating_point():
        raise ValueError(f"expected floating-point images, got {images.dtype}; convert and scale first")


def affine_matrices(angles_deg: torch.Tensor, scales: torch.Tensor) -> torch.Tensor:
    """``(N, 2, 3)`` sampling matrices for ``affine_grid``: rotate by ``angles_deg``
    (counter-clockwise, as torchvision) and zoom in by ``1/scales`` about the centre.

    ``affine_grid`` maps output coordinates to input coordinates, so the matrix is
    the inverse map: rotate by -angle and shrink by ``scales``.
    """
    theta = angles_deg * (math.pi / 180.0)
    cos, sin = torch.cos(theta) * scales, torch.sin(theta) * scales
    zero = torch.zeros_like(cos)
    # (x, y) are normalised with y pointing down; counter-clockwise on screen.
    return torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)


def sampling_grid(matrices: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """The same ``(N, H, W, 2)`` grid as ``F.affine_grid(..., align_corners=False)``.

    Computed by broadcasting instead of affine_grid's batched (N, H*W, 3) x (N, 3, 2)
    matmul, which is about twice as slow on a CPU for 28x28 images.
    """
    xs = (torch.arange(width, dtype=matrices.dtype, device=matrices.device) * 2 + 1) / width - 1
    ys = (torch.arange(height, dtype=matrices.dtype, device=matrices.device) * 2 + 1) / height - 1
    m = matrices[:, :, :, None, None]
    gx = m[:, 0, 0] * xs + m[:, 0, 1] * ys[:, None] + m[:, 0, 2]
    gy = m[:, 1, 0] * xs + m[:, 1, 1] * ys[:, None] + m[:, 1, 2]
    return torch.stack((gx, gy), dim=-1)


def warp(images: torch.Tensor, matrices: torch.Tensor) -> torch.Tensor:
    """Warp ``images`` (N,1,H,W float, background 0) by per-image ``matrices``; outside is 0."""
    _check_images(images)
    grid = sampling_grid(matrices.to(images.dtype), images.shape[-2], images.shape[-1])
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


class RandomRotateCrop:
    """Random rotation in ``[-degrees, degrees]`` and, with probability ``crop_prob``,
    a centre crop to ``crop_size`` resized back to ``image_size``; one warp per batch.

    Call it on unnormalised images (background 0) with a seeded ``torch.Generator``.
    """

    def __init__(self, degrees: float = 15.0, crop_prob: float = 0.1,
                 crop_size: int = 22, image_size: int = 28):
        if degrees < 0:
            raise ValueError(f"degrees must be >= 0, got {degrees}")
        if not 0.0 <= crop_prob <= 1.0:
            raise ValueError(f"crop_prob must be a probability in [0, 1], got {crop_prob}")
        if not 0 < crop_size <= image_size:
            raise ValueError(f"crop_size must be in (0, image_size={image_size}], got {crop_size}")
        self.degrees, self.crop_prob = float(degrees), float(crop_prob)
        self.crop_size, self.image_size = crop_size, image_size

    def sample_matrices(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw ``n`` matrices on the CPU, so a seed gives the same draws on any device."""
        angles = (torch.rand(n, generator=generator) * 2 - 1) * self.degrees
        cropped = torch.rand(n, generator=generator) < self.crop_prob
        scales = torch.where(cropped, self.crop_size / self.image_size, 1.0)
        return affine_matrices(angles, scales)

    def __call__(self, images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        _check_images(images)
        return warp(images, self.sample_matrices(images.shape[0], generator).to(images.device))

    def __repr__(self) -> str:
        return (f"RandomRotateCrop(degrees=±{self.degrees:g}, crop {self.crop_size}x{self.crop_size}"
                f"->{self.image_size}x{self.image_size} with p={self.crop_prob:g})")
