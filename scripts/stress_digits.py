"""Render MNIST test digits as the kinds of image that people photograph or scan: the photo path's stress set.

Each kind below is rendered from the same MNIST test digits (``PER_CLASS`` of each class, drawn once with a
fixed seed), at several sizes, as ``KIND/dDIGIT_INDEX.EXT`` files. The rendering is deterministic (every random
choice comes from ``SEED``), so the set is not committed: ``python -m scripts.stress_digits --out DIR`` writes it
to DIR for looking at, and ``--score`` renders it into a temporary folder and prints (``--save``: writes
``results/stress_digits.json``, the one file it writes into the checkout) the Part-3 model's accuracy on each
kind, beside its accuracy on the same digits given as plain 28x28 inputs. A person can read every one.
The scores belong to one model: ``python -m scripts.run_notebooks`` (``scripts/run_all.sh``) scores the Part-3
model it has just trained, and the file names that model by its SHA-256.

Kinds: thin pen on a shaded photo, thick marker, thick marker on a shaded photo, blurred (sigma 1-3 px at 4x scale), low resolution
upscaled, grey pencil (ink contrast 60-100 of 255), on a coloured background, JPEG-compressed, HEIC, and coarse scans (the
digit cropped to its box and scanned at 8-12 pixels on its long side, at 5, 9 or 17 grey levels, then enlarged 8-12 times
bicubically: soft, blocky strokes with grey ramps, reaching the edge of the image). Coarse scans are scored on
``PER_CLASS_COARSE`` digits of each class, beside those digits as plain 28x28 inputs (``coarse_scan_reference``).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

import pillow_heif

pillow_heif.register_heif_opener()  # HEIC files are written and read through pillow-heif

PER_CLASS = 6
PER_CLASS_COARSE = 20  # 200 coarse scans: the kind is scored to within half a percent
SEED = 2024
KINDS = ("pen_photo", "marker", "marker_photo", "blurred", "low_res", "pencil", "coloured", "jpeg", "heic", "coarse_scan")
EXTENSION = {"pen_photo": "jpg", "marker_photo": "jpg", "jpeg": "jpg", "heic": "heic"}


def chosen_digits(labels: np.ndarray, kind: str | None = None) -> list[int]:
    """The indices of the MNIST test set that ``kind`` renders (``PER_CLASS`` of each class, or ``PER_CLASS_COARSE``
    for coarse scans), drawn with ``SEED``, in class order."""
    rng = np.random.default_rng(SEED if kind != "coarse_scan" else [SEED, KINDS.index(kind)])
    count = PER_CLASS_COARSE if kind == "coarse_scan" else PER_CLASS
    return [int(i) for digit in range(10) for i in sorted(rng.choice(np.flatnonzero(labels == digit), count,
                                                                        replace=False))]


def _enlarged(digit: np.ndarray, scale: float) -> np.ndarray:
    """The 28x28 digit (0-255, light on black) enlarged ``scale`` times, smoothly, as floats in [0, 1]."""
    size = max(28, round(28 * scale))
    image = Image.fromarray(digit.astype(np.uint8)).resize((size, size), Image.BICUBIC)
    return np.clip(np.asarray(image, dtype=np.float64) / 255, 0, 1)


def _filter(values: np.ndarray, image_filter) -> np.ndarray:
    return np.asarray(Image.fromarray(values.astype(np.float32), mode="F").filter(image_filter), dtype=np.float64)


def _blur(values: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian blur of ``sigma`` pixels (edges repeated), one axis at a time."""
    radius = max(1, int(3 * sigma))
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    kernel /= kernel.sum()
    for axis in (0, 1):
        padded = np.pad(values, [(radius, radius) if a == axis else (0, 0) for a in (0, 1)], mode="edge")
        values = np.apply_along_axis(lambda line: np.convolve(line, kernel, mode="valid"), axis, padded)
    return values


def _on_paper(cover: np.ndarray, paper, ink) -> np.ndarray:
    """Ink over paper where ``cover`` (0-1) says so; ``paper`` and ``ink`` are levels or arrays."""
    return paper * (1 - cover) + ink * cover


