"""Predict the digit in your own images with the trained Part-3 model.

    python -m mnist_helpers.predict my_digit.png another.jpg [--json] [--save-preprocessed DIR]

Each image is prepared as MNIST's digits were (see ``mnist_helpers.digits``) and classified
by the saved model (default ``models/part3.pt2``). A file that cannot be read gets a one-line
error and the others are still processed; the exit status is 1 if any file failed.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .digits import DigitImageError, load_grayscale, mnist_style, to_model_input
from .export import load_model
from .paths import models_dir


@dataclass
class Prediction:
    file: str
    digit: int | None = None
    probability: float | None = None
    top3: list = field(default_factory=list)   # [(digit, probability), ...]
    error: str | None = None
    image: np.ndarray | None = field(default=None, repr=False)  # the 28x28 image the model saw, in [0, 1]

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k != "image"}


def default_model_path() -> Path:
    return models_dir() / "part3.pt2"


@torch.no_grad()
def predict_files(paths, model=None) -> list[Prediction]:
    """One :class:`Prediction` per path, in order; unreadable images hold ``error`` instead of a digit."""
    if model is None:
        model, _ = load_model(default_model_path())
    out, ready = [], []
    for path in paths:
        try:
            image = mnist_style(load_grayscale(path))
        except DigitImageError as err:
            out.append(Prediction(file=str(path), error=str(err)))
            continue
        out.append(Prediction(file=str(path), image=image))
        ready.append(out[-1])
    if ready:
        probs = torch.softmax(model(to_model_input(np.stack([p.image for p in ready]))), dim=1)
        top = probs.topk(3, dim=1)
        for p, values, digits in zip(ready, top.values.tolist(), top.indices.tolist()):
            p.digit, p.probability = digits[0], values[0]
            p.top3 = [(d, v) for d, v in zip(digits, values)]
    return out


def save_preprocessed(predictions, folder) -> None:
    """Write each prepared 28x28 image as ``<folder>/<file stem>.png`` (light digit on black, as MNIST)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for p in predictions:
        if p.image is not None:
            Image.fromarray(np.round(p.image * 255).astype(np.uint8), mode="L").save(folder / f"{Path(p.file).stem}.png")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mnist_helpers.predict", description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="+", help="PNG, JPEG or HEIC files, one digit each")
    parser.add_argument("--model", default=None, help="a model saved by the Part-3 notebook (default models/part3.pt2)")
    parser.add_argument("--json", action="store_true", help="print one JSON list instead of text")
    parser.add_argument("--save-preprocessed", metavar="DIR", help="write the 28x28 images the model saw to DIR")
    args = parser.parse_args(argv)
    try:
        model, _ = load_model(args.model or default_model_path())
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    predictions = predict_files(args.images, model)
    if args.save_preprocessed:
        save_preprocessed(predictions, args.save_preprocessed)
    if args.json:
        print(json.dumps([p.to_dict() for p in predictions], indent=1))
    for p in predictions:
        if p.error is not None:
            print(f"error: {p.file}: {p.error}", file=sys.stderr)
        elif not args.json:
            top3 = ", ".join(f"{d} {v:.1%}" for d, v in p.top3)
            print(f"{p.file}: {p.digit} ({p.probability:.1%})   top 3: {top3}")
    return 1 if any(p.error is not None for p in predictions) else 0


if __name__ == "__main__":
    sys.exit(main())
