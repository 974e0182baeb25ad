"""Batched training augmentation: affine warps of a whole batch with ``grid_sample``.

A rotation about the centre and a centre crop resized back to full size are both
affine maps about the image centre: one 2x3 matrix per image and one sampling grid
and ``grid_sample`` call per warp of a batch. The warps match torchvision's ``rotate``
and ``CenterCrop`` + ``Resize`` (see tests/test_augment.py for the measured tolerance).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

INTERPOLATIONS = ("nearest", "bilinear")


def _check_images(images: torch.Tensor) -> None:
    if images.dim() != 4 or images.shape[1] != 1:
        raise ValueError(f"expected images of shape (N, 1, H, W), got {tuple(images.shape)}")
    if not images.is_floating_point():
        raise ValueError(f"expected floating-point images, got {images.dtype}; convert and scale first")


def affine_matrices(angles_deg: torch.Tensor, scales: torch.Tensor, shifts: torch.Tensor | None = None,
                    image_size: int = 28) -> torch.Tensor:
    """``(N, 2, 3)`` sampling matrices for ``affine_grid``: rotate by ``angles_deg``
    (counter-clockwise, as torchvision) and zoom in by ``1/scales`` about the centre, then
    move the result by ``shifts`` (``(N, 2)``, pixels right and down, of an ``image_size`` image).

    ``affine_grid`` maps output coordinates to input coordinates, so the matrix is
    the inverse map: rotate by -angle and shrink by ``scales``; a shift moves where it samples the other way.
    """
    theta = angles_deg * (math.pi / 180.0)
    cos, sin = torch.cos(theta) * scales, torch.sin(theta) * scales
    zero = torch.zeros_like(cos)
    if shifts is None:
        tx = ty = zero
    else:  # the output at o samples the input at R(o - d), d the shift in normalised units: the column is -R d
        dx, dy = shifts[:, 0] * (2.0 / image_size), shifts[:, 1] * (2.0 / image_size)
        tx, ty = -(cos * dx - sin * dy), -(sin * dx + cos * dy)
    # (x, y) are normalised with y pointing down; counter-clockwise on screen.
    return torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)


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


def warp(images: torch.Tensor, matrices: torch.Tensor, interpolation: str = "bilinear") -> torch.Tensor:
    """Warp ``images`` (N,1,H,W float, background 0) by per-image ``matrices``; outside is 0.

    ``interpolation`` is ``"nearest"`` or ``"bilinear"``, as in ``F.grid_sample``.
    """
    _check_images(images)
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {INTERPOLATIONS}, got {interpolation!r}")
    grid = sampling_grid(matrices.to(images.dtype), images.shape[-2], images.shape[-1])
    return F.grid_sample(images, grid, mode=interpolation, padding_mode="zeros", align_corners=False)


class RandomRotateCrop:
    """torchvision's ``RandomApply([CenterCrop(22)], p) -> Resize(28) -> RandomRotation(±15°, fill=0)``,
    done for a whole batch: the cropped images are zoomed back to full size (bilinear,
    as ``Resize``), then every image is rotated by a uniform angle in ``[-degrees, degrees]`` and, with
    ``translate``, moved by up to ``translate`` pixels along each axis (uniform, as ``RandomAffine``'s translate).

    The rotation uses ``interpolation``; the default, nearest, is ``RandomRotation``'s
    default too. It keeps strokes as sharp as in the test images, where bilinear
    resampling would blur every training image a little.
    Call it on unnormalised images (background 0) with a seeded ``torch.Generator``;
    ``TensorLoader`` calls :meth:`draw` once per epoch and :meth:`apply` per batch.
    """

    def __init__(self, degrees: float, crop_prob: float,
                 crop_size: int = 22, image_size: int = 28, interpolation: str = "nearest", translate: float = 0.0):
        if degrees < 0:
            raise ValueError(f"degrees must be >= 0, got {degrees}")
        if not 0 <= translate < image_size / 2:
            raise ValueError(f"translate must be in [0, image_size / 2) pixels, got {translate}")
        if not 0.0 <= crop_prob <= 1.0:
            raise ValueError(f"crop_prob must be a probability in [0, 1], got {crop_prob}")
        if not 0 < crop_size <= image_size:
            raise ValueError(f"crop_size must be in (0, image_size={image_size}], got {crop_size}")
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f"interpolation must be one of {INTERPOLATIONS}, got {interpolation!r}")
        self.degrees, self.crop_prob = float(degrees), float(crop_prob)
        self.crop_size, self.image_size, self.interpolation = crop_size, image_size, interpolation
        self.translate = float(translate)

    def sample(self, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw ``n`` angles (degrees) and crop flags on the CPU, so a seed gives the same draws on any device."""
        angles = (torch.rand(n, generator=generator) * 2 - 1) * self.degrees
        cropped = torch.rand(n, generator=generator) < self.crop_prob
        return angles, cropped

    def draw_epoch(self, batch_sizes: list[int], generator: torch.Generator | None = None
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """An epoch's draws on the CPU, one entry per image in batch order: angles ``(N,)``, crop flags ``(N,)``
        and, with ``translate``, shifts ``(N, 2)`` in pixels (else None). :meth:`draw` splits the same draws
        into batches; a training step with fixed shapes (``lab.static_step``) indexes them."""
        draws = [self.sample(n, generator) for n in batch_sizes]
        angles = torch.cat([a for a, _ in draws])
        cropped = torch.cat([c for _, c in draws])
        shifts = None
        if self.translate:  # drawn after the rest, so translate=0 draws exactly what an augmentation without it draws
            shifts = (torch.rand(len(angles), 2, generator=generator) * 2 - 1) * self.translate
        return angles, cropped, shifts

    def draw(self, batch_sizes: list[int], generator: torch.Generator | None = None,
             device="cpu") -> list[tuple[torch.Tensor, torch.Tensor]]:
        """The draws for a whole epoch of batches: one ``(angles, crop_index)`` pair per batch, or
        ``(angles, crop_index, shifts)`` with ``translate``.

        The draws are made on the CPU, batch after batch (the same random stream as
        calling :meth:`sample` once per batch), and each kind is copied to ``device``
        once. ``crop_index`` holds the positions, within its batch, of the images to crop.
        The training step then needs no host synchronisation for the augmentation.
        """
        angles, cropped, shifts = self.draw_epoch(batch_sizes, generator)
        sizes = torch.tensor(batch_sizes)
        batch_of = torch.repeat_interleave(torch.arange(len(batch_sizes)), sizes)
        starts = torch.cumsum(sizes, 0) - sizes
        positions = cropped.nonzero().flatten()
        local = positions - starts[batch_of[positions]]
        crop_counts = torch.bincount(batch_of[positions], minlength=len(batch_sizes)).tolist()
        shifts = shifts.to(device) if shifts is not None else None
        angles, local = angles.to(device), local.to(device)
        out, a, c = [], 0, 0
        for n, k in zip(batch_sizes, crop_counts):
            out.append((angles[a:a + n], local[c:c + k]) + ((shifts[a:a + n],) if shifts is not None else ()))
            a, c = a + n, c + k
        return out

    def apply(self, images: torch.Tensor, angles: torch.Tensor, crop_index: torch.Tensor,
              shifts: torch.Tensor | None = None) -> torch.Tensor:
        """Warp ``images`` with given draws: zoom the images at ``crop_index``, then rotate every image
        (and move it by ``shifts``, pixels)."""
        _check_images(images)
        if crop_index.numel():  # a shape, known on the host: no synchronisation
            images = images.index_copy(0, crop_index, self._zoomed(images.index_select(0, crop_index)))
        return self._rotated(images, angles, shifts)

    def apply_flags(self, images: torch.Tensor, angles: torch.Tensor, cropped: torch.Tensor,
                    shifts: torch.Tensor | None = None) -> torch.Tensor:
        """:meth:`apply` with a crop flag per image instead of the cropped images' positions, for a step whose
        shapes never change (``lab.static_step``): every image is zoomed, and the zoom is kept where
        ``cropped`` is set. The same images come out, whatever the number of crops."""
        _check_images(images)
        images = torch.where(cropped.view(-1, 1, 1, 1), self._zoomed(images), images)
        return self._rotated(images, angles, shifts)

    def _zoomed(self, images: torch.Tensor) -> torch.Tensor:
        n, device = images.shape[0], images.device
        zoom = affine_matrices(torch.zeros(n, device=device), torch.full((n,), self.crop_size / self.image_size,
                                                                         device=device))
        return warp(images, zoom, "bilinear")

    def _rotated(self, images: torch.Tensor, angles: torch.Tensor, shifts: torch.Tensor | None) -> torch.Tensor:
        matrices = affine_matrices(angles, torch.ones_like(angles), shifts, self.image_size)
        return warp(images, matrices, self.interpolation)

    def __call__(self, images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        _check_images(images)
        draws, = self.draw([images.shape[0]], generator, images.device)
        return self.apply(images, *draws)

    def __repr__(self) -> str:
        return (f"RandomRotateCrop(p={self.crop_prob:g}: centre crop {self.crop_size}x{self.crop_size}"
                f" -> resize {self.image_size}x{self.image_size} (bilinear); "
                f"rotate ±{self.degrees:g}° ({self.interpolation})"
                + (f", move ±{self.translate:g} px" if self.translate else "") + ", background 0)")