def _pad(cover: np.ndarray, margin: float, rng) -> np.ndarray:
    """``cover`` on a larger canvas, off-centre by a random amount."""
    h, w = cover.shape
    pad = [int(margin * s) for s in (h, w)]
    top, left = (int(rng.integers(p // 3, p + 1)) for p in pad)
    canvas = np.zeros((h + 2 * pad[0], w + 2 * pad[1]))
    canvas[top:top + h, left:left + w] = cover
    return canvas


def render(kind: str, digit: np.ndarray, rng) -> Image.Image:
    """One MNIST digit (28x28, 0-255) rendered as ``kind``."""
    if kind in ("pen_photo", "marker_photo"):  # on a page shaded to one side, with grain
        if kind == "pen_photo":  # the core of the stroke: a pen line
            scale = int(rng.choice([8, 10, 12]))
            cover = (_blur(_enlarged(digit, scale), scale / 4) > 0.75).astype(float)
        else:  # a marker's line
            scale = int(rng.choice([6, 8, 10]))
            cover = _filter((_enlarged(digit, scale) > 0.3).astype(float), ImageFilter.MaxFilter(2 * round(scale / 2) + 1))
        cover = _blur(_pad(cover, 0.6 if kind == "pen_photo" else float(rng.choice([0.15, 0.3, 0.6])), rng), 1.0)
        h, w = cover.shape
        rows, cols = np.mgrid[0:h, 0:w] / max(h, w)
        paper = 235 - 70 * cols - 30 * rows - 60 * np.exp(-((cols - 0.2) ** 2 + (rows - 0.8) ** 2) / 0.08)
        page = _on_paper(cover, paper, 35) + rng.normal(0, 3, cover.shape)
        return Image.fromarray(np.clip(page, 0, 255).astype(np.uint8))
    if kind in ("marker", "jpeg", "heic"):  # strokes widened to a marker's, dark on white, a little soft
        scale = int(rng.choice([4, 6, 8]))
        cover = _filter((_enlarged(digit, scale) > 0.3).astype(float), ImageFilter.MaxFilter(2 * round(scale / 2) + 1))
        cover = _blur(_pad(cover, 0.3, rng), scale / 4)
        image = Image.fromarray(np.clip(_on_paper(cover, 245, 25), 0, 255).astype(np.uint8))
        return image.convert("RGB") if kind != "marker" else image
    if kind == "blurred":
        cover = _pad(_enlarged(digit, 4), 0.3, rng)
        cover = _blur(cover, float(rng.choice([1.0, 2.0, 3.0])))
        return Image.fromarray(np.clip(_on_paper(cover, 240, 20), 0, 255).astype(np.uint8))
    if kind == "low_res":  # scanned at a third of MNIST's resolution, then enlarged with visible blocks
        small = Image.fromarray(digit.astype(np.uint8)).resize((int(rng.choice([10, 12, 14])),) * 2, Image.BOX)
        cover = np.asarray(small.resize((140, 140), Image.NEAREST), dtype=np.float64) / 255
        return Image.fromarray(np.clip(_on_paper(_pad(cover, 0.3, rng), 240, 20), 0, 255).astype(np.uint8))
    if kind == "pencil":  # grey, soft ink: a contrast of 60-100 against the paper
        contrast = float(rng.uniform(60, 100))
        cover = _pad(_enlarged(digit, int(rng.choice([3, 4, 6]))), 0.3, rng)
        page = _on_paper(cover, 230, 230 - contrast) + rng.normal(0, 1, cover.shape)
        return Image.fromarray(np.clip(page, 0, 255).astype(np.uint8))
    if kind == "coloured":  # coloured ink on coloured paper
        cover = _pad(_enlarged(digit, int(rng.choice([3, 5, 8]))), 0.3, rng)[..., None]
        paper = np.array(rng.choice([(250, 230, 160), (200, 225, 250), (220, 245, 210), (250, 210, 220)]), float)
        ink = np.array(rng.choice([(20, 40, 140), (150, 20, 30), (20, 90, 40), (40, 40, 40)]), float)
        return Image.fromarray(np.clip(_on_paper(cover, paper, ink), 0, 255).astype(np.uint8), mode="RGB")
    if kind == "coarse_scan":  # the digit's box at 8-12 pixels, a few grey levels, dark on white, enlarged bicubically
        rows, cols = np.nonzero(digit)
        box = Image.fromarray(digit[rows.min():rows.max() + 1, cols.min():cols.max() + 1].astype(np.uint8))
        long_side = int(rng.integers(8, 13))
        size = [max(1, round(side * long_side / max(box.size))) for side in box.size]
        cover = np.asarray(box.resize(size, Image.BOX), dtype=np.float64) / 255
        levels = int(rng.choice([5, 9, 17]))
        cover = np.round(cover / cover.max() * (levels - 1)) / (levels - 1)
        scan = Image.fromarray(_on_paper(cover, 255.0, 0.0).astype(np.float32), mode="F")
        scale = int(rng.integers(8, 13))
        scan = scan.resize((size[0] * scale, size[1] * scale), Image.BICUBIC)
        return Image.fromarray(np.clip(np.round(np.asarray(scan)), 0, 255).astype(np.uint8))
    raise ValueError(f"unknown kind {kind!r}; one of {', '.join(KINDS)}")


def save(kind: str, image: Image.Image, path: Path, rng) -> None:
    """Encode ``image`` as its kind's file: the JPEG and HEIC encoders are part of what is measured."""
    if kind in ("jpeg", "pen_photo", "marker_photo"):
        image.save(path, format="JPEG", quality=int(rng.choice([35, 50, 70])) if kind == "jpeg" else 80)
    elif kind == "heic":
        image.save(path, quality=int(rng.choice([40, 60, 80])))  # HEIC, by the name (pillow-heif)
    else:
        image.save(path, format="PNG", optimize=True)


def generate(out: Path) -> int:
    """Render the whole set into ``out/KIND/``; the same files, byte for byte, every time. Returns their number."""
    from mnist_helpers import load_mnist

    test = load_mnist("test")
    data, labels = test.data.numpy(), test.targets.numpy()
    count = 0
    for kind in KINDS:
        folder = out / kind
        folder.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng([SEED, KINDS.index(kind)])
        for index in chosen_digits(labels, kind):
            save(kind, render(kind, data[index], rng), folder / f"d{labels[index]}_{index}.{EXTENSION.get(kind, 'png')}", rng)
            count += 1
    return count


def score(model_path: Path | None = None, folder: Path | None = None) -> dict:
    """The model's accuracy on each kind, and on the same digits as plain 28x28 inputs (``reference``, and
    ``coarse_scan_reference`` for the coarse scans' digits), read from the files as a photo is: from ``folder``, a
    set that :func:`generate` wrote, or else rendered now."""
    import torch

    from mnist_helpers import load_mnist
    from mnist_helpers.digits import to_model_input
    from mnist_helpers.export import load_model
    from mnist_helpers.predict import default_model_path, predict_files

    model, _ = load_model(model_path or default_model_path())  # first: a model that cannot load fails at once
    test = load_mnist("test")
    kinds = {}
    for name, kind in (("reference", None), ("coarse_scan_reference", "coarse_scan")):
        indices = chosen_digits(test.targets.numpy(), kind)
        with torch.no_grad():
            plain = model(to_model_input(test.data[indices].numpy() / 255.0)).argmax(1)
        kinds[name] = {"right": int((plain == test.targets[indices]).sum()), "of": len(indices), "refused": 0}
    with tempfile.TemporaryDirectory() as tmp:
        if folder is None:
            folder = Path(tmp)
            generate(folder)
        for kind in KINDS:
            files = sorted((folder / kind).glob("d*"))
            if not files:
                raise FileNotFoundError(f"no images in {folder / kind}: render them with generate() first")
            predictions = predict_files(files, model)
            truths = [int(f.name[1]) for f in files]
            kinds[kind] = {"right": sum(p.error is None and p.digit == t for p, t in zip(predictions, truths)),
                           "of": len(files), "refused": sum(p.error is not None for p in predictions)}
    # each reference beside the kinds that render its digits
    kinds = {name: kinds[name] for name in ("reference", *KINDS[:-1], "coarse_scan_reference", "coarse_scan")}
    for entry in kinds.values():
        entry["accuracy"] = round(100 * entry["right"] / entry["of"], 2)
    return kinds


def model_sha256(model_path: Path) -> str:
    """The SHA-256 of a saved model file: which model a set of scores belongs to."""
    import hashlib

    return hashlib.sha256(Path(model_path).read_bytes()).hexdigest()


def scored_record(model_path: Path, folder: Path | None = None) -> dict:
    """What ``results/stress_digits.json`` holds: every kind's score by the model at ``model_path`` (on the set in
    ``folder``, or rendered now), and which model that is (its SHA-256 and seed), so that a test can tell scores
    of another model from this one's."""
    from mnist_helpers.export import load_model

    kinds = score(model_path, folder)
    _, meta = load_model(model_path)
    return {"command": "python -m scripts.stress_digits --score --save", "per_class": PER_CLASS,
            "per_class_coarse_scan": PER_CLASS_COARSE, "seed": SEED,
            "model": f"models/{Path(model_path).name}", "model_sha256": model_sha256(model_path),
            "model_seed": meta.get("seed"), "kinds": kinds}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.stress_digits", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="write the images into this folder (to look at them)")
    parser.add_argument("--score", action="store_true", help="score the Part-3 model on the set (rendered in a "
                        "temporary folder unless --out is given)")
    parser.add_argument("--save", action="store_true", help="with --score: write results/stress_digits.json")
    args = parser.parse_args(argv)
    if args.out is None and not args.score:
        parser.error("give --out DIR to write the images, or --score to score them")
    if args.out is not None:
        print(f"{generate(args.out)} images in {args.out}")
    if not args.score:
        return 0
    from mnist_helpers.predict import default_model_path

    record = scored_record(default_model_path(), args.out)
    record["command"] = "python -m scripts.stress_digits " + " ".join(argv if argv is not None else sys.argv[1:])
    for kind, entry in record["kinds"].items():
        print(f"{kind:>21}: {entry['right']:3d} of {entry['of']} right ({entry['accuracy']:.1f}%), "
              f"{entry['refused']} refused")
    if args.save:
        from mnist_helpers.results import save_results
        print(f"-> {save_results('stress_digits', record)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
