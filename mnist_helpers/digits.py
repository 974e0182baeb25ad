"""Turn a photo or scan of one handwritten digit into a 28x28 MNIST-style image.

MNIST's own recipe: light ink on a dark background, the digit's bounding box scaled
(anti-aliased, keeping its aspect ratio) so that its longer side is 20 pixels, then
placed in a 28x28 frame with its centre of mass at the centre, then normalised.

A photo needs more than that, and gets it here: the paper's brightness is estimated and
taken out (shadows and uneven light stay out of the box), the box is Otsu's threshold of
the ink, strokes much thinner than MNIST's are thickened before scaling down (a pen line
on a large photo would fade away), and the contrast is restored after it. The steps that
adapt decide from the image itself, so that thin pen lines, thick marker strokes, soft and
blurred ones, coarse scans and pale pencil all come out as solid MNIST-like strokes: flat
paper is recognised away from the ink, the paper estimate's window grows until the strokes
vanish from it, and the levelling window is about four measured stroke widths across
(``python -m scripts.stress_digits`` measures each kind of image). A scan cropped tight to the
digit, with dark ink reaching the border, is judged with MNIST's margin of paper around it: without one its
strokes would look like a shadow running off the page. HEIC/HEIF photos
are read through pillow-heif. docs/digits.js repeats every step after the paper's
brightness for the draw-a-digit page; tests/test_web.py checks that the two agree.
"""
from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pillow_heif
import torch
from PIL import Image, ImageFilter, ImageOps

from .transforms import MNIST_MEAN, MNIST_STD

MAX_PIXELS = 40_000_000          # larger images are refused (Pillow's decompression-bomb guard)
FIT = 20                         # the longer side of the digit's box, as in MNIST
SIZE = 28
CENTRE = 14.0                    # MNIST's mean centre of mass (row, column), 0-based pixel indices
MIN_CONTRAST = 32                # ink must differ from the background by this much (of 255)
PAPER_GRID = 64                  # the paper's brightness is estimated on a grid this many cells long ...
PAPER_FILTERS = (9, 13, 19, 27)  # ... with a closing over one of these many cells: the smallest that removes the strokes
DARKEST = 200                    # the ink's contrast: the paper against the 200th darkest pixel (a thin line has more)
STRONG_INK = 0.5                 # ink this share of its contrast or more counts as a stroke's body when choosing the closing
FLAT_PAPER = 16                  # paper varying less than this (of 255) is treated as flat
INK_HALO = 0.03                  # the flat-paper test looks at the page this share of its long side away from any ink
MAX_STROKE = 0.2                 # what is darker than the paper and wider than this share of the long side is no stroke
DARK_EDGE = 0.05                 # nor is what covers more than this share of the border: the digit has a margin
STROKE = 0.12                    # MNIST's strokes are about 2.4 pixels wide in its 20-pixel box
WORK_SIZE = 100                  # thin strokes are thickened on an image about this large
INK_PERCENTILE = 90              # after scaling down, this percentile of the ink is made 255
MARGIN = 0.2                     # a digit cropped tight is judged with this share of its long side as paper around it
LEVEL_GRID = 200                 # on a photo, what is left of shading is levelled on a grid this many cells long ...
LEVEL_RADIUS = 6                 # ... with a box of this radius in cells, or of two stroke widths (about four across)


pillow_heif.register_heif_opener()  # phones save photos as HEIC/HEIF; Pillow reads them through pillow-heif


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
        raise DigitImageError("not an image Pillow can read (expected PNG, JPEG or HEIC)") from None
    except OSError as err:
        raise DigitImageError(f"could not read the image: {err}") from None
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def _border(image: np.ndarray) -> np.ndarray:
    """The pixels of the outermost rows and columns of ``image``."""
    return np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])


def _ink_side_down(gray: np.ndarray) -> np.ndarray:
    """``gray`` turned so that ink is darker than the paper: light ink on a dark page is inverted.

    The paper is the median of the border pixels; the ink is whichever side of it reaches further.
    """
    background = float(np.median(_border(gray)))
    dark_ink = background - gray.min() > gray.max() - background
    return gray if dark_ink else 255.0 - gray


def _box_mean(image: np.ndarray, radius: int) -> np.ndarray:
    """The mean over a (2 radius + 1)-square around each pixel, edges repeated (summed-area table)."""
    k = 2 * radius + 1
    table = np.cumsum(np.cumsum(np.pad(image, ((radius + 1, radius), (radius + 1, radius)), mode="edge"), 0), 1)
    return (table[k:, k:] - table[:-k, k:] - table[k:, :-k] + table[:-k, :-k]) / (k * k)


