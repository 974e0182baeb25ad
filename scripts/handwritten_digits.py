"""Render the handwritten example digits of ``images/handwritten/`` from pen strokes typed in by hand.

Each digit was drawn as a person draws it with a mouse: the points of each stroke, in order, on a
100x100 square (y downwards), wobble included. They were written once and not chosen by what any model
predicts. They are rendered dark on light paper with a round pen about a tenth of the digit's height
wide along a smooth curve through the points, as a photo of a digit written with a felt pen would look,\nat 4x and then scaled down (anti-aliased).
The file name holds the true digit (``hand7_1.png``), as in ``images/examples/``.

    python -m scripts.handwritten_digits [--out images/handwritten]
"""
from __future__ import annotations

import argparse
import io
from pathlib import Path

from PIL import Image, ImageDraw

from mnist_helpers.paths import images_dir
from mnist_helpers.results import write_atomic

# digit -> versions -> strokes -> (x, y) points on a 100x100 square
STROKES = {
    0: [[[(52, 8), (38, 12), (28, 25), (22, 45), (23, 65), (30, 82), (44, 92), (58, 91), (70, 80), (76, 60), (75, 38),
          (69, 20), (58, 9), (50, 9)]],
        [[(60, 10), (45, 14), (33, 30), (27, 52), (29, 72), (38, 88), (52, 93), (65, 84), (72, 64), (73, 40), (68, 22),
          (60, 12), (54, 14)]]],
    1: [[[(48, 10), (49, 30), (49, 52), (50, 72), (51, 92)]],
        [[(38, 24), (47, 15), (55, 8), (54, 30), (53, 55), (52, 78), (52, 93)], [(40, 93), (52, 94), (64, 93)]]],
    2: [[[(26, 30), (32, 16), (46, 8), (62, 10), (72, 22), (71, 38), (60, 54), (45, 69), (30, 84), (26, 91), (45, 90),
          (62, 90), (78, 91)]],
        [[(30, 25), (40, 12), (56, 10), (68, 20), (66, 38), (52, 58), (36, 78), (28, 90), (34, 86), (44, 82), (52, 86),
          (62, 92), (76, 90)]]],
    3: [[[(28, 16), (42, 8), (58, 9), (68, 20), (64, 34), (50, 44), (42, 47), (54, 48), (68, 56), (73, 70), (66, 86),
          (50, 93), (34, 90), (26, 82)]],
        [[(30, 12), (52, 11), (70, 12), (54, 32), (46, 42), (60, 44), (72, 54), (74, 70), (64, 86), (48, 93), (30, 88)]]],
    4: [[[(40, 10), (34, 32), (28, 52), (26, 60), (46, 60), (66, 59), (78, 58)], [(62, 30), (62, 50), (61, 72), (60, 94)]],
        [[(58, 92), (59, 66), (60, 40), (61, 10), (44, 34), (28, 58), (24, 64), (44, 64), (64, 63), (80, 62)]]],
    5: [[[(36, 10), (33, 28), (31, 44), (45, 40), (60, 44), (70, 56), (71, 72), (62, 86), (46, 92), (30, 87)],
         [(36, 11), (52, 10), (70, 9)]],
        [[(68, 12), (48, 12), (38, 13), (36, 34), (35, 46), (50, 42), (63, 48), (70, 62), (67, 78), (56, 89), (40, 92),
          (28, 84)]]],
    6: [[[(62, 8), (48, 18), (36, 34), (28, 54), (28, 74), (36, 88), (50, 93), (64, 86), (70, 72), (64, 58), (50, 53),
          (36, 58), (29, 68)]],
        [[(58, 6), (42, 24), (32, 44), (30, 62), (34, 80), (46, 92), (60, 90), (68, 78), (66, 62), (54, 54), (40, 57),
          (32, 66)]]],
    7: [[[(24, 12), (44, 11), (62, 10), (76, 11), (68, 28), (58, 48), (50, 68), (44, 92)]],
        [[(26, 16), (46, 13), (66, 12), (78, 13), (70, 30), (62, 50), (55, 70), (50, 93)], [(42, 52), (56, 51), (70, 50)]]],
    8: [[[(60, 14), (48, 8), (34, 12), (30, 26), (40, 40), (54, 48), (68, 60), (70, 76), (60, 90), (44, 92), (32, 84),
          (32, 68), (44, 54), (58, 44), (68, 30), (66, 16), (58, 11)]],
        [[(52, 10), (38, 14), (34, 28), (44, 42), (58, 46), (68, 36), (66, 20), (54, 10)],
         [(56, 48), (40, 52), (30, 66), (34, 84), (50, 92), (66, 86), (72, 70), (64, 54), (56, 48)]]],
    9: [[[(68, 24), (60, 12), (46, 10), (34, 18), (32, 32), (40, 42), (54, 42), (66, 34), (69, 22), (68, 46), (66, 70),
          (64, 94)]],
        [[(64, 20), (52, 10), (38, 14), (32, 28), (38, 40), (52, 42), (64, 32), (66, 18), (64, 40), (58, 62), (50, 80),
          (42, 94)]]],
}

SUPERSAMPLE = 4
# per version: (canvas width, height), digit size in pixels, top-left corner, pen width, ink, paper
LAYOUTS = [((240, 240), 170, (40, 30), 14, 35, 238), ((320, 260), 190, (70, 40), 11, 55, 225)]


def smooth(points, steps=8):
    """The points joined by a Catmull-Rom curve through them (a hand moves in curves, not straight segments)."""
    if len(points) < 3:
        return list(points)
    padded = [points[0], *points, points[-1]]
    curve = []
    for p0, p1, p2, p3 in zip(padded, padded[1:], padded[2:], padded[3:]):
        for i in range(steps):
            t = i / steps
            curve.append(tuple(0.5 * (2 * b + (c - a) * t + (2 * a - 5 * b + 4 * c - d) * t ** 2 + (3 * b - a - 3 * c + d) * t ** 3)
                               for a, b, c, d in zip(p0, p1, p2, p3)))
    return curve + [points[-1]]


def render(strokes, canvas, size, corner, pen, ink, paper) -> Image.Image:
    """The strokes drawn with a round pen of ``pen`` pixels, ``ink`` on ``paper`` gray, anti-aliased."""
    s = SUPERSAMPLE
    image = Image.new("L", (canvas[0] * s, canvas[1] * s), paper)
    draw = ImageDraw.Draw(image)
    r = pen * s / 2
    for stroke in strokes:
        points = [((corner[0] + size * x / 100) * s, (corner[1] + size * y / 100) * s) for x, y in stroke]
        curve = smooth(points)
        draw.line(curve, fill=ink, width=pen * s)
        for x, y in curve:  # the round tip of the pen, at every point: round ends and joints
            draw.ellipse((x - r, y - r, x + r, y + r), fill=ink)
    return image.resize(canvas, Image.BOX)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.handwritten_digits", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(images_dir() / "handwritten"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    for digit, versions in STROKES.items():
        for k, strokes in enumerate(versions):
            image = render(strokes, *LAYOUTS[k % len(LAYOUTS)])
            png = io.BytesIO()
            image.save(png, format="PNG")
            write_atomic(out / f"hand{digit}_{k}.png", png.getvalue())
            count += 1
    print(f"wrote {count} images to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
