"""The README's picture of the drawing page: a 7 drawn, with every layer's maps and one map's kernels shown.

    python -m scripts.web_screenshot            # writes images/draw_a_digit_layers.png from models/part3.onnx
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from mnist_helpers.paths import images_dir, repo_root
from scripts.browser import draw, open_page

NAME = "draw_a_digit_layers.png"


def _write_atomic(path: Path, write) -> None:
    """Call ``write(f)`` on a binary file uniquely named beside ``path``, then rename it over ``path`` (as
    ``mnist_helpers.results.write_atomic`` does for text): a reader sees the old file or the new one, never half of
    one, and two writers never share a temporary file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv=None) -> int:
    path = images_dir() / NAME
    with open_page(repo_root() / "models", viewport=(1100, 900)) as (_, page):
        draw(page)
        page.click('#layers [data-stage="stage_2"] canvas >> nth=2')
        page.hover('.bar[data-digit="7"]')
        png = page.screenshot(full_page=True)
    _write_atomic(path, lambda f: f.write(png))
    print(f"wrote {path.relative_to(repo_root())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