def _grow(mask: np.ndarray, radius: int) -> np.ndarray:
    """``mask`` widened by ``radius`` pixels in every direction (a square window)."""
    return _box_mean(mask.astype(np.float64), radius) > 0 if radius > 0 else mask


def paper_is_flat(page: np.ndarray, flat: float) -> bool:
    """Whether the paper of ``page`` (dark ink on light paper) is one brightness, ``flat``, away from the ink.

    The ink and its soft edge (darker than the paper by a sixth of the ink's contrast, or by
    :data:`FLAT_PAPER`) are set aside with a margin of :data:`INK_HALO` of the long side; the rest, averaged
    over 3x3 pixels against grain, must stay within :data:`FLAT_PAPER` of itself (2nd to 98th percentile).
    A scan, a drawing, coloured or grey paper are flat however thick their strokes; a photo's shading is not,
    and neither is a page where what is darker than the paper reaches along the border (:data:`DARK_EDGE`) or is
    too wide to be strokes (:data:`MAX_STROKE`): the hard-edged shadow of a phone, say.
    """
    dark = flat - page
    inkish = dark > max(FLAT_PAPER, dark.max() / 6)
    if _border(inkish).mean() > DARK_EDGE or stroke_width(inkish) > MAX_STROKE * max(page.shape):  # a shadow, not strokes
        return False
    rest = _box_mean(page, 1)[~_grow(inkish, max(1, round(INK_HALO * max(page.shape))))]
    if rest.size < 0.1 * page.size:  # hardly any paper left to judge by
        return False
    low, high = np.percentile(rest, [2, 98])
    return high - low < FLAT_PAPER


def _closing(coarse: Image.Image, cells: int) -> np.ndarray:
    closed = coarse.filter(ImageFilter.MaxFilter(cells)).filter(ImageFilter.MinFilter(cells))
    return _box_mean(np.asarray(closed, dtype=np.float64), 1)


def closing_cells(coarse: Image.Image, contrast: float) -> int:
    """The closing of :func:`paper_brightness`, in cells: the smallest of :data:`PAPER_FILTERS` beyond which a
    larger one finds little more strong ink on the grid (at least :data:`STRONG_INK` of the ink's
    ``contrast``). A stroke wider than the window stays in the paper estimate and its middle is lost, so a
    wider window finds it, as dark as the ink; a shadow filled in by a wider window is far paler than ink, and a
    thin pen line, averaged over its cells, is pale on the grid at any window."""
    page = np.asarray(coarse, dtype=np.float64)
    areas = [int((np.maximum(_closing(coarse, cells), page) - page >= STRONG_INK * contrast).sum())
             for cells in PAPER_FILTERS]
    for cells, area, wider in zip(PAPER_FILTERS, areas, areas[1:]):
        if wider <= 1.2 * area + 2:
            return cells
    return PAPER_FILTERS[-1]


def paper_brightness(page: np.ndarray) -> np.ndarray | float:
    """The paper's brightness under the ink of ``page`` (dark ink on light paper).

    Flat paper (:func:`paper_is_flat`: a scan, a drawing on a clean canvas) is the median of the border.
    Otherwise a morphological closing on a coarse grid (long side :data:`PAPER_GRID` pixels): the maximum over
    a window removes the strokes, the minimum over as many restores the shapes of shadows and uneven light,
    which are larger; then smoothed and scaled back up. The window is chosen from the image
    (:func:`closing_cells`), so that thick strokes go too. Where the estimate varies by less than
    :data:`FLAT_PAPER` it is taken as flat after all.
    """
    flat = float(np.median(_border(page)))
    if paper_is_flat(page, flat):
        return flat
    h, w = page.shape
    step = max(1.0, max(h, w) / PAPER_GRID)
    grid = (max(1, round(w / step)), max(1, round(h / step)))
    coarse = Image.fromarray(page.astype(np.float32), mode="F").resize(grid, Image.BOX)
    darkest = np.partition(page.ravel(), min(DARKEST, page.size - 1))[min(DARKEST, page.size - 1)]
    smooth = _closing(coarse, closing_cells(coarse, flat - float(darkest)))  # against the ink's contrast
    paper = np.asarray(Image.fromarray(smooth.astype(np.float32), mode="F").resize((w, h), Image.BILINEAR), dtype=np.float64)
    if paper.max() - paper.min() < FLAT_PAPER:
        return flat
    return np.maximum(paper, page)


def ink_on_dark(gray: np.ndarray) -> np.ndarray:
    """Ink as bright values on a background of 0, with shadows and uneven paper taken out.

    Dark ink on light paper is inverted and light ink on black is not (see :func:`paper_brightness`).
    """
    return ink_and_evidence(gray)[0]


