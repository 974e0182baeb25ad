"""Render the example digits of ``images/examples/`` with the fonts that matplotlib ships.

They are printed digits, not handwriting: a real distribution shift from MNIST, at several
sizes, stroke weights and positions, dark on light as a photo of a written digit would be.
The file name holds the true digit (``digit7_font2.png``).

    python -m scripts.example_digits [--out images/examples]
"""
from __future__ import annotations

import argparse
import io
import random
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from PIL import Image  # noqa: E402

from mnist_helpers.paths import images_dir  # noqa: E402
from mnist_helpers.results import write_atomic  # noqa: E402

# (family, weight, style) choices, all shipped with matplotlib
FONTS = [("DejaVu Sans", "normal", "normal"), ("DejaVu Serif", "bold", "normal"), ("DejaVu Sans Mono", "normal", "normal"),
         ("STIXGeneral", "normal", "italic"), ("DejaVu Sans", "bold", "normal"), ("cmss10", "normal", "normal")]


def render(digit: int, font: tuple, size_px: tuple, font_px: float, where: tuple, ink: float, paper: float) -> Image.Image:
    width, height = size_px
    fig = plt.figure(figsize=(width / 100, height / 100), dpi=100)
    fig.patch.set_facecolor((paper,) * 3)
    family, weight, style = font
    fig.text(where[0], where[1], str(digit), fontsize=font_px * 72 / 100, family=family, weight=weight,
             style=style, color=(ink,) * 3, ha="center", va="center")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, facecolor=fig.get_facecolor())
    plt.close(fig)
    buffer.seek(0)
    return Image.open(buffer).convert("L")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.example_digits", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(images_dir() / "examples"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(0)
    for digit in range(10):
        for k in range(3):
            font = FONTS[(digit + 2 * k) % len(FONTS)]
            size = (rng.choice([96, 128, 160, 200]), rng.choice([96, 128, 160, 200]))
            font_px = min(size) * rng.uniform(0.45, 0.8)
            where = (rng.uniform(0.35, 0.65), rng.uniform(0.35, 0.65))
            image = render(digit, font, size, font_px, where, ink=rng.uniform(0.0, 0.25), paper=rng.uniform(0.85, 1.0))
            png = io.BytesIO()
            image.save(png, format="PNG")
            write_atomic(out / f"digit{digit}_{k}.png", png.getvalue())
    print(f"wrote 30 images to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
