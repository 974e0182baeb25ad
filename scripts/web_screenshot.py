"""The README's picture of the drawing page: a 7 drawn, with every layer's maps and one map's kernels shown.

    python -m scripts.web_screenshot            # writes images/draw_a_digit_layers.png from models/part3.onnx
"""
from __future__ import annotations

import sys

from mnist_helpers.paths import images_dir, repo_root
from mnist_helpers.results import write_atomic
from scripts.browser import draw, open_page

NAME = "draw_a_digit_layers.png"


def main(argv=None) -> int:
    path = images_dir() / NAME
    with open_page(repo_root() / "models", viewport=(1100, 900)) as (_, page):
        draw(page)
        page.click('#layers [data-stage="stage_2"] canvas >> nth=2')
        page.hover('.bar[data-digit="7"]')
        png = page.screenshot(full_page=True)
    write_atomic(path, png)
    print(f"wrote {path.relative_to(repo_root())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
