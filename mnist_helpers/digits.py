"""Turn a photo or scan of one handwritten digit into a 28x28 MNIST-style image.

MNIST's own recipe: light ink on a dark background, the digit's bounding box scaled
(anti-aliased, keeping its aspect ratio) so that its longer side is 20 pixels, then
placed in a 28x28 frame with its centre of mass at the centre, then normalised.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from .transforms import MNIST_MEAN, MNIST_STD

MAX_PIXELS = 40_000_000          # larger images are refused (Pillow's decompression-bomb guard)
FIT = 20                         # the longer side of the digit's box, as in MNIST
SIZE = 28
CENTRE = 14.0                    # MNIST's mean centre of mass (row, column), 0-based pixel indices
MIN_CONTRAST = 32                # ink must differ from the background by this much (of 255)


class DigitImageError(ValueError):
    """An image that cannot be turned into a digit; the message says why."""


def load_grayscale(path) -> np.ndarray:
    """The image at ``path`` as a float grayscale array in [0, 255]; transparency is composited on white."""
    path = Path(path)
    if not path.exists():
        raise DigitImageError("no such file")
    if path.is_dir():
        raise DigitImageError("is a folder, not an image")
    limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                img.load()
                img = ImageOps.exif_transpose(img)
                if img.mode in ("P", "PA", "LA", "RGBA", "La", "RGBa") or "transparency" in img.info:
                    rgba = img.convert("RGBA")
                    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                    img = Image.alpha_composite(white, rgba)
                return np.asarray(img.convert("L"), dtype=np.float64)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise DigitImageError(f"too large to be a digit image ({err})") from None
    except Image.UnidentifiedImageError:
        raise DigitImageError("not an image Pillow can read (expected PNG or JPEG)") from None
    except OSError as err:
        raise DigitImageError(f"could not read the image: {err}") from None
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def ink_on_dark(gray: np.ndarray) -> np.ndarray:
    """Ink as bright values on a background of 0.

    The background is the median of the border pixels; the ink is whichever side of it
    reaches further, so dark ink on light paper is inverted and light ink on black is not.
    """
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    background = float(np.median(border))
    dark_ink = background - gray.min() > gray.max() - background
    return np.clip(background - gray if dark_ink else gray - background, 0, None)


def ink_box(ink: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right), exclusive ends, of the pixels with at least a fifth of the peak ink."""
    if ink.max() < MIN_CONTRAST:
        raise DigitImageError("no ink found: the image is blank or has too little contrast")
    rows, cols = np.nonzero(ink >= 0.2 * ink.max())
    return rows.min(), rows.max() + 1, cols.min(), cols.max() + 1


def mnist_style(gray: np.ndarray) -> np.ndarray:
    """A 28x28 float image in [0, 1], light digit on black, centred by mass as in MNIST."""
    ink = ink_on_dark(gray)
    top, bottom, left, right = ink_box(ink)
    ink = ink[top:bottom, left:right]
    ink = np.where(ink >= 0.1 * ink.max(), ink, 0.0) * (255.0 / ink.max())  # clean background, full contrast
    h, w = ink.shape
    scale = FIT / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    small = Image.fromarray(ink.astype(np.float32), mode="F").resize((new_w, new_h), Image.LANCZOS)
    small = np.clip(np.asarray(small, dtype=np.float64), 0, 255)
    mass = small.sum()
    com_row = (small.sum(axis=1) * np.arange(new_h)).sum() / mass
    com_col = (small.sum(axis=0) * np.arange(new_w)).sum() / mass
    top = int(np.clip(round(CENTRE - com_row), 0, SIZE - new_h))
    left = int(np.clip(round(CENTRE - com_col), 0, SIZE - new_w))
    frame = np.zeros((SIZE, SIZE))
    frame[top:top + new_h, left:left + new_w] = small
    return frame / 255.0


def to_model_input(images: np.ndarray) -> torch.Tensor:
    """``(N, 28, 28)`` images in [0, 1] as the normalised ``(N, 1, 28, 28)`` float tensor the models take."""
    x = torch.as_tensor(np.asarray(images), dtype=torch.float32).reshape(-1, 1, SIZE, SIZE)
    return (x - MNIST_MEAN) / MNIST_STD