def cropped_tight(page: np.ndarray) -> bool:
    """Whether ink as dark as a stroke's body (:data:`STRONG_INK` of the ink's contrast) reaches the border of
    ``page`` (dark ink on light paper): a scan cropped to the digit, with no margin of paper. The paper and the
    contrast are measured as :func:`paper_brightness` measures them; a shadow or uneven light at the edge of a photo
    is far paler than ink."""
    paper = float(np.median(_border(page)))
    darkest = float(np.partition(page.ravel(), min(DARKEST, page.size - 1))[min(DARKEST, page.size - 1)])
    return paper - darkest >= MIN_CONTRAST and bool((paper - _border(page) >= STRONG_INK * (paper - darkest)).any())


def ink_and_evidence(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ink (as :func:`ink_on_dark`) and the map on which its box is found.

    On a photo (paper of uneven brightness), two things would stretch the box beyond the digit: what the
    paper estimate leaves of a deep shadow's edge, a wide smooth rise, and the grain of the sensor or of
    JPEG, single pixels. So the box is found on the ink levelled against its own local mean on a coarse
    grid (:data:`LEVEL_GRID`, :data:`LEVEL_RADIUS`: a thin stroke stands out, a smooth rise does not) and
    then averaged over 3x3 pixels (grain averages out, a stroke does not). On flat paper, such as a scan or a
    drawing, the evidence is the ink itself. A page cropped tight (:func:`cropped_tight`) is judged with a margin of
    :data:`MARGIN` of paper around it, which the ink and evidence returned leave out again.
    """
    page = _ink_side_down(gray)
    if cropped_tight(page):  # judged with MNIST's margin of paper around it, which is then cropped off again
        margin = math.ceil(MARGIN * max(page.shape))
        ink, evidence = _ink_and_evidence(np.pad(page, margin, constant_values=float(np.median(_border(page)))))
        inner = ink[margin:-margin, margin:-margin]
        return inner, inner if evidence is ink else evidence[margin:-margin, margin:-margin]
    return _ink_and_evidence(page)


def _ink_and_evidence(page: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    paper = paper_brightness(page)
    ink = np.clip(paper - page, 0, None)
    if np.isscalar(paper):
        return ink, ink
    h, w = ink.shape
    step = max(1, max(h, w) // LEVEL_GRID)
    radius = LEVEL_RADIUS
    if ink.max() >= MIN_CONTRAST:  # a stroke stands out of its local mean only in a window wider than itself
        width = stroke_width(ink >= ink_threshold(ink))
        radius = min(max(LEVEL_RADIUS, math.ceil(2 * width / step)), LEVEL_GRID // 4)
    coarse = Image.fromarray(ink.astype(np.float32), mode="F").resize((max(1, w // step), max(1, h // step)), Image.BOX)
    local = _box_mean(np.asarray(coarse, dtype=np.float64), radius)
    local = np.asarray(Image.fromarray(local.astype(np.float32), mode="F").resize((w, h), Image.BILINEAR), dtype=np.float64)
    return ink, _box_mean(np.clip(ink - local, 0, None), 1)


def otsu_threshold(ink: np.ndarray) -> float:
    """Otsu's threshold of ``ink`` (values in [0, 255], 256 bins): ink is ``>=`` it."""
    counts = np.bincount(np.clip(ink, 0, 255).astype(np.int64).ravel(), minlength=256)[:256].astype(np.float64)
    levels = np.arange(256, dtype=np.float64)
    below = np.cumsum(counts)[:-1]
    above = counts.sum() - below
    mean_below = np.cumsum(counts * levels)[:-1] / np.maximum(below, 1)
    mean_above = ((counts * levels).sum() - np.cumsum(counts * levels)[:-1]) / np.maximum(above, 1)
    between = below * above * (mean_below - mean_above) ** 2
    return float(np.argmax(between) + 1)


def ink_threshold(ink: np.ndarray) -> float:
    """What counts as ink for the box: Otsu's threshold, and at least a fifth of the peak."""
    if ink.max() < MIN_CONTRAST:
        raise DigitImageError("no ink found: the image is blank or the ink is too faint "
                              "(a dark pen on white paper works best)")
    return max(otsu_threshold(ink), 0.2 * float(ink.max()))


def ink_box(ink: np.ndarray, threshold: float | None = None) -> tuple[int, int, int, int]:
    """(top, bottom, left, right), exclusive ends, of the ink pixels (at or above ``threshold``, by default
    :func:`ink_threshold`) that touch another one: a stroke always does, while a speck of noise or dust on
    its own does not stretch the box."""
    mask = ink >= (ink_threshold(ink) if threshold is None else threshold)
    padded = np.pad(mask, 1)
    h, w = mask.shape
    neighbours = sum(padded[r:r + h, c:c + w].astype(np.int8) for r in range(3) for c in range(3)) - mask
    rows, cols = np.nonzero(mask & (neighbours > 0))
    if rows.size == 0:
        raise DigitImageError("no ink found: only isolated specks, no stroke")
    return rows.min(), rows.max() + 1, cols.min(), cols.max() + 1


def stroke_width(mask: np.ndarray) -> float:
    """The mean width of the strokes in a boolean mask: area over half the outline (pixels with a 4-neighbour off)."""
    padded = np.pad(mask, 1)
    inner = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    outline = int((mask & ~inner).sum())
    return 2.0 * float(mask.sum()) / max(outline, 1)


def thicken_thin_strokes(ink: np.ndarray, threshold: float) -> np.ndarray:
    """``ink`` (cropped to the digit) with strokes thinner than MNIST's widened to :data:`STROKE` of its longer side.

    A pen line on a large photo would otherwise fade to nothing when the digit is scaled to 20 pixels.
    The image is first shrunk by block maxima (which keep every stroke) to about :data:`WORK_SIZE` pixels,
    then dilated with a maximum filter. Strokes at least half as wide as MNIST's are left as they are.
    """
    if stroke_width(ink >= threshold) >= 0.5 * STROKE * max(ink.shape):
        return ink
    block = max(1, max(ink.shape) // WORK_SIZE)
    if block > 1:
        h, w = (-(-n // block) * block for n in ink.shape)
        padded = np.zeros((h, w))
        padded[:ink.shape[0], :ink.shape[1]] = ink
        ink = padded.reshape(h // block, block, w // block, block).max(axis=(1, 3))
    missing = STROKE * max(ink.shape) - stroke_width(ink >= threshold)
    size = 2 * max(1, round(missing / 2)) + 1
    image = Image.fromarray(ink.astype(np.float32), mode="F").filter(ImageFilter.MaxFilter(size))
    return np.asarray(image, dtype=np.float64)


def mnist_style(gray: np.ndarray) -> np.ndarray:
    """A 28x28 float image in [0, 1], light digit on black, centred by mass as in MNIST."""
    ink, evidence = ink_and_evidence(gray)
    threshold = ink_threshold(ink)
    box_threshold = threshold if evidence is ink else ink_threshold(evidence)
    top, bottom, left, right = ink_box(evidence, box_threshold)
    keep = ink[top:bottom, left:right] >= 0.1 * ink[top:bottom, left:right].max()  # clean background
    if evidence is not ink:  # a photo: grain inside the box goes too
        keep &= evidence[top:bottom, left:right] >= 0.5 * box_threshold
    ink = np.where(keep, ink[top:bottom, left:right], 0.0)
    ink = thicken_thin_strokes(ink, threshold) * (255.0 / ink.max())  # full contrast
    h, w = ink.shape
    scale = FIT / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    small = Image.fromarray(ink.astype(np.float32), mode="F").resize((new_w, new_h), Image.LANCZOS)
    small = np.clip(np.asarray(small, dtype=np.float64), 0, 255)
    small = restore_contrast(small)
    mass = small.sum()
    com_row = (small.sum(axis=1) * np.arange(new_h)).sum() / mass
    com_col = (small.sum(axis=0) * np.arange(new_w)).sum() / mass
    top = int(np.clip(round(CENTRE - com_row), 0, SIZE - new_h))
    left = int(np.clip(round(CENTRE - com_col), 0, SIZE - new_w))
    frame = np.zeros((SIZE, SIZE))
    frame[top:top + new_h, left:left + new_w] = small
    return frame / 255.0


def restore_contrast(small: np.ndarray) -> np.ndarray:
    """``small`` scaled so that the :data:`INK_PERCENTILE` th percentile of its ink (a fifth of the peak or more) is 255.

    Scaling down averages thin strokes with the black around them; MNIST's strokes have bright cores.
    """
    level = float(np.percentile(small[small >= 0.2 * small.max()], INK_PERCENTILE))
    return np.clip(small * (255.0 / level), 0, 255)


def to_model_input(images: np.ndarray) -> torch.Tensor:
    """``(N, 28, 28)`` images in [0, 1] as the normalised ``(N, 1, 28, 28)`` float tensor the models take."""
    x = torch.as_tensor(np.asarray(images), dtype=torch.float32).reshape(-1, 1, SIZE, SIZE)
    return (x - MNIST_MEAN) / MNIST_STD
